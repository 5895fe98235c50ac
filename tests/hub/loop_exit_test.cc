// LoopExit: the main fiber waits on something nothing can complete.
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "hub/hub.h"
#include "hub/io.h"
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

// A read watcher stays registered between waits (hub/io.h), but with nobody waiting on it it
// keeps nothing alive: the main fiber waiting on nothing else still gets LoopExit instead of
// hanging; waiting on the watcher again counts.
TEST_F(LoopExitTest, AnIdleRegisteredReadWatcherDoesNotHideLoopExit) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
  {
    IoWatcher readable(fds[0], kIoRead);
    EXPECT_EQ(readable.wait(Deadline::after(0.001)), 0);
    ASSERT_TRUE(readable.watching());
    WaitList never;
    EXPECT_THROW((void)never.wait(Deadline::never(), "nothing"), LoopExit);
    FiberRef writer = spawn_fiber([&] {
      sleep(0.001);
      ASSERT_EQ(::write(fds[1], "x", 1), 1);
    });
    EXPECT_EQ(readable.wait(), kIoRead);
    EXPECT_TRUE(writer->join());
  }
  ::close(fds[0]);
  ::close(fds[1]);
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
