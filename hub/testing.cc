// hub/testing.cc — the fresh-hub-with-deadline runner behind GROVE_TEST.
#include "hub/testing.h"

#include <fmt/format.h>

#include <cstdlib>

#include "hub/hub.h"
#include "hub/internal/env.h"

namespace grove::testing {

namespace {
thread_local ExpectFailures* expecting = nullptr;
}  // namespace

ExpectFailures::ExpectFailures() : previous_(expecting) { expecting = this; }
ExpectFailures::~ExpectFailures() { expecting = previous_; }

double default_deadline() {
  return internal::env_seconds("GROVE_TEST_DEADLINE", 24 * 3600.0, 30.0);
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
