// Model-based properties of gevent.lock through the FACADE: Semaphore and BoundedSemaphore
// acquire/release/wait, and RLock acquire/release by owner and non-owner, each nowait / with a
// timeout / blocking, issued from three greenlets, against sequential models.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <deque>
#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include "facade/lock.h"
#include "facade/testing.h"
#include "tests/property/workers.h"

namespace {

using grove::testing::Mode;
using grove::testing::ModelLogs;
using grove::testing::Workers;

enum class OpType { kAcquire, kRelease, kWait };
struct Op {
  OpType type;
  int worker;
  Mode mode;
};
std::ostream& operator<<(std::ostream& os, const Op& op) {
  const char* how = op.mode == Mode::kTry ? "nowait" : op.mode == Mode::kTimed ? "1ms" : "block";
  os << "w" << op.worker << ".";
  if (op.type == OpType::kAcquire) return os << "acquire(" << how << ")";
  if (op.type == OpType::kRelease) return os << "release()";
  return os << "wait(" << how << ")";
}
gevent::Seconds timeout_of(Mode m) {
  return m == Mode::kTimed ? gevent::Seconds(0.001) : gevent::Seconds();
}

rc::Gen<std::vector<Op>> gen_ops(bool with_wait) {
  auto types = with_wait ? rc::gen::weightedElement<OpType>(
                              {{4, OpType::kAcquire}, {3, OpType::kRelease}, {2, OpType::kWait}})
                        : rc::gen::weightedElement<OpType>(
                              {{4, OpType::kAcquire}, {3, OpType::kRelease}});
  return rc::gen::container<std::vector<Op>>(rc::gen::apply(
      [](OpType t, int w, int m) { return Op{t, w, static_cast<Mode>(m)}; }, std::move(types),
      rc::gen::inRange(0, Workers::kWorkers), rc::gen::inRange(0, 3)));
}

// Issues every op on the workers, comparing the logs after each; "" or the first difference.
template <class Model, class JobFor>
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

// ---- Semaphore / BoundedSemaphore ---------------------------------------------------------------

struct SemaphoreModel {
  std::size_t counter, initial;
  bool bounded;
  std::deque<int> acquirers, watchers;
  ModelLogs logs;
  void apply(const Op& op) {
    const int w = op.worker;
    switch (op.type) {
      case OpType::kAcquire:
        if (counter > 0) return --counter, logs.done(w, "true");
        if (op.mode != Mode::kBlock) return logs.done(w, "false");
        acquirers.push_back(w), logs.busy[w] = true;
        return;
      case OpType::kRelease:
        if (!acquirers.empty()) {  // the unit passes straight to the longest-parked acquirer
          logs.done(acquirers.front(), "true"), acquirers.pop_front();
        } else if (bounded && counter >= initial) {
          return logs.done(w, "over-released");
        } else {
          ++counter;
          for (int x : watchers) logs.done(x, "true");
          watchers.clear();
        }
        return logs.done(w, "ok");
      case OpType::kWait:
        if (counter > 0 || op.mode != Mode::kBlock) return logs.done(w, counter > 0 ? "true" : "false");
        watchers.push_back(w), logs.busy[w] = true;
    }
  }
};

template <class S>
void check_semaphore(bool bounded) {
  const auto initial = static_cast<std::size_t>(*rc::gen::inRange(0, 3));
  const auto ops = *gen_ops(true);
  grove::testing::in_hub([&] {
    S s(initial);
    SemaphoreModel model{initial, initial, bounded};
    const std::string mismatch = run(ops, model, [&s](const Op& op) -> std::function<std::string()> {
      const bool block = op.mode != Mode::kTry;
      const gevent::Seconds t = timeout_of(op.mode);
      switch (op.type) {
        case OpType::kAcquire:
          return [&s, block, t] { return std::string(s.acquire(block, t) ? "true" : "false"); };
        case OpType::kRelease:
          return [&s] {
            try {
              s.release();
              return std::string("ok");
            } catch (const gevent::lock::SemaphoreOverReleased&) {
              return std::string("over-released");
            }
          };
        case OpType::kWait:
          return [&s, block, t] {
            return std::string(s.wait(block ? t : gevent::Seconds(0.0)) ? "true" : "false");
          };
      }
      return nullptr;
    });
    if (!mismatch.empty()) RC_FAIL(mismatch);
    RC_ASSERT(s.counter() == model.counter);
    RC_ASSERT(s.locked() == (model.counter == 0));
  });
}

RC_GTEST_PROP(GeventLockModel, SemaphoreMatchesTheModel, ()) {
  check_semaphore<gevent::lock::Semaphore>(false);
}
RC_GTEST_PROP(GeventLockModel, BoundedSemaphoreMatchesTheModel, ()) {
  check_semaphore<gevent::lock::BoundedSemaphore>(true);
}

// ---- RLock --------------------------------------------------------------------------------------

struct RLockModel {
  int owner = -1;
  std::size_t count = 0;
  std::deque<int> waiters;
  ModelLogs logs;
  void apply(const Op& op) {
    const int w = op.worker;
    if (op.type == OpType::kAcquire) {
      if (owner == -1 || owner == w) return owner = w, ++count, logs.done(w, "true");
      if (op.mode != Mode::kBlock) return logs.done(w, "false");
      waiters.push_back(w), logs.busy[w] = true;
      return;
    }
    if (owner != w) return logs.done(w, "not-owned");
    if (--count == 0) {
      owner = -1;
      if (!waiters.empty()) {  // handed straight to the longest-parked greenlet
        owner = waiters.front(), count = 1, waiters.pop_front();
        logs.done(owner, "true");
      }
    }
    logs.done(w, "ok");
  }
};

RC_GTEST_PROP(GeventLockModel, RLockMatchesTheModel, ()) {
  const auto ops = *gen_ops(false);
  grove::testing::in_hub([&] {
    gevent::lock::RLock lock;
    RLockModel model;
    std::string mismatch = run(ops, model, [&lock](const Op& op) -> std::function<std::string()> {
      if (op.type == OpType::kAcquire) {
        return [&lock, block = op.mode != Mode::kTry, t = timeout_of(op.mode)] {
          return std::string(lock.acquire(block, t) ? "true" : "false");
        };
      }
      return [&lock] {
        try {
          lock.release();
          return std::string("ok");
        } catch (const gevent::lock::RLockNotOwned&) {
          return std::string("not-owned");
        }
      };
    });
    if (!mismatch.empty()) RC_FAIL(mismatch);
    RC_ASSERT(lock.locked() == (model.owner != -1));
    RC_ASSERT(lock.count() == model.count);
  });
}

}  // namespace
