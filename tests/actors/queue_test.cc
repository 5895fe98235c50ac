// Queues: disciplines, bounded/unbounded, direct hand-over, FIFO fairness, Channel, joinable
// (task_done/join), shutdown, iteration.
#include "actors/queue.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hub/hub.h"
#include "tests/hub/wait_conformance.h"
#include "tests/support/grove_test.h"

namespace grove {
namespace {

using namespace std::chrono_literals;

// ---- conformance fixtures: every blocking call of the queues

template <class Q>
struct GetFromEmpty {
  static constexpr testing::Wake kWake = testing::Wake::kOnePerRelease;
  bool wait(Deadline d) { return q->get(d).ok(); }
  void release() { ASSERT_EQ(q->try_put(1), QueueStatus::kOk); }
  void done() {}
  std::size_t waiting() const { return q->getters_waiting() + q->watchers_waiting(); }
  // A Channel's put only completes into a parked get(): its source is tested on its own below.
  WaitSource source()
    requires(!Q::kRendezvous)
  {
    return q->wait_source();
  }
  using Destroyed = ObjectDestroyed;
  void destroy() { q.reset(); }
  std::optional<Q> q{std::in_place};
};

struct PutWhenFull {
  static constexpr testing::Wake kWake = testing::Wake::kOnePerRelease;
  PutWhenFull() { EXPECT_EQ(q.put(0), QueueStatus::kOk); }
  bool wait(Deadline d) { return q.put(1, d) == QueueStatus::kOk; }
  void release() { ASSERT_TRUE(q.try_get().ok()); }
  void done() {}
  std::size_t waiting() const { return q.putters_waiting(); }
  Queue<int> q{1};
};

struct PeekEmpty {
  static constexpr testing::Wake kWake = testing::Wake::kAllAtOnce;
  bool wait(Deadline d) { return q.peek(d).ok(); }
  void release() { ASSERT_EQ(q.try_put(1), QueueStatus::kOk); }
  void done() {}
  std::size_t waiting() const { return q.getters_waiting(); }
  Queue<int> q;
};

struct JoinUnfinished {
  static constexpr testing::Wake kWake = testing::Wake::kAllAtOnce;
  JoinUnfinished() {
    EXPECT_EQ(q.put(1), QueueStatus::kOk);
    EXPECT_TRUE(q.get().ok());
  }
  bool wait(Deadline d) { return q.join(d); }
  void release() { q.task_done(); }
  void done() {}
  std::size_t waiting() const { return q.joiners_waiting(); }
  Queue<int> q;
};

struct ChannelPut {
  static constexpr testing::Wake kWake = testing::Wake::kOnePerRelease;
  bool wait(Deadline d) { return c.put(1, d) == QueueStatus::kOk; }
  void release() { ASSERT_TRUE(c.try_get().ok()); }
  void done() {}
  std::size_t waiting() const { return c.putters_waiting(); }
  Channel<int> c;
};

// ---- disciplines

GROVE_TEST(Queue, FifoGetsInPutOrder) {
  Queue<int> q;
  for (int i = 0; i < 5; ++i) ASSERT_EQ(q.put(i), QueueStatus::kOk);
  EXPECT_EQ(q.size(), 5u);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(*q.get(), i);
  EXPECT_TRUE(q.empty());
}

GROVE_TEST(Queue, FifoRingGrowsAcrossWrapAround) {
  Queue<std::string> q;
  int next_put = 0, next_get = 0;
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < 7; ++i) ASSERT_EQ(q.put(std::to_string(next_put++)), QueueStatus::kOk);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(*q.get(), std::to_string(next_get++));
  }
  while (!q.empty()) EXPECT_EQ(*q.get(), std::to_string(next_get++));
  EXPECT_EQ(next_get, next_put);
}

GROVE_TEST(Queue, LifoGetsTheLatestFirst) {
  LifoQueue<int> q;
  for (int i = 0; i < 4; ++i) ASSERT_EQ(q.put(i), QueueStatus::kOk);
  EXPECT_EQ(*q.peek(), 3);
  for (int i = 3; i >= 0; --i) EXPECT_EQ(*q.get(), i);
}

