// Actors in reports: their functions by readable names, and the blocking monitor naming an actor
// by its actor name.
#include <time.h>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "actors/actor.h"
#include "hub/monitor.h"
#include "tests/support/grove_test.h"

namespace diagnostics {

void index_pages() {}

int failing_line = 0;
[[gnu::noinline]] void fail_to_index() {
  failing_line = __LINE__ + 1;
  throw std::runtime_error("no space left");
}

double thread_cpu_seconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace diagnostics

namespace grove {
namespace {

using testing::ExpectFailures;

GROVE_TEST(ActorDiagnostics, APlainFunctionIsNamedByItsName) {
  Greenlet<void> g = spawn(diagnostics::index_pages);
  const std::string repr = g->describe();
  EXPECT_TRUE(repr.ends_with(": diagnostics::index_pages>")) << repr;
  g.get();
}

GROVE_TEST(ActorDiagnostics, ALambdaIsNamedWithoutParameterLists) {
  Greenlet<int> g = spawn([](int a, const std::string& b) { return a + static_cast<int>(b.size()); },
                          1, std::string("x"));
  const std::string repr = g->describe();
  EXPECT_NE(repr.find("{lambda#"), std::string::npos) << repr;
  EXPECT_EQ(repr.find("{lambda("), std::string::npos) << repr;
  EXPECT_EQ(repr.find("std::__cxx11::basic_string"), std::string::npos) << repr;
  EXPECT_EQ(g.get(), 2);
}

GROVE_TEST(ActorDiagnostics, AFailureReportNamesTheFunctionAndTheThrowSite) {
  ExpectFailures crashes;
  ActorOptions options;
  options.name = "indexer";
  Greenlet<void> g = spawn_opt(options, diagnostics::fail_to_index);
  EXPECT_TRUE(g.join());
  ASSERT_EQ(crashes.count(), 1u);
  const std::string site = throw_site(g.exception());
  EXPECT_EQ(site, fmt::format("tests/actors/diagnostics_test.cc:{} in diagnostics::fail_to_index",
                              diagnostics::failing_line));
  const std::string line = describe_failure(g->describe(), g.exception());
  EXPECT_NE(line.find("<Greenlet \"indexer\" at 0x"), std::string::npos) << line;
  EXPECT_NE(line.find(": diagnostics::fail_to_index> failed with std::runtime_error: no space "
                      "left\n  thrown at " + site),
            std::string::npos)
      << line;
}

GROVE_TEST(ActorDiagnostics, CopyNameIsTheActorsName) {
  char buffer[64];
  ActorOptions options;
  options.name = "fetcher";
  Greenlet<void> named = spawn_opt(options, [] {});
  named->copy_name(buffer, sizeof buffer);
  EXPECT_STREQ(buffer, "fetcher");
  named->copy_name(buffer, 4);
  EXPECT_STREQ(buffer, "fet");
  Greenlet<void> unnamed = spawn([] {});
  unnamed->copy_name(buffer, sizeof buffer);
  EXPECT_EQ(std::string(buffer), unnamed.name());  // "Greenlet-N", as name() says
  named.get();
  unnamed.get();
}

// The blocking monitor reports the actor that hogs the hub under its actor name.
GROVE_TEST(ActorDiagnostics, TheBlockingMonitorNamesTheActor) {
  std::mutex mutex;
  std::string reported;
  std::atomic<bool> seen{false};
  MonitorOptions options;
  options.max_blocking_time = 0.02;
  options.on_report = [&](const BlockingReport& report) {
    std::lock_guard lock(mutex);
    if (reported.empty()) reported = report.fiber;
    seen.store(true);
  };
  start_monitor(options);
  ActorOptions spinner;
  spinner.name = "spinner";
  Greenlet<void> g = spawn_opt(spinner, [&] {
    // Keeps the hub busy until the monitor has reported (or 30 s of CPU time pass).
    const double until = diagnostics::thread_cpu_seconds() + 30;
    while (!seen.load() && diagnostics::thread_cpu_seconds() < until) {
    }
  });
  g.get();
  stop_monitor();
  std::lock_guard lock(mutex);
  EXPECT_EQ(reported, "spinner");
}

}  // namespace
}  // namespace grove
