// The poll in place (Scheduler::set_park_poll, Hub::poll_in_place): a fiber that parks with
// nothing ready polls the reactor on its own stack and switches straight to the fiber that poll
// made ready. What it must not change: work posted from other threads and call_later callbacks
// still run on the loop fiber, and nothing is polled twice. And its fast poll (Reactor::
// poll_in_place): epoll_wait on libev's own set, used only while libev has nothing of its own to
// do — no timer armed, no watcher started or stopped since its last iteration, no registration
// to tidy.
//
// Read from the hub's own counters (switches, polls, fast polls) and from the kernel's view of
// the epoll set (/proc/self/fdinfo), never from the clock.
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <cstdint>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "hub/hub.h"
#include "hub/internal/loop.h"
#include "hub/io.h"
#include "hub/timeout.h"
#include "hub/timer.h"
#include "tests/support/grove_test.h"

namespace grove {
namespace {

struct SocketPair {
  SocketPair() {
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fd) != 0) {
      throw std::runtime_error("socketpair failed");
    }
  }
  ~SocketPair() {
    ::close(fd[0]);
    ::close(fd[1]);
  }
  int fd[2];
};

// How the fibers of ping_pong() wait: with a deadline (each wait arms a libev timer) or without
// (then only Bazel's timeout guards against a hang).
enum class Waits { kTimed, kUntimed };

// Waits for one byte on `fd` (through its watcher) and reads it; false at the end of the stream
// (or on a failure, which it reports).
bool receive_byte(IoWatcher& readable, int fd, Waits waits = Waits::kTimed) {
  char byte;
  for (;;) {
    const ssize_t n = ::recv(fd, &byte, 1, 0);
    if (n == 1) return true;
    if (n == 0) return false;
    if (errno != EAGAIN) {
      ADD_FAILURE() << "recv: " << std::strerror(errno);
      return false;
    }
    const Deadline deadline = waits == Waits::kTimed ? Deadline::after(20.0) : Deadline::never();
    if (readable.wait(deadline) == 0) {
      ADD_FAILURE() << "no answer within 20 s";
      return false;
    }
  }
}

void send_byte(int fd) { ASSERT_EQ(::send(fd, "x", 1, MSG_NOSIGNAL), 1); }

// Where the greenlets of ping_pong() keep their frames: the address of a local near the top of
// each one's stack. A stack is 64 KiB and grows down, so an address less than 60 KiB under one
// of these is on that greenlet's stack.
std::vector<std::uintptr_t> greenlet_frames;

bool on_a_greenlet_stack(const void* address) {
  const auto a = reinterpret_cast<std::uintptr_t>(address);
  for (std::uintptr_t top : greenlet_frames) {
    if (a <= top && top - a < 60 * 1024) return true;
  }
  return false;
}

struct PerRoundTrip {
  double switches;
  double polls;
  double fast_polls;
};

// Up to `rounds` request/response round trips between the calling fiber and a partner fiber,
// one byte each way over a socketpair, while `go_on` (if given) says so before each one after
// the first; the hub's switches and polls per round trip.
PerRoundTrip ping_pong(int rounds, Waits waits = Waits::kTimed,
                       const std::function<bool()>& go_on = nullptr) {
  SocketPair pair;
  IoWatcher here(pair.fd[0], kIoRead);
  IoWatcher there(pair.fd[1], kIoRead);
  char caller_frame = 0;
  greenlet_frames.push_back(reinterpret_cast<std::uintptr_t>(&caller_frame));
  FiberRef partner = spawn_fiber([&] {
    char partner_frame = 0;
    greenlet_frames.push_back(reinterpret_cast<std::uintptr_t>(&partner_frame));
    while (receive_byte(there, pair.fd[1], waits)) send_byte(pair.fd[1]);
  });
  // Warm up: the partner starts and both watchers register.
  send_byte(pair.fd[0]);
  EXPECT_TRUE(receive_byte(here, pair.fd[0], waits));
  const HubStats before = Hub::current().stats();
  int made = 0;
  while (made + 1 < rounds && (!go_on || go_on())) {
    send_byte(pair.fd[0]);
    if (!receive_byte(here, pair.fd[0], waits)) break;
    ++made;
  }
  const HubStats after = Hub::current().stats();
  ::shutdown(pair.fd[0], SHUT_WR);  // the partner's next read ends its loop
  EXPECT_TRUE(partner->join());
  const double n = made > 0 ? made : 1;
  return {static_cast<double>(after.switches - before.switches) / n,
          static_cast<double>(after.polls - before.polls) / n,
          static_cast<double>(after.fast_polls - before.fast_polls) / n};
}

