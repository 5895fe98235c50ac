// gevent.threadpool through the facade: the behaviours gevent's test__threadpool.py checks —
// spawn returns a result at once, apply/map/imap deliver values in order and rethrow errors,
// maxsize bounds the threads, the hub keeps running while a greenlet waits, join waits for
// everything, kill drops queued work, a killed caller leaves the job harmless, and the
// ThreadPoolExecutor's submit/result.
#include "facade/threadpool.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <vector>

#include "facade/greenlet.h"
#include "facade/hub.h"
#include "tests/support/grove_test.h"

namespace {

using namespace std::chrono_literals;
using gevent::threadpool::ThreadPool;

// Counts how many jobs are inside at once.
struct Concurrency {
  std::atomic<int> inside{0};
  std::atomic<int> most{0};
  void enter_for(std::chrono::milliseconds d) {
    const int now = ++inside;
    int m = most.load();
    while (now > m && !most.compare_exchange_weak(m, now)) {
    }
    std::this_thread::sleep_for(d);
    --inside;
  }
};

GROVE_TEST(GeventThreadPool, SpawnReturnsAtOnceAndGetDeliversTheValue) {
  ThreadPool pool(2);
  std::atomic<bool> release{false};
  auto r = pool.spawn([&](int x) {
    while (!release) std::this_thread::sleep_for(1ms);
    return x * 2;
  }, 21);
  EXPECT_FALSE(r.ready()) << "spawn does not wait for the job";
  release = true;
  EXPECT_EQ(r.get(), 42);
  EXPECT_TRUE(r.successful());
}

GROVE_TEST(GeventThreadPool, ErrorsAreRethrownToTheGetter) {
  ThreadPool pool(1);
  auto r = pool.spawn([]() -> int { throw std::domain_error("in thread"); });
  EXPECT_THROW(r.get(), std::domain_error);
  EXPECT_TRUE(r.exception());
  EXPECT_THROW(pool.apply([] { throw std::range_error("apply"); }), std::range_error);
}

GROVE_TEST(GeventThreadPool, MaxsizeBoundsTheThreadsAndIsSettable) {
  ThreadPool pool(3);
  Concurrency c;
  std::vector<int> items(9);
  (void)pool.map([&](int) { c.enter_for(10ms); return 0; }, items);
  EXPECT_LE(c.most, 3);
  EXPECT_GE(c.most, 2) << "several threads ran at once";
  EXPECT_EQ(pool.maxsize(), 3u);
  pool.set_maxsize(1);
  Concurrency one;
  (void)pool.map([&](int) { one.enter_for(2ms); return 0; }, items);
  EXPECT_EQ(one.most, 1);
  EXPECT_LE(pool.size(), 1u);
}

GROVE_TEST(GeventThreadPool, HubKeepsRunningWhileAGreenletWaits) {
  ThreadPool pool(1);
  std::atomic<bool> release{false};
  std::atomic<int> ticks{0};  // read by the job on the pool's thread
  auto ticker = gevent::spawn([&] {
    while (!release) {
      ++ticks;
      gevent::sleep(0.001);
    }
  });
  auto waiter = gevent::spawn([&] {
    return pool.apply([&] {
      while (ticks < 5) std::this_thread::sleep_for(1ms);
      release = true;
      return 1;
    });
  });
  EXPECT_EQ(waiter.get(), 1) << "the job saw the ticker run meanwhile";
  ticker.join();
}

GROVE_TEST(GeventThreadPool, MapAndImapKeepInputOrderImapUnorderedGivesCompletionOrder) {
  ThreadPool pool(4);
  const std::vector<int> items = {40, 1, 20, 5};
  auto slow_square = [](int ms) {
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    return ms * ms;
  };
  EXPECT_EQ(pool.map(slow_square, items), (std::vector<int>{1600, 1, 400, 25}));
  std::vector<int> ordered;
  for (int v : pool.imap(slow_square, items)) ordered.push_back(v);
  EXPECT_EQ(ordered, (std::vector<int>{1600, 1, 400, 25}));
  std::vector<int> unordered;
  for (int v : pool.imap_unordered(slow_square, items)) unordered.push_back(v);
  ASSERT_EQ(unordered.size(), 4u);
  EXPECT_EQ(unordered.back(), 1600) << "the slowest job comes last";
}

GROVE_TEST(GeventThreadPool, JoinWaitsForEveryJob) {
  ThreadPool pool(2);
  std::atomic<int> done{0};
  for (int i = 0; i < 6; ++i) {
    (void)pool.spawn([&] {
      std::this_thread::sleep_for(2ms);
      ++done;
    });
  }
  EXPECT_TRUE(pool.join(30.0));
  EXPECT_EQ(done, 6);
  EXPECT_EQ(pool.task_count(), 0u);
}

GROVE_TEST(GeventThreadPool, KillDropsQueuedJobs) {
  ThreadPool pool(1);
  std::atomic<bool> release{false};
  auto running = pool.spawn([&] {
    while (!release) std::this_thread::sleep_for(1ms);
    return 1;
  });
  auto queued = pool.spawn([] { return 2; });
  gevent::sleep(0.01);
  pool.kill();
  release = true;
  EXPECT_EQ(running.get(), 1) << "the running job finishes";
  EXPECT_THROW(queued.get(), gevent::threadpool::JobDropped);
  pool.set_maxsize(1);
  EXPECT_EQ(pool.apply([] { return 3; }), 3) << "the pool works again after set_maxsize";
}

GROVE_TEST(GeventThreadPool, KilledCallerLeavesTheJobHarmless) {
  ThreadPool pool(1);
  auto shared = std::make_shared<std::atomic<int>>(0);
  std::atomic<bool> release{false};
  auto caller = gevent::spawn([&] {
    auto r = pool.spawn([shared, &release] {
      while (!release) std::this_thread::sleep_for(1ms);
      return ++*shared;
    });
    return r.get();
  });
  gevent::sleep(0.01);
  caller.kill();
  EXPECT_TRUE(caller.dead());
  release = true;
  EXPECT_TRUE(pool.join(30.0));
  EXPECT_EQ(*shared, 1) << "the job ran to its end";
  EXPECT_EQ(pool.apply([] { return 5; }), 5);
}

GROVE_TEST(GeventThreadPool, ExecutorSubmitAndResult) {
  gevent::threadpool::ThreadPoolExecutor executor(2);
  auto f = executor.submit([](int a, int b) { return a + b; }, 2, 3);
  EXPECT_EQ(f.result(30.0), 5);
  EXPECT_TRUE(f.done());
  executor.shutdown();
}

GROVE_TEST(GeventThreadPool, GetHubThreadpoolIsTheHubsPoolAttribute) {
  auto& pool = gevent::get_hub().threadpool;
  EXPECT_EQ(&pool, &gevent::threadpool::hub_threadpool());
  EXPECT_EQ(&gevent::hub::get_hub().threadpool, &pool) << "gevent.hub.get_hub() is the same hub";
  auto job_thread = gevent::get_hub().threadpool.spawn([] { return std::this_thread::get_id(); });
  EXPECT_NE(job_thread.get(), std::this_thread::get_id()) << "the job ran on a worker thread";
  EXPECT_GE(pool.size(), 1u);

  std::uintptr_t other = 0;
  std::thread([&] {
    other = reinterpret_cast<std::uintptr_t>(&gevent::get_hub().threadpool);
  }).join();  // the thread's pool, then its hub, end with the thread
  EXPECT_NE(other, reinterpret_cast<std::uintptr_t>(&pool)) << "another thread's hub has its own";
}

GROVE_TEST(GeventThreadPool, HubThreadpoolIsPerThread) {
  auto& pool = gevent::threadpool::hub_threadpool();
  EXPECT_EQ(&pool, &gevent::threadpool::hub_threadpool());
  EXPECT_EQ(pool.apply([] { return 8; }), 8);
}

}  // namespace
