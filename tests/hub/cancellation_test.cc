// kill(): delivered at every wait point, unwinds the stack, never runs an unstarted fiber.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "hub/hub.h"
#include "hub/io.h"
#include "hub/thread_pool.h"
#include "hub/timeout.h"
#include "tests/support/grove_test.h"

namespace grove {
namespace {

// Counts destructor runs, to prove a kill unwinds the stack.
struct Tracker {
  int* destroyed;
  ~Tracker() { ++*destroyed; }
};

// Spawns `wait_here` in a fiber, lets it park, kills it, and checks it unwound through the wait.
template <class F>
void expect_kill_unwinds(F wait_here) {
  int destroyed = 0;
  bool got_exit = false;
  bool returned = false;
  FiberRef f = spawn_fiber([&] {
    Tracker t{&destroyed};
    try {
      wait_here();
      returned = true;
    } catch (const GreenletExit&) {
      got_exit = true;
      throw;
    }
  });
  sleep(0.0);  // the fiber runs to its wait point
  ASSERT_FALSE(f->dead()) << "the fiber should be parked";
  f->kill();
  ASSERT_TRUE(f->join_for(std::chrono::seconds(20)));
  EXPECT_TRUE(got_exit);
  EXPECT_FALSE(returned);
  EXPECT_EQ(destroyed, 1);
}

GROVE_TEST(Cancellation, KillInterruptsSleep) { expect_kill_unwinds([] { sleep(10.0); }); }

GROVE_TEST(Cancellation, KillInterruptsWaitList) {
  WaitList list;
  expect_kill_unwinds([&] { (void)list.wait(); });
  EXPECT_TRUE(list.empty()) << "a killed waiter must leave the list";
}

GROVE_TEST(Cancellation, KillInterruptsWaitWithDeadline) {
  WaitList list;
  expect_kill_unwinds([&] { (void)list.wait(Deadline::after(10.0)); });
}

GROVE_TEST(Cancellation, KillInterruptsJoin) {
  FiberRef sleeper = spawn_fiber([] { sleep(10.0); });
  expect_kill_unwinds([&] { (void)sleeper->join(); });
  sleeper->kill();
  EXPECT_TRUE(sleeper->join());
}

GROVE_TEST(Cancellation, KillInterruptsIoWait) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  expect_kill_unwinds([&] {
    IoWatcher w(fds[0], kIoRead);
    (void)w.wait();
  });
  ::close(fds[0]);
  ::close(fds[1]);
}

GROVE_TEST(Cancellation, KillInterruptsRunInThreadOnceTheJobEnds) {
  // A thread cannot be interrupted: the killed fiber waits for its job (which may use its
  // stack), then unwinds. The job runs until the test releases it, so no timing decides this.
  std::atomic<bool> release{false};
  int destroyed = 0;
  bool got_exit = false;
  bool returned = false;
  FiberRef f = spawn_fiber([&] {
    Tracker t{&destroyed};
    try {
      run_in_thread([&] {
        while (!release.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      });
      returned = true;
    } catch (const GreenletExit&) {
      got_exit = true;
      throw;
    }
  });
  sleep(0.0);  // the fiber hands the job over and parks
  f->kill();
  EXPECT_FALSE(f->join_for(std::chrono::milliseconds(20))) << "the kill waits for the job";
  release.store(true);
  ASSERT_TRUE(f->join_for(std::chrono::seconds(20)));
  EXPECT_TRUE(got_exit);
  EXPECT_FALSE(returned);
  EXPECT_EQ(destroyed, 1);
}

GROVE_TEST(Cancellation, KillInterruptsAYieldLoop) {
  expect_kill_unwinds([] {
    for (;;) yield();
  });
}

GROVE_TEST(Cancellation, KillBeforeStartMeansItNeverRuns) {
  bool ran = false;
  FiberRef f = spawn_fiber([&] { ran = true; });
  f->kill();
  EXPECT_TRUE(f->dead());
  sleep(0.0);
  EXPECT_FALSE(ran);
  EXPECT_TRUE(f->join());
}

GROVE_TEST(Cancellation, KillOfADeadFiberIsANoOp) {
  FiberRef f = spawn_fiber([] {});
  EXPECT_TRUE(f->join());
  f->kill();
  f->kill();
  EXPECT_TRUE(f->dead());
}

GROVE_TEST(Cancellation, KillWithACustomErrorIsReported) {
  std::vector<std::string> reported;
  Hub::current().set_error_handler([&](const ErrorReport& r) {
    reported.push_back(describe_exception(r.error).what);
  });
  FiberRef f = spawn_fiber([] { sleep(10.0); });
  sleep(0.0);
  f->kill(std::make_exception_ptr(std::runtime_error("custom")));
  EXPECT_TRUE(f->join());
  ASSERT_EQ(reported.size(), 1u);
  EXPECT_EQ(reported[0], "custom");
}

GROVE_TEST(Cancellation, WakeWinsOverALaterKill) {
  // Woken, then killed before it ran: the wait returns kWoken; the kill comes at the next wait.
  WaitList list;
  WaitStatus status = WaitStatus::kTimedOut;
  bool killed_later = false;
  FiberRef f = spawn_fiber([&] {
    status = list.wait();
    try {
      sleep(10.0);
    } catch (const GreenletExit&) {
      killed_later = true;
      throw;
    }
  });
  sleep(0.0);
  list.wake_all();
  f->kill();
  EXPECT_TRUE(f->join());
  EXPECT_EQ(status, WaitStatus::kWoken);
  EXPECT_TRUE(killed_later);
}

GROVE_TEST(Cancellation, CodeThatDoesNotWaitCannotBeInterrupted) {
  int steps = 0;
  bool after_wait = false;
  FiberRef g = spawn_fiber([&] {
    Hub::current().current_fiber().kill();  // delivered at the next wait point
    for (int i = 0; i < 1000; ++i) ++steps;
    yield();
    after_wait = true;
  });
  EXPECT_TRUE(g->join());
  EXPECT_EQ(steps, 1000);
  EXPECT_FALSE(after_wait);
}

GROVE_TEST(Cancellation, AKillIsFinalCatchingItAndWaitingAgainThrowsItAgain) {
  int kills_seen = 0;
  bool finished_normally = false;
  FiberRef f = spawn_fiber([&] {
    try {
      sleep(10.0);
    } catch (const GreenletExit&) {
      ++kills_seen;  // swallowed ...
    }
    try {
      sleep(10.0);  // ... but the next wait point throws it again
    } catch (const GreenletExit&) {
      ++kills_seen;
    }
    sleep(10.0);  // and again: this one ends the fiber
    finished_normally = true;
  });
  sleep(0.0);
  f->kill();
  EXPECT_TRUE(f->join(Deadline::after(10.0)));
  EXPECT_EQ(kills_seen, 2);
  EXPECT_FALSE(finished_normally);
}

GROVE_TEST(Cancellation, AFinalKillIsNotReplacedByALaterKillOrTimeout) {
  std::string seen;
  FiberRef f = spawn_fiber([&] {
    for (int i = 0; i < 3; ++i) {
      try {
        sleep(10.0);
      } catch (const std::runtime_error& e) {
        seen += e.what();
      } catch (const GreenletExit&) {
        seen += "exit;";
      }
    }
  });
  sleep(0.0);
  f->kill(std::make_exception_ptr(std::runtime_error("first;")));  // final
  f->kill(std::make_exception_ptr(std::runtime_error("second;")));
  f->kill();
  EXPECT_TRUE(f->join(Deadline::after(10.0)));
  EXPECT_EQ(seen, "first;first;first;");
}

GROVE_TEST(Cancellation, AOnceKillCanBeCaughtAndTheFiberGoesOn) {
  int caught = 0;
  bool finished = false;
  FiberRef f = spawn_fiber([&] {
    try {
      sleep(10.0);
    } catch (const std::runtime_error&) {
      ++caught;
    }
    sleep(0.001);  // not thrown again
    finished = true;
  });
  sleep(0.0);
  f->kill(std::make_exception_ptr(std::runtime_error("once")), KillMode::kOnce);
  EXPECT_TRUE(f->join(Deadline::after(10.0)));
  EXPECT_EQ(caught, 1);
  EXPECT_TRUE(finished);
}

GROVE_TEST(Cancellation, AKillReplacesAPendingTimeoutAndATimeoutNeverReplacesAKill) {
  // Both arrive while the fiber runs (it has not reached a wait point yet).
  std::string first;
  FiberRef f = spawn_fiber([&] {
    Timeout t(0.0);
    const double until = Deadline::now() + 0.02;
    while (Deadline::now() < until) {
    }  // busy: the timer fires at the next poll, the kill arrives meanwhile
    try {
      yield();
    } catch (const Timeout&) {
      first = "timeout";
    } catch (const GreenletExit&) {
      first = "kill";
    }
  });
  sleep(0.0);  // f runs now, busy ...
  f->kill();
  EXPECT_TRUE(f->join(Deadline::after(10.0)));
  EXPECT_EQ(first, "kill");
}

GROVE_TEST(Cancellation, ADestructorMayStillWaitWhileAKillUnwinds) {
  bool cleanup_finished = false;
  FiberRef f = spawn_fiber([&] {
    struct Flush {
      bool& done;
      ~Flush() {
        sleep(0.01);  // a wait during unwinding: not interrupted by the kill again
        done = true;
      }
    } flush{cleanup_finished};
    sleep(10.0);
  });
  sleep(0.0);
  f->kill();
  EXPECT_TRUE(f->join(Deadline::after(10.0)));
  EXPECT_TRUE(cleanup_finished);
}

// The same on a wait list (a join): the unwinding fiber's wait stays on the list and is woken.
// It used to leave the list before parking, so the join never returned and the fiber never
// ended (a killed kv listener closing its StreamServer hung the server this way).
GROVE_TEST(Cancellation, ADestructorMayJoinAnotherFiberWhileAKillUnwinds) {
  bool joined = false;
  FiberRef worker = spawn_fiber([] { sleep(0.02); });
  FiberRef f = spawn_fiber([&] {
    struct JoinWorker {
      FiberRef& worker;
      bool& joined;
      ~JoinWorker() { joined = worker->join(Deadline::after(30.0)); }
    } join_worker{worker, joined};
    sleep(10.0);
  });
  sleep(0.0);
  f->kill();
  ASSERT_TRUE(f->join(Deadline::after(20.0))) << "the killed fiber never finished its cleanup";
  EXPECT_TRUE(joined);
}

GROVE_TEST(Cancellation, ALoopThatKeepsCatchingTheKillDoesNotStallTheHub) {
  int others_ran = 0;
  bool stop = false;
  FiberRef stubborn = spawn_fiber([&] {
    while (!stop) {
      try {
        sleep(10.0);
      } catch (...) {
      }
    }
  });
  FiberRef other = spawn_fiber([&] {
    for (int i = 0; i < 100; ++i) {
      ++others_ran;
      yield();
    }
  });
  sleep(0.0);
  stubborn->kill();
  EXPECT_TRUE(other->join(Deadline::after(10.0)));
  EXPECT_EQ(others_ran, 100);
  stop = true;
  EXPECT_TRUE(stubborn->join(Deadline::after(10.0)));
}

}  // namespace
}  // namespace grove
