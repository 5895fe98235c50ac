// A hub per core: the lock-free inbox (order, no loss, coalesced wake-ups) and Runtime (threads,
// placement, run_on, shutdown).
#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <memory>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "hub/hub.h"
#include "hub/runtime.h"
#include "tests/support/grove_test.h"

namespace grove {
namespace {

// Each producer thread posts 0, 1, 2, ... : the hub sees every item once, and each producer's
// items in the order posted, however the producers interleave.
GROVE_TEST(Inbox, KeepsEachPostersOrderAndLosesNothing) {
  constexpr int kProducers = 4;
  constexpr int kItems = 20000;
  Hub& hub = Hub::current();
  RemoteHub remote = hub.remote();
  std::vector<int> next(kProducers, 0);
  int out_of_order = 0;
  int received = 0;
  WaitList done;
  hub.ref_external();
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kItems; ++i) {
        ASSERT_TRUE(remote.post([&, p, i] {
          if (next[p] != i) ++out_of_order;
          next[p] = i + 1;
          if (++received == kProducers * kItems) done.wake_all();
        }));
      }
    });
  }
  while (received < kProducers * kItems) {
    if (done.wait(Deadline::after(60.0)) == WaitStatus::kTimedOut) break;
  }
  hub.unref_external();
  for (auto& t : producers) t.join();
  EXPECT_EQ(received, kProducers * kItems);
  EXPECT_EQ(out_of_order, 0);
}

// A hub that is running fibers (not asleep in its poller) drains its inbox on every pass:
// posters never write its eventfd.
GROVE_TEST(Inbox, NoWakeUpSignalWhileTheHubIsAwake) {
  Hub& hub = Hub::current();
  RemoteHub remote = hub.remote();
  std::atomic<bool> posted{false};
  int ran = 0;
  const std::uint64_t wakeups_before = hub.stats().inbox_wakeups;
  std::thread poster([&] {
    for (int i = 0; i < 1000; ++i) remote.post([&] { ++ran; });
    posted.store(true);
  });
  // Busy: yield until the poster is done and everything it posted ran.
  while (!posted.load() || ran < 1000) yield();
  poster.join();
  EXPECT_EQ(ran, 1000);
  EXPECT_EQ(hub.stats().inbox_wakeups, wakeups_before);
}

// A hub asleep in its poller is woken by a post, and counts that wake-up; never more wake-ups
// than posts.
GROVE_TEST(Inbox, ASleepingHubIsWokenByAPost) {
  Hub& hub = Hub::current();
  RemoteHub remote = hub.remote();
  WaitList done;
  bool ran = false;
  const std::uint64_t before = hub.stats().inbox_wakeups;
  hub.ref_external();
  std::thread poster([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let the hub fall asleep
    remote.post([&] {
      ran = true;
      done.wake_all();
    });
  });
  while (!ran) {
    if (done.wait(Deadline::after(30.0)) == WaitStatus::kTimedOut) break;
  }
  hub.unref_external();
  poster.join();
  EXPECT_TRUE(ran);
  const std::uint64_t wakeups = hub.stats().inbox_wakeups - before;
  EXPECT_LE(wakeups, 1u);
}

// Posting to a hub whose thread has ended returns false and frees what was posted.
TEST(Inbox, PostToAnEndedHubIsDroppedAndFreed) {
  RemoteHub remote;
  std::thread([&] { remote = Hub::current().remote(); }).join();  // the hub ends with its thread
  auto token = std::make_shared<int>(1);
  EXPECT_FALSE(remote.post([token] {}));
  EXPECT_EQ(token.use_count(), 1);
}