GROVE_TEST(ParkPoll, ARequestResponseWaitSwitchesStraightToThePeer) {
  Hub::current().set_idle_spin_limit(20e-6);
  const PerRoundTrip per = ping_pong(2000);
  // Two switches per round trip (there and back), not four through the loop fiber; one poll
  // per wait (two per round trip), not a second one by the loop fiber's spin.
  EXPECT_LT(per.switches, 2.5);
  EXPECT_LT(per.polls, 2.5);
  EXPECT_GE(per.polls, 2.0);
}

GROVE_TEST(ParkPoll, WithTheIdleSpinOffTheLoopFiberPolls) {
  Hub::current().set_idle_spin_limit(0);
  const PerRoundTrip per = ping_pong(2000);
  Hub::current().set_idle_spin_limit(20e-6);
  EXPECT_GE(per.switches, 3.5);
}

// A call_later callback is user code that may want a whole stack: one that fires during a poll
// in place runs on the loop fiber, before the fibers that poll woke; an armed timer does not
// stop the poll in place.
GROVE_TEST(ParkPoll, AnArmedCallLaterTimerDoesNotStopIt) {
  Hub::current().set_idle_spin_limit(20e-6);
  TimerHandle far = call_later(600.0, [] {});
  const PerRoundTrip per = ping_pong(2000);
  EXPECT_TRUE(far.cancel());
  EXPECT_LT(per.switches, 2.5);
}

GROVE_TEST(ParkPoll, ACallLaterCallbackThatFiresDuringItRunsOnTheLoopFiber) {
  Hub::current().set_idle_spin_limit(20e-6);
  constexpr int kTimers = 20;
  int ran = 0;
  int ran_where_it_could_wait = 0;
  int ran_on_a_greenlet_stack = 0;
  std::vector<TimerHandle> timers;
  for (int i = 0; i < kTimers; ++i) {
    timers.push_back(call_later(0.001 * (i + 1), [&] {
      const char probe = 0;
      if (Hub::current().can_wait()) ++ran_where_it_could_wait;
      if (on_a_greenlet_stack(&probe)) ++ran_on_a_greenlet_stack;
      ++ran;
    }));
  }
  // Round trips until every timer fired: they fire during polls made in place.
  const Deadline deadline = Deadline::after(20.0);
  while (ran < kTimers && !deadline.passed()) (void)ping_pong(200);
  EXPECT_EQ(ran, kTimers);
  EXPECT_EQ(ran_where_it_could_wait, 0);
  EXPECT_EQ(ran_on_a_greenlet_stack, 0);
  greenlet_frames.clear();
}

// Work posted from another thread runs on the loop fiber (where it may not wait), never on the
// stack of a greenlet that happened to poll when the inbox's wake-up came.
GROVE_TEST(ParkPoll, PostedWorkRunsOnTheLoopFiber) {
  Hub::current().set_idle_spin_limit(20e-6);
  constexpr int kPosts = 300;
  std::atomic<int> ran{0};
  std::atomic<int> ran_where_it_could_wait{0};
  std::atomic<int> ran_on_a_greenlet_stack{0};
  std::atomic<bool> done{false};
  const RemoteHub remote = Hub::current().remote();
  std::thread poster([&] {
    for (int i = 0; i < kPosts; ++i) {
      remote.post([&] {
        const char probe = 0;
        if (Hub::current().can_wait()) ++ran_where_it_could_wait;
        if (on_a_greenlet_stack(&probe)) ++ran_on_a_greenlet_stack;
        ++ran;
      });
      std::this_thread::sleep_for(std::chrono::microseconds(50));
    }
    done = true;
  });
  while (!done.load()) (void)ping_pong(200);
  poster.join();
  const Deadline deadline = Deadline::after(20.0);
  while (ran.load() < kPosts && !deadline.passed()) sleep(0.001);
  EXPECT_EQ(ran.load(), kPosts);
  EXPECT_EQ(ran_where_it_could_wait.load(), 0);
  EXPECT_EQ(ran_on_a_greenlet_stack.load(), 0);
  greenlet_frames.clear();
}

