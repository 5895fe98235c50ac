// Model-based properties of the core Semaphore, BoundedSemaphore and RLock (actors/semaphore.h,
// actors/rlock.h): random acquire/release/wait, tried / timed / blocking, from three fibers,
// against the shared models in semaphore_model.h (the facade's property test runs the same
// models).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "actors/rlock.h"
#include "actors/semaphore.h"
#include "hub/testing.h"
#include "tests/property/semaphore_model.h"
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

template <class S>
void check_semaphore(bool bounded) {
  const auto initial = static_cast<std::size_t>(*rc::gen::inRange(0, 3));
  const auto ops = *gen_lock_ops(true);
  check([&] {
    S s(initial);
    SemaphoreModel model{initial, initial, bounded};
    auto job_for = [&s](const LockOp& op) -> std::function<std::string()> {
      const Deadline d = deadline_for(op.mode);
      switch (op.type) {
        case LockOpType::kAcquire: return [&s, d] { return std::string(s.acquire(d) ? "true" : "false"); };
        case LockOpType::kWait: return [&s, d] { return std::string(s.wait(d) ? "true" : "false"); };
        case LockOpType::kRelease:
          return [&s] {
            try {
              s.release();
              return std::string("ok");
            } catch (const SemaphoreOverReleased&) {
              return std::string("over-released");
            }
          };
      }
      return nullptr;
    };
    return run_against_model(ops, model, job_for, [&] {
      return std::pair("counter=" + std::to_string(s.counter()),
                       "counter=" + std::to_string(model.counter));
    });
  });
}

RC_GTEST_PROP(SemaphoreModel, SemaphoreMatchesTheModel, ()) { check_semaphore<Semaphore>(false); }
RC_GTEST_PROP(SemaphoreModel, BoundedSemaphoreMatchesTheModel, ()) {
  check_semaphore<BoundedSemaphore>(true);
}

RC_GTEST_PROP(SemaphoreModel, RLockMatchesTheModel, ()) {
  const auto ops = *gen_lock_ops(false);
  check([&] {
    RLock lock;
    RLockModel model;
    auto job_for = [&lock](const LockOp& op) -> std::function<std::string()> {
      if (op.type == LockOpType::kAcquire) {
        return [&lock, d = deadline_for(op.mode)] { return std::string(lock.acquire(d) ? "true" : "false"); };
      }
      return [&lock] {
        try {
          lock.release();
          return std::string("ok");
        } catch (const RLockNotOwned&) {
          return std::string("not-owned");
        }
      };
    };
    return run_against_model(ops, model, job_for, [&] {
      return std::pair("count=" + std::to_string(lock.count()), "count=" + std::to_string(model.count));
    });
  });
}

}  // namespace
}  // namespace grove::testing