TEST(Runtime, RunsEachHubOnItsOwnThread) {
  Runtime rt({.threads = 3});
  ASSERT_EQ(rt.size(), 3u);
  std::mutex mutex;
  std::set<std::thread::id> threads;
  std::atomic<int> ran{0};
  for (std::size_t i = 0; i < rt.size(); ++i) {
    ASSERT_TRUE(rt.post(i, [&, i] {
      std::lock_guard lock(mutex);
      threads.insert(std::this_thread::get_id());
      EXPECT_EQ(Runtime::current(), &rt);
      EXPECT_EQ(Runtime::current_index(), i);
      EXPECT_EQ(&Hub::current(), &rt.hub(i));
      ran.fetch_add(1);
    }));
  }
  while (ran.load() < 3) std::this_thread::yield();
  EXPECT_EQ(threads.size(), 3u);
  EXPECT_EQ(threads.count(std::this_thread::get_id()), 0u);
  EXPECT_EQ(Runtime::current(), nullptr);
}

TEST(Runtime, PinsHubsToCpusWhenAsked) {
  Runtime rt({.threads = 2, .pin = true});
  std::atomic<int> pinned{0};
  std::atomic<int> ran{0};
  for (std::size_t i = 0; i < rt.size(); ++i) {
    rt.post(i, [&] {
      cpu_set_t set;
      CPU_ZERO(&set);
      ASSERT_EQ(::pthread_getaffinity_np(::pthread_self(), sizeof set, &set), 0);
      if (CPU_COUNT(&set) == 1) pinned.fetch_add(1);
      ran.fetch_add(1);
    });
  }
  while (ran.load() < 2) std::this_thread::yield();
  EXPECT_EQ(pinned.load(), 2);
}

// stop() kills and unwinds every fiber of every hub: their destructors run before it returns.
TEST(Runtime, StopUnwindsEveryFiberOnEveryHub) {
  auto unwound = std::make_shared<std::atomic<int>>(0);
  std::atomic<int> parked{0};
  {
    Runtime rt({.threads = 2});
    for (std::size_t i = 0; i < rt.size(); ++i) {
      for (int f = 0; f < 10; ++f) {
        rt.post(i, [unwound, &parked] {
          spawn_fiber([unwound, &parked] {
            struct Count {
              std::shared_ptr<std::atomic<int>> n;
              ~Count() { n->fetch_add(1); }
            } count{unwound};
            parked.fetch_add(1);
            sleep(3600.0);
          });
        });
      }
    }
    while (parked.load() < 20) std::this_thread::yield();
    rt.stop();
    EXPECT_EQ(unwound->load(), 20);
    EXPECT_FALSE(rt.post(0, [] {}));  // a stopped hub takes nothing
  }
}

// least_loaded() names the hub with the fewest live fibers.
TEST(Runtime, LeastLoadedIsTheHubWithFewestFibers) {
  Runtime rt({.threads = 2});
  std::atomic<int> parked{0};
  for (int f = 0; f < 5; ++f) {
    rt.post(0, [&] {
      spawn_fiber([&] {
        parked.fetch_add(1);
        sleep(3600.0);
      });
    });
  }
  while (parked.load() < 5) std::this_thread::yield();
  EXPECT_EQ(rt.least_loaded(), 1u);
  EXPECT_EQ(rt.hub(0).load(), 5u);
}

// run_on runs a function on another hub and hands back its value or its exception.
GROVE_TEST(Runtime, RunOnReturnsTheValueOrTheError) {
  Runtime rt({.threads = 2});
  const std::thread::id here = std::this_thread::get_id();
  const std::thread::id there = run_on(rt.hub(1), [] { return std::this_thread::get_id(); });
  EXPECT_NE(there, here);
  EXPECT_EQ(run_on(rt.hub(0), [] { return Runtime::current_index(); }), 0u);
  EXPECT_THROW(run_on(rt.hub(1), []() -> int { throw std::invalid_argument("no"); }),
               std::invalid_argument);
}

TEST(Runtime, ARuntimeOfOneHubPerCpuByDefault) {
  Runtime rt;
  EXPECT_GE(rt.size(), 1u);
  EXPECT_THROW((void)rt.hub(rt.size()), std::out_of_range);
}

}  // namespace
}  // namespace grove
