// Scheduling order, fairness, sleep, and the poll-once-per-pass rule.
#include <unistd.h>

#include <string>
#include <vector>

#include "hub/hub.h"
#include "hub/io.h"
#include "tests/support/grove_test.h"

namespace grove {
namespace {

GROVE_TEST(Scheduling, SpawnedFibersRunInSpawnOrder) {
  std::vector<int> order;
  std::vector<FiberRef> fibers;
  for (int i = 0; i < 5; ++i) fibers.push_back(spawn_fiber([&order, i] { order.push_back(i); }));
  EXPECT_TRUE(order.empty()) << "spawn must not run the fiber before the spawner waits";
  for (auto& f : fibers) EXPECT_TRUE(f->join());
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

GROVE_TEST(Scheduling, YieldLetsEveryOtherReadyFiberRunOnceInRoundRobin) {
  std::string trace;
  auto worker = [&trace](char name) {
    return [&trace, name] {
      for (int i = 0; i < 3; ++i) {
        trace += name;
        yield();
      }
    };
  };
  FiberRef a = spawn_fiber(worker('a'));
  FiberRef b = spawn_fiber(worker('b'));
  FiberRef c = spawn_fiber(worker('c'));
  EXPECT_TRUE(a->join());
  EXPECT_TRUE(b->join());
  EXPECT_TRUE(c->join());
  EXPECT_EQ(trace, "abcabcabc");
}

GROVE_TEST(Scheduling, SleepZeroReturnsAfterOthersRanOnce) {
  int others = 0;
  std::vector<FiberRef> fibers;
  for (int i = 0; i < 10; ++i) fibers.push_back(spawn_fiber([&] { ++others; }));
  sleep(0.0);
  EXPECT_EQ(others, 10);
}

GROVE_TEST(Scheduling, SleepWaitsAtLeastTheGivenTime) {
  for (double s : {0.001, 0.02, 0.05}) {
    const double start = Deadline::now();
    sleep(s);
    const double slept = Deadline::now() - start;
    EXPECT_GE(slept, s * 0.999) << "slept " << slept << " for " << s;
  }
}

GROVE_TEST(Scheduling, SleepersWakeInDeadlineOrder) {
  std::vector<int> order;
  std::vector<FiberRef> fibers;
  // Deadlines fixed before any fiber starts, so a fiber that starts late (a busy machine) does
  // not move its own deadline.
  const double now = Deadline::now();
  for (int i : {3, 1, 2}) {
    fibers.push_back(spawn_fiber([&order, i, now] {
      sleep(now + 0.1 * i - Deadline::now());
      order.push_back(i);
    }));
  }
  for (auto& f : fibers) EXPECT_TRUE(f->join());
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

GROVE_TEST(Scheduling, SpinningYieldLoopDoesNotStarveTimers) {
  bool timer_fired = false;
  FiberRef sleeper = spawn_fiber([&] {
    sleep(0.01);
    timer_fired = true;
  });
  const double start = Deadline::now();
  while (!timer_fired && Deadline::now() - start < 20.0) yield();
  EXPECT_TRUE(timer_fired);
}

GROVE_TEST(Scheduling, SpinningYieldLoopDoesNotStarveIo) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  bool readable = false;
  FiberRef reader = spawn_fiber([&] {
    IoWatcher w(fds[0], kIoRead);
    readable = w.wait() == kIoRead;
  });
  sleep(0.0);  // the reader parks on the pipe
  ASSERT_EQ(::write(fds[1], "x", 1), 1);
  const double start = Deadline::now();
  while (!readable && Deadline::now() - start < 20.0) yield();
  EXPECT_TRUE(readable);
  ::close(fds[0]);
  ::close(fds[1]);
}

GROVE_TEST(Scheduling, FibersMayBeDroppedWhileRunning) {
  // A fire-and-forget fiber: the hub keeps it alive until it dies.
  bool ran = false;
  spawn_fiber([&] {
    sleep(0.001);
    ran = true;
  });
  const Deadline deadline = Deadline::after(20.0);
  while (!ran && !deadline.passed()) sleep(0.001);
  EXPECT_TRUE(ran);
}

GROVE_TEST(Scheduling, JoinTimesOutOnALiveFiber) {
  FiberRef f = spawn_fiber([] { sleep(1.0); });
  EXPECT_FALSE(f->join_for(std::chrono::milliseconds(10)));
  f->kill();
  EXPECT_TRUE(f->join());
}

GROVE_TEST(Scheduling, StatsCountSwitchesAndSpawns) {
  const HubStats before = Hub::current().stats();
  FiberRef f = spawn_fiber([] { yield(); });
  EXPECT_TRUE(f->join());
  const HubStats after = Hub::current().stats();
  EXPECT_EQ(after.fibers_spawned - before.fibers_spawned, 1u);
  EXPECT_GE(after.switches - before.switches, 2u);  // to f, and back when it dies
}

GROVE_TEST(Scheduling, RunInfoListsParkedFibersWithWhatTheyWaitOn) {
  WaitList list;
  FiberRef f = spawn_fiber([&] { (void)list.wait(Deadline::never(), "the test's list"); });
  sleep(0.0);
  const std::string info = Hub::current().run_info();
  EXPECT_NE(info.find("the test's list"), std::string::npos) << info;
  EXPECT_NE(info.find("stack_high_water="), std::string::npos) << info;
  list.wake_all();
  EXPECT_TRUE(f->join());
}

}  // namespace
}  // namespace grove
