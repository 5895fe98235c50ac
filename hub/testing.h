// hub/testing.h — run a piece of code as a fiber on a fresh hub, with a deadline.
//
// Model: run_in_hub(body) makes sure the calling thread starts from a fresh Hub, spawns `body`
// as a fiber, lets the main fiber wait for it up to `deadline_seconds`, and then destroys the hub
// (killing and unwinding anything the body left behind). Everything that went wrong comes back
// as data: the exception that escaped the body, failures the hub reported (a fiber that died of
// an exception nobody joined), and whether the deadline passed (with a dump of every fiber).
// Test frameworks wrap it: GROVE_TEST for GoogleTest (tests/support/grove_test.h) and
// grove::testing::check_in_hub for rapidcheck properties (facade/testing.h).
//
// Thread: call from a thread's main fiber, never from inside a fiber.
//
//   auto outcome = grove::testing::run_in_hub([] { grove::sleep(0.01); });
//   assert(outcome.ok());
#pragma once

#include <exception>
#include <functional>
#include <string>
#include <vector>

namespace grove::testing {

struct Outcome {
  bool finished = false;             // the body returned (or threw) before the deadline
  std::exception_ptr error;          // what escaped the body
  std::vector<std::string> reported;  // failures the hub reported while the body ran
  std::string run_info;              // every fiber and the hub counters, when the deadline passed

  bool ok() const { return finished && !error && reported.empty(); }
  // A readable account of what went wrong ("" when ok()).
  std::string describe() const;
};

// While alive, failures the hub reports are collected here instead of failing run_in_hub's
// outcome: for tests whose point is that something crashes.
//
//   grove::testing::ExpectFailures crashes;
//   auto a = grove::spawn([] { throw std::runtime_error("boom"); });
//   (void)a.join();
//   EXPECT_EQ(crashes.count(), 1u);
class ExpectFailures {
 public:
  ExpectFailures();
  ExpectFailures(const ExpectFailures&) = delete;
  ExpectFailures& operator=(const ExpectFailures&) = delete;
  ~ExpectFailures();
  const std::vector<std::string>& reports() const { return reports_; }
  std::size_t count() const { return reports_.size(); }

 private:
  friend Outcome run_in_hub(const std::function<void()>&, double);
  std::vector<std::string> reports_;
  ExpectFailures* previous_;
};

// Default deadline: GROVE_TEST_DEADLINE seconds if set; else, under `bazel test`, a third of the
// target's TEST_TIMEOUT (at least 30 s); else 30.
double default_deadline();

Outcome run_in_hub(const std::function<void()>& body, double deadline_seconds = default_deadline());

}  // namespace grove::testing
