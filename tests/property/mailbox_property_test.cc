// Property: selective receive equals the sequential model "remove the first message, in arrival
// order, whose type one of the handlers takes; leave the rest in order".
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "actors/actor.h"
#include "facade/testing.h"

namespace {

struct A { int v; };
struct B { int v; };
struct C { int v; };

// One step: send a message of `type` (0=A, 1=B, 2=C) with value `v`, or receive with handlers
// for the types in `mask` (bit t set = takes type t).
struct Op {
  bool send;
  int type;
  int v;
  int mask;
};

std::ostream& operator<<(std::ostream& os, const Op& op) {
  if (op.send) return os << "send(" << "ABC"[op.type] << op.v << ")";
  os << "receive(";
  for (int t = 0; t < 3; ++t) {
    if (op.mask & (1 << t)) os << "ABC"[t];
  }
  return os << ")";
}

}  // namespace

namespace rc {
template <>
struct Arbitrary<Op> {
  static Gen<Op> arbitrary() {
    return gen::oneOf(
        gen::build<Op>(gen::set(&Op::send, gen::just(true)), gen::set(&Op::type, gen::inRange(0, 3)),
                       gen::set(&Op::v, gen::inRange(0, 100)), gen::set(&Op::mask, gen::just(0))),
        gen::build<Op>(gen::set(&Op::send, gen::just(false)), gen::set(&Op::type, gen::just(0)),
                       gen::set(&Op::v, gen::just(0)), gen::set(&Op::mask, gen::inRange(1, 8))));
  }
};
}  // namespace rc

RC_GTEST_PROP(MailboxModel, SelectiveReceiveTakesTheFirstMatchInArrivalOrder,
              (const std::vector<Op>& ops)) {
  grove::testing::in_hub([&] {
    struct Msg {
      int type;
      int v;
    };
    std::vector<Msg> model;
    std::optional<Msg> got;
    bool timed_out = false;
    grove::WaitList done;
    // The actor reads its next command from `commands` and performs it on its own mailbox.
    std::vector<int> commands;
    grove::WaitList command_ready;
    auto subject = grove::spawn([&] {
      for (;;) {
        while (commands.empty()) (void)command_ready.wait();
        const int mask = commands.front();
        commands.erase(commands.begin());
        got.reset();
        auto take = [&](int type, int v) { got = Msg{type, v}; };
        auto a = [&](A m) { take(0, m.v); };
        auto b = [&](B m) { take(1, m.v); };
        auto c = [&](C m) { take(2, m.v); };
        const grove::Deadline now = grove::Deadline::after(0.0);
        bool ok = false;
        switch (mask) {
          case 1: ok = grove::receive_until(now, a); break;
          case 2: ok = grove::receive_until(now, b); break;
          case 3: ok = grove::receive_until(now, a, b); break;
          case 4: ok = grove::receive_until(now, c); break;
          case 5: ok = grove::receive_until(now, c, a); break;
          case 6: ok = grove::receive_until(now, b, c); break;
          case 7: ok = grove::receive_until(now, c, b, a); break;
        }
        timed_out = !ok;
        done.wake_all();
      }
    });
    // Stops the subject before the lists it waits on go away, also when an RC_ASSERT fails.
    struct StopSubject {
      grove::Greenlet<void>& subject;
      ~StopSubject() {
        subject.kill();
        (void)subject.join();
      }
    } stop{subject};
    for (const Op& op : ops) {
      if (op.send) {
        if (op.type == 0) grove::send(subject, A{op.v});
        if (op.type == 1) grove::send(subject, B{op.v});
        if (op.type == 2) grove::send(subject, C{op.v});
        model.push_back(Msg{op.type, op.v});
        continue;
      }
      commands.push_back(op.mask);
      command_ready.wake_all();
      (void)done.wait();
      // The model: the first message in arrival order whose type the mask takes.
      std::optional<Msg> expected;
      for (auto it = model.begin(); it != model.end(); ++it) {
        if (op.mask & (1 << it->type)) {
          expected = *it;
          model.erase(it);
          break;
        }
      }
      RC_ASSERT(timed_out == !expected.has_value());
      if (expected) {
        RC_ASSERT(got.has_value());
        RC_ASSERT(got->type == expected->type);
        RC_ASSERT(got->v == expected->v);
      }
    }
    RC_ASSERT(subject->mailbox_size() == model.size());
  });
}
