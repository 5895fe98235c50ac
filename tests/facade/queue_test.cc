// gevent.queue through the facade: the behaviours gevent's own test__queue.py checks, ported
// (docs/SEMANTICS.md, "Queues").
#include "facade/queue.h"

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "facade/event.h"
#include "tests/support/grove_test.h"

namespace {

using gevent::event::AsyncResult;
using gevent::queue::Channel;
using gevent::queue::Empty;
using gevent::queue::Full;
using gevent::queue::JoinableQueue;
using gevent::queue::LifoQueue;
using gevent::queue::PriorityQueue;
using gevent::queue::Queue;
using gevent::queue::ShutDown;
using gevent::queue::SimpleQueue;
using gevent::queue::UnboundQueue;

// ---- put / get / peek, (block, timeout) -------------------------------------------------------

GROVE_TEST(GeventQueue, PutThenGetIsFifo) {
  SimpleQueue<std::string> q;
  q.put("a");
  q.put("b");
  q.put_nowait("c");
  EXPECT_EQ(q.qsize(), 3u);
  EXPECT_EQ(q.get(), "a");
  EXPECT_EQ(q.get_nowait(), "b");
  EXPECT_EQ(q.get(false), "c");
  EXPECT_TRUE(q.empty());
}

GROVE_TEST(GeventQueue, PutNowaitOnFullThrowsFull) {
  SimpleQueue<int> q(1);
  q.put_nowait(2);
  EXPECT_TRUE(q.full());
  EXPECT_THROW(q.put_nowait(3), Full);
  EXPECT_THROW(q.put(3, /*block=*/false), Full);
  EXPECT_EQ(q.qsize(), 1u);
  EXPECT_EQ(q.get(), 2);
}

GROVE_TEST(GeventQueue, PutWithTimeoutOnFullThrowsFullAfterTheTimeout) {
  SimpleQueue<int> q(1);
  q.put(1);
  const double start = grove::Deadline::now();
  EXPECT_THROW(q.put(2, /*block=*/true, /*timeout=*/0.01), Full);
  EXPECT_GE(grove::Deadline::now() - start, 0.009);
  EXPECT_EQ(q.putters_waiting(), 0u);
}

GROVE_TEST(GeventQueue, GetNowaitOnEmptyThrowsEmpty) {
  SimpleQueue<int> q;
  EXPECT_THROW(q.get_nowait(), Empty);
  EXPECT_THROW(q.get(/*block=*/false), Empty);
}

GROVE_TEST(GeventQueue, GetWithTimeoutOnEmptyThrowsEmptyAfterTheTimeout) {
  SimpleQueue<int> q;
  const double start = grove::Deadline::now();
  EXPECT_THROW(q.get(/*block=*/true, /*timeout=*/0.01), Empty);
  EXPECT_GE(grove::Deadline::now() - start, 0.009);
  EXPECT_EQ(q.getters_waiting(), 0u);
}

GROVE_TEST(GeventQueue, MaxsizeZeroIsUnbounded) {
  SimpleQueue<int> q(0);
  for (int i = 0; i < 1000; ++i) q.put_nowait(i);
  EXPECT_FALSE(q.full());
  EXPECT_EQ(q.qsize(), 1000u);
  EXPECT_EQ(q.maxsize(), 0u);
  UnboundQueue<int> u;
  for (int i = 0; i < 100; ++i) u.put_nowait(i);
  EXPECT_FALSE(u.full());
}

GROVE_TEST(GeventQueue, QsizeEmptyFullAndMaxsizeDescribeTheQueue) {
  SimpleQueue<int> q(2);
  EXPECT_EQ(q.maxsize(), 2u);
  EXPECT_TRUE(q.empty());
  EXPECT_FALSE(q.full());
  q.put(1);
  EXPECT_FALSE(q.empty());
  EXPECT_FALSE(q.full());
  q.put(2);
  EXPECT_TRUE(q.full());
  EXPECT_EQ(q.qsize(), 2u);
}

GROVE_TEST(GeventQueue, MaxSizeParksThePutterUntilAGetMakesRoom) {
  SimpleQueue<std::string> q(2);
  std::vector<std::string> results;
  auto putter = gevent::spawn([&] {
    for (const char* s : {"a", "b", "c"}) {
      q.put(s);
      results.push_back(s);
    }
    return std::string("OK");
  });
  gevent::sleep(0);
  EXPECT_EQ(results, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(q.get(), "a");
  gevent::sleep(0);
  EXPECT_EQ(results, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(q.get(), "b");
  EXPECT_EQ(q.get(), "c");
  EXPECT_EQ(putter.get(true, 1.0), "OK");
}

GROVE_TEST(GeventQueue, PeekReturnsTheNextItemWithoutRemovingIt) {
  SimpleQueue<int> q;
  q.put(1);
  q.put(2);
  EXPECT_EQ(q.peek(), 1);
  EXPECT_EQ(q.peek_nowait(), 1);
  EXPECT_EQ(q.qsize(), 2u);
  EXPECT_EQ(q.get(), 1);
  EXPECT_EQ(q.peek(false), 2);
}

GROVE_TEST(GeventQueue, PeekOnEmptyThrowsEmpty) {
  SimpleQueue<int> q;
  EXPECT_THROW(q.peek_nowait(), Empty);
  EXPECT_THROW(q.peek(/*block=*/true, /*timeout=*/0.01), Empty);
}

GROVE_TEST(GeventQueue, PeekWaitsForAPutAndLeavesTheItem) {
  SimpleQueue<int> q;
  auto peeker = gevent::spawn([&] { return q.peek(); });
  gevent::sleep(0);
  q.put(1);
  EXPECT_EQ(peeker.get(true, 1.0), 1);
  EXPECT_FALSE(peeker.exception());
  EXPECT_EQ(q.peek(), 1);
  EXPECT_EQ(q.qsize(), 1u);
}

GROVE_TEST(GeventQueue, AWaitingGetterReceivesTheItemPutLater) {  // test_send_last
  SimpleQueue<std::string> q;
  auto waiter = gevent::spawn([&] {
    gevent::Timeout t(1.0);
    EXPECT_EQ(q.get(), "hi2");
    return std::string("OK");
  });
  gevent::sleep(0.001);
  q.put("hi2");
  gevent::sleep(0.001);
  EXPECT_EQ(waiter.get(/*block=*/true, /*timeout=*/0.0), "OK");
}

GROVE_TEST(GeventQueue, PutHandsDirectlyToAWaitingGetterWithoutYielding) {
  SimpleQueue<int> q;
  std::optional<int> got;
  auto getter = gevent::spawn([&] { got = q.get(); });
  gevent::sleep(0);
  ASSERT_EQ(q.getters_waiting(), 1u);
  const auto switches = gevent::get_hub().stats().switches;
  q.put_nowait(10);  // must work even though the getter is parked: it is not "full"
  EXPECT_EQ(gevent::get_hub().stats().switches, switches) << "the putter did not yield";
  EXPECT_FALSE(got.has_value()) << "the getter runs later";
  EXPECT_EQ(q.qsize(), 0u) << "the item went to the getter, not the buffer";
  EXPECT_FALSE(getter.ready());
  EXPECT_TRUE(getter.join(1.0));
  EXPECT_EQ(got, 10);
}

GROVE_TEST(GeventQueue, FifoFairnessAmongBlockedGetters) {  // test_multiple_waiters
  SimpleQueue<std::string> q;
  std::vector<AsyncResult<std::string>> results(4);
  std::vector<gevent::Greenlet<void>> waiters;
  for (auto& r : results) waiters.push_back(gevent::spawn([&q, &r] { r.set(q.get()); }));
  gevent::sleep(0);
  for (const char* s : {"1", "2", "3", "4"}) q.put(s);
  for (auto& w : waiters) EXPECT_TRUE(w.join(1.0));
  for (int i = 0; i < 4; ++i) EXPECT_EQ(results[i].get(), std::to_string(i + 1));
}

GROVE_TEST(GeventQueue, FifoFairnessAmongBlockedPutters) {
  SimpleQueue<int> q(1);
  q.put(0);
  std::vector<gevent::Greenlet<void>> putters;
  for (int i = 1; i <= 3; ++i) putters.push_back(gevent::spawn([&q, i] { q.put(i); }));
  gevent::sleep(0);
  EXPECT_EQ(q.putters_waiting(), 3u);
  std::vector<int> got;
  for (int i = 0; i < 4; ++i) got.push_back(q.get());
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3}));
  for (auto& p : putters) EXPECT_TRUE(p.join(1.0));
}

