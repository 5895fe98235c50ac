// Model-based property of gevent.local through the FACADE: random set/get/reset/finish commands
// run by several greenlets against a sequential model in which each greenlet owns an optional
// value (made as the initial value on first get) that disappears when the greenlet finishes —
// checking both what each greenlet reads and how many values are alive after every step.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <optional>
#include <ostream>
#include <vector>

#include "facade/greenlet.h"
#include "facade/local.h"
#include "facade/queue.h"
#include "facade/testing.h"

namespace {

struct Value {
  static inline int alive = 0;
  int v = -1;  // the initial value every greenlet starts from
  Value() { ++alive; }
  Value(const Value& o) : v(o.v) { ++alive; }
  ~Value() { --alive; }
};

enum class Kind { kSet, kGet, kReset, kFinish };
struct Op {
  Kind kind;
  int worker;  // 0..2
  int value;
};
std::ostream& operator<<(std::ostream& os, const Op& op) {
  const char* names[] = {"set", "get", "reset", "finish"};
  return os << "g" << op.worker << "." << names[static_cast<int>(op.kind)] << "(" << op.value << ")";
}

}  // namespace

namespace rc {
template <>
struct Arbitrary<Op> {
  static Gen<Op> arbitrary() {
    return gen::build<Op>(gen::set(&Op::kind, gen::element(Kind::kSet, Kind::kGet, Kind::kReset,
                                                            Kind::kGet, Kind::kFinish)),
                          gen::set(&Op::worker, gen::inRange(0, 3)),
                          gen::set(&Op::value, gen::inRange(0, 100)));
  }
};
}  // namespace rc

namespace {

// A greenlet that runs commands from its inbox and answers each on `replies`.
struct Worker {
  gevent::queue::Queue<Op> inbox;
  gevent::Greenlet<void> greenlet;
};

RC_GTEST_PROP(GeventLocalProperty, EachGreenletSeesOnlyItsValueAndValuesDieWithIt,
              (const std::vector<Op>& ops)) {
  grove::testing::in_hub([&] {
    const int alive_before = Value::alive;
    {
      gevent::local<Value> local;
      gevent::queue::Queue<int> replies;
      std::vector<std::unique_ptr<Worker>> workers;
      std::map<int, std::optional<int>> model;  // worker -> its value, if it has one
      auto start = [&](int i) {
        auto w = std::make_unique<Worker>();
        Worker* self = w.get();
        w->greenlet = gevent::spawn([&local, &replies, self] {
          for (;;) {
            Op op = self->inbox.get();
            switch (op.kind) {
              case Kind::kSet: local->v = op.value; replies.put(0); break;
              case Kind::kGet: replies.put(local->v); break;
              case Kind::kReset: replies.put(local.reset() ? 1 : 0); break;
              case Kind::kFinish: return;
            }
          }
        });
        workers.push_back(std::move(w));
        return self;
      };
      std::vector<Worker*> current;
      for (int i = 0; i < 3; ++i) current.push_back(start(i));
      for (const Op& op : ops) {
        Worker* w = current[op.worker];
        std::optional<int>& mine = model[op.worker];
        w->inbox.put(op);
        switch (op.kind) {
          case Kind::kSet:
            (void)replies.get();
            mine = op.value;
            break;
          case Kind::kGet: {
            const int got = replies.get();
            if (!mine) mine = -1;
            RC_ASSERT(got == *mine);
            break;
          }
          case Kind::kReset:
            RC_ASSERT((replies.get() == 1) == mine.has_value());
            mine.reset();
            break;
          case Kind::kFinish:
            RC_ASSERT(w->greenlet.join(10.0));
            mine.reset();
            current[op.worker] = start(op.worker);
            break;
        }
        int expected_alive = 0;
        for (auto& [_, v] : model) expected_alive += v ? 1 : 0;
        RC_ASSERT(Value::alive - alive_before == expected_alive);
      }
      for (Worker* w : current) w->inbox.put(Op{Kind::kFinish, 0, 0});
      for (auto& w : workers) RC_ASSERT(w->greenlet.join(10.0));
    }
    RC_ASSERT(Value::alive == alive_before);
  });
}

}  // namespace
