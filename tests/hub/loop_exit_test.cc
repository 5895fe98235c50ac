// LoopExit: the main fiber waits on something nothing can complete.
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "hub/hub.h"
#include "hub/thread_pool.h"
#include "hub/timeout.h"

namespace grove {
namespace {

class LoopExitTest : public ::testing::Test {
 protected:
  void SetUp() override { Hub::destroy_current(); }
  void TearDown() override { Hub::destroy_current(); }
};

TEST_F(LoopExitTest, MainWaitingOnNothingGetsLoopExitNamingTheWait) {
  WaitList never;
  try {
    (void)never.wait(Deadline::never(), "the reply that never comes");
    FAIL() << "wait returned";
  } catch (const LoopExit& e) {
    EXPECT_NE(std::string(e.what()).find("the reply that never comes"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("block forever"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(never.empty());
}

TEST_F(LoopExitTest, MessageListsOtherParkedFibers) {
  WaitList list;
  FiberRef stuck = spawn_fiber([&] { (void)list.wait(Deadline::never(), "stuck forever"); });
  try {
    (void)stuck->join();
    FAIL() << "join returned";
  } catch (const LoopExit& e) {
    EXPECT_NE(std::string(e.what()).find("join"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("stuck forever"), std::string::npos) << e.what();
  }
  stuck->kill();
  EXPECT_TRUE(stuck->join());
}

TEST_F(LoopExitTest, NotThrownWhileATimerCanStillWakeSomeone) {
  WaitList list;
  FiberRef waker = spawn_fiber([&] {
    sleep(0.02);
    list.wake_all();
  });
  EXPECT_EQ(list.wait(), WaitStatus::kWoken);
  EXPECT_TRUE(waker->join());
}

TEST_F(LoopExitTest, NotThrownWhileAThreadJobIsInFlight) {
  const int v = run_in_thread([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    return 7;
  });
  EXPECT_EQ(v, 7);
}

TEST_F(LoopExitTest, IsAStdException) {
  WaitList never;
  EXPECT_THROW((void)never.wait(), std::runtime_error);
}

}  // namespace
}  // namespace grove
