// hub/testing.cc — the fresh-hub-with-deadline runner behind GROVE_TEST.
#include "hub/testing.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

#include "hub/hub.h"

namespace grove::testing {

namespace {
thread_local ExpectFailures* expecting = nullptr;
}  // namespace

ExpectFailures::ExpectFailures() : previous_(expecting) { expecting = this; }
ExpectFailures::~ExpectFailures() { expecting = previous_; }

double default_deadline() {
  if (const char* env = std::getenv("GROVE_TEST_DEADLINE")) {
    const double s = std::strtod(env, nullptr);
    if (s > 0) return s;
  }
  // Under `bazel test`, TEST_TIMEOUT is the whole target's budget, from its size and the
  // --test_timeout flag: a third of it per body scales with both (a heavy target, a sanitizer
  // run given a longer timeout, a loaded machine), and still names a hung body with a dump of
  // every fiber before Bazel kills the process.
  if (const char* env = std::getenv("TEST_TIMEOUT")) {
    const double s = std::strtod(env, nullptr);
    if (s > 0) return std::max(30.0, s / 3);
  }
  return 30.0;
}

std::string Outcome::describe() const {
  std::string out;
  if (!finished) out += "the test body did not finish before its deadline; fibers:\n" + run_info;
  if (error) {
    const ExceptionInfo info = describe_exception(error);
    out += fmt::format("the test body threw {}: {}\n", info.type, info.what);
  }
  for (const auto& r : reported) out += "the hub reported: " + r + "\n";
  return out;
}

Outcome run_in_hub(const std::function<void()>& body, double deadline_seconds) {
  Hub::destroy_current();  // start from a fresh hub
  Outcome outcome;
  Hub& hub = Hub::current();
  hub.set_error_handler([&outcome](const ErrorReport& report) {
    const ExceptionInfo info = describe_exception(report.error);
    std::string line = fmt::format("{} failed with {}: {}", report.where, info.type, info.what);
    if (expecting != nullptr) {
      expecting->reports_.push_back(std::move(line));
    } else {
      outcome.reported.push_back(std::move(line));
    }
  });
  FiberRef fiber = spawn_fiber([&] {
    try {
      body();
    } catch (...) {
      outcome.error = std::current_exception();
    }
  });
  try {
    outcome.finished = fiber->join(Deadline::after(deadline_seconds));
  } catch (const LoopExit&) {
    // The body is parked forever; report it like a missed deadline.
    outcome.finished = fiber->dead();
  }
  if (!outcome.finished) outcome.run_info = hub.run_info();
  Hub::destroy_current();
  return outcome;
}

}  // namespace grove::testing
