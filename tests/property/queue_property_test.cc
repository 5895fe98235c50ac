// Model-based properties of every core queue kind (actors/queue.h): random put/get/peek/
// task_done/join/shutdown, tried / timed / blocking, from three fibers, against the shared
// sequential model in queue_model.h (the facade's property test runs the same model).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "actors/queue.h"
#include "hub/testing.h"
#include "tests/property/queue_model.h"
#include "tests/property/workers.h"

namespace grove::testing {
namespace {

std::string word(QueueStatus s, const char* on_timeout) {
  return s == QueueStatus::kOk ? "ok" : s == QueueStatus::kShutDown ? "shutdown" : on_timeout;
}
std::string word(const QueueResult<int>& r, const char* what) {
  return r.ok() ? std::string(what) + "=" + std::to_string(r.value()) : word(r.status(), "empty");
}

// What the real queue does for `op`, as the model's word.
template <class Q>
std::function<std::string()> job_for(Q& q, const QueueOp& op) {
  const Deadline d = deadline_for(op.mode);
  switch (op.type) {
    case QueueOpType::kPut: return [&q, d, v = op.value] { return word(q.put(int(v), d), "full"); };
    case QueueOpType::kGet: return [&q, d] { return word(q.get(d), "get"); };
    case QueueOpType::kPeek:
      if constexpr (Q::kCanPeek) return [&q, d] { return word(q.peek(d), "peek"); };
      break;
    case QueueOpType::kTaskDone:
      return [&q] {
        try {
          q.task_done();
          return std::string("ok");
        } catch (const TaskDoneError&) {
          return std::string("error");
        }
      };
    case QueueOpType::kJoin: return [&q, d] { return std::string(q.join(d) ? "joined" : "timeout"); };
    case QueueOpType::kShutdown: return [&q, imm = op.immediate] { return q.shutdown(imm), std::string("ok"); };
  }
  return [] { return std::string("unsupported"); };
}

template <class Q>
void check(QueueKind kind) {
  const auto ops = *rc::gen::container<std::vector<QueueOp>>(gen_queue_op(Q::kCanPeek, true));
  const auto maxsize = static_cast<std::size_t>(*rc::gen::inRange(0, 4));
  std::string mismatch;
  const Outcome outcome = run_in_hub([&] {
    Q q = [&] {
      if constexpr (std::is_constructible_v<Q, std::size_t>) return Q(maxsize); else return Q();
    }();
    QueueModel model{kind, maxsize};
    mismatch = run_against_model(ops, model, [&q](const QueueOp& op) { return job_for(q, op); }, [&] {
      return std::pair("size=" + std::to_string(q.size()) + " unfinished=" +
                           std::to_string(q.unfinished_tasks()),
                       "size=" + std::to_string(model.items.size()) + " unfinished=" +
                           std::to_string(model.unfinished));
    });
    if (!mismatch.empty()) return;
    // What is left comes out in the model's order.
    for (int expected : model.items) {
      QueueResult<int> r = q.try_get();
      if (!r.ok() || *r != expected) return void(mismatch = "the remaining items differ");
    }
    if (q.try_get().ok()) mismatch = "the queue holds more items than the model";
  }, 20.0);
  RC_LOG() << "maxsize=" << maxsize << "\n" << mismatch << "\n" << outcome.describe();
  RC_ASSERT(outcome.ok());
  RC_ASSERT(mismatch.empty());
}

RC_GTEST_PROP(QueueModel, FifoQueueMatchesTheModel, ()) { check<Queue<int>>(QueueKind::kFifo); }
RC_GTEST_PROP(QueueModel, LifoQueueMatchesTheModel, ()) { check<LifoQueue<int>>(QueueKind::kLifo); }
RC_GTEST_PROP(QueueModel, PriorityQueueMatchesTheModel, ()) {
  check<PriorityQueue<int>>(QueueKind::kPriority);
}
RC_GTEST_PROP(QueueModel, ChannelMatchesTheModel, ()) { check<Channel<int>>(QueueKind::kChannel); }

}  // namespace
}  // namespace grove::testing
