// Model-based properties of gevent.queue through the FACADE: random interleavings of
// put/get/peek/task_done/join/shutdown, each nowait / with a timeout / blocking, issued from three
// greenlets, against a sequential model — for SimpleQueue, Queue, PriorityQueue, LifoQueue and
// Channel. Outcomes are gevent's: "Full", "Empty", "ShutDown" are the exceptions thrown.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <ostream>
#include <string>
#include <type_traits>
#include <vector>

#include "facade/queue.h"
#include "facade/testing.h"
#include "tests/property/workers.h"

namespace {

using grove::testing::Mode;
using grove::testing::ModelLogs;
using grove::testing::Workers;

enum class Kind { kFifo, kLifo, kPriority, kChannel };
enum class OpType { kPut, kGet, kPeek, kTaskDone, kJoin, kShutdown };

struct Op {
  OpType type;
  int worker;
  int value;
  Mode mode;  // kTry: block=false; kTimed: timeout=1ms; kBlock: forever
  bool immediate;
};

std::ostream& operator<<(std::ostream& os, const Op& op) {
  const char* how = op.mode == Mode::kTry ? "nowait" : op.mode == Mode::kTimed ? "1ms" : "block";
  os << "w" << op.worker << ".";
  switch (op.type) {
    case OpType::kPut: return os << "put(" << op.value << ", " << how << ")";
    case OpType::kGet: return os << "get(" << how << ")";
    case OpType::kPeek: return os << "peek(" << how << ")";
    case OpType::kTaskDone: return os << "task_done()";
    case OpType::kJoin: return os << "join(" << how << ")";
    case OpType::kShutdown: return os << "shutdown(" << (op.immediate ? "immediate" : "") << ")";
  }
  return os;
}

// gevent's Channel has no peek; SimpleQueue and Channel have no task tracking.
rc::Gen<Op> gen_op(Kind kind, bool joinable) {
  const std::size_t peek = kind == Kind::kChannel ? 0 : 8, tasks = joinable ? 8 : 0;
  auto types = rc::gen::suchThat(
      rc::gen::weightedElement<OpType>({{30, OpType::kPut}, {30, OpType::kGet},
                                        {1, OpType::kShutdown}, {peek + 1, OpType::kPeek},
                                        {tasks + 1, OpType::kTaskDone},
                                        {tasks / 2 + 1, OpType::kJoin}}),
      [=](OpType t) {
        return (t != OpType::kPeek || peek) &&
               ((t != OpType::kTaskDone && t != OpType::kJoin) || tasks);
      });
  return rc::gen::apply(
      [](OpType t, int w, int v, int m, bool imm) { return Op{t, w, v, static_cast<Mode>(m), imm}; },
      std::move(types), rc::gen::inRange(0, Workers::kWorkers),
      rc::gen::inRange(0, 10), rc::gen::weightedElement<int>({{3, 0}, {1, 1}, {3, 2}}),
      rc::gen::arbitrary<bool>());
}

// The sequential model: the buffer in get order, FIFO lists of parked greenlets, counters.
struct Model {
  Kind kind;
  std::size_t maxsize;  // 0 = unbounded
  std::deque<int> items;  // front = what get() returns next
  std::deque<int> getters, peekers, joiners;
  std::deque<std::pair<int, int>> putters;  // (worker, item)
  std::size_t unfinished = 0;
  bool shut = false;
  ModelLogs logs;

