// tests/property/semaphore_model.h — the sequential models of Semaphore/BoundedSemaphore and of
// RLock, shared by the core property test (actors/semaphore.h, actors/rlock.h) and the facade's
// (gevent::lock).
//
// Outcomes are neutral words each test maps its primitive's results onto:
//   Semaphore  acquire "true" | "false", release "ok" | "over-released", wait "true" | "false"
//   RLock      acquire "true" | "false", release "ok" | "not-owned"
//
//   SemaphoreModel model{/*counter=*/1, /*initial=*/1, /*bounded=*/true};
//   model.apply(op);  // logs what each worker's command returned, or marks it parked
#pragma once

#include <cstddef>
#include <deque>
#include <ostream>
#include <vector>

#include <rapidcheck.h>

#include "tests/property/workers.h"

namespace grove::testing {

enum class LockOpType { kAcquire, kRelease, kWait };
struct LockOp {
  LockOpType type;
  int worker;
  Mode mode;
};
inline std::ostream& operator<<(std::ostream& os, const LockOp& op) {
  os << "w" << op.worker << ".";
  if (op.type == LockOpType::kRelease) return os << "release()";
  return os << (op.type == LockOpType::kAcquire ? "acquire(" : "wait(") << to_string(op.mode) << ")";
}
// Random commands; an RLock has no wait.
inline rc::Gen<std::vector<LockOp>> gen_lock_ops(bool with_wait) {
  auto types = with_wait ? rc::gen::weightedElement<LockOpType>({{4, LockOpType::kAcquire},
                                                                 {3, LockOpType::kRelease},
                                                                 {2, LockOpType::kWait}})
                         : rc::gen::weightedElement<LockOpType>(
                               {{4, LockOpType::kAcquire}, {3, LockOpType::kRelease}});
  return rc::gen::container<std::vector<LockOp>>(rc::gen::apply(
      [](LockOpType t, int w, int m) { return LockOp{t, w, static_cast<Mode>(m)}; },
      std::move(types), rc::gen::inRange(0, Workers::kWorkers), rc::gen::inRange(0, 3)));
}

struct SemaphoreModel {
  std::size_t counter, initial;
  bool bounded;
  std::deque<int> acquirers, watchers;
  ModelLogs logs;
  void apply(const LockOp& op) {
    const int w = op.worker;
    switch (op.type) {
      case LockOpType::kAcquire:
        if (counter > 0) return --counter, logs.done(w, "true");
        if (op.mode != Mode::kBlock) return logs.done(w, "false");
        acquirers.push_back(w), logs.busy[w] = true;
        return;
      case LockOpType::kRelease:
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
      case LockOpType::kWait:
        if (counter > 0 || op.mode != Mode::kBlock) return logs.done(w, counter > 0 ? "true" : "false");
        watchers.push_back(w), logs.busy[w] = true;
    }
  }
};

struct RLockModel {
  int owner = -1;
  std::size_t count = 0;
  std::deque<int> waiters;
  ModelLogs logs;
  void apply(const LockOp& op) {
    const int w = op.worker;
    if (op.type == LockOpType::kAcquire) {
      if (owner == -1 || owner == w) return owner = w, ++count, logs.done(w, "true");
      if (op.mode != Mode::kBlock) return logs.done(w, "false");
      waiters.push_back(w), logs.busy[w] = true;
      return;
    }
    if (owner != w) return logs.done(w, "not-owned");
    if (--count == 0) {
      owner = -1;
      if (!waiters.empty()) {  // handed straight to the longest-parked worker
        owner = waiters.front(), count = 1, waiters.pop_front();
        logs.done(owner, "true");
      }
    }
    logs.done(w, "ok");
  }
};

}  // namespace grove::testing
