// The blocking detector reports a fiber that keeps the hub's thread busy without yielding, with
// its stack, measured in the thread's CPU time, and a fiber that keeps it asleep in a blocking
// system call, measured in wall time: preemption and a loaded machine are never reported.
#include "hub/monitor.h"

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "hub/hub.h"
#include "hub/testing.h"
#include "tests/support/grove_test.h"

double thread_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Burns `cpu_seconds` of this thread's CPU time without yielding, however long that takes on the
// wall clock. Not static and not inlined, so a report can name it.
[[gnu::noinline]] void spin_without_yielding(double cpu_seconds) {
  const double until = thread_cpu_seconds() + cpu_seconds;
  volatile long sink = 0;
  while (thread_cpu_seconds() < until) {
    for (int i = 0; i < 20000; ++i) sink = sink + 1;
  }
}

namespace grove {
namespace {

struct Collected {
  std::mutex mutex;
  std::vector<BlockingReport> reports;

  std::size_t count() {
    std::lock_guard lock(mutex);
    return reports.size();
  }
  std::string fibers() {
    std::lock_guard lock(mutex);
    std::string out;
    for (const auto& r : reports) out += r.fiber + " (" + std::to_string(r.blocked_seconds) + " s) ";
    return out;
  }
};

MonitorOptions collecting(const std::shared_ptr<Collected>& collected, double max_blocking_time) {
  MonitorOptions options;
  options.max_blocking_time = max_blocking_time;
  options.on_report = [collected](const BlockingReport& r) {
    std::lock_guard lock(collected->mutex);
    collected->reports.push_back(r);
  };
  return options;
}

// Waits (parked, so the hub stays idle) until `done` holds; false after a generous deadline.
bool eventually(const std::function<bool()>& done, double deadline_seconds = 20) {
  const Deadline deadline = Deadline::after(deadline_seconds);
  while (!done()) {
    if (deadline.passed()) return false;
    sleep(0.002);
  }
  return true;
}

// Until the monitor has looked at this hub `n` more times: a quiet period only proves something
// once the monitor has watched it.
std::function<bool()> sampled(std::uint64_t n) {
  const std::uint64_t target = monitor_stats().samples + n;
  return [target] { return monitor_stats().samples >= target; };
}

GROVE_TEST(Monitor, ReportsASpinningFiberWithItsStackAtTheDefaultThreshold) {
  auto collected = std::make_shared<Collected>();
  start_monitor(collecting(collected, MonitorOptions{}.max_blocking_time));
  ASSERT_EQ(monitor_stats().max_blocking_time, 0.010);
  FiberRef hog = spawn_fiber([] { spin_without_yielding(0.08); });
  EXPECT_TRUE(hog->join());
  // The report is symbolized and delivered on the monitor thread.
  EXPECT_TRUE(eventually([&] { return collected->count() > 0; })) << "no report of the spin";
  ASSERT_TRUE(eventually(sampled(20)));  // time for a second report, if one were (wrongly) coming
  stop_monitor();
  std::lock_guard lock(collected->mutex);
  ASSERT_EQ(collected->reports.size(), 1u) << "one report per stall: " << collected->fibers();
  const BlockingReport& r = collected->reports[0];
  EXPECT_EQ(r.fiber, "Fiber-" + std::to_string(hog->id()));
  EXPECT_GE(r.blocked_seconds, 0.010);
  EXPECT_GE(r.wall_seconds, r.blocked_seconds * 0.99);
#if !defined(__SANITIZE_THREAD__)
  // ThreadSanitizer delivers asynchronous signals only at its next intercepted call, so under
  // TSan the stack shows that call rather than the spin.
  EXPECT_NE(r.stack.find("spin_without_yielding"), std::string::npos) << r.stack;
#endif
}

// The report waits for the fiber to yield and carries the whole stall, not the threshold it
// crossed: a 300 ms spin with a 10 ms threshold reads about 300 ms. (The measure stops at the
// monitor's last sample before the yield; the bound below leaves room for a monitor thread that
// a loaded machine kept from sampling for most of the spin.)
GROVE_TEST(Monitor, TheReportCarriesTheWholeBlockedTime) {
  auto collected = std::make_shared<Collected>();
  start_monitor(collecting(collected, 0.01));
  double spun = 0;
  FiberRef hog = spawn_fiber([&] {
    const double before = thread_cpu_seconds();
    spin_without_yielding(0.3);
    spun = thread_cpu_seconds() - before;
  });
  EXPECT_TRUE(hog->join());
  EXPECT_TRUE(eventually([&] { return collected->count() > 0; })) << "no report of the spin";
  ASSERT_TRUE(eventually(sampled(20)));
  stop_monitor();
  std::lock_guard lock(collected->mutex);
  ASSERT_EQ(collected->reports.size(), 1u) << collected->fibers();
  const BlockingReport& r = collected->reports[0];
  EXPECT_FALSE(r.ongoing);
  EXPECT_GT(r.blocked_seconds, 0.1) << "the threshold, not the stall: " << to_string(r);
  EXPECT_LE(r.blocked_seconds, spun + 0.001) << to_string(r);
  EXPECT_GE(r.wall_seconds, r.blocked_seconds * 0.99);
}

#if !defined(__SANITIZE_THREAD__)  // under TSan the stack shows TSan's next interception point
// The stack shows the user's own frame that made the long call, at the line of the call, even
// where the compiler inlined that frame (a lambda is inlined into the fiber that runs it).
GROVE_TEST(Monitor, TheStackShowsTheUserFrameThatMadeTheCall) {
  auto collected = std::make_shared<Collected>();
  start_monitor(collecting(collected, 0.01));
  int call_line = 0;
  int calls = 0;
  FiberRef hog = spawn_fiber([&] {
    call_line = __LINE__; spin_without_yielding(0.08);
    ++calls;  // not a call in tail position: it would leave no frame of the lambda (hub/monitor.h)
  });
  EXPECT_TRUE(hog->join());
  EXPECT_TRUE(eventually([&] { return collected->count() > 0; })) << "no report of the spin";
  stop_monitor();
  std::lock_guard lock(collected->mutex);
  const std::string& stack = collected->reports.at(0).stack;
  const std::size_t callee = stack.find("spin_without_yielding");
  ASSERT_NE(callee, std::string::npos) << stack;
  const std::string user_frame = "tests/hub/monitor_test.cc:" + std::to_string(call_line) + "\n";
  const std::size_t caller = stack.find(user_frame, callee);
  EXPECT_NE(caller, std::string::npos) << "no frame at " << user_frame << " under the callee:\n"
                                       << stack;
}
#endif

// A stall that goes on is reported before it ends, marked as ongoing, once: a fiber stuck for
// good is reported too.
GROVE_TEST(Monitor, AStallThatGoesOnIsReportedBeforeItEnds) {
  auto collected = std::make_shared<Collected>();
  start_monitor(collecting(collected, 0.01));
  bool reported_while_spinning = false;
  FiberRef hog = spawn_fiber([&] {
    const double until = thread_cpu_seconds() + 30;  // CPU seconds: a generous deadline
    while (collected->count() == 0 && thread_cpu_seconds() < until) spin_without_yielding(0.01);
    reported_while_spinning = collected->count() > 0;
  });
  EXPECT_TRUE(hog->join());
  ASSERT_TRUE(eventually(sampled(20)));  // time for a second report, if one were (wrongly) coming
  stop_monitor();
  EXPECT_TRUE(reported_while_spinning);
  std::lock_guard lock(collected->mutex);
  ASSERT_EQ(collected->reports.size(), 1u) << collected->fibers();
  const BlockingReport& r = collected->reports[0];
  EXPECT_TRUE(r.ongoing);
  EXPECT_GE(r.blocked_seconds, 1.0);
  EXPECT_NE(to_string(r).find("has not yielded yet"), std::string::npos) << to_string(r);
}

// A greenlet that stops the monitor in the middle of its own stall: the stall is reported, as
// measured so far, before stop_monitor() returns (and symbolized on the monitor's thread, not
// on the greenlet's small stack).
GROVE_TEST(Monitor, AStallUnderwayWhenTheMonitorStopsIsReported) {
  auto collected = std::make_shared<Collected>();
  start_monitor(collecting(collected, 0.01));
  std::size_t reports_when_stopped = 0;
  FiberRef hog = spawn_fiber([&] {
    spin_without_yielding(0.05);
    const auto enough = sampled(20);  // the monitor has seen the stall and sampled its stack
    while (!enough()) spin_without_yielding(0.002);
    stop_monitor();
    reports_when_stopped = collected->count();
  });
  EXPECT_TRUE(hog->join());
  EXPECT_EQ(reports_when_stopped, 1u) << collected->fibers();
  std::lock_guard lock(collected->mutex);
  ASSERT_EQ(collected->reports.size(), 1u);
  EXPECT_GE(collected->reports[0].blocked_seconds, 0.01);
  EXPECT_FALSE(collected->reports[0].stack.empty());
}

TEST(Monitor, ReportFormat) {
  BlockingReport r;
  r.fiber = "worker";
  r.blocked_seconds = 0.7004;
  r.wall_seconds = 0.7021;
  r.stack = "  #0 crunch at app.cc:12\n  #1 {lambda#1} at app.cc:30\n";
  EXPECT_EQ(to_string(r),
            "grove: worker blocked the hub for 700 ms of CPU time (over 702 ms) without "
            "yielding; it was at:\n  #0 crunch at app.cc:12\n  #1 {lambda#1} at app.cc:30\n");
  r.ongoing = true;
  r.blocked_seconds = 1.0;
  r.wall_seconds = 1.5;
  EXPECT_EQ(to_string(r),
            "grove: worker has blocked the hub for 1000 ms of CPU time (over 1500 ms) and has "
            "not yielded yet; it is at:\n  #0 crunch at app.cc:12\n  #1 {lambda#1} at app.cc:30\n");
  r.blocked_in = "read";
  EXPECT_EQ(to_string(r),
            "grove: worker has blocked the hub for 1000 ms asleep in read (a blocking call that "
            "is not cooperative) and has not yielded yet; it is at:\n  #0 crunch at app.cc:12\n"
            "  #1 {lambda#1} at app.cc:30\n");
  r.ongoing = false;
  EXPECT_EQ(to_string(r),
            "grove: worker blocked the hub for 1000 ms asleep in read (a blocking call that is "
            "not cooperative) without yielding; it was at:\n  #0 crunch at app.cc:12\n"
            "  #1 {lambda#1} at app.cc:30\n");
}

GROVE_TEST(Monitor, StopMonitorEndsReportsAndStatistics) {
  auto collected = std::make_shared<Collected>();
  start_monitor(collecting(collected, 0.01));
  EXPECT_TRUE(monitor_stats().watching);
  ASSERT_TRUE(eventually(sampled(3)));
  stop_monitor();
  EXPECT_FALSE(monitor_stats().watching);
  spin_without_yielding(0.05);  // unwatched: nothing to report
  sleep(0.05);
  EXPECT_EQ(collected->count(), 0u) << collected->fibers();
}

// A hub polling for work before it sleeps (hub/idle_spin.h) burns CPU without switching fibers,
// but no fiber is holding it: 10 ms spins against a 2 ms threshold are not reported.
GROVE_TEST(Monitor, AHubSpinningForWorkIsNotReported) {
  auto collected = std::make_shared<Collected>();
  start_monitor(collecting(collected, 0.002));
  ASSERT_TRUE(eventually(sampled(3)));
  for (int i = 0; i < 5; ++i) {
    Hub::current().set_idle_spin_limit(0.01);  // each sleep starts with a full 10 ms spin
    sleep(0.03);
  }
  ASSERT_TRUE(eventually(sampled(20)));
  stop_monitor();
  Hub::current().set_idle_spin_limit(Hub::kIdleSpinSeconds);
  EXPECT_EQ(collected->count(), 0u) << collected->fibers();
}

// Busy threads on every core: the spinning fiber gets a fraction of a core, and the monitor
// thread waits for one too. The report still comes, after the same CPU time.
GROVE_TEST(Monitor, ASpinIsReportedOnABusyMachine) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> burners;
  for (unsigned i = 0; i < 2 * std::max(1u, std::thread::hardware_concurrency()); ++i) {
    burners.emplace_back([&stop] {
      volatile long sink = 0;
      while (!stop.load(std::memory_order_relaxed)) sink = sink + 1;
    });
  }
  auto collected = std::make_shared<Collected>();
  start_monitor(collecting(collected, 0.01));
  const double cpu_before = thread_cpu_seconds();
  spin_without_yielding(0.1);
  const double spun = thread_cpu_seconds() - cpu_before;
  const bool reported = eventually([&] { return collected->count() > 0; });
  stop.store(true);
  for (auto& t : burners) t.join();
  stop_monitor();
  ASSERT_TRUE(reported) << "a 100 ms spin was not reported";
  std::lock_guard lock(collected->mutex);
  EXPECT_GE(collected->reports[0].blocked_seconds, 0.01);
  EXPECT_LE(collected->reports[0].blocked_seconds, spun) << "CPU time, not wall time";
}

// Reads one byte from `fd`, blocking the thread in the kernel (a pipe is never cooperative).
// Not static and not inlined, so a report can name it.
[[gnu::noinline]] void read_blocking_the_hub(int fd, char* byte, ssize_t* got) {
  *got = ::read(fd, byte, 1);  // not a tail call: this frame stays on the stack
}

// Sleeps in the kernel without switching until `stop` holds; every nanosleep's result, in order.
[[gnu::noinline]] std::vector<int> nap_blocking_the_hub(const std::function<bool()>& stop) {
  std::vector<int> results;
  const Deadline give_up = Deadline::after(20);
  while (!stop() && !give_up.passed()) {
    timespec nap{0, 300'000'000};
    results.push_back(::nanosleep(&nap, nullptr) == 0 ? 0 : errno);
  }
  return results;
}

// A fiber stuck in a plain read() uses no CPU: the busy rule cannot see it, the kernel rule does.
// read() resumes after the sampling signal's handler (SA_RESTART), so the fiber is interrupted,
// named and its stack taken, and the read still returns the byte written afterwards.
GROVE_TEST(Monitor, AFiberAsleepInABlockingReadIsReportedWithItsNameAndStack) {
  auto collected = std::make_shared<Collected>();
  start_monitor(collecting(collected, 0.05));
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  std::thread writer([&] {  // writes once the stall was reported (or after a deadline)
    const Deadline deadline = Deadline::after(20);
    while (collected->count() == 0 && !deadline.passed()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    (void)::write(fds[1], "r", 1);
  });
  ssize_t got = -2;
  char byte = 0;
  FiberRef reader = spawn_fiber([&] { read_blocking_the_hub(fds[0], &byte, &got); });
  EXPECT_TRUE(reader->join());
  writer.join();
  stop_monitor();
  ::close(fds[0]);
  ::close(fds[1]);
  EXPECT_EQ(got, 1) << "the sample must not end the read early";
  EXPECT_EQ(byte, 'r');
  std::lock_guard lock(collected->mutex);
  ASSERT_EQ(collected->reports.size(), 1u) << collected->fibers();
  const BlockingReport& r = collected->reports[0];
  EXPECT_EQ(r.blocked_in, "read");
  EXPECT_TRUE(r.ongoing) << "the read could end only after the report";
  EXPECT_GE(r.blocked_seconds, 0.05);
#if !defined(__SANITIZE_THREAD__)
  // ThreadSanitizer holds an asynchronous signal until its read() interceptor returns (the
  // kernel restarts the read meanwhile), which is after the report: no name, no stack there.
  EXPECT_EQ(r.fiber, "Fiber-" + std::to_string(reader->id()));
  EXPECT_NE(r.stack.find("read_blocking_the_hub"), std::string::npos) << r.stack;
#endif
  EXPECT_NE(to_string(r).find("asleep in read"), std::string::npos) << to_string(r);
}

// A sleep would end early if interrupted (EINTR): it is reported without a signal, with the
// call's name and the return addresses found on the thread's stack, and every nap is whole.
GROVE_TEST(Monitor, AFiberAsleepInASleepIsReportedWithoutCuttingItShort) {
  auto collected = std::make_shared<Collected>();
  start_monitor(collecting(collected, 0.05));
  std::vector<int> naps;
  FiberRef sleeper = spawn_fiber(
      [&] { naps = nap_blocking_the_hub([&] { return collected->count() > 0; }); });
  EXPECT_TRUE(sleeper->join());
  stop_monitor();
  EXPECT_EQ(naps, std::vector<int>(naps.size(), 0)) << "a nap was interrupted";
  std::lock_guard lock(collected->mutex);
  ASSERT_EQ(collected->reports.size(), 1u) << collected->fibers();
  const BlockingReport& r = collected->reports[0];
  EXPECT_EQ(r.fiber, "<not sampled>");
  EXPECT_TRUE(r.blocked_in == "clock_nanosleep" || r.blocked_in == "nanosleep") << r.blocked_in;
  EXPECT_NE(r.stack.find("nap_blocking_the_hub"), std::string::npos) << r.stack;
}

// Asked to, the monitor samples a sleeping fiber too: its name and stack, at the price of one
// nap ended early with EINTR.
GROVE_TEST(Monitor, InterruptingToSampleNamesASleepingFiber) {
  auto collected = std::make_shared<Collected>();
  MonitorOptions options = collecting(collected, 0.05);
  options.interrupt_calls_to_sample = true;
  start_monitor(options);
  std::vector<int> naps;
  FiberRef sleeper = spawn_fiber(
      [&] { naps = nap_blocking_the_hub([&] { return collected->count() > 0; }); });
  EXPECT_TRUE(sleeper->join());
  stop_monitor();
  std::lock_guard lock(collected->mutex);
  ASSERT_EQ(collected->reports.size(), 1u) << collected->fibers();
  const BlockingReport& r = collected->reports[0];
  EXPECT_EQ(r.fiber, "Fiber-" + std::to_string(sleeper->id()));
  EXPECT_TRUE(r.blocked_in == "clock_nanosleep" || r.blocked_in == "nanosleep") << r.blocked_in;
  EXPECT_EQ(std::count(naps.begin(), naps.end(), EINTR), 1) << "one nap ends early";
#if !defined(__SANITIZE_THREAD__)
  EXPECT_NE(r.stack.find("nap_blocking_the_hub"), std::string::npos) << r.stack;
#endif
}

// A hub thread that wants to run but does not get a core (here: an idle-priority thread that
// shares its only core with a busy one) is not blocked by its fiber; the OS is. Not reported.
TEST(Monitor, APreemptedHubThreadIsNotReported) {
  cpu_set_t allowed;
  ASSERT_EQ(::sched_getaffinity(0, sizeof allowed, &allowed), 0);
  int cpu = 0;
  while (cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &allowed)) ++cpu;
  ASSERT_LT(cpu, CPU_SETSIZE);
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);

