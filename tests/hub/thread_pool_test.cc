// hub/thread_pool.h: pools of their own, their limits, hand-off without waiting, dropped jobs.
#include "hub/thread_pool.h"

#include <atomic>
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "hub/hub.h"
#include "tests/hub/wait_conformance.h"
#include "tests/support/grove_test.h"

namespace {

using namespace std::chrono_literals;

// Blocks worker threads until opened (with a generous cap so a broken test cannot hang).
struct Gate {
  std::atomic<bool> open{false};
  std::atomic<int> inside{0};
  std::atomic<int> most{0};
  void pass() {
    const int now = ++inside;
    int m = most.load();
    while (now > m && !most.compare_exchange_weak(m, now)) {
    }
    for (int i = 0; i < 20000 && !open; ++i) std::this_thread::sleep_for(1ms);
    --inside;
  }
};

GROVE_TEST(ThreadPool, OwnPoolRunsAtMostItsLimitAtOnce) {
  grove::ThreadPool pool(2);
  Gate gate;
  std::atomic<int> done{0};
  for (int i = 0; i < 6; ++i) {
    grove::run_detached(pool, [&] { gate.pass(); }, [&](bool ran) { done += ran ? 1 : 0; });
  }
  while (gate.inside < 2) grove::sleep(0.001);
  grove::sleep(0.02);
  EXPECT_EQ(pool.size(), 2u);
  gate.open = true;
  while (done < 6) grove::sleep(0.001);
  EXPECT_EQ(gate.most, 2);
}

GROVE_TEST(ThreadPool, RunDetachedCallsDoneOnTheHubWithoutBlockingTheCaller) {
  grove::ThreadPool pool(1);
  const auto hub_thread = std::this_thread::get_id();
  std::atomic<bool> release{false};
  bool done = false;
  std::thread::id done_on;
  grove::run_detached(
      pool, [&] { while (!release) std::this_thread::sleep_for(1ms); },
      [&](bool ran) {
        EXPECT_TRUE(ran);
        done_on = std::this_thread::get_id();
        done = true;
      });
  EXPECT_FALSE(done) << "run_detached returned before the job ended";
  release = true;
  while (!done) grove::sleep(0.001);
  EXPECT_EQ(done_on, hub_thread);
}

GROVE_TEST(ThreadPool, CancelQueuedDropsJobsNotStarted) {
  grove::ThreadPool pool(1);
  Gate gate;
  int ran = 0;
  int dropped = 0;
  grove::run_detached(pool, [&] { gate.pass(); }, [&](bool r) { (r ? ran : dropped)++; });
  while (gate.inside < 1) grove::sleep(0.001);
  bool waiter_got_dropped = false;
  auto waiter = grove::spawn_fiber([&] {
    try {
      grove::run_in_thread(pool, [] {});
    } catch (const grove::JobDropped&) {
      waiter_got_dropped = true;
    }
  });
  grove::run_detached(pool, [] {}, [&](bool r) { (r ? ran : dropped)++; });
  grove::yield();
  EXPECT_EQ(pool.queued(), 2u);
  EXPECT_EQ(pool.cancel_queued(), 2u);
  gate.open = true;
  (void)waiter->join();
  while (ran + dropped < 2) grove::sleep(0.001);
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(dropped, 1);
  EXPECT_TRUE(waiter_got_dropped);
}

GROVE_TEST(ThreadPool, ShrinkingStopsIdleWorkersAndZeroQueuesJobs) {
  grove::ThreadPool pool(3);
  std::atomic<int> n{0};
  for (int i = 0; i < 3; ++i) grove::run_in_thread(pool, [&] { ++n; });
  pool.set_max_workers(0);
  for (int i = 0; i < 200 && pool.size() > 0; ++i) grove::sleep(0.005);
  EXPECT_EQ(pool.size(), 0u);
  bool done = false;
  grove::run_detached(pool, [&] { ++n; }, [&](bool) { done = true; });
  grove::sleep(0.02);
  EXPECT_FALSE(done) << "no worker may run it while the limit is 0";
  pool.set_max_workers(1);
  while (!done) grove::sleep(0.001);
  EXPECT_EQ(n, 4);
}

}  // namespace

namespace grove::testing {
namespace {

// run_in_thread in the wait-conformance suite. The job is a blocking call with a deadline of
// its own (a condition variable wait), as jobs usually are; release() lets one job through.
// A killed or timed-out waiter waits for its job to end (documented: a thread cannot be
// interrupted), so a job gives up after kJobLimit even without a deadline, or such a test
// would wait forever. Completion order is the worker threads', so there is no wake order.
struct RunInThreadWait {
  static constexpr Wake kWake = Wake::kSingleWaiter;
  static constexpr double kJobLimit = 0.5;
  bool wait(Deadline d) {
    ++in_flight;
    struct Leave {
      std::size_t& n;
      ~Leave() { --n; }
    } leave{in_flight};
    const auto until = std::chrono::steady_clock::now() +
                       std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                           std::chrono::duration<double>(std::min(d.remaining(), kJobLimit)));
    return run_in_thread([this, until] {
      std::unique_lock lock(mutex);
      return ready.wait_until(lock, until, [this] {
        if (permits == 0) return false;
        --permits;
        return true;
      });
    });
  }
  void release() {
    {
      std::lock_guard lock(mutex);
      ++permits;
    }
    ready.notify_all();
  }
  void done() {}
  std::size_t waiting() const { return in_flight; }

  std::mutex mutex;
  std::condition_variable ready;
  int permits = 0;            // guarded by mutex
  std::size_t in_flight = 0;  // hub thread
};

}  // namespace

INSTANTIATE_TYPED_TEST_SUITE_P(RunInThread, WaitConformance, ::testing::Types<RunInThreadWait>);

}  // namespace grove::testing
