// The poll in place (Scheduler::set_park_poll, Hub::poll_in_place): a fiber that parks with
// nothing ready polls the reactor on its own stack and switches straight to the fiber that poll
// made ready. What it must not change: work posted from other threads and call_later callbacks
// still run on the loop fiber, and nothing is polled twice.
//
// Read from the hub's own counters (switches, polls), never from the clock.
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "hub/hub.h"
#include "hub/io.h"
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

// Waits for one byte on `fd` (through its watcher) and reads it.
void receive_byte(IoWatcher& readable, int fd) {
  char byte;
  while (::recv(fd, &byte, 1, 0) != 1) {
    ASSERT_EQ(errno, EAGAIN);
    ASSERT_NE(readable.wait(Deadline::after(20.0)), 0) << "no answer within 20 s";
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
};

// `rounds` request/response round trips between the calling fiber and a partner fiber, one
// byte each way over a socketpair; the hub's switches and polls per round trip.
PerRoundTrip ping_pong(int rounds) {
  SocketPair pair;
  IoWatcher here(pair.fd[0], kIoRead);
  IoWatcher there(pair.fd[1], kIoRead);
  char caller_frame = 0;
  greenlet_frames.push_back(reinterpret_cast<std::uintptr_t>(&caller_frame));
  FiberRef partner = spawn_fiber([&] {
    char partner_frame = 0;
    greenlet_frames.push_back(reinterpret_cast<std::uintptr_t>(&partner_frame));
    for (int i = 0; i < rounds; ++i) {
      receive_byte(there, pair.fd[1]);
      send_byte(pair.fd[1]);
    }
  });
  // Warm up: the partner starts and both watchers register.
  send_byte(pair.fd[0]);
  receive_byte(here, pair.fd[0]);
  const HubStats before = Hub::current().stats();
  for (int i = 1; i < rounds; ++i) {
    send_byte(pair.fd[0]);
    receive_byte(here, pair.fd[0]);
  }
  const HubStats after = Hub::current().stats();
  EXPECT_TRUE(partner->join());
  const double n = rounds - 1;
  return {static_cast<double>(after.switches - before.switches) / n,
          static_cast<double>(after.polls - before.polls) / n};
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

}  // namespace
}  // namespace grove