  std::atomic<bool> stop{false};
  std::thread hog([&] {
    ::pthread_setaffinity_np(::pthread_self(), sizeof one, &one);
    volatile long sink = 0;
    while (!stop.load(std::memory_order_relaxed)) sink = sink + 1;
  });
  auto collected = std::make_shared<Collected>();
  double cpu_used = -1;
  bool enough_samples = false;
  testing::Outcome outcome;
  std::thread hub_thread([&] {
    ASSERT_EQ(::pthread_setaffinity_np(::pthread_self(), sizeof one, &one), 0);
    sched_param idle{};
    ASSERT_EQ(::pthread_setschedparam(::pthread_self(), SCHED_IDLE, &idle), 0);
    outcome = testing::run_in_hub([&] {
      start_monitor(collecting(collected, 0.02));
      const auto enough = sampled(20);
      const double cpu_before = thread_cpu_seconds();
      // Spin by the wall clock, never yielding: by wall time this fiber hogs the hub.
      const Deadline at_least = Deadline::after(0.3);
      const Deadline give_up = Deadline::after(10);
      while (!(enough() && at_least.passed()) && !give_up.passed()) {
      }
      enough_samples = enough();
      cpu_used = thread_cpu_seconds() - cpu_before;
      stop_monitor();
    });
  });
  hub_thread.join();
  stop.store(true);
  hog.join();
  ASSERT_TRUE(outcome.ok()) << outcome.describe();
  ASSERT_TRUE(enough_samples) << "the monitor did not sample the starved hub";
  ASSERT_LT(cpu_used, 0.02) << "premise: the hub thread was starved of CPU";
  EXPECT_EQ(collected->count(), 0u) << collected->fibers();
}