GROVE_TEST(Queue, PriorityGetsTheSmallestFirst) {
  PriorityQueue<int> q;
  for (int v : {5, 1, 4, 2, 3}) ASSERT_EQ(q.put(v), QueueStatus::kOk);
  EXPECT_EQ(*q.peek(), 1);
  for (int i = 1; i <= 5; ++i) EXPECT_EQ(*q.get(), i);
}

GROVE_TEST(Queue, PriorityTakesACustomOrder) {
  PriorityQueue<int, std::greater<int>> q;
  for (int v : {5, 1, 4}) ASSERT_EQ(q.put(v), QueueStatus::kOk);
  EXPECT_EQ(*q.get(), 5);
  EXPECT_EQ(*q.get(), 4);
  EXPECT_EQ(*q.get(), 1);
}

GROVE_TEST(Queue, MaxsizeZeroIsUnbounded) {
  Queue<int> q(0);
  EXPECT_EQ(q.maxsize(), 0u);
  for (int i = 0; i < 10000; ++i) ASSERT_EQ(q.try_put(i), QueueStatus::kOk);
  EXPECT_FALSE(q.full());
  EXPECT_EQ(q.size(), 10000u);
}

GROVE_TEST(Queue, BoundedQueueIsFullAtMaxsize) {
  Queue<int> q(2);
  EXPECT_EQ(q.try_put(1), QueueStatus::kOk);
  EXPECT_FALSE(q.full());
  EXPECT_EQ(q.try_put(2), QueueStatus::kOk);
  EXPECT_TRUE(q.full());
  EXPECT_EQ(q.try_put(3), QueueStatus::kTimedOut);
  EXPECT_EQ(q.put_for(3, 2ms), QueueStatus::kTimedOut);
  EXPECT_EQ(q.size(), 2u);
}

GROVE_TEST(Queue, TryGetOnAnEmptyQueueTimesOutAtOnce) {
  Queue<int> q;
  const auto before = Hub::current().stats().switches;
  EXPECT_EQ(q.try_get().status(), QueueStatus::kTimedOut);
  EXPECT_EQ(q.try_peek().status(), QueueStatus::kTimedOut);
  EXPECT_EQ(Hub::current().stats().switches, before);
  EXPECT_EQ(q.get_for(2ms).status(), QueueStatus::kTimedOut);
}

GROVE_TEST(Queue, MoveOnlyItemsAndAFailedPutLeavesTheItemUntouched) {
  Queue<std::unique_ptr<int>> q(1);
  auto first = std::make_unique<int>(1);
  ASSERT_EQ(q.put(std::move(first)), QueueStatus::kOk);
  auto second = std::make_unique<int>(2);
  EXPECT_EQ(q.try_put(std::move(second)), QueueStatus::kTimedOut);
  ASSERT_NE(second, nullptr) << "a failed put must not consume the item";
  EXPECT_EQ(*second, 2);
  EXPECT_EQ(**q.get(), 1);
}

// ---- hand-over and fairness

GROVE_TEST(Queue, PutHandsDirectlyToWaitingGetterWithoutYielding) {
  Queue<int> q;
  int got = 0;
  FiberRef getter = spawn_fiber([&] { got = *q.get(); });
  sleep(0.0);
  ASSERT_EQ(q.getters_waiting(), 1u);
  const auto before = Hub::current().stats().switches;
  ASSERT_EQ(q.put(42), QueueStatus::kOk);
  EXPECT_EQ(Hub::current().stats().switches, before) << "the putter must not yield";
  EXPECT_EQ(q.size(), 0u) << "the item went to the getter, not the buffer";
  EXPECT_EQ(q.getters_waiting(), 0u);
  EXPECT_EQ(got, 0) << "the getter runs later";
  ASSERT_TRUE(getter->join());
  EXPECT_EQ(got, 42);
}