  void push(int v) {
    if (kind == Kind::kLifo) {
      items.push_front(v);
    } else {
      items.insert(kind == Kind::kPriority ? std::upper_bound(items.begin(), items.end(), v)
                                           : items.end(), v);
    }
  }
  bool room() const { return kind != Kind::kChannel && (maxsize == 0 || items.size() < maxsize); }
  void park(std::deque<int>& list, int w) { list.push_back(w), logs.busy[w] = true; }
  void wake(std::deque<int>& list, const std::string& r) {
    for (int w : list) logs.done(w, r);
    list.clear();
  }
  void apply(const Op& op) {
    const int w = op.worker;
    const std::string v = std::to_string(op.value);
    switch (op.type) {
      case OpType::kPut:
        if (shut) return logs.done(w, "ShutDown");
        wake(peekers, "peek=" + v);
        if (!getters.empty()) {
          logs.done(getters.front(), "get=" + v), getters.pop_front();
        } else if (room()) {
          push(op.value);
        } else if (op.mode == Mode::kBlock) {
          putters.emplace_back(w, op.value);
          logs.busy[w] = true;
          return;
        } else {
          return logs.done(w, "Full");
        }
        return ++unfinished, logs.done(w, "ok");
      case OpType::kGet: {
        if (items.empty() && putters.empty()) {
          if (shut) return logs.done(w, "ShutDown");
          return op.mode == Mode::kBlock ? park(getters, w) : logs.done(w, "Empty");
        }
        int got = -1;
        if (!items.empty()) got = items.front(), items.pop_front();
        if (!putters.empty()) {  // room freed (or a channel): the longest putter's turn
          auto [p, item] = putters.front();
          putters.pop_front();
          if (kind == Kind::kChannel) got = item; else push(item);
          ++unfinished, logs.done(p, "ok");
        }
        return logs.done(w, "get=" + std::to_string(got));
      }
      case OpType::kPeek:
        if (!items.empty()) return logs.done(w, "peek=" + std::to_string(items.front()));
        if (shut) return logs.done(w, "ShutDown");
        return op.mode == Mode::kBlock ? park(peekers, w) : logs.done(w, "Empty");
      case OpType::kTaskDone:
        if (unfinished == 0) return logs.done(w, "error");
        if (--unfinished == 0) wake(joiners, "joined");
        return logs.done(w, "ok");
      case OpType::kJoin:
        if (unfinished == 0) return logs.done(w, "joined");
        return op.mode == Mode::kBlock ? park(joiners, w) : logs.done(w, "timeout");
      case OpType::kShutdown:
        shut = true;
        if (op.immediate) {
          unfinished -= std::min(unfinished, items.size());
          items.clear();
          if (unfinished == 0) wake(joiners, "joined");
        }
        wake(getters, "ShutDown"), wake(peekers, "ShutDown");
        for (auto& [p, item] : putters) logs.done(p, "ShutDown");
        putters.clear();
        return logs.done(w, "ok");
    }
  }
};

// What the real queue does for `op`, as the string the model logs.
template <class Q>
std::function<std::string()> job_for(Q& q, const Op& op) {
  const bool block = op.mode != Mode::kTry;
  const gevent::Seconds timeout =
      op.mode == Mode::kTimed ? gevent::Seconds(0.001) : gevent::Seconds();
  auto outcome = [](const std::function<std::string()>& f) {
    try {
      return f();
    } catch (const gevent::queue::Full&) {
      return std::string("Full");
    } catch (const gevent::queue::Empty&) {
      return std::string("Empty");
    } catch (const gevent::queue::ShutDown&) {
      return std::string("ShutDown");
    } catch (const grove::TaskDoneError&) {
      return std::string("error");
    }
  };
  switch (op.type) {
    case OpType::kPut:
      return [&q, outcome, block, timeout, v = op.value] {
        return outcome([&] { return q.put(v, block, timeout), std::string("ok"); });
      };
    case OpType::kGet:
      return [&q, outcome, block, timeout] {
        return outcome([&] { return "get=" + std::to_string(q.get(block, timeout)); });
      };
    case OpType::kPeek:
      if constexpr (requires { q.peek(); }) {
        return [&q, outcome, block, timeout] {
          return outcome([&] { return "peek=" + std::to_string(q.peek(block, timeout)); });
        };
      }
      break;
    case OpType::kTaskDone:
      return [&q, outcome] { return outcome([&] { return q.task_done(), std::string("ok"); }); };
    case OpType::kJoin:
      if constexpr (requires { q.join(timeout); }) {
        return [&q, timeout, block] {
          return std::string(q.join(block ? timeout : gevent::Seconds(0.0)) ? "joined" : "timeout");
        };
      }
      break;
    case OpType::kShutdown:
      return [&q, imm = op.immediate] { return q.shutdown(imm), std::string("ok"); };
  }
  return [] { return std::string("unsupported"); };
}

template <class Q>
void check(Kind kind, bool joinable) {
  const auto maxsize = static_cast<std::size_t>(*rc::gen::inRange(0, 4));
  const auto ops = *rc::gen::container<std::vector<Op>>(gen_op(kind, joinable));
  grove::testing::in_hub([&] {
    Q q = [&] {
      if constexpr (std::is_constructible_v<Q, std::size_t>) return Q(maxsize); else return Q();
    }();
    Model model{kind, kind == Kind::kChannel ? 0 : maxsize};
    std::string mismatch;
    {
      Workers workers;
      for (const Op& op : ops) {
        if (workers.busy(op.worker)) continue;  // a parked greenlet cannot issue commands
        model.apply(op);
        workers.issue(op.worker, job_for(q, op), op.mode != Mode::kBlock);
        const std::string real = workers.summary() + " | qsize=" + std::to_string(q.qsize());
        const std::string expected =
            model.logs.summary() + " | qsize=" + std::to_string(model.items.size());
        if (real != expected) {
          mismatch = "after " + rc::toString(op) + "\nreal:  " + real + "\nmodel: " + expected;
          break;
        }
      }
    }  // the workers are killed here; their parked waits unwind
    if (!mismatch.empty()) RC_FAIL(mismatch);
    for (int expected : model.items) RC_ASSERT(q.get_nowait() == expected);
    RC_ASSERT(q.empty());
  });
}

RC_GTEST_PROP(GeventQueueModel, SimpleQueueMatchesTheModel, ()) {
  check<gevent::queue::SimpleQueue<int>>(Kind::kFifo, false);
}
RC_GTEST_PROP(GeventQueueModel, JoinableQueueMatchesTheModel, ()) {
  check<gevent::queue::Queue<int>>(Kind::kFifo, true);
}
RC_GTEST_PROP(GeventQueueModel, PriorityQueueMatchesTheModel, ()) {
  check<gevent::queue::PriorityQueue<int>>(Kind::kPriority, true);
}
RC_GTEST_PROP(GeventQueueModel, LifoQueueMatchesTheModel, ()) {
  check<gevent::queue::LifoQueue<int>>(Kind::kLifo, true);
}
RC_GTEST_PROP(GeventQueueModel, ChannelMatchesTheModel, ()) {
  check<gevent::queue::Channel<int>>(Kind::kChannel, false);
}

}  // namespace