GROVE_TEST(Monitor, IdleHubAndYieldingFibersAreNotReported) {
  auto collected = std::make_shared<Collected>();
  start_monitor(collecting(collected, MonitorOptions{}.max_blocking_time));
  ASSERT_TRUE(eventually(sampled(10)));  // idle in the poller: not blocking
  // One fiber alone: its yields find nobody else ready and do not switch, yet each is a yield.
  FiberRef alone = spawn_fiber([] {
    const auto enough = sampled(20);
    for (int i = 0; i < 20 || !enough(); ++i) {
      spin_without_yielding(0.002);
      yield();
    }
  });
  EXPECT_TRUE(alone->join());
  // Two fibers taking turns.
  std::vector<FiberRef> pair;
  const auto enough = sampled(20);
  for (int f = 0; f < 2; ++f) {
    pair.push_back(spawn_fiber([&] {
      for (int i = 0; i < 20 || !enough(); ++i) {
        spin_without_yielding(0.002);
        yield();
      }
    }));
  }
  for (auto& f : pair) EXPECT_TRUE(f->join());
  stop_monitor();
  EXPECT_EQ(collected->count(), 0u) << collected->fibers();
}

// Monitors start and stop on several threads while the monitor thread samples and delivers
// reports: nothing races (run it under TSan), and once stop_monitor() returned, that monitor's
// on_report is never called again.
TEST(Monitor, StartingAndStoppingOnManyThreadsIsSafe) {
  std::atomic<int> late_reports{0};
  std::atomic<int> reports{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        auto stopped = std::make_shared<std::atomic<bool>>(false);
        MonitorOptions options;
        options.max_blocking_time = 0.002;
        options.on_report = [&, stopped](const BlockingReport&) {
          reports.fetch_add(1);
          std::this_thread::sleep_for(std::chrono::milliseconds(1));  // a slow consumer
          if (stopped->load()) late_reports.fetch_add(1);
        };
        start_monitor(options);
        spin_without_yielding(0.004);
        Hub::current().yield();
        spin_without_yielding(0.004);
        if ((i + t) % 5 == 0) {
          Hub::destroy_current();  // a watched hub going away stops its monitor too
        } else {
          stop_monitor();
        }
        stopped->store(true);
      }
    });  // and the thread's exit destroys the last hub
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(late_reports.load(), 0) << "on_report ran after stop_monitor() returned";
  std::printf("reports delivered while starting and stopping: %d\n", reports.load());
}

