// Model-based property of Event: random set/clear/wait (tried / timed / blocking) from three
// fibers against a sequential model ("was set while waiting" wakes every parked waiter).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <deque>
#include <ostream>
#include <string>
#include <vector>

#include "actors/event.h"
#include "hub/testing.h"
#include "tests/property/workers.h"

namespace grove::testing {
namespace {

enum class OpType { kSet, kClear, kWait };
struct Op {
  OpType type;
  int worker;
  Mode mode;
};
std::ostream& operator<<(std::ostream& os, const Op& op) {
  os << "w" << op.worker << ".";
  if (op.type == OpType::kSet) return os << "set()";
  if (op.type == OpType::kClear) return os << "clear()";
  return os << "wait(" << to_string(op.mode) << ")";
}

struct Model {
  bool flag = false;
  std::deque<int> waiters;
  ModelLogs logs;
  void apply(const Op& op) {
    switch (op.type) {
      case OpType::kSet:
        flag = true;
        for (int w : waiters) logs.done(w, "true");
        waiters.clear();
        return logs.done(op.worker, "set");
      case OpType::kClear:
        flag = false;
        return logs.done(op.worker, "cleared");
      case OpType::kWait:
        if (flag) return logs.done(op.worker, "true");
        if (op.mode != Mode::kBlock) return logs.done(op.worker, "false");
        waiters.push_back(op.worker);
        logs.busy[op.worker] = true;
    }
  }
};

RC_GTEST_PROP(EventModel, EventMatchesTheModel, ()) {
  const auto ops = *rc::gen::container<std::vector<Op>>(rc::gen::apply(
      [](OpType t, int w, int m) { return Op{t, w, static_cast<Mode>(m)}; },
      rc::gen::weightedElement<OpType>({{2, OpType::kSet}, {2, OpType::kClear}, {5, OpType::kWait}}),
      rc::gen::inRange(0, Workers::kWorkers), rc::gen::inRange(0, 3)));
  std::string real, expected;
  const Outcome outcome = run_in_hub([&] {
    Event e;
    Model model;
    Workers workers;
    for (const Op& op : ops) {
      if (workers.busy(op.worker) != model.logs.busy[op.worker] || workers.busy(op.worker)) continue;
      model.apply(op);
      std::function<std::string()> job;
      if (op.type == OpType::kSet) job = [&e] { e.set(); return std::string("set"); };
      if (op.type == OpType::kClear) job = [&e] { e.clear(); return std::string("cleared"); };
      if (op.type == OpType::kWait) {
        job = [&e, m = op.mode] { return std::string(e.wait(deadline_for(m)) ? "true" : "false"); };
      }
      workers.issue(op.worker, std::move(job), op.mode == Mode::kTimed && op.type == OpType::kWait);
    }
    real = workers.summary() + (e.is_set() ? " | set" : " | clear");
    expected = model.logs.summary() + (model.flag ? " | set" : " | clear");
  });
  RC_LOG() << "real:  " << real << "\nmodel: " << expected << "\n" << outcome.describe();
  RC_ASSERT(outcome.ok());
  RC_ASSERT(real == expected);
}

}  // namespace
}  // namespace grove::testing