GROVE_TEST(GeventQueue, AGetterThatTimesOutLosesNoItem) {  // test_waiters_that_cancel
  SimpleQueue<std::string> q;
  AsyncResult<std::string> evt;
  gevent::spawn([&] {
    gevent::Timeout t(0.0, std::make_exception_ptr(std::runtime_error("timed out")));
    try {
      evt.set(q.get());
    } catch (const std::runtime_error&) {
      evt.set("timed out");
    }
  });
  EXPECT_EQ(evt.get(), "timed out");
  q.put("hi");
  EXPECT_EQ(q.get(), "hi");
}

GROVE_TEST(GeventQueue, OfTwoGettersTheOneThatTimedOutIsSkipped) {  // test_two_waiters_one_dies
  SimpleQueue<std::string> q;
  AsyncResult<std::string> dying, waiting;
  gevent::spawn([&] {
    gevent::Timeout t(0.0, std::make_exception_ptr(std::runtime_error("timed out")));
    try {
      dying.set(q.get());
    } catch (const std::runtime_error&) {
      dying.set("timed out");
    }
  });
  gevent::spawn([&] { waiting.set(q.get()); });
  gevent::sleep(0.01);
  q.put("hi");
  EXPECT_EQ(dying.get(), "timed out");
  EXPECT_EQ(waiting.get(), "hi");
}

