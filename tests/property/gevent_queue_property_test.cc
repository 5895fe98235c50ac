// Model-based properties of gevent.queue through the FACADE: random interleavings of
// put/get/peek/task_done/join/shutdown, each nowait / with a timeout / blocking, issued from three
// greenlets, against the sequential model the core queue test runs too (queue_model.h) — for
// SimpleQueue, Queue, PriorityQueue, LifoQueue and Channel. gevent's exceptions Full, Empty and
// ShutDown are the model's "full", "empty" and "shutdown".
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "facade/queue.h"
#include "facade/testing.h"
#include "tests/property/queue_model.h"
#include "tests/property/workers.h"

namespace {

using grove::testing::Mode;
using grove::testing::QueueKind;
using grove::testing::QueueModel;
using grove::testing::QueueOp;
using grove::testing::QueueOpType;

// What the real queue does for `op`, as the string the model logs.
template <class Q>
std::function<std::string()> job_for(Q& q, const QueueOp& op) {
  const bool block = op.mode != Mode::kTry;
  const gevent::Seconds timeout =
      op.mode == Mode::kTimed ? gevent::Seconds(0.001) : gevent::Seconds();
  auto outcome = [](const std::function<std::string()>& f) {
    try {
      return f();
    } catch (const gevent::queue::Full&) {
      return std::string("full");
    } catch (const gevent::queue::Empty&) {
      return std::string("empty");
    } catch (const gevent::queue::ShutDown&) {
      return std::string("shutdown");
    } catch (const grove::TaskDoneError&) {
      return std::string("error");
    }
  };
  switch (op.type) {
    case QueueOpType::kPut:
      return [&q, outcome, block, timeout, v = op.value] {
        return outcome([&] { return q.put(v, block, timeout), std::string("ok"); });
      };
    case QueueOpType::kGet:
      return [&q, outcome, block, timeout] {
        return outcome([&] { return "get=" + std::to_string(q.get(block, timeout)); });
      };
    case QueueOpType::kPeek:
      if constexpr (requires { q.peek(); }) {
        return [&q, outcome, block, timeout] {
          return outcome([&] { return "peek=" + std::to_string(q.peek(block, timeout)); });
        };
      }
      break;
    case QueueOpType::kTaskDone:
      return [&q, outcome] { return outcome([&] { return q.task_done(), std::string("ok"); }); };
    case QueueOpType::kJoin:
      if constexpr (requires { q.join(timeout); }) {
        return [&q, timeout, block] {
          return std::string(q.join(block ? timeout : gevent::Seconds(0.0)) ? "joined" : "timeout");
        };
      }
      break;
    case QueueOpType::kShutdown:
      return [&q, imm = op.immediate] { return q.shutdown(imm), std::string("ok"); };
  }
  return [] { return std::string("unsupported"); };
}

template <class Q>
void check(QueueKind kind, bool joinable) {
  const auto maxsize = static_cast<std::size_t>(*rc::gen::inRange(0, 4));
  const auto ops = *rc::gen::container<std::vector<QueueOp>>(
      grove::testing::gen_queue_op(kind != QueueKind::kChannel, joinable));
  grove::testing::in_hub([&] {
    Q q = [&] {
      if constexpr (std::is_constructible_v<Q, std::size_t>) return Q(maxsize); else return Q();
    }();
    QueueModel model{kind, maxsize};
    const std::string mismatch = grove::testing::run_against_model(
        ops, model, [&q](const QueueOp& op) { return job_for(q, op); }, [&] {
          return std::pair("qsize=" + std::to_string(q.qsize()),
                           "qsize=" + std::to_string(model.items.size()));
        });
    if (!mismatch.empty()) RC_FAIL(mismatch);
    for (int expected : model.items) RC_ASSERT(q.get_nowait() == expected);
    RC_ASSERT(q.empty());
  });
}

RC_GTEST_PROP(GeventQueueModel, SimpleQueueMatchesTheModel, ()) {
  check<gevent::queue::SimpleQueue<int>>(QueueKind::kFifo, false);
}
RC_GTEST_PROP(GeventQueueModel, JoinableQueueMatchesTheModel, ()) {
  check<gevent::queue::Queue<int>>(QueueKind::kFifo, true);
}
RC_GTEST_PROP(GeventQueueModel, PriorityQueueMatchesTheModel, ()) {
  check<gevent::queue::PriorityQueue<int>>(QueueKind::kPriority, true);
}
RC_GTEST_PROP(GeventQueueModel, LifoQueueMatchesTheModel, ()) {
  check<gevent::queue::LifoQueue<int>>(QueueKind::kLifo, true);
}
RC_GTEST_PROP(GeventQueueModel, ChannelMatchesTheModel, ()) {
  check<gevent::queue::Channel<int>>(QueueKind::kChannel, false);
}

}  // namespace
