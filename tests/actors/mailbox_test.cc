// Mailbox: send, selective receive, timeouts, cross-thread sends.
#include <atomic>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "actors/actor.h"
#include "hub/wait_any.h"
#include "tests/hub/wait_conformance.h"
#include "tests/support/grove_test.h"

namespace grove {
namespace {

struct A {
  int n;
};
struct B {
  int n;
};
struct C {
  int n;
};

GROVE_TEST(Mailbox, MessagesArriveInSendOrder) {
  std::vector<int> got;
  Greenlet<void> receiver = spawn([&] {
    for (int i = 0; i < 5; ++i) receive([&](A a) { got.push_back(a.n); });
  });
  for (int i = 0; i < 5; ++i) send(receiver, A{i});
  receiver.get();
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3, 4}));
}

GROVE_TEST(Mailbox, SelectiveReceiveTakesTheFirstMatchAndKeepsTheRestInOrder) {
  std::vector<std::string> log;
  Greenlet<void> receiver = spawn([&] {
    // Mailbox: A0 B1 A2 C3 B4. Receive only B: B1. Then A or C: A0. Then anything: A2 C3 B4.
    receive([&](B b) { log.push_back("B" + std::to_string(b.n)); });
    receive([&](A a) { log.push_back("A" + std::to_string(a.n)); },
            [&](C c) { log.push_back("C" + std::to_string(c.n)); });
    for (int i = 0; i < 3; ++i) {
      receive([&](A a) { log.push_back("A" + std::to_string(a.n)); },
              [&](B b) { log.push_back("B" + std::to_string(b.n)); },
              [&](C c) { log.push_back("C" + std::to_string(c.n)); });
    }
  });
  send(receiver, A{0});
  send(receiver, B{1});
  send(receiver, A{2});
  send(receiver, C{3});
  send(receiver, B{4});
  receiver.get();
  EXPECT_EQ(log, (std::vector<std::string>{"B1", "A0", "A2", "C3", "B4"}));
}

GROVE_TEST(Mailbox, ReceiveWaitsForAMatchingMessage) {
  std::string got;
  Greenlet<void> receiver = spawn([&] { receive([&](const std::string& s) { got = s; }); });
  sleep(0.001);
  send(receiver, 42);  // not matched: stays
  sleep(0.001);
  EXPECT_FALSE(receiver.dead());
  send(receiver, std::string("hello"));
  receiver.get();
  EXPECT_EQ(got, "hello");
  EXPECT_EQ(receiver->mailbox_size(), 0u) << "a dead actor's mailbox is freed";
}

GROVE_TEST(Mailbox, ReceiveForTimesOutWithoutThrowing) {
  Greenlet<bool> receiver = spawn([] {
    return receive_for(std::chrono::milliseconds(10), [](A) {});
  });
  const double start = Deadline::now();
  EXPECT_FALSE(receiver.get());
  EXPECT_GE(Deadline::now() - start, 0.009);
}

GROVE_TEST(Mailbox, SendToADeadActorIsDroppedSilently) {
  Greenlet<void> g = spawn([] {});
  g.get();
  send(g, A{1});  // no error, nothing happens
  EXPECT_EQ(g->mailbox_size(), 0u);
}

GROVE_TEST(Mailbox, MoveOnlyMessages) {
  int got = 0;
  Greenlet<void> receiver = spawn([&] {
    receive([&](std::unique_ptr<int> p) { got = *p; });
  });
  send(receiver, std::make_unique<int>(7));
  receiver.get();
  EXPECT_EQ(got, 7);
}

GROVE_TEST(Mailbox, LongMailboxSelectiveReceiveIsNotQuadratic) {
  // 20,000 unmatched messages in front; 20,000 receives of the matching type behind them.
  constexpr int kN = 20000;
  int matched = 0;
  Greenlet<void> receiver = spawn([&] {
    for (int i = 0; i < kN; ++i) receive([&](B) { ++matched; });
  });
  for (int i = 0; i < kN; ++i) send(receiver, A{i});
  for (int i = 0; i < kN; ++i) send(receiver, B{i});
  receiver.get();
  EXPECT_EQ(matched, kN);
  EXPECT_EQ(receiver->mailbox_size(), 0u);
}

GROVE_TEST(Mailbox, CrossThreadSendsAllArriveInPerSenderOrder) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2000;
  struct Numbered {
    int thread;
    int seq;
  };
  std::vector<int> last(kThreads, -1);
  bool in_order = true;
  Greenlet<void> receiver = spawn([&] {
    for (int i = 0; i < kThreads * kPerThread; ++i) {
      receive([&](Numbered m) {
        if (m.seq != last[m.thread] + 1) in_order = false;
        last[m.thread] = m.seq;
      });
    }
  });
  Hub::current().ref_external();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([receiver, t] {
      for (int i = 0; i < kPerThread; ++i) send(receiver, Numbered{t, i});
    });
  }
  EXPECT_TRUE(receiver.join(Deadline::after(20.0)));
  for (auto& t : threads) t.join();
  Hub::current().unref_external();
  EXPECT_TRUE(in_order);
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(last[t], kPerThread - 1);
}

GROVE_TEST(Mailbox, ReceiveOutsideAnActorIsAnError) {
  EXPECT_THROW(receive([](A) {}), std::logic_error);
}

// receive in the wait-conformance suite: the waiter is an actor receiving on its own mailbox;
// release() sends it a message its receive takes. One receiver per mailbox, so no wake order.
// The mailbox as a wait_any source (mailbox_source) is the "many sources" part.
struct ReceiveWait {
  static constexpr testing::Wake kWake = testing::Wake::kSingleWaiter;
  template <class F>
  static FiberRef spawn(F body) {
    ActorRef actor = grove::spawn(std::move(body));
    return FiberRef(actor.get());
  }
  bool wait(Deadline d) {
    receiver = self();
    return receive_until(d, [](int) {});
  }
  WaitSource source() {
    receiver = self();
    return mailbox_source();
  }
  void release() { send(receiver, 1); }
  void done() {}
  // The receiver parks only in these waits.
  std::size_t waiting() const {
    return receiver && receiver->state() == FiberState::kParked ? 1 : 0;
  }
  ActorRef receiver;
};

GROVE_TEST(Mailbox, SourceIsReadyWhileAnyMessageIsQueued) {
  std::optional<std::size_t> before, after;
  std::size_t queued = 0;
  auto a = spawn([&] {
    WaitList idle;
    before = wait_any({WaitSource(idle, nullptr, nullptr), mailbox_source()}, Deadline::after(0.0));
    send(self(), std::string("not an int"));
    after = wait_any({WaitSource(idle, nullptr, nullptr), mailbox_source()}, Deadline::after(0.0));
    queued = self()->mailbox_size();
  });
  ASSERT_TRUE(a.join(Deadline::after(20.0)));
  EXPECT_EQ(before, std::nullopt);
  EXPECT_EQ(after, std::optional<std::size_t>(1));
  EXPECT_EQ(queued, 1u) << "wait_any only looks";
}

GROVE_TEST(Mailbox, SourceOutsideAnActorIsAnError) {
  EXPECT_THROW((void)mailbox_source(), std::logic_error);
}

}  // namespace

namespace testing {
INSTANTIATE_TYPED_TEST_SUITE_P(Receive, WaitConformance, ::testing::Types<ReceiveWait>);
}  // namespace testing

}  // namespace grove