GROVE_TEST(Queue, GettersAreServedFifo) {
  Queue<int> q;
  std::vector<std::pair<int, int>> got;  // (getter, item)
  std::vector<FiberRef> getters;
  for (int i = 0; i < 4; ++i) {
    getters.push_back(spawn_fiber([&, i] { got.emplace_back(i, *q.get()); }));
    sleep(0.0);
  }
  for (int i = 0; i < 4; ++i) ASSERT_EQ(q.put(100 + i), QueueStatus::kOk);
  for (auto& g : getters) ASSERT_TRUE(g->join());
  EXPECT_EQ(got, (std::vector<std::pair<int, int>>{{0, 100}, {1, 101}, {2, 102}, {3, 103}}));
}

GROVE_TEST(Queue, PuttersAreServedFifo) {
  Queue<int> q(1);
  ASSERT_EQ(q.put(0), QueueStatus::kOk);
  std::vector<FiberRef> putters;
  for (int i = 1; i <= 3; ++i) {
    putters.push_back(spawn_fiber([&, i] { EXPECT_EQ(q.put(i), QueueStatus::kOk); }));
    sleep(0.0);
  }
  ASSERT_EQ(q.putters_waiting(), 3u);
  std::vector<int> got;
  for (int i = 0; i < 4; ++i) got.push_back(*q.get());
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3}));
  for (auto& p : putters) ASSERT_TRUE(p->join());
}

GROVE_TEST(Queue, GetFromAFullQueueHandsOverFromTheLongestPutter) {
  Queue<int> q(1);
  ASSERT_EQ(q.put(1), QueueStatus::kOk);
  FiberRef putter = spawn_fiber([&] { EXPECT_EQ(q.put(2), QueueStatus::kOk); });
  sleep(0.0);
  ASSERT_EQ(q.putters_waiting(), 1u);
  EXPECT_EQ(*q.get(), 1);
  EXPECT_EQ(q.putters_waiting(), 0u);
  EXPECT_EQ(q.size(), 1u) << "the putter's item moved into the freed space";
  EXPECT_EQ(q.try_put(3), QueueStatus::kTimedOut) << "a newcomer cannot overtake the putter";
  EXPECT_EQ(*q.get(), 2);
  ASSERT_TRUE(putter->join());
}

GROVE_TEST(Queue, ANewGetterCannotOvertakeAParkedOne) {
  Queue<int> q;
  int got = 0;
  FiberRef getter = spawn_fiber([&] { got = *q.get(); });
  sleep(0.0);
  ASSERT_EQ(q.put(5), QueueStatus::kOk);
  EXPECT_EQ(q.try_get().status(), QueueStatus::kTimedOut) << "the item is the parked getter's";
  ASSERT_TRUE(getter->join());
  EXPECT_EQ(got, 5);
}

GROVE_TEST(Queue, AGetterWokenThenKilledStillReceivesTheItem) {
  // A wake wins over a later kill (hub/wait.h): the item is never lost.
  Queue<int> q;
  int got = 0;
  bool killed_later = false;
  FiberRef getter = spawn_fiber([&] {
    got = *q.get();
    try {
      sleep(10.0);
    } catch (const GreenletExit&) {
      killed_later = true;
      throw;
    }
  });
  sleep(0.0);
  ASSERT_EQ(q.put(9), QueueStatus::kOk);
  getter->kill();
  ASSERT_TRUE(getter->join());
  EXPECT_EQ(got, 9);
  EXPECT_TRUE(killed_later);
}

GROVE_TEST(Queue, PeekReturnsTheNextItemWithoutRemovingIt) {
  Queue<int> q;
  ASSERT_EQ(q.put(1), QueueStatus::kOk);
  ASSERT_EQ(q.put(2), QueueStatus::kOk);
  EXPECT_EQ(*q.peek(), 1);
  EXPECT_EQ(*q.try_peek(), 1);
  EXPECT_EQ(q.size(), 2u);
}

