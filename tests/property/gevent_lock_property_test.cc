// Model-based properties of gevent.lock through the FACADE: Semaphore and BoundedSemaphore
// acquire/release/wait, and RLock acquire/release by owner and non-owner, each nowait / with a
// timeout / blocking, issued from three greenlets, against the models the core property test
// runs too (semaphore_model.h).
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "facade/lock.h"
#include "facade/testing.h"
#include "tests/property/semaphore_model.h"
#include "tests/property/workers.h"

namespace {

using grove::testing::LockOp;
using grove::testing::LockOpType;
using grove::testing::Mode;
using grove::testing::RLockModel;
using grove::testing::SemaphoreModel;

gevent::Seconds timeout_of(Mode m) {
  return m == Mode::kTimed ? gevent::Seconds(0.001) : gevent::Seconds();
}

template <class S>
void check_semaphore(bool bounded) {
  const auto initial = static_cast<std::size_t>(*rc::gen::inRange(0, 3));
  const auto ops = *grove::testing::gen_lock_ops(true);
  grove::testing::in_hub([&] {
    S s(initial);
    SemaphoreModel model{initial, initial, bounded};
    auto job_for = [&s](const LockOp& op) -> std::function<std::string()> {
      const bool block = op.mode != Mode::kTry;
      const gevent::Seconds t = timeout_of(op.mode);
      switch (op.type) {
        case LockOpType::kAcquire:
          return [&s, block, t] { return std::string(s.acquire(block, t) ? "true" : "false"); };
        case LockOpType::kRelease:
          return [&s] {
            try {
              s.release();
              return std::string("ok");
            } catch (const gevent::lock::SemaphoreOverReleased&) {
              return std::string("over-released");
            }
          };
        case LockOpType::kWait:
          return [&s, block, t] {
            return std::string(s.wait(block ? t : gevent::Seconds(0.0)) ? "true" : "false");
          };
      }
      return nullptr;
    };
    const std::string mismatch = grove::testing::run_against_model(ops, model, job_for);
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

RC_GTEST_PROP(GeventLockModel, RLockMatchesTheModel, ()) {
  const auto ops = *grove::testing::gen_lock_ops(false);
  grove::testing::in_hub([&] {
    gevent::lock::RLock lock;
    RLockModel model;
    auto job_for = [&lock](const LockOp& op) -> std::function<std::string()> {
      if (op.type == LockOpType::kAcquire) {
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
    };
    const std::string mismatch = grove::testing::run_against_model(ops, model, job_for);
    if (!mismatch.empty()) RC_FAIL(mismatch);
    RC_ASSERT(lock.locked() == (model.owner != -1));
    RC_ASSERT(lock.count() == model.count);
  });
}

}  // namespace