GROVE_TEST(GeventQueue, APutterThatDiesAfterPuttingLeavesItsItem) {  // test_senders_that_die
  SimpleQueue<std::string> q;
  gevent::spawn([&] { q.put("sent"); });
  EXPECT_EQ(q.get(), "sent");
}

GROVE_TEST(GeventQueue, KillWhileParkedInGetLeavesNoWaiter) {
  SimpleQueue<int> q;
  auto g = gevent::spawn([&] { (void)q.get(); });
  gevent::sleep(0);
  EXPECT_EQ(q.getters_waiting(), 1u);
  g.kill();
  EXPECT_EQ(q.getters_waiting(), 0u);
  q.put(1);
  EXPECT_EQ(q.qsize(), 1u) << "the item was not handed to the dead getter";
}

GROVE_TEST(GeventQueue, IterationGetsItemsUntilShutDownAndEmpty) {
  Queue<int> q;
  q.put(1);
  q.put(2);
  auto closer = gevent::spawn([&] {
    q.put(3);
    q.shutdown();
  });
  std::vector<int> got;
  for (int v : q) got.push_back(v);
  EXPECT_EQ(got, (std::vector<int>{1, 2, 3}));
  closer.join();
}

// ---- PriorityQueue, LifoQueue -----------------------------------------------------------------

GROVE_TEST(GeventPriorityQueue, GetsTheLeastItemFirst) {
  PriorityQueue<int> q;
  for (int v : {5, 1, 4, 2, 3}) q.put(v);
  EXPECT_EQ(q.peek(), 1);
  std::vector<int> got;
  while (!q.empty()) got.push_back(q.get());
  EXPECT_EQ(got, (std::vector<int>{1, 2, 3, 4, 5}));
}

GROVE_TEST(GeventPriorityQueue, OrdersByTheGivenComparison) {
  PriorityQueue<int, std::greater<int>> q;
  for (int v : {5, 1, 4}) q.put(v);
  EXPECT_EQ(q.get(), 5);
  EXPECT_EQ(q.get(), 4);
  EXPECT_EQ(q.get(), 1);
}

GROVE_TEST(GeventLifoQueue, GetsTheLastItemFirst) {
  LifoQueue<int> q;
  for (int v : {1, 2, 3}) q.put(v);
  EXPECT_EQ(q.peek(), 3);
  EXPECT_EQ(q.get(), 3);
  EXPECT_EQ(q.get(), 2);
  EXPECT_EQ(q.get(), 1);
  EXPECT_THROW(q.get_nowait(), Empty);
}

GROVE_TEST(GeventLifoQueue, BoundedLifoQueueThrowsFull) {
  LifoQueue<int> q(1);
  q.put(1);
  EXPECT_THROW(q.put_nowait(2), Full);
}

// ---- Channel ----------------------------------------------------------------------------------

GROVE_TEST(GeventChannel, PutBlocksUntilAGetterTakesTheItem) {  // test_zero_max_size
  Channel<std::string> q;
  AsyncResult<std::string> sent, received;
  auto sender = gevent::spawn([&] {
    q.put("hi");
    sent.set("done");
  });
  gevent::sleep(0.001);
  EXPECT_FALSE(sent.ready());
  EXPECT_EQ(q.putters_waiting(), 1u);
  auto receiver = gevent::spawn([&] { received.set(q.get()); });
  EXPECT_EQ(received.get(), "hi");
  EXPECT_EQ(sent.get(), "done");
  EXPECT_TRUE(sender.join(1.0));
  EXPECT_TRUE(receiver.join(1.0));
}