GROVE_TEST(Queue, ParkedPeekersAndAParkedGetterAllSeeTheNextItem) {
  Queue<int> q;
  std::vector<int> peeked;
  int got = 0;
  FiberRef p1 = spawn_fiber([&] { peeked.push_back(*q.peek()); });
  FiberRef g = spawn_fiber([&] { got = *q.get(); });
  FiberRef p2 = spawn_fiber([&] { peeked.push_back(*q.peek()); });
  sleep(0.0);
  ASSERT_EQ(q.getters_waiting(), 3u);
  ASSERT_EQ(q.put(8), QueueStatus::kOk);
  for (auto* f : {&p1, &g, &p2}) ASSERT_TRUE((*f)->join());
  EXPECT_EQ(peeked, (std::vector<int>{8, 8}));
  EXPECT_EQ(got, 8);
  EXPECT_TRUE(q.empty());
}

// ---- Channel

GROVE_TEST(Channel, PutBlocksUntilAGetterTakesTheItem) {
  Channel<std::string> c;
  bool put_returned = false;
  FiberRef putter = spawn_fiber([&] {
    EXPECT_EQ(c.put("hi"), QueueStatus::kOk);
    put_returned = true;
  });
  sleep(0.01);
  EXPECT_FALSE(put_returned);
  EXPECT_EQ(c.putters_waiting(), 1u);
  EXPECT_EQ(c.size(), 0u);
  EXPECT_EQ(*c.get(), "hi");
  ASSERT_TRUE(putter->join());
  EXPECT_TRUE(put_returned);
}

GROVE_TEST(Channel, TryPutFailsWithoutAParkedGetter) {
  Channel<int> c;
  EXPECT_TRUE(c.full());
  EXPECT_EQ(c.try_put(1), QueueStatus::kTimedOut);
  EXPECT_EQ(c.try_get().status(), QueueStatus::kTimedOut);
  EXPECT_EQ(c.put_for(1, 2ms), QueueStatus::kTimedOut);
  EXPECT_EQ(c.putters_waiting(), 0u);
}

GROVE_TEST(Channel, PutToAParkedGetterDoesNotYield) {
  Channel<int> c;
  int got = 0;
  FiberRef getter = spawn_fiber([&] { got = *c.get(); });
  sleep(0.0);
  EXPECT_FALSE(c.full());
  const auto before = Hub::current().stats().switches;
  EXPECT_EQ(c.try_put(3), QueueStatus::kOk);
  EXPECT_EQ(Hub::current().stats().switches, before);
  ASSERT_TRUE(getter->join());
  EXPECT_EQ(got, 3);
}

GROVE_TEST(Channel, GettersTakeFromTheLongestPutterFirst) {
  Channel<int> c;
  std::vector<FiberRef> putters;
  for (int i = 0; i < 3; ++i) {
    putters.push_back(spawn_fiber([&, i] { EXPECT_EQ(c.put(i), QueueStatus::kOk); }));
    sleep(0.0);
  }
  for (int i = 0; i < 3; ++i) EXPECT_EQ(*c.get(), i);
  for (auto& p : putters) ASSERT_TRUE(p->join());
}

// ---- joinable

GROVE_TEST(Queue, JoinWaitsUntilEveryItemIsMarkedDone) {
  Queue<int> q;
  ASSERT_EQ(q.put(1), QueueStatus::kOk);
  ASSERT_EQ(q.put(2), QueueStatus::kOk);
  EXPECT_EQ(q.unfinished_tasks(), 2u);
  FiberRef worker = spawn_fiber([&] {
    while (!q.empty()) {
      (void)q.get();
      sleep(0.001);
      q.task_done();
    }
  });
  EXPECT_TRUE(q.join(Deadline::after(20.0)));
  EXPECT_EQ(q.unfinished_tasks(), 0u);
  ASSERT_TRUE(worker->join());
}

GROVE_TEST(Queue, JoinReturnsAtOnceWithNothingUnfinished) {
  Queue<int> q;
  EXPECT_TRUE(q.join(Deadline::after(0.0)));
  ASSERT_EQ(q.put(1), QueueStatus::kOk);
  EXPECT_FALSE(q.join_for(2ms));
}