// A fiber whose own fd became ready while it ran is woken by its own poll: it goes on without
// any switch.
GROVE_TEST(ParkPoll, AFiberWokenByItsOwnPollDoesNotSwitch) {
  Hub::current().set_idle_spin_limit(20e-6);
  SocketPair pair;
  IoWatcher readable(pair.fd[0], kIoRead);
  EXPECT_EQ(readable.wait(Deadline::after(0.001)), 0);  // registers the watcher
  send_byte(pair.fd[1]);  // readable now, but no poll has seen it yet
  const HubStats before = Hub::current().stats();
  EXPECT_EQ(readable.wait(Deadline::after(20.0)), kIoRead);
  const HubStats after = Hub::current().stats();
  EXPECT_EQ(after.switches - before.switches, 0u);
  EXPECT_EQ(after.polls - before.polls, 1u);
}

// --- the fast poll --------------------------------------------------------------------------

int hub_epoll_fd() { return internal::reactor_of(Hub::current()).epoll_fd(); }

// The events `fd` is registered for in this hub's epoll set, from the kernel's own listing
// (/proc/self/fdinfo of the set: one "tfd: N events: MASK" line per fd); -1 if it is not there.
long registration(int fd) {
  std::ifstream info("/proc/self/fdinfo/" + std::to_string(hub_epoll_fd()));
  std::string line;
  while (std::getline(info, line)) {
    std::istringstream fields(line);
    std::string tag, events_tag;
    int tfd = -1;
    std::string mask;
    if (fields >> tag >> tfd >> events_tag >> mask && tag == "tfd:" && tfd == fd) {
      return std::stol(mask, nullptr, 16);
    }
  }
  return -1;
}

// Runs `body` on a thread of its own, with a hub of its own on which nothing else arms a timer
// (a GROVE_TEST body's hub always has one: the deadline its runner joins it with).
void on_a_hub_without_timers(const std::function<void()>& body) {
  std::thread([&] {
    body();
    Hub::destroy_current();
  }).join();
}

GROVE_TEST(FastPoll, TheReactorKnowsLibevsEpollSet) {
  const int fd = hub_epoll_fd();
  ASSERT_GE(fd, 0);
  char link[64] = {};
  ASSERT_GT(::readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), link, sizeof link - 1), 0);
  EXPECT_STREQ(link, "anon_inode:[eventpoll]");
  // The set libev polls: a watcher started and polled once is registered in it.
  SocketPair pair;
  IoWatcher readable(pair.fd[0], kIoRead);
  EXPECT_EQ(registration(pair.fd[0]), -1);
  EXPECT_EQ(readable.wait(Deadline::after(0.001)), 0);
  EXPECT_EQ(registration(pair.fd[0]) & EPOLLIN, EPOLLIN);
}

TEST(FastPoll, WithNoTimerArmedNearlyEveryPollInPlaceIsFast) {
  on_a_hub_without_timers([] {
    Hub::current().set_idle_spin_limit(20e-6);
    const PerRoundTrip per = ping_pong(3200, Waits::kUntimed);
    // Two polls per round trip, as before; all fast but one in kFastPollsInARow, which is a
    // whole libev iteration.
    EXPECT_LT(per.polls, 2.5);
    EXPECT_GE(per.fast_polls, per.polls * (1.0 - 1.5 / Reactor::kFastPollsInARow));
    EXPECT_GE(per.polls - per.fast_polls, per.polls * 0.5 / Reactor::kFastPollsInARow);
  });
}

