// tests/property/event_model.h — the sequential models of Event and AsyncResult, shared by the
// core property test (actors/event.h, actors/async_result.h) and the facade's (gevent::event).
//
// Outcomes are neutral words each test maps its primitive's results onto:
//   Event        set "set", clear "cleared", wait "true" | "false"
//   AsyncResult  set/set_exception "ok", get "get=V" | "error" | "timeout",
//                wait "wait=V" | "wait=none" (failed, or not ready in time)
//
//   EventModel model;
//   model.apply(op);  // logs what each worker's command returned, or marks it parked
#pragma once

#include <deque>
#include <optional>
#include <ostream>
#include <string>
#include <utility>

#include <rapidcheck.h>

#include "tests/property/workers.h"

namespace grove::testing {

// ---- Event ------------------------------------------------------------------------------------

enum class EventOpType { kSet, kClear, kWait };
struct EventOp {
  EventOpType type;
  int worker;
  Mode mode;
};
inline std::ostream& operator<<(std::ostream& os, const EventOp& op) {
  os << "w" << op.worker << ".";
  if (op.type == EventOpType::kSet) return os << "set()";
  if (op.type == EventOpType::kClear) return os << "clear()";
  return os << "wait(" << to_string(op.mode) << ")";
}
inline rc::Gen<EventOp> gen_event_op() {
  return rc::gen::apply([](EventOpType t, int w, int m) { return EventOp{t, w, static_cast<Mode>(m)}; },
                        rc::gen::weightedElement<EventOpType>(
                            {{2, EventOpType::kSet}, {2, EventOpType::kClear}, {5, EventOpType::kWait}}),
                        rc::gen::inRange(0, Workers::kWorkers), rc::gen::inRange(0, 3));
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

// ---- AsyncResult ------------------------------------------------------------------------------

enum class ResultOpType { kSet, kSetException, kGet, kWait };
struct ResultOp {
  ResultOpType type;
  int worker;
  int value;
  Mode mode;
};
inline std::ostream& operator<<(std::ostream& os, const ResultOp& op) {
  os << "w" << op.worker << ".";
  switch (op.type) {
    case ResultOpType::kSet: return os << "set(" << op.value << ")";
    case ResultOpType::kSetException: return os << "set_exception(error)";
    case ResultOpType::kGet: return os << "get(" << to_string(op.mode) << ")";
    case ResultOpType::kWait: return os << "wait(" << to_string(op.mode) << ")";
  }
  return os;
}
inline rc::Gen<ResultOp> gen_result_op() {
  return rc::gen::apply(
      [](ResultOpType t, int w, int v, int m) { return ResultOp{t, w, v, static_cast<Mode>(m)}; },
      rc::gen::weightedElement<ResultOpType>({{2, ResultOpType::kSet},
                                              {1, ResultOpType::kSetException},
                                              {4, ResultOpType::kGet},
                                              {4, ResultOpType::kWait}}),
      rc::gen::inRange(0, Workers::kWorkers), rc::gen::inRange(0, 10), rc::gen::inRange(0, 3));
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
          return logs.done(op.worker, op.type == ResultOpType::kGet ? "timeout" : "wait=none");
        }
        parked.emplace_back(op.worker, op.type);
        logs.busy[op.worker] = true;
    }
  }
};

}  // namespace grove::testing
