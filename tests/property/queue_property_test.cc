// Model-based properties of every queue kind: random put/get/peek/task_done/join/shutdown,
// tried / timed / blocking, from three fibers, against a sequential model.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <deque>
#include <ostream>
#include <string>
#include <vector>

#include "actors/queue.h"
#include "hub/testing.h"
#include "tests/property/workers.h"

namespace grove::testing {
namespace {

enum class Kind { kFifo, kLifo, kPriority, kChannel };
enum class OpType { kPut, kGet, kPeek, kTaskDone, kJoin, kShutdown };

struct Op {
  OpType type;
  int worker;
  int value;
  Mode mode;
  bool immediate;
};

std::ostream& operator<<(std::ostream& os, const Op& op) {
  os << "w" << op.worker << ".";
  switch (op.type) {
    case OpType::kPut: return os << "put(" << op.value << ", " << to_string(op.mode) << ")";
    case OpType::kGet: return os << "get(" << to_string(op.mode) << ")";
    case OpType::kPeek: return os << "peek(" << to_string(op.mode) << ")";
    case OpType::kTaskDone: return os << "task_done()";
    case OpType::kJoin: return os << "join(" << to_string(op.mode) << ")";
    case OpType::kShutdown: return os << "shutdown(" << (op.immediate ? "immediate" : "") << ")";
  }
  return os;
}

rc::Gen<Op> gen_op(bool channel) {
  // Shutdown is rare so that most sequences exercise the live queue; channels have no peek.
  auto types = channel ? rc::gen::weightedElement<OpType>({{30, OpType::kPut},
                                                           {30, OpType::kGet},
                                                           {8, OpType::kTaskDone},
                                                           {4, OpType::kJoin},
                                                           {1, OpType::kShutdown}})
                       : rc::gen::weightedElement<OpType>({{30, OpType::kPut},
                                                           {30, OpType::kGet},
                                                           {8, OpType::kPeek},
                                                           {8, OpType::kTaskDone},
                                                           {4, OpType::kJoin},
                                                           {1, OpType::kShutdown}});
  return rc::gen::apply(
      [](OpType t, int w, int v, int m, bool imm) { return Op{t, w, v, static_cast<Mode>(m), imm}; },
      std::move(types), rc::gen::inRange(0, Workers::kWorkers),
      rc::gen::inRange(0, 10), rc::gen::weightedElement<int>({{3, 0}, {1, 1}, {3, 2}}),
      rc::gen::arbitrary<bool>());
}

// The sequential model: a container, FIFO lists of parked fibers, counters.
struct Model {
  Kind kind;
  std::size_t maxsize;  // 0 = unbounded (ignored for a channel)
  std::deque<int> items;
  std::deque<int> getters, peekers, joiners;
  std::deque<std::pair<int, int>> putters;  // (worker, item)
  std::size_t unfinished = 0;
  bool shut = false;
  ModelLogs logs;

  bool room() const {
    return kind != Kind::kChannel && (maxsize == 0 || items.size() < maxsize);
  }
  void push(int v) {
    items.push_back(v);
    if (kind == Kind::kPriority) std::sort(items.begin(), items.end());
  }
  int& top() { return kind == Kind::kLifo ? items.back() : items.front(); }
  int pop() {
    const int v = top();
    kind == Kind::kLifo ? items.pop_back() : items.pop_front();
    return v;
  }
  template <class L, class F>
  void wake_all(L& list, F result) {
    for (auto& x : list) logs.done(result(x).first, result(x).second);
    list.clear();
  }
  void park(std::deque<int>& list, int w) {
    list.push_back(w);
    logs.busy[w] = true;
  }
  void joined() {
    for (int j : joiners) logs.done(j, "joined");
    joiners.clear();
  }

