// Model-based property of gevent.pool.Pool through the FACADE: random spawn (waits while full),
// add(block=false) (PoolFull), finishing or killing members, kill(), join(timeout) and
// wait_available(timeout), issued from three greenlets, against a sequential model of the
// size bound: free_count() == size - members, a freed slot goes to the longest-waiting spawner.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "facade/event.h"
#include "facade/pool.h"
#include "facade/testing.h"
#include "tests/property/workers.h"

namespace {

using grove::testing::Mode;
using grove::testing::ModelLogs;
using grove::testing::Workers;

// Members are numbered by the spawn/add op that made them; finish/kill name one (k = 0..7).
enum class OpType { kSpawn, kAddNowait, kFinish, kKill, kKillAll, kJoin, kWaitAvailable };
struct Op {
  OpType type;
  int worker;
  int member;
  Mode mode;  // join: nowait / 1ms only (a blocking join races with waiting spawners)
};
std::ostream& operator<<(std::ostream& os, const Op& op) {
  const char* how = op.mode == Mode::kTry ? "nowait" : op.mode == Mode::kTimed ? "1ms" : "block";
  os << "w" << op.worker << ".";
  switch (op.type) {
    case OpType::kSpawn: return os << "spawn()";
    case OpType::kAddNowait: return os << "add(spawn(), block=false)";
    case OpType::kFinish: return os << "finish(#" << op.member << ")";
    case OpType::kKill: return os << "kill(#" << op.member << ")";
    case OpType::kKillAll: return os << "pool.kill()";
    case OpType::kJoin: return os << "join(" << how << ")";
    case OpType::kWaitAvailable: return os << "wait_available(" << how << ")";
  }
  return os;
}

struct Model {
  std::size_t free;
  std::vector<int> members;               // in the order they joined the pool
  std::deque<std::pair<int, int>> spawners;  // (worker, member id) waiting for room
  std::deque<int> watchers;               // parked in wait_available()
  int next_id = 0;
  ModelLogs logs;