extern "C" {
std::atomic<int> user_handler_calls{0};
void user_handler(int) { user_handler_calls.fetch_add(1); }
}

// The monitor borrows SIGURG: a SIGURG it did not send reaches the handler that was there, its
// own never do, and the handler is put back when the monitor stops.
GROVE_TEST(Monitor, KeepsAndRestoresTheSignalHandlerItReplaced) {
  struct sigaction user {};
  user.sa_handler = &user_handler;
  sigemptyset(&user.sa_mask);
  struct sigaction before {};
  ASSERT_EQ(::sigaction(SIGURG, &user, &before), 0);
  user_handler_calls.store(0);

  auto collected = std::make_shared<Collected>();
  start_monitor(collecting(collected, 0.01));
  struct sigaction during {};
  ::sigaction(SIGURG, nullptr, &during);
  EXPECT_NE(during.sa_handler, &user_handler) << "the monitor installs its own handler";

  ::pthread_kill(::pthread_self(), SIGURG);  // not the monitor's: passed on
  sleep(0.001);
  EXPECT_EQ(user_handler_calls.load(), 1);

  spin_without_yielding(0.05);  // the monitor's own signal: not passed on
  EXPECT_TRUE(eventually([&] { return collected->count() > 0; }));
  EXPECT_EQ(user_handler_calls.load(), 1);

  stop_monitor();
  struct sigaction after {};
  ::sigaction(SIGURG, nullptr, &after);
  EXPECT_EQ(after.sa_handler, &user_handler) << "the replaced handler is back";
  ::sigaction(SIGURG, &before, nullptr);
}

