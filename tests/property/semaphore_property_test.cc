// Model-based property of Semaphore and BoundedSemaphore: random acquire/release/wait (tried /
// timed / blocking) from three fibers against a sequential model with FIFO hand-over.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <deque>
#include <ostream>
#include <string>
#include <vector>

#include "actors/semaphore.h"
#include "hub/testing.h"
#include "tests/property/workers.h"

namespace grove::testing {
namespace {

enum class OpType { kAcquire, kRelease, kWait };
struct Op {
  OpType type;
  int worker;
  Mode mode;
};
std::ostream& operator<<(std::ostream& os, const Op& op) {
  os << "w" << op.worker << ".";
  if (op.type == OpType::kRelease) return os << "release()";
  return os << (op.type == OpType::kAcquire ? "acquire(" : "wait(") << to_string(op.mode) << ")";
}

struct Model {
  std::size_t counter, initial;
  bool bounded;
  std::deque<int> acquirers, watchers;
  ModelLogs logs;
  void apply(const Op& op) {
    const int w = op.worker;
    const bool block = op.mode == Mode::kBlock;
    switch (op.type) {
      case OpType::kRelease:
        if (!acquirers.empty()) {
          logs.done(acquirers.front(), "acquired");
          acquirers.pop_front();
        } else if (bounded && counter >= initial) {
          return logs.done(w, "error");
        } else {
          ++counter;
          for (int x : watchers) logs.done(x, "ready");
          watchers.clear();
        }
        return logs.done(w, "released");
      case OpType::kAcquire:
        if (counter > 0) return --counter, logs.done(w, "acquired");
        if (!block) return logs.done(w, "timeout");
        acquirers.push_back(w);
        logs.busy[w] = true;
        return;
      case OpType::kWait:
        if (counter > 0) return logs.done(w, "ready");
        if (!block) return logs.done(w, "timeout");
        watchers.push_back(w);
        logs.busy[w] = true;
    }
  }
};

template <class S>
void check(bool bounded) {
  const auto initial = static_cast<std::size_t>(*rc::gen::inRange(0, 3));
  const auto ops = *rc::gen::container<std::vector<Op>>(rc::gen::apply(
      [](OpType t, int w, int m) { return Op{t, w, static_cast<Mode>(m)}; },
      rc::gen::weightedElement<OpType>(
          {{4, OpType::kAcquire}, {4, OpType::kRelease}, {1, OpType::kWait}}),
      rc::gen::inRange(0, Workers::kWorkers), rc::gen::inRange(0, 3)));
  std::string real, expected;
  const Outcome outcome = run_in_hub([&] {
    S s(initial);
    Model model{initial, initial, bounded};
    Workers workers;
    for (const Op& op : ops) {
      if (workers.busy(op.worker) != model.logs.busy[op.worker] || workers.busy(op.worker)) continue;
      model.apply(op);
      std::function<std::string()> job;
      const Mode m = op.mode;
      if (op.type == OpType::kAcquire) {
        job = [&s, m] { return std::string(s.acquire(deadline_for(m)) ? "acquired" : "timeout"); };
      } else if (op.type == OpType::kWait) {
        job = [&s, m] { return std::string(s.wait(deadline_for(m)) ? "ready" : "timeout"); };
      } else {
        job = [&s] {
          try {
            s.release();
            return std::string("released");
          } catch (const SemaphoreOverReleased&) {
            return std::string("error");
          }
        };
      }
      workers.issue(op.worker, std::move(job), m == Mode::kTimed && op.type != OpType::kRelease);
    }
    real = workers.summary() + " | counter=" + std::to_string(s.counter());
    expected = model.logs.summary() + " | counter=" + std::to_string(model.counter);
  });
  RC_LOG() << "initial=" << initial << "\nreal:  " << real << "\nmodel: " << expected << "\n"
           << outcome.describe();
  RC_ASSERT(outcome.ok());
  RC_ASSERT(real == expected);
}

RC_GTEST_PROP(SemaphoreModel, SemaphoreMatchesTheModel, ()) { check<Semaphore>(false); }
RC_GTEST_PROP(SemaphoreModel, BoundedSemaphoreMatchesTheModel, ()) {
  check<BoundedSemaphore>(true);
}

}  // namespace
}  // namespace grove::testing
