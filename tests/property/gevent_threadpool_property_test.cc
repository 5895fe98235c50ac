// Model-based property of gevent.threadpool's result delivery through the FACADE: random
// spawn/apply/map/imap_unordered/set_maxsize/collect commands; every result must reach the
// handle of the job that produced it (value or exception), exactly the jobs submitted must have
// run, no more threads than the largest limit in force may run at once, and join() must leave
// nothing outstanding.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ostream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "facade/greenlet.h"
#include "facade/testing.h"
#include "facade/threadpool.h"

namespace {

enum class Kind { kSpawn, kApply, kMap, kImapUnordered, kSetMaxsize, kCollect };
struct Op {
  Kind kind;
  int value;  // input; odd inputs above 80 throw
  int size;   // for kSetMaxsize (1..4) and kMap (items)
};
std::ostream& operator<<(std::ostream& os, const Op& op) {
  const char* names[] = {"spawn", "apply", "map", "imap_unordered", "set_maxsize", "collect"};
  return os << names[static_cast<int>(op.kind)] << "(" << op.value << "," << op.size << ")";
}

}  // namespace

namespace rc {
template <>
struct Arbitrary<Op> {
  static Gen<Op> arbitrary() {
    return gen::build<Op>(
        gen::set(&Op::kind, gen::element(Kind::kSpawn, Kind::kSpawn, Kind::kSpawn, Kind::kApply,
                                         Kind::kMap, Kind::kImapUnordered, Kind::kSetMaxsize,
                                         Kind::kCollect)),
        gen::set(&Op::value, gen::inRange(0, 100)), gen::set(&Op::size, gen::inRange(1, 5)));
  }
};
}  // namespace rc

namespace {

struct Probe {
  std::atomic<int> inside{0};
  std::atomic<int> most{0};
  std::atomic<int> runs{0};
};

int job(Probe& p, int x) {
  const int now = ++p.inside;
  int m = p.most.load();
  while (now > m && !p.most.compare_exchange_weak(m, now)) {
  }
  ++p.runs;
  if (x % 3 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200 * (x % 7)));
  --p.inside;
  if (x > 80 && x % 2 == 1) throw std::invalid_argument(std::to_string(x));
  return x * x + 1;
}

// What a handle must deliver for input x: the value, or -x for the exception.
int expected(int x) { return x > 80 && x % 2 == 1 ? -x : x * x + 1; }

RC_GTEST_PROP(GeventThreadPoolProperty, EveryResultReachesItsOwnHandle,
              (const std::vector<Op>& ops)) {
  grove::testing::in_hub([&] {
    Probe probe;
    gevent::threadpool::ThreadPool pool(2);
    int limit = 2;
    int most_allowed = 2;
    int submitted = 0;
    std::vector<std::pair<int, gevent::threadpool::ThreadResult<int>>> pending;
    auto outcome = [&](auto&& get) {
      try {
        return get();
      } catch (const std::invalid_argument& e) {
        return -std::stoi(e.what());
      }
    };
    auto collect = [&] {
      for (auto& [x, r] : pending) RC_ASSERT(outcome([&] { return r.get(true, 30.0); }) == expected(x));
      pending.clear();
    };
    for (const Op& op : ops) {
      switch (op.kind) {
        case Kind::kSpawn:
          pending.emplace_back(op.value, pool.spawn([&probe](int x) { return job(probe, x); }, op.value));
          ++submitted;
          break;
        case Kind::kApply:
          RC_ASSERT(outcome([&] { return pool.apply([&] { return job(probe, op.value); }); }) ==
                    expected(op.value));
          ++submitted;
          break;
        case Kind::kMap: {
          std::vector<int> items;
          for (int i = 0; i < op.size; ++i) items.push_back((op.value + i * 2) % 80);  // no throws
          std::vector<int> want;
          for (int x : items) want.push_back(expected(x));
          RC_ASSERT(pool.map([&probe](int x) { return job(probe, x); }, items) == want);
          submitted += op.size;
          break;
        }
        case Kind::kImapUnordered: {
          std::vector<int> items;
          for (int i = 0; i < op.size; ++i) items.push_back((op.value + i * 3) % 80);
          std::vector<int> want;
          for (int x : items) want.push_back(expected(x));
          std::vector<int> got;
          for (int v : pool.imap_unordered([&probe](int x) { return job(probe, x); }, items)) {
            got.push_back(v);
          }
          std::sort(want.begin(), want.end());
          std::sort(got.begin(), got.end());
          RC_ASSERT(got == want);
          submitted += op.size;
          break;
        }
        case Kind::kSetMaxsize:
          limit = op.size;
          most_allowed = std::max(most_allowed, limit);
          pool.set_maxsize(static_cast<std::size_t>(limit));
          break;
        case Kind::kCollect:
          collect();
          break;
      }
    }
    collect();
    RC_ASSERT(pool.join(30.0));
    RC_ASSERT(pool.task_count() == 0u);
    RC_ASSERT(probe.runs.load() == submitted);
    RC_ASSERT(probe.most.load() <= most_allowed);
  }, 60.0);
}

}  // namespace
