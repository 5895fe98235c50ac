// Cross-thread wake-ups through the hub's inbox, and the thread pool.
#include <pthread.h>
#include <signal.h>

#include <array>
#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "hub/hub.h"
#include "hub/thread_pool.h"
#include "tests/support/grove_test.h"

namespace grove {
namespace {

GROVE_TEST(Threads, PostRunsOnTheHubThread) {
  Hub& hub = Hub::current();
  RemoteHub remote = hub.remote();
  const std::thread::id hub_thread = std::this_thread::get_id();
  std::thread::id ran_on;
  WaitList done;
  hub.ref_external();
  std::thread t([&] {
    remote.post([&] {
      ran_on = std::this_thread::get_id();
      done.wake_all();
    });
  });
  (void)done.wait(Deadline::after(20.0));
  hub.unref_external();
  t.join();
  EXPECT_EQ(ran_on, hub_thread);
}

GROVE_TEST(Threads, ManyThreadsWakeManyFibersUnderLoad) {
  constexpr int kThreads = 4;
  constexpr int kFibers = 200;
  constexpr int kRounds = 50;
  Hub& hub = Hub::current();
  RemoteHub remote = hub.remote();
  struct Slot {
    WaitList list;
    int wakes = 0;
  };
  std::vector<Slot> slots(kFibers);
  std::vector<FiberRef> fibers;
  for (int i = 0; i < kFibers; ++i) {
    fibers.push_back(spawn_fiber([&slots, i] {
      while (slots[i].wakes < kRounds * kThreads) (void)slots[i].list.wait();
    }));
  }
  sleep(0.0);
  hub.ref_external();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int r = 0; r < kRounds; ++r) {
        for (int i = 0; i < kFibers; ++i) {
          remote.post([&slots, i] {
            ++slots[i].wakes;
            slots[i].list.wake_all();
          });
        }
      }
    });
  }
  for (auto& f : fibers) EXPECT_TRUE(f->join_for(std::chrono::seconds(20)));
  for (auto& t : threads) t.join();
  hub.unref_external();
  for (auto& s : slots) EXPECT_EQ(s.wakes, kRounds * kThreads);
}

GROVE_TEST(Threads, RunInThreadReturnsTheValue) {
  const std::thread::id hub_thread = std::this_thread::get_id();
  std::thread::id worker;
  const int v = run_in_thread([&] {
    worker = std::this_thread::get_id();
    return 6 * 7;
  });
  EXPECT_EQ(v, 42);
  EXPECT_NE(worker, hub_thread);
}

GROVE_TEST(Threads, RunInThreadRethrowsTheException) {
  EXPECT_THROW(run_in_thread([]() -> int { throw std::invalid_argument("bad"); }),
               std::invalid_argument);
}

GROVE_TEST(Threads, RunInThreadLetsOtherFibersRun) {
  std::atomic<bool> release{false};
  std::atomic<int> ticks{0};
  FiberRef ticker = spawn_fiber([&] {
    while (!release.load()) {
      ++ticks;
      sleep(0.001);
    }
  });
  // The job returns only once the ticker has ticked five times while the caller waited.
  const int seen = run_in_thread([&] {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (ticks.load() < 5 && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return ticks.load();
  });
  release = true;
  EXPECT_TRUE(ticker->join());
  EXPECT_GE(seen, 5);
}

GROVE_TEST(Threads, ConcurrentRunInThreadCallsOverlap) {
  std::vector<FiberRef> fibers;
  std::atomic<int> inside{0};
  std::atomic<int> max_inside{0};
  for (int i = 0; i < 4; ++i) {
    fibers.push_back(spawn_fiber([&] {
      run_in_thread([&] {
        const int now = ++inside;
        int seen = max_inside.load();
        while (now > seen && !max_inside.compare_exchange_weak(seen, now)) {
        }
        // Stay until another job is inside too (run one at a time, the first would wait 20 s).
        const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (max_inside.load() < 2 && std::chrono::steady_clock::now() < give_up) {
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        --inside;
      });
    }));
  }
  for (auto& f : fibers) EXPECT_TRUE(f->join());
  EXPECT_GE(max_inside.load(), 2);
}

// A process-directed SIGTERM must reach the thread that handles it (a servers::SignalWatch
// blocks it there and reads it from a signalfd), never a worker started before that watch, where
// the default action would end the process. Faults stay deliverable on the thread that raised them.
GROVE_TEST(Threads, WorkersTakeNoAsynchronousSignals) {
  const auto members = grove::run_in_thread([] {
    sigset_t mask;
    ::pthread_sigmask(SIG_SETMASK, nullptr, &mask);
    return std::array{::sigismember(&mask, SIGTERM), ::sigismember(&mask, SIGINT),
                      ::sigismember(&mask, SIGHUP), ::sigismember(&mask, SIGSEGV)};
  });
  EXPECT_EQ(members[0], 1) << "SIGTERM not blocked in a worker";
  EXPECT_EQ(members[1], 1) << "SIGINT not blocked in a worker";
  EXPECT_EQ(members[2], 1) << "SIGHUP not blocked in a worker";
  EXPECT_EQ(members[3], 0) << "SIGSEGV blocked in a worker";
}

GROVE_TEST(Threads, EachThreadHasItsOwnHub) {
  Hub* mine = &Hub::current();
  Hub* theirs = nullptr;
  std::thread t([&] {
    theirs = &Hub::current();
    FiberRef f = spawn_fiber([] { sleep(0.001); });
    (void)f->join();
  });
  t.join();  // the thread's hub is destroyed at its exit
  EXPECT_NE(mine, theirs);
}

}  // namespace
}  // namespace grove