GROVE_TEST(Queue, TaskDoneCalledTooManyTimesThrows) {
  Queue<int> q;
  ASSERT_EQ(q.put(1), QueueStatus::kOk);
  q.task_done();
  EXPECT_THROW(q.task_done(), TaskDoneError);
  try {
    q.task_done();
  } catch (const std::logic_error& e) {
    EXPECT_STREQ(e.what(), "task_done() called too many times");
  }
}

// ---- shutdown

GROVE_TEST(Queue, PutAfterShutdownFails) {
  Queue<int> q;
  q.shutdown();
  EXPECT_TRUE(q.is_shutdown());
  EXPECT_EQ(q.put(1), QueueStatus::kShutDown);
  EXPECT_EQ(q.try_put(1), QueueStatus::kShutDown);
}

GROVE_TEST(Queue, ShutdownLetsGetsDrainThenFails) {
  Queue<int> q;
  ASSERT_EQ(q.put(1), QueueStatus::kOk);
  ASSERT_EQ(q.put(2), QueueStatus::kOk);
  q.shutdown();
  EXPECT_EQ(*q.get(), 1);
  EXPECT_EQ(*q.peek(), 2);
  EXPECT_EQ(*q.get(), 2);
  EXPECT_EQ(q.get().status(), QueueStatus::kShutDown);
  EXPECT_EQ(q.try_get().status(), QueueStatus::kShutDown);
  EXPECT_EQ(q.peek().status(), QueueStatus::kShutDown);
}

GROVE_TEST(Queue, ShutdownImmediateFailsGettersAtOnce) {
  Queue<int> q;
  ASSERT_EQ(q.put(1), QueueStatus::kOk);
  ASSERT_EQ(q.put(2), QueueStatus::kOk);
  q.shutdown(/*immediate=*/true);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.get().status(), QueueStatus::kShutDown);
  EXPECT_EQ(q.unfinished_tasks(), 0u) << "discarded items count as done";
  EXPECT_TRUE(q.join(Deadline::after(0.0)));
}

GROVE_TEST(Queue, ShutdownWakesParkedGettersAndPuttersWithShutDown) {
  Queue<int> empty;
  Queue<int> full(1);
  ASSERT_EQ(full.put(0), QueueStatus::kOk);
  std::vector<QueueStatus> statuses;
  FiberRef getter = spawn_fiber([&] { statuses.push_back(empty.get().status()); });
  FiberRef peeker = spawn_fiber([&] { statuses.push_back(empty.peek().status()); });
  FiberRef putter = spawn_fiber([&] { statuses.push_back(full.put(1)); });
  sleep(0.0);
  empty.shutdown();
  full.shutdown();
  for (auto* f : {&getter, &peeker, &putter}) ASSERT_TRUE((*f)->join());
  EXPECT_EQ(statuses, (std::vector<QueueStatus>(3, QueueStatus::kShutDown)));
  EXPECT_EQ(*full.get(), 0) << "a non-immediate shutdown keeps the buffered item";
}

GROVE_TEST(Queue, ShutdownImmediateReleasesJoinersWhenNothingIsInFlight) {
  Queue<int> q;
  ASSERT_EQ(q.put(1), QueueStatus::kOk);
  bool joined = false;
  FiberRef joiner = spawn_fiber([&] { joined = q.join(Deadline::after(20.0)); });
  sleep(0.0);
  q.shutdown(true);
  ASSERT_TRUE(joiner->join());
  EXPECT_TRUE(joined);
}

GROVE_TEST(Channel, ShutdownFailsParkedPutters) {
  Channel<int> c;
  QueueStatus status = QueueStatus::kOk;
  FiberRef putter = spawn_fiber([&] { status = c.put(1); });
  sleep(0.0);
  c.shutdown();
  ASSERT_TRUE(putter->join());
  EXPECT_EQ(status, QueueStatus::kShutDown);
  EXPECT_EQ(c.get().status(), QueueStatus::kShutDown);
}

