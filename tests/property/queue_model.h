// tests/property/queue_model.h — the one sequential model of a queue, shared by the core
// property test (actors/queue.h) and the facade's (gevent::queue): FIFO, LIFO and priority
// queues and the rendezvous channel, with put/get/peek/task_done/join/shutdown issued tried,
// timed or blocking by Workers.
//
// Outcomes are neutral words each test maps its primitive's results onto:
//   put      "ok" | "full" | "shutdown"        get/peek "get=V"/"peek=V" | "empty" | "shutdown"
//   task_done "ok" | "error"                   join     "joined" | "timeout"
//   shutdown "ok"
// so a difference between the core and the facade shows up as a failing test, not as two
// models that drifted apart.
//
//   QueueModel model{QueueKind::kFifo, /*maxsize=*/2};
//   model.apply(op);  // logs what each worker's command returned, or marks it parked
#pragma once

#include <algorithm>
#include <cstddef>
#include <deque>
#include <ostream>
#include <string>
#include <utility>

#include <rapidcheck.h>

#include "tests/property/workers.h"

namespace grove::testing {

enum class QueueKind { kFifo, kLifo, kPriority, kChannel };
enum class QueueOpType { kPut, kGet, kPeek, kTaskDone, kJoin, kShutdown };

struct QueueOp {
  QueueOpType type;
  int worker;
  int value;
  Mode mode;
  bool immediate;  // shutdown(immediate)
};

inline std::ostream& operator<<(std::ostream& os, const QueueOp& op) {
  os << "w" << op.worker << ".";
  switch (op.type) {
    case QueueOpType::kPut: return os << "put(" << op.value << ", " << to_string(op.mode) << ")";
    case QueueOpType::kGet: return os << "get(" << to_string(op.mode) << ")";
    case QueueOpType::kPeek: return os << "peek(" << to_string(op.mode) << ")";
    case QueueOpType::kTaskDone: return os << "task_done()";
    case QueueOpType::kJoin: return os << "join(" << to_string(op.mode) << ")";
    case QueueOpType::kShutdown: return os << "shutdown(" << (op.immediate ? "immediate" : "") << ")";
  }
  return os;
}

// Random commands; `peek` and `tasks` leave out what a queue kind does not have (gevent's
// Channel has no peek, its SimpleQueue no task tracking). Shutdown is rare so that most
// sequences exercise the live queue.
inline rc::Gen<QueueOp> gen_queue_op(bool peek, bool tasks) {
  const std::size_t peeks = peek ? 8 : 0, dones = tasks ? 8 : 0, joins = tasks ? 4 : 0;
  auto types = rc::gen::suchThat(
      rc::gen::weightedElement<QueueOpType>({{30, QueueOpType::kPut},
                                             {30, QueueOpType::kGet},
                                             {1, QueueOpType::kShutdown},
                                             {peeks + 1, QueueOpType::kPeek},
                                             {dones + 1, QueueOpType::kTaskDone},
                                             {joins + 1, QueueOpType::kJoin}}),
      [=](QueueOpType t) {
        return (t != QueueOpType::kPeek || peek) &&
               ((t != QueueOpType::kTaskDone && t != QueueOpType::kJoin) || tasks);
      });
  return rc::gen::apply(
      [](QueueOpType t, int w, int v, int m, bool imm) {
        return QueueOp{t, w, v, static_cast<Mode>(m), imm};
      },
      std::move(types), rc::gen::inRange(0, Workers::kWorkers), rc::gen::inRange(0, 10),
      rc::gen::weightedElement<int>({{3, 0}, {1, 1}, {3, 2}}), rc::gen::arbitrary<bool>());
}

// The buffer in get order, FIFO lists of parked workers, the unfinished-task counter.
struct QueueModel {
  QueueKind kind;
  std::size_t maxsize;    // 0 = unbounded; ignored for a channel, which never buffers
  std::deque<int> items;  // front = what get() returns next
  std::deque<int> getters, peekers, joiners;
  std::deque<std::pair<int, int>> putters;  // (worker, item), longest parked first
  std::size_t unfinished = 0;
  bool shut = false;
  ModelLogs logs;

  bool room() const {
    return kind != QueueKind::kChannel && (maxsize == 0 || items.size() < maxsize);
  }
  void push(int v) {
    if (kind == QueueKind::kLifo) return items.push_front(v);
    items.insert(kind == QueueKind::kPriority ? std::upper_bound(items.begin(), items.end(), v)
                                              : items.end(),
                 v);
  }
  void park(std::deque<int>& list, int w) { list.push_back(w), logs.busy[w] = true; }
  void wake(std::deque<int>& list, const std::string& result) {
    for (int w : list) logs.done(w, result);
    list.clear();
  }

  void apply(const QueueOp& op) {
    const int w = op.worker;
    const bool block = op.mode == Mode::kBlock;
    const std::string v = std::to_string(op.value);
    switch (op.type) {
      case QueueOpType::kPut:
        if (shut) return logs.done(w, "shutdown");
        wake(peekers, "peek=" + v);
        if (!getters.empty()) {  // handed straight to the longest-parked getter
          logs.done(getters.front(), "get=" + v), getters.pop_front();
        } else if (room()) {
          push(op.value);
        } else if (block) {
          putters.emplace_back(w, op.value), logs.busy[w] = true;
          return;
        } else {
          return logs.done(w, "full");
        }
        return ++unfinished, logs.done(w, "ok");
      case QueueOpType::kGet: {
        if (items.empty() && putters.empty()) {
          if (shut) return logs.done(w, "shutdown");
          return block ? park(getters, w) : logs.done(w, "empty");
        }
        int got = -1;
        if (!items.empty()) got = items.front(), items.pop_front();
        if (!putters.empty()) {  // room freed (or a channel): the longest putter's turn
          auto [p, item] = putters.front();
          putters.pop_front();
          if (kind == QueueKind::kChannel) got = item; else push(item);
          ++unfinished, logs.done(p, "ok");
        }
        return logs.done(w, "get=" + std::to_string(got));
      }
      case QueueOpType::kPeek:
        if (!items.empty()) return logs.done(w, "peek=" + std::to_string(items.front()));
        if (shut) return logs.done(w, "shutdown");
        return block ? park(peekers, w) : logs.done(w, "empty");
      case QueueOpType::kTaskDone:
        if (unfinished == 0) return logs.done(w, "error");
        if (--unfinished == 0) wake(joiners, "joined");
        return logs.done(w, "ok");
      case QueueOpType::kJoin:
        if (unfinished == 0) return logs.done(w, "joined");
        return block ? park(joiners, w) : logs.done(w, "timeout");
      case QueueOpType::kShutdown:
        shut = true;
        if (op.immediate) {  // drops the buffer; dropped items count as done
          unfinished -= std::min(unfinished, items.size());
          items.clear();
          if (unfinished == 0) wake(joiners, "joined");
        }
        wake(getters, "shutdown"), wake(peekers, "shutdown");
        for (auto& [p, item] : putters) logs.done(p, "shutdown");
        putters.clear();
        return logs.done(w, "ok");
    }
  }
};

}  // namespace grove::testing
