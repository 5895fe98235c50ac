// facade/testing.h — property-based tests of greenlet code with rapidcheck.
//
// grove::testing::in_hub(body) runs `body` as a greenlet on a fresh hub (with a deadline) from
// inside a rapidcheck property and brings back what happened: an RC_ASSERT that failed inside
// the greenlet fails the property (and shrinks as usual), an exception the body threw is
// rethrown, and a failure the hub reported (a greenlet that died of an exception) or a missed
// deadline fails the case with a description of every fiber.
//
// Write the model as plain sequential code, generate operations, run them through the real
// thing inside in_hub, compare:
//
//   RC_GTEST_PROP(MyQueue, BehavesLikeADeque, (const std::vector<int>& puts)) {
//     grove::testing::in_hub([&] {
//       gevent::queue::Queue<int> q;
//       std::deque<int> model;
//       for (int v : puts) { q.put(v); model.push_back(v); }
//       while (!model.empty()) { RC_ASSERT(q.get() == model.front()); model.pop_front(); }
//     });
//   }
#pragma once

#include <rapidcheck.h>

#include <exception>
#include <functional>

#include "hub/testing.h"

namespace grove::testing {

inline void in_hub(const std::function<void()>& body, double deadline_seconds = 10.0) {
  const Outcome outcome = run_in_hub(body, deadline_seconds);
  if (outcome.error) std::rethrow_exception(outcome.error);  // RC_ASSERT's failure included
  if (!outcome.ok()) RC_FAIL(outcome.describe());
}

}  // namespace grove::testing