GROVE_TEST(Queue, IterationGetsItemsUntilShutdown) {
  Queue<int> q;
  std::vector<int> seen;
  FiberRef consumer = spawn_fiber([&] {
    for (int item : q) seen.push_back(item);
  });
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(q.put(i), QueueStatus::kOk);
    sleep(0.0);
  }
  ASSERT_EQ(q.put(3), QueueStatus::kOk);
  q.shutdown();
  ASSERT_TRUE(consumer->join());
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2, 3}));
}


// ---- queues as wait_any sources (hub/wait_any.h)

GROVE_TEST(Queue, WaitAnyOverQueuesSaysWhichHasAnItem) {
  Queue<int> first;
  Queue<std::string> second;
  std::optional<std::size_t> fired;
  std::string got;
  FiberRef selector = spawn_fiber([&] {
    fired = wait_any({first.wait_source(), second.wait_source()}, Deadline::after(20.0));
    if (fired == 1u) got = *second.try_get();
  });
  sleep(0.0);
  ASSERT_EQ(first.watchers_waiting() + second.watchers_waiting(), 2u);
  ASSERT_EQ(second.put("job"), QueueStatus::kOk);
  ASSERT_TRUE(selector->join(Deadline::after(20.0)));
  EXPECT_EQ(fired, std::optional<std::size_t>(1));
  EXPECT_EQ(got, "job");
  EXPECT_EQ(first.watchers_waiting() + second.watchers_waiting(), 0u);
}

GROVE_TEST(Queue, WaitAnyReturnsAtOnceForABufferedItem) {
  Queue<int> empty;
  Queue<int> full;
  ASSERT_EQ(full.put(7), QueueStatus::kOk);
  EXPECT_EQ(wait_any({empty.wait_source(), full.wait_source()}, Deadline::after(0.0)),
            std::optional<std::size_t>(1));
  EXPECT_EQ(full.size(), 1u) << "wait_any only looks";
}

GROVE_TEST(Queue, ShutdownFiresItsSource) {
  Queue<int> q;
  std::optional<std::size_t> fired;
  FiberRef selector = spawn_fiber([&] { fired = wait_any({q.wait_source()}, Deadline::after(20.0)); });
  sleep(0.0);
  q.shutdown();
  ASSERT_TRUE(selector->join(Deadline::after(20.0)));
  EXPECT_EQ(fired, std::optional<std::size_t>(0));
  EXPECT_EQ(q.try_get().status(), QueueStatus::kShutDown);
}

GROVE_TEST(Channel, SourceFiresWhenAPutterWaits) {
  Channel<int> c;
  std::optional<std::size_t> fired;
  std::optional<int> got;
  FiberRef selector = spawn_fiber([&] {
    fired = wait_any({c.wait_source()}, Deadline::after(20.0));
    if (fired) got = *c.try_get();
  });
  QueueStatus put_status = QueueStatus::kTimedOut;
  FiberRef putter = spawn_fiber([&] { put_status = c.put(5, Deadline::after(20.0)); });
  ASSERT_TRUE(selector->join(Deadline::after(20.0)));
  ASSERT_TRUE(putter->join(Deadline::after(20.0)));
  EXPECT_EQ(fired, std::optional<std::size_t>(0));
  EXPECT_EQ(got, std::optional<int>(5));
  EXPECT_EQ(put_status, QueueStatus::kOk) << "the try_get after the source fired took the item";
}

}  // namespace

namespace testing {
using QueueFixtures =
    ::testing::Types<GetFromEmpty<Queue<int>>, GetFromEmpty<LifoQueue<int>>,
                     GetFromEmpty<PriorityQueue<int>>, GetFromEmpty<Channel<int>>, PutWhenFull,
                     PeekEmpty, JoinUnfinished, ChannelPut>;
INSTANTIATE_TYPED_TEST_SUITE_P(Queue, WaitConformance, QueueFixtures);
}  // namespace testing

}  // namespace grove
