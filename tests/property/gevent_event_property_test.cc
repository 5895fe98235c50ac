// Model-based properties of gevent.event through the FACADE: Event set/clear/wait and
// AsyncResult set/set_exception/get/wait, each nowait / with a timeout / blocking, issued from three
// greenlets, against the models the core property test runs too (event_model.h).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "facade/event.h"
#include "facade/testing.h"
#include "tests/property/event_model.h"
#include "tests/property/workers.h"

namespace {

using grove::testing::EventModel;
using grove::testing::EventOp;
using grove::testing::EventOpType;
using grove::testing::Mode;
using grove::testing::ResultModel;
using grove::testing::ResultOp;
using grove::testing::ResultOpType;

gevent::Seconds timeout_of(Mode m) {
  return m == Mode::kTry ? gevent::Seconds(0.0)
                         : m == Mode::kTimed ? gevent::Seconds(0.001) : gevent::Seconds();
}

RC_GTEST_PROP(GeventEventModel, EventMatchesTheModel, ()) {
  const auto ops = *rc::gen::container<std::vector<EventOp>>(grove::testing::gen_event_op());
  grove::testing::in_hub([&] {
    gevent::event::Event e;
    EventModel model;
    auto job_for = [&e](const EventOp& op) -> std::function<std::string()> {
      switch (op.type) {
        case EventOpType::kSet: return [&e] { return e.set(), std::string("set"); };
        case EventOpType::kClear: return [&e] { return e.clear(), std::string("cleared"); };
        case EventOpType::kWait:
          return [&e, t = timeout_of(op.mode)] { return std::string(e.wait(t) ? "true" : "false"); };
      }
      return nullptr;
    };
    const std::string mismatch = grove::testing::run_against_model(ops, model, job_for);
    if (!mismatch.empty()) RC_FAIL(mismatch);
    RC_ASSERT(e.is_set() == model.flag);
  });
}

RC_GTEST_PROP(GeventEventModel, AsyncResultMatchesTheModel, ()) {
  const auto ops = *rc::gen::container<std::vector<ResultOp>>(grove::testing::gen_result_op());
  grove::testing::in_hub([&] {
    gevent::event::AsyncResult<int> r;
    ResultModel model;
    auto job_for = [&r](const ResultOp& op) -> std::function<std::string()> {
      switch (op.type) {
        case ResultOpType::kSet: return [&r, v = op.value] { return r.set(v), std::string("ok"); };
        case ResultOpType::kSetException:
          return [&r] {
            r.set_exception(std::make_exception_ptr(std::runtime_error("error")));
            return std::string("ok");
          };
        case ResultOpType::kGet:
          return [&r, m = op.mode] {
            try {
              return "get=" + std::to_string(r.get(m != Mode::kTry, timeout_of(m)));
            } catch (const gevent::Timeout&) {
              return std::string("timeout");
            } catch (const std::runtime_error&) {
              return std::string("error");
            }
          };
        case ResultOpType::kWait:
          return [&r, t = timeout_of(op.mode)] {
            const std::optional<int> v = r.wait(t);  // never throws
            return v ? "wait=" + std::to_string(*v) : std::string("wait=none");
          };
      }
      return nullptr;
    };
    const std::string mismatch = grove::testing::run_against_model(ops, model, job_for);
    if (!mismatch.empty()) RC_FAIL(mismatch);
    RC_ASSERT(r.ready() == model.ready);
    RC_ASSERT(r.successful() == (model.ready && model.value.has_value()));
  });
}

}  // namespace