GROVE_TEST(Monitor, UsesTheSignalItIsGiven) {
  auto collected = std::make_shared<Collected>();
  MonitorOptions options = collecting(collected, 0.01);
  options.signal = SIGRTMIN + 1;
  struct sigaction before {};
  ::sigaction(options.signal, nullptr, &before);
  start_monitor(options);
  spin_without_yielding(0.05);
  EXPECT_TRUE(eventually([&] { return collected->count() > 0; }));
  stop_monitor();
  struct sigaction after {};
  ::sigaction(options.signal, nullptr, &after);
  EXPECT_EQ(after.sa_handler, before.sa_handler) << "the default disposition is back";
}

// The lowest usable address of the stack holding `p`, when that stack has a guard page below.
char* guarded_stack_bottom(const void* p) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  unsigned long previous_end = 0;
  std::string previous_perms;
  while (std::getline(maps, line)) {
    unsigned long start = 0;
    unsigned long end = 0;
    char perms[8] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %7s", &start, &end, perms) != 3) continue;
    const auto a = reinterpret_cast<unsigned long>(p);
    if (start <= a && a < end) {
      const bool guarded = previous_end == start && previous_perms == "---p";
      return guarded ? reinterpret_cast<char*>(start) : nullptr;
    }
    previous_end = end;
    previous_perms = perms;
  }
  return nullptr;
}