// gevent's test_send/test_wait, with grove's documented hand-over: a put that finds a parked
// getter (and a get that finds a parked putter) completes without yielding (docs/SEMANTICS.md,
// "Queues"), where gevent's Channel.put always switches to the getter first. So "sent world"
// comes before the getter records "world" here; the items and their order are gevent's.
GROVE_TEST(GeventChannel, PutToAParkedGetterHandsOverWithoutYielding) {  // test_send
  Channel<std::string> channel;
  std::vector<std::string> events;
  auto other = gevent::spawn([&] {
    events.push_back(channel.get());
    events.push_back(channel.get());
  });
  events.push_back("sending");
  channel.put("hello");  // no getter parked yet: waits until `other` takes it
  events.push_back("sent hello");
  ASSERT_EQ(channel.getters_waiting(), 1u);
  channel.put("world");  // `other` is parked in get(): handed over, no yield
  events.push_back("sent world");
  EXPECT_EQ(events, (std::vector<std::string>{"sending", "hello", "sent hello", "sent world"}));
  EXPECT_TRUE(other.join(1.0));
  EXPECT_EQ(events.back(), "world");
}

GROVE_TEST(GeventChannel, GetFromAParkedPutterTakesTheItemWithoutYielding) {  // test_wait
  Channel<std::string> channel;
  std::vector<std::string> events;
  auto other = gevent::spawn([&] {
    events.push_back("sending hello");
    channel.put("hello");  // main is parked in get(): handed over, no yield
    events.push_back("sending world");
    channel.put("world");  // nobody parked in get(): waits for a getter
    events.push_back("sent world");
  });
  events.push_back("waiting");
  events.push_back(channel.get());
  events.push_back(channel.get());  // takes "world" from the parked putter, wakes it later
  EXPECT_EQ(events, (std::vector<std::string>{"waiting", "sending hello", "sending world",
                                               "hello", "world"}));
  gevent::sleep(0);
  EXPECT_EQ(events.back(), "sent world");
  EXPECT_TRUE(other.join(1.0));
}

GROVE_TEST(GeventChannel, PutNowaitWithoutAGetterThrowsFull) {
  Channel<int> q;
  EXPECT_TRUE(q.full());
  EXPECT_TRUE(q.empty());
  EXPECT_THROW(q.put_nowait(1), Full);
  EXPECT_THROW(q.put(1, true, 0.01), Full);
  EXPECT_THROW(q.get_nowait(), Empty);
  EXPECT_THROW(q.get(true, 0.01), Empty);
}

GROVE_TEST(GeventChannel, PutNowaitSucceedsWhenAGetterIsParked) {  // test_put_nowait_unlock
  Channel<int> q;
  auto getter = gevent::spawn([&] { return q.get(); });
  gevent::sleep(0.001);
  EXPECT_TRUE(q.full()) << "gevent's Channel.full() is always true, even with a getter parked";
  EXPECT_EQ(q.balance(), -1);
  EXPECT_NO_THROW(q.put_nowait(10));
  EXPECT_FALSE(getter.ready());
  EXPECT_EQ(getter.get(true, 1.0), 10);
  EXPECT_TRUE(q.empty());
  EXPECT_TRUE(q.full());
}

GROVE_TEST(GeventChannel, GetNowaitTakesFromAParkedPutter) {  // test_get_nowait_unlock_channel
  Channel<int> q;
  auto putter = gevent::spawn([&] { q.put(5); });
  gevent::sleep(0.001);
  EXPECT_TRUE(q.empty());
  EXPECT_TRUE(q.full());
  EXPECT_EQ(q.get_nowait(), 5);
  EXPECT_TRUE(putter.join(1.0));
  EXPECT_TRUE(q.empty());
}

GROVE_TEST(GeventChannel, FifoFairnessAmongBlockedPutters) {
  Channel<int> q;
  std::vector<gevent::Greenlet<void>> putters;
  for (int i = 0; i < 3; ++i) putters.push_back(gevent::spawn([&q, i] { q.put(i); }));
  gevent::sleep(0);
  std::vector<int> got;
  for (int i = 0; i < 3; ++i) got.push_back(q.get());
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2}));
  for (auto& p : putters) EXPECT_TRUE(p.join(1.0));
}

// ---- JoinableQueue: task_done / join ------------------------------------------------------------

GROVE_TEST(GeventJoinableQueue, TaskDoneCountsDownUnfinishedTasks) {
  JoinableQueue<int> q;
  gevent::spawn([&] { q.put(1); });
  EXPECT_EQ(q.get(), 1);
  EXPECT_EQ(q.unfinished_tasks(), 1u);
  q.task_done();
  EXPECT_EQ(q.unfinished_tasks(), 0u);
}

