// The blocking detector reports a fiber that runs too long without yielding, with its stack.
#include "hub/monitor.h"

#include <mutex>
#include <string>
#include <vector>

#include "hub/hub.h"
#include "tests/support/grove_test.h"

// Not static and not inlined, so the report can name it.
[[gnu::noinline]] void spin_without_yielding(double seconds) {
  const double until = grove::Deadline::now() + seconds;
  volatile long sink = 0;
  while (grove::Deadline::now() < until) sink = sink + 1;
}

namespace grove {
namespace {

struct Collected {
  std::mutex mutex;
  std::vector<BlockingReport> reports;
};

GROVE_TEST(Monitor, ReportsAFiberThatBlocksTheHubWithItsStack) {
  auto collected = std::make_shared<Collected>();
  MonitorOptions options;
  options.max_blocking_time = 0.02;
  options.on_report = [collected](const BlockingReport& r) {
    std::lock_guard lock(collected->mutex);
    collected->reports.push_back(r);
  };
  start_monitor(options);
  FiberRef hog = spawn_fiber([] { spin_without_yielding(0.15); });
  EXPECT_TRUE(hog->join());
  stop_monitor();
  // The report is symbolized and delivered on the monitor thread: wait for it.
  for (int i = 0; i < 500; ++i) {
    {
      std::lock_guard lock(collected->mutex);
      if (!collected->reports.empty()) break;
    }
    sleep(0.01);
  }
  sleep(0.05);  // a second report, if one were (wrongly) coming
  std::lock_guard lock(collected->mutex);
  ASSERT_EQ(collected->reports.size(), 1u) << "one report per stall";
  const BlockingReport& r = collected->reports[0];
  EXPECT_EQ(r.fiber, "Fiber-" + std::to_string(hog->id()));
  EXPECT_GE(r.blocked_seconds, 0.02);
#if !defined(__SANITIZE_THREAD__)
  // ThreadSanitizer delivers asynchronous signals only at its next intercepted call, so under
  // TSan the stack shows where the fiber stopped spinning, not the spin itself.
  EXPECT_NE(r.stack.find("spin_without_yielding"), std::string::npos) << r.stack;
#endif
}

GROVE_TEST(Monitor, IdleHubAndYieldingFibersAreNotReported) {
  auto collected = std::make_shared<Collected>();
  MonitorOptions options;
  options.max_blocking_time = 0.02;
  options.on_report = [collected](const BlockingReport& r) {
    std::lock_guard lock(collected->mutex);
    collected->reports.push_back(r);
  };
  start_monitor(options);
  sleep(0.1);  // idle in the poller: not blocking
  FiberRef polite = spawn_fiber([] {
    for (int i = 0; i < 20; ++i) {
      spin_without_yielding(0.005);
      yield();
    }
  });
  EXPECT_TRUE(polite->join());
  stop_monitor();
  std::lock_guard lock(collected->mutex);
  EXPECT_TRUE(collected->reports.empty()) << collected->reports[0].fiber;
}

}  // namespace
}  // namespace grove
