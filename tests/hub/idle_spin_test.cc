// hub/idle_spin.h: the window's rules, and what the hub does with it — a hub spins instead of
// sleeping while events come close together, and sleeps (burns no CPU) when they do not.
//
// Nothing here reads wall-clock gaps: the hub's behaviour is read from the kernel's count of
// this thread's voluntary context switches (each sleep in epoll_wait is one) and its CPU time.
#include "hub/idle_spin.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <thread>

#include "hub/hub.h"
#include "hub/io.h"
#include "tests/support/grove_test.h"
#include "tests/support/pipe.h"

namespace grove {
namespace {

using testing::Pipe;

TEST(IdleSpinPolicy, StartsAtTheLimit) {
  IdleSpin spin(20e-6);
  EXPECT_DOUBLE_EQ(spin.limit(), 20e-6);
  EXPECT_DOUBLE_EQ(spin.window(), 20e-6);
}

TEST(IdleSpinPolicy, ZeroOrNegativeDisables) {
  IdleSpin off(0);
  EXPECT_EQ(off.window(), 0);
  off.slept(0);  // even a gap of nothing does not turn it on
  EXPECT_EQ(off.window(), 0);
  IdleSpin negative(-1);
  EXPECT_EQ(negative.limit(), 0);
  EXPECT_EQ(negative.window(), 0);
}

TEST(IdleSpinPolicy, AFailedSpinHalvesTheWindowDownToNothing) {
  IdleSpin spin(20e-6);
  spin.spun(false);
  EXPECT_DOUBLE_EQ(spin.window(), 10e-6);
  spin.spun(false);
  spin.spun(false);
  spin.spun(false);
  EXPECT_DOUBLE_EQ(spin.window(), 1.25e-6);
  spin.spun(false);  // 0.625 µs is below the floor
  EXPECT_EQ(spin.window(), 0);
}

TEST(IdleSpinPolicy, ASuccessfulSpinRestoresTheLimit) {
  IdleSpin spin(20e-6);
  spin.spun(false);
  spin.spun(false);
  spin.spun(true);
  EXPECT_DOUBLE_EQ(spin.window(), 20e-6);
}

TEST(IdleSpinPolicy, OnlyAShortSleepRestoresTheLimit) {
  IdleSpin spin(20e-6);
  for (int i = 0; i < 10; ++i) spin.spun(false);
  ASSERT_EQ(spin.window(), 0);
  spin.slept(25e-6);  // longer than the limit: spinning would not have caught it
  EXPECT_EQ(spin.window(), 0);
  spin.slept(15e-6);
  EXPECT_DOUBLE_EQ(spin.window(), 20e-6);
}

TEST(IdleSpinPolicy, SetLimitRestartsTheWindow) {
  IdleSpin spin(20e-6);
  spin.spun(false);
  spin.set_limit(50e-6);
  EXPECT_DOUBLE_EQ(spin.window(), 50e-6);
  spin.set_limit(0);
  EXPECT_EQ(spin.window(), 0);
}

long voluntary_switches() {
  rusage usage{};
  getrusage(RUSAGE_THREAD, &usage);
  return usage.ru_nvcsw;
}

double thread_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_THREAD, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
}

// A thread sends `rounds` bytes, each 1 ms after the hub acknowledged the previous one; the hub
// reads each with an IoWatcher. Returns the hub thread's voluntary context switches meanwhile.
long switches_while_served(int rounds) {
  Pipe requests;
  Pipe acks;
  ::fcntl(acks.r, F_SETFL, 0);  // the client thread blocks on its acknowledgements
  std::thread client([&] {
    char byte = 'x';
    for (int i = 0; i < rounds; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      if (::write(requests.w, &byte, 1) != 1) return;
      if (::read(acks.r, &byte, 1) != 1) return;  // blocking: the pipe's read end is ours
    }
  });
  IoWatcher readable(requests.r, kIoRead);
  const long before = voluntary_switches();
  for (int i = 0; i < rounds; ++i) {
    const int ready = readable.wait(Deadline::after(10.0));
    EXPECT_EQ(ready, kIoRead);
    if (ready != kIoRead) break;
    char byte = 0;
    EXPECT_EQ(::read(requests.r, &byte, 1), 1);
    EXPECT_EQ(::write(acks.w, &byte, 1), 1);
  }
  const long switches = voluntary_switches() - before;
  client.join();
  return switches;
}

GROVE_TEST(HubIdleSpin, WithoutASpinEveryWaitSleeps) {
  Hub::current().set_idle_spin_limit(0);
  // Each request comes 1 ms after the hub started waiting for it: the hub sleeps for almost
  // every one (a request may already be there if this thread was held off the CPU for 1 ms).
  EXPECT_GE(switches_while_served(20), 10);
}

GROVE_TEST(HubIdleSpin, ASpinLongerThanTheGapsNeverSleeps) {
  Hub::current().set_idle_spin_limit(1.0);
  EXPECT_LE(switches_while_served(20), 2);
}

GROVE_TEST(HubIdleSpin, AnIdleHubSleepsInsteadOfSpinning) {
  // The default limit: one spin after the last event at most, then sleeps. Waiting out a 200 ms
  // timer costs microseconds of CPU, not 200 ms of it (CPU time is not stretched by load).
  Hub::current().set_idle_spin_limit(Hub::kIdleSpinSeconds);
  const double cpu_before = thread_cpu_seconds();
  for (int i = 0; i < 4; ++i) sleep(0.05);
  EXPECT_LT(thread_cpu_seconds() - cpu_before, 0.05);
}

GROVE_TEST(HubIdleSpin, GapsLongerThanTheLimitTurnTheSpinOff) {
  // 1 ms gaps against a 0.8 ms limit: every spin fails, so the window halves each time and is
  // gone after ten (about 1.6 ms of spinning in all). A spin that did not adapt would burn the
  // whole 0.8 ms before each of the 20 sleeps: 16 ms of CPU.
  Hub::current().set_idle_spin_limit(800e-6);
  const double cpu_before = thread_cpu_seconds();
  EXPECT_GE(switches_while_served(20), 10);
  EXPECT_LT(thread_cpu_seconds() - cpu_before, 0.008);
}

}  // namespace
}  // namespace grove
