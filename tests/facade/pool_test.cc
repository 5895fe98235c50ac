// gevent.pool (Group, Pool) through the facade: the behaviours gevent's own test__pool.py
// checks, ported (docs/SEMANTICS.md, "Locks and pools").
#include "facade/pool.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "facade/event.h"
#include "tests/support/grove_test.h"

namespace {

using gevent::event::Event;
using gevent::pool::Group;
using gevent::pool::Pool;
using gevent::pool::PoolFull;
using grove::testing::ExpectFailures;

double divide_by(int x) {
  if (x == 0) throw std::domain_error("division by zero");
  return 1.0 / x;
}

// ---- Group ------------------------------------------------------------------------------------

GROVE_TEST(GeventGroup, SpawnAddsAMemberThatLeavesWhenItDies) {
  Group group;
  Event go;
  auto g = group.spawn([&] { (void)go.wait(); });
  EXPECT_EQ(group.size(), 1u);
  EXPECT_TRUE(group.contains(g));
  go.set();
  EXPECT_TRUE(g.join(1.0));
  gevent::sleep(0.001);  // it leaves at the hub pass after its death
  EXPECT_EQ(group.size(), 0u);
}

GROVE_TEST(GeventGroup, AddAndDiscardTrackMembers) {
  Group group;
  auto g = gevent::spawn([] { gevent::sleep(10); });
  group.add(g);
  EXPECT_TRUE(group.contains(g));
  group.add(g);
  EXPECT_EQ(group.size(), 1u) << "adding twice tracks once";
  group.discard(g);
  EXPECT_FALSE(group.contains(g));
  EXPECT_EQ(group.size(), 0u);
  g.kill();
}

GROVE_TEST(GeventGroup, JoinOnAnEmptyGroupReturnsTrueAtOnce) {
  Group group;
  EXPECT_TRUE(group.join());
  EXPECT_TRUE(group.join(0.0));
}

GROVE_TEST(GeventGroup, JoinWaitsForEveryMemberAndEmptiesTheGroup) {
  Group group;
  int finished = 0;
  for (int i = 0; i < 3; ++i) group.spawn([&, i] {
      gevent::sleep(0.001 * i);
      ++finished;
    });
  EXPECT_TRUE(group.join(5.0));
  EXPECT_EQ(finished, 3);
  EXPECT_EQ(group.size(), 0u);
}

GROVE_TEST(GeventGroup, JoinWithTimeoutReturnsFalseWhileMembersRun) {
  Group group;
  auto g = group.spawn([] { gevent::sleep(10); });
  EXPECT_FALSE(group.join(0.01));
  EXPECT_FALSE(group.join(0.01, /*raise_error=*/true));
  EXPECT_EQ(group.size(), 1u);
  g.kill();
}

GROVE_TEST(GeventGroup, JoinWithRaiseErrorRethrowsTheFirstFailure) {
  ExpectFailures crashes;
  Group group;
  group.spawn([] { throw std::runtime_error("member failed"); });
  group.spawn([] { gevent::sleep(0.001); });
  EXPECT_THROW(group.join(5.0, /*raise_error=*/true), std::runtime_error);
  Group quiet;
  quiet.spawn([] { throw std::runtime_error("ignored"); });
  EXPECT_NO_THROW(EXPECT_TRUE(quiet.join(5.0)));
}

GROVE_TEST(GeventGroup, KillKillsEveryMember) {
  Group group;
  std::vector<gevent::Greenlet<void>> gs;
  for (int i = 0; i < 3; ++i) gs.push_back(group.spawn([] { gevent::sleep(10); }));
  gevent::sleep(0);
  EXPECT_TRUE(group.kill());
  for (auto& g : gs) EXPECT_TRUE(g.dead());
  gevent::sleep(0.001);
  EXPECT_EQ(group.size(), 0u);
}

GROVE_TEST(GeventGroup, KilloneKillsOnlyThatMember) {
  Group group;
  auto a = group.spawn([] { gevent::sleep(10); });
  auto b = group.spawn([] { gevent::sleep(10); });
  gevent::sleep(0);
  EXPECT_TRUE(group.killone(a));
  EXPECT_TRUE(a.dead());
  EXPECT_FALSE(b.dead());
  gevent::sleep(0.001);
  EXPECT_FALSE(group.contains(a));
  EXPECT_TRUE(group.contains(b));
  group.kill();
}

GROVE_TEST(GeventGroup, MapReturnsValuesInInputOrder) {
  Group group;
  auto squares = group.map(
      [](int x) {
        gevent::sleep(0.001 * (5 - x));  // finish in reverse order
        return x * x;
      },
      std::vector<int>{1, 2, 3, 4});
  EXPECT_EQ(squares, (std::vector<int>{1, 4, 9, 16}));
}

GROVE_TEST(GeventGroup, MapThrowsTheFailureOfAnItem) {
  ExpectFailures crashes;
  Pool pool(3);
  EXPECT_THROW(pool.map(divide_by, std::vector<int>{1, 0, 2}), std::domain_error);
}

GROVE_TEST(GeventGroup, EmptyMapAndImapGiveNothing) {
  Pool pool(2);
  EXPECT_TRUE(pool.map(divide_by, std::vector<int>{}).empty());
  auto it = pool.imap(divide_by, std::vector<int>{});
  EXPECT_EQ(it.next(), std::nullopt);
  auto un = pool.imap_unordered(divide_by, std::vector<int>{});
  EXPECT_EQ(un.next(), std::nullopt);
}

GROVE_TEST(GeventGroup, ImapYieldsInInputOrder) {
  Group group;
  auto it = group.imap(
      [](int x) {
        gevent::sleep(0.001 * (4 - x));
        return x * 10;
      },
      std::vector<int>{1, 2, 3});
  EXPECT_EQ(it.next(), 10);
  EXPECT_EQ(it.next(), 20);
  EXPECT_EQ(it.next(), 30);
  EXPECT_EQ(it.next(), std::nullopt);
}

GROVE_TEST(GeventGroup, ImapFailingItemRaisesAtItsPosition) {
  ExpectFailures crashes;
  Pool pool(1);
  auto it = pool.imap(divide_by, std::vector<int>{1, 0, 2});
  EXPECT_EQ(it.next(), 1.0);
  EXPECT_THROW(it.next(), std::domain_error);
  EXPECT_EQ(it.next(), 0.5);
  EXPECT_EQ(it.next(), std::nullopt);
}

GROVE_TEST(GeventGroup, ImapUnorderedYieldsInCompletionOrder) {
  Group group;
  int done = 0;  // item n finishes once n - 1 items have: the completion order is 1, 2, 3
  auto it = group.imap_unordered(
      [&](int n) {
        while (done < n - 1) gevent::sleep(0.001);
        ++done;
        return n;
      },
      std::vector<int>{3, 1, 2});
  EXPECT_EQ(it.next(), 1);
  EXPECT_EQ(it.next(), 2);
  EXPECT_EQ(it.next(), 3);
  EXPECT_EQ(it.next(), std::nullopt);
}

GROVE_TEST(GeventGroup, ApplyReturnsTheValueOrRethrows) {
  ExpectFailures crashes;
  Pool pool(2);
  EXPECT_EQ(pool.apply([](const std::string& a, int b) { return a + std::to_string(b); },
                       std::string("foo"), 1),
            "foo1");
  EXPECT_THROW(pool.apply(divide_by, 0), std::domain_error);
}

GROVE_TEST(GeventGroup, ApplyAsyncReturnsTheRunningGreenlet) {
  Group group;
  gevent::Greenlet<int> g = group.apply_async([](int x) { return x + 1; }, 41);
  EXPECT_TRUE(group.contains(g));
  EXPECT_EQ(g.get(true, 1.0), 42);
}

GROVE_TEST(GeventGroup, AGroupIsNeverFull) {
  Group group;
  for (int i = 0; i < 100; ++i) group.spawn([] { gevent::sleep(10); });
  EXPECT_FALSE(group.full());
  group.kill();
}

// ---- Pool -------------------------------------------------------------------------------------

GROVE_TEST(GeventPool, FreeCountTracksRunningMembers) {  // test_execute_async
  Pool pool(2);
  EXPECT_EQ(pool.free_count(), 2u);
  std::vector<int> r;
  auto first = pool.spawn([&] { r.push_back(1); });
  EXPECT_EQ(pool.free_count(), 1u);
  first.get();
  EXPECT_EQ(r, std::vector<int>{1});
  gevent::sleep(0.001);
  EXPECT_EQ(pool.free_count(), 2u);
  pool.apply_async([&] { r.push_back(2); });
  EXPECT_EQ(pool.free_count(), 1u);
  pool.apply_async([&] { r.push_back(3); });
  EXPECT_EQ(pool.free_count(), 0u);
  EXPECT_TRUE(pool.full());
  EXPECT_EQ(r, std::vector<int>{1});
  pool.apply_async([&] { r.push_back(4); });  // full: waits for room, letting the others run
  EXPECT_TRUE(pool.join(1.0));
  std::sort(r.begin(), r.end());
  EXPECT_EQ(r, (std::vector<int>{1, 2, 3, 4}));
  EXPECT_EQ(pool.free_count(), 2u);
}

GROVE_TEST(GeventPool, SpawnBlocksWhileFull) {
  Pool pool(1);
  Event release_first;
  bool second_spawned = false;
  auto first = pool.spawn([&] { (void)release_first.wait(); });
  auto spawner = gevent::spawn([&] {
    pool.spawn([] {});
    second_spawned = true;
  });
  gevent::sleep(0.005);
  EXPECT_FALSE(second_spawned) << "spawn waits while the pool is full";
  EXPECT_EQ(pool.size(), 1u);
  release_first.set();
  EXPECT_TRUE(spawner.join(1.0));
  EXPECT_TRUE(second_spawned);
  EXPECT_TRUE(pool.join(1.0));
  EXPECT_EQ(pool.size(), 0u);
}

GROVE_TEST(GeventPool, NeverRunsMoreThanItsSizeAtOnce) {
  Pool pool(2);
  int running = 0, most = 0;
  (void)pool.map(
      [&](int) {
        most = std::max(most, ++running);
        gevent::sleep(0.001);
        --running;
        return 0;
      },
      std::vector<int>(7, 0));
  EXPECT_EQ(most, 2);
}

GROVE_TEST(GeventPool, PoolOfZeroBlocksForever) {  // TestPool0
  Pool pool(0);
  EXPECT_EQ(pool.free_count(), 0u);
  EXPECT_TRUE(pool.full());
  EXPECT_FALSE(pool.wait_available(0.01));
  bool ran = false;
  {
    gevent::Timeout t(0.01);
    EXPECT_THROW(pool.spawn([&] { ran = true; }), gevent::Timeout);
  }
  gevent::sleep(0.001);
  EXPECT_FALSE(ran);
  EXPECT_EQ(pool.size(), 0u);
}

GROVE_TEST(GeventPool, AddWaitsWhileFull) {  // test_add_method
  Pool pool(1);
  auto first = gevent::spawn([] { gevent::sleep(1000); });
  auto second = gevent::spawn([] { gevent::sleep(1000); });
  EXPECT_EQ(pool.free_count(), 1u);
  pool.add(first);
  EXPECT_EQ(pool.free_count(), 0u);
  EXPECT_EQ(pool.size(), 1u);
  {
    gevent::Timeout t(0.01);
    EXPECT_THROW(pool.add(second), gevent::Timeout);
  }
  EXPECT_EQ(pool.free_count(), 0u);
  EXPECT_EQ(pool.size(), 1u);
  second.kill();
  first.kill();
}

GROVE_TEST(GeventPool, AddNonBlockingOnAFullPoolThrowsPoolFull) {
  Pool pool(1);
  auto first = gevent::spawn([] { gevent::sleep(1000); });
  auto second = gevent::spawn([] { gevent::sleep(1000); });
  pool.add(first, /*block=*/false);
  EXPECT_THROW(pool.add(second, /*block=*/false), PoolFull);
  EXPECT_FALSE(pool.contains(second));
  second.kill();
  first.kill();
}

GROVE_TEST(GeventPool, AddWithTimeoutOnAFullPoolThrowsPoolFull) {  // test_add_method_timeout
  Pool pool(1);
  auto first = gevent::spawn([] { gevent::sleep(1000); });
  auto second = gevent::spawn([] { gevent::sleep(1000); });
  pool.add(first);
  const double start = grove::Deadline::now();
  EXPECT_THROW(pool.add(second, /*block=*/true, /*timeout=*/0.01), PoolFull);
  EXPECT_GE(grove::Deadline::now() - start, 0.009);
  EXPECT_EQ(pool.size(), 1u);
  second.kill();
  first.kill();
}

GROVE_TEST(GeventPool, WaitAvailableReturnsWhenAMemberLeaves) {
  Pool pool(1);
  Event go;
  pool.spawn([&] { (void)go.wait(); });
  EXPECT_FALSE(pool.wait_available(0.01));
  go.set();
  EXPECT_TRUE(pool.wait_available(1.0));
  EXPECT_EQ(pool.free_count(), 1u);
  EXPECT_TRUE(pool.wait_available(0.0)) << "room now: returns at once";
}

GROVE_TEST(GeventPool, DiscardFreesTheSlot) {  // test_discard
  Pool pool(1);
  auto first = pool.spawn([] { gevent::sleep(1000); });
  pool.discard(first);
  first.kill();
  EXPECT_FALSE(static_cast<bool>(first));
  EXPECT_EQ(pool.size(), 0u);
  EXPECT_EQ(pool.free_count(), 1u);
}

GROVE_TEST(GeventPool, JoinOnAFullPoolWithTimeoutReturnsFalse) {  // testSpawnAndWait
  Pool pool(1);
  pool.spawn([] { gevent::sleep(0.02); });
  EXPECT_EQ(pool.size(), 1u);
  EXPECT_FALSE(pool.join(0.001));
  EXPECT_TRUE(pool.join());
  EXPECT_EQ(pool.size(), 0u);
  EXPECT_EQ(pool.free_count(), 1u);
}

GROVE_TEST(GeventPool, KillFreesEverySlot) {
  Pool pool(2);
  pool.spawn([] { gevent::sleep(1000); });
  pool.spawn([] { gevent::sleep(1000); });
  EXPECT_TRUE(pool.full());
  EXPECT_TRUE(pool.kill(/*block=*/true, /*timeout=*/1.0));
  gevent::sleep(0.001);
  EXPECT_EQ(pool.free_count(), 2u);
}

}  // namespace
