// Model-based properties of the core Event and AsyncResult (actors/event.h,
// actors/async_result.h): random set/clear/wait and set/set_exception/get/wait, tried / timed /
// blocking, from three fibers, against the shared models in event_model.h (the facade's
// property test runs the same models).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <exception>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "actors/async_result.h"
#include "actors/event.h"
#include "hub/testing.h"
#include "tests/property/event_model.h"
#include "tests/property/workers.h"

namespace grove::testing {
namespace {

// Runs `body` on a fresh hub; the property fails on a mismatch or on anything the hub reported.
void check(const std::function<std::string()>& body) {
  std::string mismatch;
  const Outcome outcome = run_in_hub([&] { mismatch = body(); });
  RC_LOG() << mismatch << "\n" << outcome.describe();
  RC_ASSERT(outcome.ok());
  RC_ASSERT(mismatch.empty());
}

RC_GTEST_PROP(EventModel, EventMatchesTheModel, ()) {
  const auto ops = *rc::gen::container<std::vector<EventOp>>(gen_event_op());
  check([&] {
    Event e;
    EventModel model;
    auto job_for = [&e](const EventOp& op) -> std::function<std::string()> {
      switch (op.type) {
        case EventOpType::kSet: return [&e] { return e.set(), std::string("set"); };
        case EventOpType::kClear: return [&e] { return e.clear(), std::string("cleared"); };
        case EventOpType::kWait:
          return [&e, d = deadline_for(op.mode)] { return std::string(e.wait(d) ? "true" : "false"); };
      }
      return nullptr;
    };
    return run_against_model(ops, model, job_for, [&] {
      return std::pair(std::string(e.is_set() ? "set" : "clear"),
                       std::string(model.flag ? "set" : "clear"));
    });
  });
}

RC_GTEST_PROP(EventModel, AsyncResultMatchesTheModel, ()) {
  const auto ops = *rc::gen::container<std::vector<ResultOp>>(gen_result_op());
  check([&] {
    AsyncResult<int> r;
    ResultModel model;
    auto job_for = [&r](const ResultOp& op) -> std::function<std::string()> {
      const Deadline d = deadline_for(op.mode);
      switch (op.type) {
        case ResultOpType::kSet: return [&r, v = op.value] { return r.set(v), std::string("ok"); };
        case ResultOpType::kSetException:
          return [&r] {
            r.set_exception(std::make_exception_ptr(std::runtime_error("error")));
            return std::string("ok");
          };
        case ResultOpType::kGet:
          return [&r, d] {
            try {
              return "get=" + std::to_string(r.get(d));
            } catch (const TimedOut&) {
              return std::string("timeout");
            } catch (const std::runtime_error&) {
              return std::string("error");
            }
          };
        case ResultOpType::kWait:
          return [&r, d] {  // never throws the stored exception
            return r.wait(d) && r.successful() ? "wait=" + std::to_string(*r.value())
                                               : std::string("wait=none");
          };
      }
      return nullptr;
    };
    auto state = [](bool ready, bool successful) {
      return std::string(ready ? "ready" : "pending") + (successful ? " successful" : "");
    };
    return run_against_model(ops, model, job_for, [&] {
      return std::pair(state(r.ready(), r.successful()),
                       state(model.ready, model.ready && model.value.has_value()));
    });
  });
}

}  // namespace
}  // namespace grove::testing