  void leave(int id) {  // a member died: its slot goes to the longest-waiting spawner
    members.erase(std::find(members.begin(), members.end(), id));
    if (!spawners.empty()) {
      auto [w, nid] = spawners.front();
      spawners.pop_front();
      members.push_back(nid);
      logs.done(w, "spawned#" + std::to_string(nid));
    } else {
      ++free;
      for (int x : watchers) logs.done(x, "true");
      watchers.clear();
    }
  }
  void apply(const Op& op) {
    const int w = op.worker;
    const bool alive = std::count(members.begin(), members.end(), op.member) > 0;
    switch (op.type) {
      case OpType::kSpawn:
      case OpType::kAddNowait: {
        const int id = next_id++;
        const std::string how = op.type == OpType::kSpawn ? "spawned#" : "added#";
        if (free > 0) return --free, members.push_back(id), logs.done(w, how + std::to_string(id));
        if (op.type == OpType::kAddNowait) return logs.done(w, "PoolFull");
        spawners.emplace_back(w, id);
        logs.busy[w] = true;
        return;
      }
      case OpType::kFinish:
      case OpType::kKill:
        if (!alive) return logs.done(w, "none");
        leave(op.member);
        return logs.done(w, "ok");
      case OpType::kKillAll:
        for (int id : std::vector<int>(members)) leave(id);
        return logs.done(w, "ok");
      case OpType::kJoin: return logs.done(w, members.empty() ? "true" : "false");
      case OpType::kWaitAvailable:
        if (free > 0 || op.mode != Mode::kBlock) return logs.done(w, free > 0 ? "true" : "false");
        watchers.push_back(w);
        logs.busy[w] = true;
    }
  }
};

RC_GTEST_PROP(GeventPoolModel, PoolMatchesTheModel, ()) {
  const auto size = static_cast<std::size_t>(*rc::gen::inRange(0, 4));
  const auto ops = *rc::gen::container<std::vector<Op>>(rc::gen::apply(
      [](OpType t, int w, int k, int m) {
        if (t == OpType::kJoin && m == 2) m = 1;
        return Op{t, w, k, static_cast<Mode>(m)};
      },
      rc::gen::weightedElement<OpType>({{6, OpType::kSpawn},
                                        {2, OpType::kAddNowait},
                                        {4, OpType::kFinish},
                                        {2, OpType::kKill},
                                        {1, OpType::kKillAll},
                                        {2, OpType::kJoin},
                                        {2, OpType::kWaitAvailable}}),
      rc::gen::inRange(0, Workers::kWorkers), rc::gen::inRange(0, 8), rc::gen::inRange(0, 3)));
  grove::testing::in_hub([&] {
    gevent::pool::Pool pool(size);
    Model model{size};
    std::map<int, gevent::Greenlet<void>> members;
    std::map<int, std::shared_ptr<gevent::event::Event>> gates;
    int next_id = 0;
    // After a member dies it leaves the pool at the next hub pass (rawlink): let that happen.
    auto settle_death = [] { gevent::sleep(0.0005); };
    auto job_for = [&](const Op& op) -> std::function<std::string()> {
      auto live = [&members](int k) { return members.count(k) && !members[k].dead(); };
      switch (op.type) {
        case OpType::kSpawn:
        case OpType::kAddNowait: {
          const int id = next_id++;
          auto gate = gates[id] = std::make_shared<gevent::event::Event>();
          auto body = [gate] { (void)gate->wait(); };
          if (op.type == OpType::kSpawn) {
            return [&, id, body] {
              members[id] = pool.spawn(body);
              return "spawned#" + std::to_string(id);
            };
          }
          return [&, id, body] {
            auto g = gevent::spawn(body);
            try {
              pool.add(g, /*block=*/false);
            } catch (const gevent::pool::PoolFull&) {
              g.kill();
              return std::string("PoolFull");
            }
            members[id] = g;
            return "added#" + std::to_string(id);
          };
        }
        case OpType::kFinish:
          return [&, live, k = op.member] {
            if (!live(k)) return std::string("none");
            gates[k]->set();
            (void)members[k].join();
            settle_death();
            return std::string("ok");
          };
        case OpType::kKill:
          return [&, live, k = op.member] {
            if (!live(k)) return std::string("none");
            members[k].kill();
            settle_death();
            return std::string("ok");
          };
        case OpType::kKillAll:
          return [&] { return pool.kill(), settle_death(), std::string("ok"); };
        case OpType::kJoin:
          return [&, t = op.mode == Mode::kTry ? 0.0 : 0.001] {
            return std::string(pool.join(t) ? "true" : "false");
          };
        case OpType::kWaitAvailable:
          return [&, m = op.mode] {
            const gevent::Seconds t = m == Mode::kTry ? gevent::Seconds(0.0)
                                      : m == Mode::kTimed ? gevent::Seconds(0.001)
                                                          : gevent::Seconds();
            return std::string(pool.wait_available(t) ? "true" : "false");
          };
      }
      return nullptr;
    };
    std::string mismatch;
    {
      Workers workers;
      for (const Op& op : ops) {
        if (workers.busy(op.worker)) continue;  // a parked greenlet cannot issue commands
        model.apply(op);
        // Wait for every job that cannot park for good (all but spawn and a blocking
        // wait_available) to finish before the next op.
        const bool may_park = op.type == OpType::kSpawn ||
                              (op.type == OpType::kWaitAvailable && op.mode == Mode::kBlock);
        workers.issue(op.worker, job_for(op), !may_park);
        const std::string real = workers.summary() + " | free=" + std::to_string(pool.free_count()) +
                                 " size=" + std::to_string(pool.size());
        const std::string expected = model.logs.summary() + " | free=" + std::to_string(model.free) +
                                     " size=" + std::to_string(model.members.size());
        if (real != expected) {
          mismatch = "after " + rc::toString(op) + "\nreal:  " + real + "\nmodel: " + expected;
          break;
        }
      }
    }  // the workers are killed here: spawners still waiting for room unwind
    pool.kill();
    if (!mismatch.empty()) RC_FAIL(mismatch);
  });
}

}  // namespace