  void apply(const Op& op) {
    const int w = op.worker;
    const bool wait = op.mode == Mode::kBlock;
    switch (op.type) {
      case OpType::kPut:
        if (shut) return logs.done(w, "shutdown");
        for (int p : peekers) logs.done(p, "peek=" + std::to_string(op.value));
        peekers.clear();
        if (!getters.empty()) {
          logs.done(getters.front(), "get=" + std::to_string(op.value));
          getters.pop_front();
        } else if (room()) {
          push(op.value);
        } else if (wait) {
          putters.emplace_back(w, op.value);
          logs.busy[w] = true;
          return;
        } else {
          return logs.done(w, "timeout");
        }
        ++unfinished;
        return logs.done(w, "ok");
      case OpType::kGet:
        if (!items.empty() || !putters.empty()) {
          int v;
          if (!items.empty()) {
            v = pop();
            if (!putters.empty()) push(putters.front().second);
          } else {
            v = putters.front().second;  // a channel
          }
          if (!putters.empty()) {
            logs.done(putters.front().first, "ok");
            putters.pop_front();
            ++unfinished;
          }
          return logs.done(w, "get=" + std::to_string(v));
        }
        if (shut) return logs.done(w, "shutdown");
        return wait ? park(getters, w) : logs.done(w, "timeout");
      case OpType::kPeek:
        if (!items.empty()) return logs.done(w, "peek=" + std::to_string(top()));
        if (shut) return logs.done(w, "shutdown");
        return wait ? park(peekers, w) : logs.done(w, "timeout");
      case OpType::kTaskDone:
        if (unfinished == 0) return logs.done(w, "error");
        if (--unfinished == 0) joined();
        return logs.done(w, "ok");
      case OpType::kJoin:
        if (unfinished == 0) return logs.done(w, "joined");
        return wait ? park(joiners, w) : logs.done(w, "timeout");
      case OpType::kShutdown:
        shut = true;
        if (op.immediate) {
          unfinished -= std::min(unfinished, items.size());
          items.clear();
          if (unfinished == 0) joined();
        }
        for (int g : getters) logs.done(g, "shutdown");
        for (int p : peekers) logs.done(p, "shutdown");
        for (auto& [p, v] : putters) logs.done(p, "shutdown");
        getters.clear();
        peekers.clear();
        putters.clear();
        return logs.done(w, "ok");
    }
  }
};

// Runs `ops` on the real queue Q from three fibers; returns "" or a description of the
// difference from the model.
template <class Q>
std::string compare(Kind kind, std::size_t maxsize, const std::vector<Op>& ops) {
  Q q = [&] {
    if constexpr (std::is_same_v<Q, Channel<int>>) {
      return Q();
    } else {
      return Q(maxsize);
    }
  }();
  Model model{kind, maxsize};
  std::string trace;
  {
    Workers workers;
    for (const Op& op : ops) {
      if (workers.busy(op.worker) != model.logs.busy[op.worker]) break;  // caught below
      if (workers.busy(op.worker)) continue;  // a parked fiber cannot issue commands
      model.apply(op);
      const Mode mode = op.mode;
      auto result = [](const QueueResult<int>& r, const char* what) {
        return r.ok() ? std::string(what) + "=" + std::to_string(r.value())
                      : std::string(r.status() == QueueStatus::kShutDown ? "shutdown" : "timeout");
      };
      std::function<std::string()> job;
      switch (op.type) {
        case OpType::kPut:
          job = [&q, mode, v = op.value] {
            const QueueStatus s = q.put(int(v), deadline_for(mode));
            return std::string(s == QueueStatus::kOk ? "ok" : s == QueueStatus::kShutDown
                                                                  ? "shutdown"
                                                                  : "timeout");
          };
          break;
        case OpType::kGet:
          job = [&q, mode, result] { return result(q.get(deadline_for(mode)), "get"); };
          break;
        case OpType::kPeek:
          if constexpr (Q::kCanPeek) {
            job = [&q, mode, result] { return result(q.peek(deadline_for(mode)), "peek"); };
          }
          break;
        case OpType::kTaskDone:
          job = [&q] {
            try {
              q.task_done();
              return std::string("ok");
            } catch (const TaskDoneError&) {
              return std::string("error");
            }
          };
          break;
        case OpType::kJoin:
          job = [&q, mode] { return std::string(q.join(deadline_for(mode)) ? "joined" : "timeout"); };
          break;
        case OpType::kShutdown:
          job = [&q, imm = op.immediate] {
            q.shutdown(imm);
            return std::string("ok");
          };
          break;
      }
      workers.issue(op.worker, std::move(job), mode == Mode::kTimed);
    }
    const std::string real = workers.summary() + " | size=" + std::to_string(q.size()) +
                             " unfinished=" + std::to_string(q.unfinished_tasks());
    const std::string expected = model.logs.summary() + " | size=" +
                                 std::to_string(model.items.size()) +
                                 " unfinished=" + std::to_string(model.unfinished);
    if (real != expected) return "real:  " + real + "\nmodel: " + expected;
  }  // the workers are killed here; their parked waits unwind
  // What is left comes out in the model's order.
  for (;;) {
    QueueResult<int> r = q.try_get();
    if (!r.ok()) break;
    if (model.items.empty() || *r != model.pop()) return "the remaining items differ";
  }
  if (!model.items.empty()) return "the queue holds fewer items than the model";
  return "";
}

template <class Q>
void check(Kind kind, bool channel) {
  const auto ops = *rc::gen::container<std::vector<Op>>(gen_op(channel));
  const auto maxsize = static_cast<std::size_t>(*rc::gen::inRange(0, 4));
  std::string mismatch;
  const Outcome outcome = run_in_hub([&] { mismatch = compare<Q>(kind, maxsize, ops); }, 20.0);
  RC_LOG() << "maxsize=" << maxsize << "\n" << mismatch << "\n" << outcome.describe();
  RC_ASSERT(outcome.ok());
  RC_ASSERT(mismatch.empty());
}

RC_GTEST_PROP(QueueModel, FifoQueueMatchesTheModel, ()) { check<Queue<int>>(Kind::kFifo, false); }
RC_GTEST_PROP(QueueModel, LifoQueueMatchesTheModel, ()) {
  check<LifoQueue<int>>(Kind::kLifo, false);
}
RC_GTEST_PROP(QueueModel, PriorityQueueMatchesTheModel, ()) {
  check<PriorityQueue<int>>(Kind::kPriority, false);
}
RC_GTEST_PROP(QueueModel, ChannelMatchesTheModel, ()) { check<Channel<int>>(Kind::kChannel, true); }

}  // namespace
}  // namespace grove::testing
