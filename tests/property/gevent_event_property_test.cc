// Model-based properties of gevent.event through the FACADE: Event set/clear/wait and
// AsyncResult set/set_exception/get/wait, each nowait / with a timeout / blocking, issued from three
// greenlets, against sequential models.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <deque>
#include <functional>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "facade/event.h"
#include "facade/testing.h"
#include "tests/property/workers.h"

namespace {

using grove::testing::Mode;
using grove::testing::ModelLogs;
using grove::testing::Workers;

const char* how(Mode m) { return m == Mode::kTry ? "nowait" : m == Mode::kTimed ? "1ms" : "block"; }
gevent::Seconds timeout_of(Mode m) {
  return m == Mode::kTry ? gevent::Seconds(0.0)
                         : m == Mode::kTimed ? gevent::Seconds(0.001) : gevent::Seconds();
}

// Issues every op the model accepts on the workers, comparing the logs after each; "" or the
// first difference.
template <class Op, class Model, class JobFor>
std::string run(const std::vector<Op>& ops, Model& model, JobFor job_for) {
  Workers workers;
  for (const Op& op : ops) {
    if (workers.busy(op.worker)) continue;  // a parked greenlet cannot issue commands
    model.apply(op);
    workers.issue(op.worker, job_for(op), op.mode != Mode::kBlock);
    const std::string real = workers.summary(), expected = model.logs.summary();
    if (real != expected) return "after " + rc::toString(op) + "\nreal:  " + real + "\nmodel: " + expected;
  }
  return "";
}

// ---- Event ------------------------------------------------------------------------------------

enum class EventOpType { kSet, kClear, kWait };
struct EventOp {
  EventOpType type;
  int worker;
  Mode mode;
};
std::ostream& operator<<(std::ostream& os, const EventOp& op) {
  os << "w" << op.worker << ".";
  if (op.type == EventOpType::kSet) return os << "set()";
  if (op.type == EventOpType::kClear) return os << "clear()";
  return os << "wait(" << how(op.mode) << ")";
}

struct EventModel {
  bool flag = false;
  std::deque<int> waiters;
  ModelLogs logs;
  void apply(const EventOp& op) {
    switch (op.type) {
      case EventOpType::kSet:
        flag = true;
        for (int w : waiters) logs.done(w, "true");  // woken: true even if cleared before it runs
        waiters.clear();
        return logs.done(op.worker, "set");
      case EventOpType::kClear:
        flag = false;
        return logs.done(op.worker, "cleared");
      case EventOpType::kWait:
        if (flag || op.mode != Mode::kBlock) return logs.done(op.worker, flag ? "true" : "false");
        waiters.push_back(op.worker);
        logs.busy[op.worker] = true;
    }
  }
};

RC_GTEST_PROP(GeventEventModel, EventMatchesTheModel, ()) {
  const auto ops = *rc::gen::container<std::vector<EventOp>>(rc::gen::apply(
      [](EventOpType t, int w, int m) { return EventOp{t, w, static_cast<Mode>(m)}; },
      rc::gen::weightedElement<EventOpType>(
          {{2, EventOpType::kSet}, {2, EventOpType::kClear}, {5, EventOpType::kWait}}),
      rc::gen::inRange(0, Workers::kWorkers), rc::gen::inRange(0, 3)));
  grove::testing::in_hub([&] {
    gevent::event::Event e;
    EventModel model;
    const std::string mismatch = run(ops, model, [&e](const EventOp& op) -> std::function<std::string()> {
      switch (op.type) {
        case EventOpType::kSet: return [&e] { return e.set(), std::string("set"); };
        case EventOpType::kClear: return [&e] { return e.clear(), std::string("cleared"); };
        case EventOpType::kWait:
          return [&e, t = timeout_of(op.mode)] { return std::string(e.wait(t) ? "true" : "false"); };
      }
      return nullptr;
    });
    if (!mismatch.empty()) RC_FAIL(mismatch);
    RC_ASSERT(e.is_set() == model.flag);
  });
}

// ---- AsyncResult ------------------------------------------------------------------------------

enum class ResultOpType { kSet, kSetException, kGet, kWait };
struct ResultOp {
  ResultOpType type;
  int worker;
  int value;
  Mode mode;
};
std::ostream& operator<<(std::ostream& os, const ResultOp& op) {
  os << "w" << op.worker << ".";
  switch (op.type) {
    case ResultOpType::kSet: return os << "set(" << op.value << ")";
    case ResultOpType::kSetException: return os << "set_exception(error)";
    case ResultOpType::kGet: return os << "get(" << how(op.mode) << ")";
    case ResultOpType::kWait: return os << "wait(" << how(op.mode) << ")";
  }
  return os;
}

struct ResultModel {
  bool ready = false;
  std::optional<int> value;  // ready without a value: failed
  std::deque<std::pair<int, ResultOpType>> parked;
  ModelLogs logs;
  std::string outcome(ResultOpType type) const {
    if (type == ResultOpType::kGet) return value ? "get=" + std::to_string(*value) : "error";
    return value ? "wait=" + std::to_string(*value) : "wait=none";
  }
  void apply(const ResultOp& op) {
    switch (op.type) {
      case ResultOpType::kSet:
      case ResultOpType::kSetException:  // setting again replaces the outcome
        ready = true;
        value = op.type == ResultOpType::kSet ? std::optional<int>(op.value) : std::nullopt;
        for (auto [w, type] : parked) logs.done(w, outcome(type));
        parked.clear();
        return logs.done(op.worker, "ok");
      case ResultOpType::kGet:
      case ResultOpType::kWait:
        if (ready) return logs.done(op.worker, outcome(op.type));
        if (op.mode != Mode::kBlock) {
          return logs.done(op.worker, op.type == ResultOpType::kGet ? "Timeout" : "wait=none");
        }
        parked.emplace_back(op.worker, op.type);
        logs.busy[op.worker] = true;
    }
  }
};

RC_GTEST_PROP(GeventEventModel, AsyncResultMatchesTheModel, ()) {
  const auto ops = *rc::gen::container<std::vector<ResultOp>>(rc::gen::apply(
      [](ResultOpType t, int w, int v, int m) { return ResultOp{t, w, v, static_cast<Mode>(m)}; },
      rc::gen::weightedElement<ResultOpType>({{2, ResultOpType::kSet},
                                              {1, ResultOpType::kSetException},
                                              {4, ResultOpType::kGet},
                                              {4, ResultOpType::kWait}}),
      rc::gen::inRange(0, Workers::kWorkers), rc::gen::inRange(0, 10), rc::gen::inRange(0, 3)));
  grove::testing::in_hub([&] {
    gevent::event::AsyncResult<int> r;
    ResultModel model;
    const std::string mismatch = run(ops, model, [&r](const ResultOp& op) -> std::function<std::string()> {
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
              return std::string("Timeout");
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
    });
    if (!mismatch.empty()) RC_FAIL(mismatch);
    RC_ASSERT(r.ready() == model.ready);
    RC_ASSERT(r.successful() == (model.ready && model.value.has_value()));
  });
}

}  // namespace