GROVE_TEST(GeventJoinableQueue, JoinWithNoPutsReturnsAtOnce) {  // test_issue_45
  JoinableQueue<int> q;
  const auto switches = gevent::get_hub().stats().switches;
  EXPECT_TRUE(q.join());
  EXPECT_EQ(gevent::get_hub().stats().switches, switches);
}

GROVE_TEST(GeventJoinableQueue, JoinWaitsUntilEveryItemIsDone) {
  JoinableQueue<int> q;
  std::vector<int> processed;
  for (int i = 0; i < 3; ++i) q.put(i);
  auto worker = gevent::spawn([&] {
    for (;;) {
      processed.push_back(q.get());
      gevent::sleep(0);
      q.task_done();
    }
  });
  EXPECT_TRUE(q.join(5.0));
  EXPECT_EQ(processed, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(q.unfinished_tasks(), 0u);
  worker.kill();
}

GROVE_TEST(GeventJoinableQueue, JoinWithTimeoutReturnsFalseWhileTasksRemain) {
  JoinableQueue<int> q;
  q.put(1);
  EXPECT_FALSE(q.join(0.01));
  (void)q.get();
  q.task_done();
  EXPECT_TRUE(q.join(0.01));
}

GROVE_TEST(GeventJoinableQueue, TaskDoneCalledTooManyTimesThrows) {
  JoinableQueue<int> q;
  EXPECT_THROW(q.task_done(), grove::TaskDoneError);
  q.put(1);
  q.task_done();
  EXPECT_THROW(q.task_done(), std::logic_error);
}

// ---- shutdown ---------------------------------------------------------------------------------

GROVE_TEST(GeventQueueShutdown, PutAfterShutdownThrowsShutDown) {
  Queue<std::string> q;
  q.put("L");
  q.shutdown();
  EXPECT_TRUE(q.is_shutdown());
  EXPECT_THROW(q.put("E"), ShutDown);
  EXPECT_THROW(q.put_nowait("W"), ShutDown);
}

GROVE_TEST(GeventQueueShutdown, GetDrainsTheQueueThenThrowsShutDown) {
  Queue<std::string> q;
  q.put("L");
  q.put_nowait("O");
  q.shutdown();
  EXPECT_EQ(q.get(), "L");
  q.task_done();
  EXPECT_EQ(q.get(), "O");
  q.task_done();
  EXPECT_TRUE(q.join());
  EXPECT_THROW(q.get(), ShutDown);
  EXPECT_THROW(q.get_nowait(), ShutDown);
  EXPECT_THROW(q.get(true, 1.0), ShutDown);
  EXPECT_THROW(q.peek(), ShutDown);
}

GROVE_TEST(GeventQueueShutdown, ImmediateShutdownDiscardsItemsAndGetThrowsAtOnce) {
  Queue<std::string> q;
  q.put("L");
  q.put_nowait("O");
  q.shutdown(/*immediate=*/true);
  EXPECT_THROW(q.put("E"), ShutDown);
  EXPECT_THROW(q.get(), ShutDown);
  EXPECT_THROW(q.get_nowait(), ShutDown);
  EXPECT_EQ(q.qsize(), 0u);
  EXPECT_THROW(q.task_done(), grove::TaskDoneError) << "discarded items count as done";
  EXPECT_TRUE(q.join(0.0));
}

GROVE_TEST(GeventQueueShutdown, ShutdownWakesParkedGettersAndPuttersWithShutDown) {
  Queue<int> empty;
  Queue<int> full(1);
  full.put(0);
  std::vector<std::string> outcomes;
  auto getter = gevent::spawn([&] {
    try {
      (void)empty.get();
    } catch (const ShutDown&) {
      outcomes.push_back("getter shut down");
    }
  });
  auto putter = gevent::spawn([&] {
    try {
      full.put(1);
    } catch (const ShutDown&) {
      outcomes.push_back("putter shut down");
    }
  });
  gevent::sleep(0);
  empty.shutdown();
  full.shutdown();
  EXPECT_TRUE(getter.join(1.0));
  EXPECT_TRUE(putter.join(1.0));
  EXPECT_EQ(outcomes, (std::vector<std::string>{"getter shut down", "putter shut down"}));
  EXPECT_EQ(full.get(), 0) << "a non-immediate shutdown keeps the buffered item";
}

GROVE_TEST(GeventQueueShutdown, ImmediateShutdownReleasesJoiners) {
  Queue<int> q;
  q.put(1);
  auto joiner = gevent::spawn([&] { return q.join(); });
  gevent::sleep(0);
  EXPECT_FALSE(joiner.ready());
  q.shutdown(true);
  EXPECT_TRUE(joiner.get(true, 1.0));
}

}  // namespace
