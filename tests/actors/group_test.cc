// Group and Pool (gevent.pool).
#include "actors/group.h"

#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/grove_test.h"

namespace grove {
namespace {

using testing::ExpectFailures;

GROVE_TEST(Group, MembersLeaveWhenTheyDieAndJoinWaitsForAll) {
  Group group;
  int done = 0;
  for (int i = 1; i <= 3; ++i) {
    group.spawn([&, i] {
      sleep(0.001 * i);
      ++done;
    });
  }
  EXPECT_EQ(group.size(), 3u);
  EXPECT_TRUE(group.join());
  EXPECT_EQ(done, 3);
  sleep(0.0);
  EXPECT_EQ(group.size(), 0u);
}

GROVE_TEST(Group, JoinTimesOut) {
  Group group;
  group.spawn([] { sleep(1.0); });
  EXPECT_FALSE(group.join(Deadline::after(0.01)));
  EXPECT_TRUE(group.kill());
}

GROVE_TEST(Group, JoinWithRaiseErrorThrowsTheFirstFailure) {
  ExpectFailures crashes;
  Group group;
  group.spawn([] { throw std::runtime_error("first"); });
  group.spawn([] { sleep(0.01); });
  EXPECT_THROW(group.join(Deadline::never(), /*raise_error=*/true), std::runtime_error);
  EXPECT_TRUE(group.kill());
}

GROVE_TEST(Group, KillKillsEveryMember) {
  Group group;
  std::vector<ActorRef> members;
  for (int i = 0; i < 5; ++i) members.push_back(group.spawn([] { sleep(10.0); }));
  sleep(0.0);
  EXPECT_TRUE(group.kill(true, Deadline::after(20.0)));
  for (auto& m : members) EXPECT_EQ(m.exit_reason(), ExitReason::killed());
}

GROVE_TEST(Group, AddAndDiscard) {
  Group group;
  Greenlet<void> g = spawn([] { sleep(0.01); });
  group.add(g);
  EXPECT_TRUE(group.contains(g));
  group.discard(g);
  EXPECT_FALSE(group.contains(g));
  g.get();
}

GROVE_TEST(Group, MapKeepsInputOrder) {
  Group group;
  std::vector<int> in{5, 1, 4, 2, 3};
  auto out = group.map(
      [](int n) {
        sleep(0.001 * n);
        return n * 10;
      },
      in);
  EXPECT_EQ(out, (std::vector<int>{50, 10, 40, 20, 30}));
}

GROVE_TEST(Pool, SpawnWaitsWhileFull) {
  Pool pool(2);
  int running = 0, max_running = 0;
  std::vector<ActorRef> all;
  for (int i = 0; i < 6; ++i) {
    all.push_back(pool.spawn([&] {
      max_running = std::max(max_running, ++running);
      sleep(0.005);
      --running;
    }));
    EXPECT_LE(pool.size(), 2u);
  }
  EXPECT_TRUE(pool.join());
  EXPECT_EQ(max_running, 2);
  sleep(0.0);
  EXPECT_EQ(pool.free_count(), 2u);
}

GROVE_TEST(Pool, TryAddRefusesWhenFull) {
  Pool pool(1);
  pool.spawn([] { sleep(0.01); });
  EXPECT_TRUE(pool.full());
  Greenlet<void> extra = spawn([] {});
  EXPECT_FALSE(pool.try_add(extra));
  EXPECT_TRUE(pool.wait_available(Deadline::after(20.0)));
  extra.get();
}

GROVE_TEST(Pool, ZeroSizedPoolNeverHasRoom) {
  Pool pool(0);
  EXPECT_FALSE(pool.wait_available(Deadline::after(0.01)));
  bool spawned = false;
  Greenlet<void> g = spawn([&] {
    pool.spawn([] {});
    spawned = true;
  });
  sleep(0.01);
  EXPECT_FALSE(spawned);
  g.kill();
  EXPECT_TRUE(g.join());
}

GROVE_TEST(Pool, ImapYieldsInInputOrderAndAFailureRaisesAtItsPosition) {
  ExpectFailures crashes;
  Pool pool(3);
  auto results = pool.imap(
      [](int n) {
        sleep(0.001 * (5 - n));
        if (n == 3) throw std::invalid_argument("three");
        return n;
      },
      std::vector<int>{1, 2, 3, 4});
  EXPECT_EQ(results.next(), 1);
  EXPECT_EQ(results.next(), 2);
  EXPECT_THROW(results.next(), std::invalid_argument);
  EXPECT_EQ(results.next(), 4);
  EXPECT_EQ(results.next(), std::nullopt);
}

GROVE_TEST(Pool, ImapUnorderedYieldsInCompletionOrder) {
  Pool pool(4);
  int done = 0;  // item n finishes once n - 1 items have: the completion order is 1, 2, 3
  auto results = pool.imap_unordered(
      [&](int n) {
        while (done < n - 1) sleep(0.001);
        ++done;
        return n;
      },
      std::vector<int>{3, 1, 2});
  std::vector<int> got;
  while (auto v = results.next()) got.push_back(*v);
  EXPECT_EQ(got, (std::vector<int>{1, 2, 3}));
}

GROVE_TEST(Pool, ApplyAndApplyAsync) {
  Pool pool(1);
  EXPECT_EQ(pool.apply([](int a, int b) { return a * b; }, 6, 7), 42);
  auto g = pool.apply_async([] { return std::string("later"); });
  EXPECT_EQ(g.get(), "later");
}

}  // namespace
}  // namespace grove
