// Waits that outlive what they wait on, or whose fiber is killed, stay memory-safe: a destroyed
// WaitList or IoWatcher wakes its waiter with ObjectDestroyed; run_in_thread keeps its caller's
// stack until the job is done; a stack that cannot be had fails spawn, not a later switch.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <new>
#include <string>
#include <thread>

#include "hub/errors.h"
#include "hub/hub.h"
#include "hub/io.h"
#include "hub/thread_pool.h"
#include "hub/timeout.h"
#include "tests/support/grove_test.h"
#include "tests/support/pipe.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

namespace grove {
namespace {

using testing::Pipe;

GROVE_TEST(WaitSafety, DestroyingAWaitListWakesItsWaitersWithObjectDestroyed) {
  auto list = std::make_unique<WaitList>();
  std::string error;
  FiberRef waiter = spawn_fiber([&] {
    try {
      (void)list->wait();
    } catch (const ObjectDestroyed& e) {
      error = e.what();
    }
  });
  sleep(0.0);
  ASSERT_EQ(list->size(), 1u);
  list.reset();  // a bug in the program: reported to the waiter, not a crash
  ASSERT_TRUE(waiter->join(Deadline::after(10.0)));
  EXPECT_NE(error.find("destroyed"), std::string::npos) << error;
}

GROVE_TEST(WaitSafety, DestroyingAnIoWatcherWakesItsWaiterWithObjectDestroyed) {
  Pipe p;
  auto watcher = std::make_unique<IoWatcher>(p.r, kIoRead);
  bool got_error = false;
  FiberRef reader = spawn_fiber([&] {
    try {
      (void)watcher->wait();
    } catch (const ObjectDestroyed&) {
      got_error = true;
    }
  });
  sleep(0.0);
  ASSERT_TRUE(watcher->has_waiter());
  watcher.reset();  // under ASan, a wait that touched the freed watcher would be reported
  ASSERT_TRUE(reader->join(Deadline::after(10.0)));
  EXPECT_TRUE(got_error);
}

GROVE_TEST(WaitSafety, AKilledCallerOfRunInThreadUnwindsOnlyAfterTheJob) {
  std::atomic<bool> job_done{false};
  bool job_was_done_when_unwound = false;
  bool returned = false;
  FiberRef caller = spawn_fiber([&] {
    struct Check {
      std::atomic<bool>& done;
      bool& out;
      ~Check() { out = done.load(); }
    } check{job_done, job_was_done_when_unwound};
    int local = 0;  // the job writes into this frame: the documented [&] idiom
    run_in_thread([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      local = 1;
      job_done = true;
    });
    sleep(0.0);  // never reached: the kill is thrown right after the job
    returned = local == 1;
  });
  sleep(0.0);  // the caller has handed the job over and waits
  caller->kill();
  ASSERT_TRUE(caller->join(Deadline::after(10.0)));
  EXPECT_TRUE(job_was_done_when_unwound) << "the caller unwound while the job still used its stack";
  EXPECT_FALSE(returned);
}

GROVE_TEST(WaitSafety, ATimeoutDuringRunInThreadIsThrownAfterTheJob) {
  std::atomic<bool> job_done{false};
  bool timed_out = false;
  FiberRef caller = spawn_fiber([&] {
    Timeout t(0.005);
    try {
      run_in_thread([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        job_done = true;
      });
    } catch (const Timeout& e) {
      timed_out = e == t && job_done.load();
    }
  });
  ASSERT_TRUE(caller->join(Deadline::after(10.0)));
  EXPECT_TRUE(timed_out);
}

GROVE_TEST(WaitSafety, AStackThatCannotBeHadFailsSpawnNotTheSwitch) {
  const std::size_t alive = Hub::current().stats().fibers_alive;
  bool ran = false;
  SpawnOptions huge;
  huge.stack_size = std::size_t{1} << 60;
  EXPECT_THROW((void)spawn_fiber([&] { ran = true; }, huge), std::bad_alloc);
  sleep(0.0);
  EXPECT_FALSE(ran);
  EXPECT_EQ(Hub::current().stats().fibers_alive, alive);
  // The hub goes on as before.
  FiberRef ok = spawn_fiber([&] { ran = true; });
  ASSERT_TRUE(ok->join(Deadline::after(10.0)));
  EXPECT_TRUE(ran);
}

// Under AddressSanitizer: a fiber's frames that never return (its last switch away, a hub gone
// while it was parked) leave poisoned redzones in the shadow of its stack. The next fiber on that
// memory must start clean, or an uninstrumented library writing into its own frames there is
// reported as a stack-buffer-overflow (seen with OpenSSL and recv under load).
GROVE_TEST(WaitSafety, AReusedStackStartsWithACleanShadow) {
#if !defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "checks AddressSanitizer's shadow; run with --config=asan";
#else
  char* region = nullptr;
  constexpr std::size_t kRegion = 4096;
  FiberRef first = spawn_fiber([&] {
    char here;
    // Below this frame, where deeper frames lived: poisoned as frames left by a switch are.
    region = &here - 16 * 1024;
    ASAN_POISON_MEMORY_REGION(region, kRegion);
  });
  ASSERT_TRUE(first->join(Deadline::after(10.0)));
  first = FiberRef();
  bool same_stack = false;
  const void* poisoned = nullptr;
  FiberRef second = spawn_fiber([&] {
    char here;
    same_stack = &here > region && &here - region < 64 * 1024;
    if (same_stack) poisoned = __asan_region_is_poisoned(region, kRegion);
  });
  ASSERT_TRUE(second->join(Deadline::after(10.0)));
  ASSERT_TRUE(same_stack) << "the second fiber did not get the first one's stack";
  EXPECT_EQ(poisoned, nullptr) << "the reused stack kept the shadow of frames that are gone";
#endif
}

}  // namespace
}  // namespace grove