// With timers armed, a fast poll first reads the clock; it still polls fast between the
// timers' checks (every kTimerSlackSeconds at most).
GROVE_TEST(FastPoll, TimedWaitsStillPollFast) {
  Hub::current().set_idle_spin_limit(20e-6);
  const PerRoundTrip per = ping_pong(2000, Waits::kTimed);
  EXPECT_LT(per.switches, 2.5);
  EXPECT_GT(per.fast_polls, 0.0);
}

// A timer due during a run of fast polls fires by the end of its slack: the first poll in place
// after that is a whole libev iteration. The test reads the clock only to know when that moment
// has come, then counts round trips (each makes two polls). Each round trip also works 50 us,
// as a server's would, so that the other bound, a whole iteration every kFastPollsInARow polls,
// would come several round trips too late.
TEST(FastPoll, ATimerDueDuringFastPollsFiresAtTheNextPoll) {
  on_a_hub_without_timers([] {
    Hub::current().set_idle_spin_limit(20e-6);
    for (int timer = 0; timer < 8; ++timer) {
      bool fired = false;
      TimerHandle handle = call_later(0.002, [&] { fired = true; });
      const double due = Deadline::now() + 0.002 + Reactor::kTimerSlackSeconds;
      int round_trips_after_due = 0;
      (void)ping_pong(1'000'000, Waits::kUntimed, [&] {
        if (Deadline::now() > due) ++round_trips_after_due;
        for (const double until = Deadline::now() + 50e-6; Deadline::now() < until;) {
        }
        return !fired;
      });
      EXPECT_TRUE(fired);
      // Seen due before one round trip, fired by the whole iteration of its first poll (or of the
      // next: the callback runs on the loop fiber after the fiber that poll woke).
      EXPECT_LE(round_trips_after_due, 3) << "timer " << timer;
    }
  });
}

// A watcher started while the hub polls fast is registered with the kernel by the next poll (a
// whole libev iteration), not kFastPollsInARow polls later.
TEST(FastPoll, AWatcherStartedDuringFastPollsIsPolledAtOnce) {
  on_a_hub_without_timers([] {
    Hub::current().set_idle_spin_limit(20e-6);
    for (int round = 0; round < 8; ++round) {
      SocketPair other;
      bool woken = false;
      FiberRef waiter;
      int round_trips = 0;
      (void)ping_pong(1'000'000, Waits::kUntimed, [&] {
        // Started once the fast polls run; it has run (and started its watcher) by the next
        // round trip, when its peer writes.
        if (++round_trips == 2) {
          waiter = spawn_fiber([&] {
            IoWatcher readable(other.fd[0], kIoRead);
            woken = readable.wait() != 0;
          });
        }
        if (round_trips == 3) send_byte(other.fd[1]);
        return !woken;
      });
      EXPECT_TRUE(waiter->join());
      EXPECT_TRUE(woken);
      EXPECT_LE(round_trips, 5) << "round " << round;
    }
  });
}

// libev leaves a stopped watcher's fd registered and removes it when the kernel reports it
// (epoll_ctl per stop would cost more). A fast poll that meets such a report sends the next poll
// to libev, which removes it then: the kernel does not report it again and again.
TEST(FastPoll, ARegistrationNobodyWantsGoesBackToLibev) {
  on_a_hub_without_timers([] {
    Hub::current().set_idle_spin_limit(20e-6);
    for (int round = 0; round < 8; ++round) {
      SocketPair other;
      {
        IoWatcher readable(other.fd[0], kIoRead);
        EXPECT_EQ(readable.wait(Deadline::after(0.001)), 0);  // registers it
        send_byte(other.fd[1]);
        ASSERT_TRUE(receive_byte(readable, other.fd[0], Waits::kUntimed));
      }  // stopped: still registered, with nothing to report
      int round_trips = 0;
      long left_registered = 0;
      (void)ping_pong(1'000'000, Waits::kUntimed, [&] {
        if (++round_trips == 2) {
          EXPECT_EQ(registration(other.fd[0]) & EPOLLIN, EPOLLIN);
          send_byte(other.fd[1]);  // readable now, for nobody
        }
        if (round_trips == 5) left_registered = registration(other.fd[0]);
        return round_trips < 5;
      });
      EXPECT_EQ(left_registered, -1) << "round " << round;
    }
  });
}

}  // namespace
}  // namespace grove