// Uses the stack down to about `bottom + left` bytes, then spins there, calling nothing, until
// `release` is set.
[[gnu::noinline]] void spin_with_little_stack_left(char* bottom, std::size_t left,
                                                   const std::atomic<bool>& release) {
  volatile char frame[256];
  frame[0] = 1;
  if (static_cast<char*>(__builtin_frame_address(0)) - bottom > static_cast<long>(left + 512)) {
    spin_with_little_stack_left(bottom, left, release);
  } else {
    while (!release.load(std::memory_order_relaxed)) {
    }
  }
  frame[1] = frame[0];
}

#if !defined(__SANITIZE_THREAD__)  // TSan runs a deferred signal's handler on the current stack
// The signal arrives while a fiber has about 1 KiB of stack left: the handler (the kernel's
// signal frame, the unwinder) runs on the thread's alternate signal stack, not on the fiber's.
GROVE_TEST(Monitor, SamplesAFiberWithAlmostNoStackLeft) {
  auto collected = std::make_shared<Collected>();
  start_monitor(collecting(collected, 0.01));
  std::atomic<bool> release{false};
  std::thread releaser([&] {  // lets the fiber go once it was reported (or after a deadline)
    const Deadline deadline = Deadline::after(20);
    while (collected->count() == 0 && !deadline.passed()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    release.store(true);
  });
  SpawnOptions small;
  small.stack_size = 32 * 1024;
  FiberRef fiber = spawn_fiber(
      [&] {
        int here = 0;
        char* bottom = guarded_stack_bottom(&here);
        if (bottom == nullptr) {
          release.store(true);
          FAIL() << "premise: a guarded fiber stack";
        }
        spin_with_little_stack_left(bottom, 1024, release);
      },
      small);
  EXPECT_TRUE(fiber->join());
  releaser.join();
  EXPECT_EQ(collected->count(), 1u);
  stop_monitor();
}
#endif

TEST(Monitor, RefusesOptionsItCannotUse) {
  for (double bad : {0.0, -1.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    MonitorOptions options;
    options.max_blocking_time = bad;
    EXPECT_THROW(start_monitor(options), std::invalid_argument) << bad;
  }
  for (int bad : {0, -3, SIGSEGV, SIGKILL, SIGSTOP, SIGABRT, NSIG}) {
    MonitorOptions options;
    options.signal = bad;
    EXPECT_THROW(start_monitor(options), std::invalid_argument) << bad;
  }
  EXPECT_FALSE(monitor_stats().watching);
}

TEST(MonitorEnvironment, ValuesAreCheckedAndBadOnesRefusedWithAMessage) {
  using internal::parse_monitor_environment;
  auto on = parse_monitor_environment("1", "0.05");
  EXPECT_TRUE(on.enabled);
  EXPECT_EQ(on.max_blocking_time, 0.05);
  EXPECT_TRUE(on.errors.empty());

  auto unset = parse_monitor_environment(nullptr, nullptr);
  EXPECT_FALSE(unset.enabled);
  EXPECT_TRUE(unset.errors.empty());
  EXPECT_FALSE(parse_monitor_environment("0", nullptr).enabled);
  EXPECT_TRUE(parse_monitor_environment("true", nullptr).enabled);

  for (const char* bad : {"abc", "", "0", "-1", "nan", "inf", "0.05s", "1e999", " "}) {
    auto env = parse_monitor_environment("1", bad);
    EXPECT_TRUE(env.enabled) << bad;
    EXPECT_EQ(env.max_blocking_time, MonitorOptions{}.max_blocking_time) << bad;
    ASSERT_EQ(env.errors.size(), 1u) << bad;
    EXPECT_NE(env.errors[0].find("GROVE_MAX_BLOCKING_TIME='" + std::string(bad) + "'"),
              std::string::npos)
        << env.errors[0];
    EXPECT_NE(env.errors[0].find("seconds > 0"), std::string::npos) << env.errors[0];
  }

  auto maybe = parse_monitor_environment("maybe", nullptr);
  EXPECT_FALSE(maybe.enabled);
  ASSERT_EQ(maybe.errors.size(), 1u);
  EXPECT_NE(maybe.errors[0].find("GROVE_MONITOR_THREAD='maybe'"), std::string::npos);
}

// Run by the test below in a child process, with the environment it sets.
TEST(MonitorEnvironment, Child) {
  if (std::getenv("GROVE_MONITOR_TEST_CHILD") == nullptr) GTEST_SKIP() << "run as a child only";
  Hub::current();
  const MonitorStats stats = monitor_stats();
  std::printf("child: watching=%d max_blocking_time=%g\n", stats.watching ? 1 : 0,
              stats.max_blocking_time);
  Hub::destroy_current();
}

TEST(MonitorEnvironment, ABadValueIsLoggedAndTheDefaultUsed) {
  if (std::getenv("GROVE_MONITOR_TEST_CHILD") != nullptr) GTEST_SKIP() << "the parent's test";
  const std::string command =
      "GROVE_MONITOR_TEST_CHILD=1 GROVE_MONITOR_THREAD=1 GROVE_MAX_BLOCKING_TIME=10ms "
      "/proc/" + std::to_string(::getpid()) +
      "/exe --gtest_filter=MonitorEnvironment.Child 2>&1";
  FILE* child = ::popen(command.c_str(), "r");
  ASSERT_NE(child, nullptr);
  std::string output;
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, child) != nullptr) output += buffer;
  EXPECT_EQ(::pclose(child), 0) << output;
  EXPECT_NE(output.find("GROVE_MAX_BLOCKING_TIME='10ms' is not a number of seconds > 0"),
            std::string::npos)
      << output;
  EXPECT_NE(output.find("child: watching=1 max_blocking_time=0.01"), std::string::npos) << output;
}

}  // namespace
}  // namespace grove
