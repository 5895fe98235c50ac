// call/serve (gen_server-style request and reply), send_after, bounded mailboxes, the catch-all
// receive clause and the registry's spawn-time names.
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "actors/call.h"
#include "actors/registry.h"
#include "actors/timers.h"
#include "hub/timer.h"
#include "tests/support/grove_test.h"

namespace grove {
namespace {

struct Get {
  std::string key;
};
struct Put {
  std::string key;
  int value;
};
struct Go {};

Greenlet<void> kv_server() {
  return spawn([] {
    std::map<std::string, int> data;
    serve(on_call<Get>([&](const Get& g) { return data[g.key]; }),
          [&](Put p) { data[p.key] = p.value; });
  });
}

GROVE_TEST(Call, RepliesComeBackToTheCaller) {
  auto kv = kv_server();
  send(kv, Put{"a", 1});
  EXPECT_EQ(call<int>(kv, Get{"a"}, 5.0), 1);
  EXPECT_EQ(call<int>(kv, Get{"b"}, 5.0), 0);
  send(kv, StopServer{});
  ASSERT_TRUE(kv.join(Deadline::after(5.0)));
  EXPECT_EQ(kv.exit_reason(), ExitReason::normal());
}

GROVE_TEST(Call, ADeadServerIsNoProc) {
  auto kv = kv_server();
  send(kv, StopServer{});
  ASSERT_TRUE(kv.join(Deadline::after(5.0)));
  try {
    (void)call<int>(kv, Get{"a"}, 5.0);
    FAIL() << "no error";
  } catch (const CallError& e) {
    EXPECT_EQ(e.kind(), CallError::Kind::kNoProc);
    EXPECT_EQ(e.reason(), ExitReason::noproc());
  }
}

GROVE_TEST(Call, AServerThatDiesBeforeReplyingGivesItsReason) {
  auto server = spawn([] {
    receive([](Request<Get, int>) { throw ExitSignal{ExitReason::user("crashed")}; });
  });
  try {
    (void)call<int>(server, Get{"a"}, 5.0);
    FAIL() << "no error";
  } catch (const CallError& e) {
    EXPECT_EQ(e.kind(), CallError::Kind::kServerExited);
    EXPECT_EQ(e.reason(), ExitReason::user("crashed"));
  }
}

GROVE_TEST(Call, TimeoutAndALateReplyIsDroppedNotTakenByTheNextCall) {
  std::vector<Request<Get, int>> held;
  auto slow = spawn([&] {
    receive([&](Request<Get, int> r) { held.push_back(r); });  // answers later
    receive([](Request<Get, int> r) { r.reply(2); });
  });
  try {
    (void)call<int>(slow, Get{"first"}, 0.01);
    FAIL() << "no timeout";
  } catch (const CallError& e) {
    EXPECT_EQ(e.kind(), CallError::Kind::kTimeout);
  }
  ASSERT_EQ(held.size(), 1u);
  held[0].reply(1);  // too late: dropped
  EXPECT_EQ(call<int>(slow, Get{"second"}, 5.0), 2);
}

GROVE_TEST(Call, ACallerThatIsNotAnActorCanCall) {
  auto kv = kv_server();
  int got = -1;
  FiberRef plain = spawn_fiber([&] { got = call<int>(kv, Get{"x"}, 5.0); });
  ASSERT_TRUE(plain->join(Deadline::after(5.0)));
  EXPECT_EQ(got, 0);
  kv.kill();
}

GROVE_TEST(Call, StopServerWithAReasonEndsTheServerWithIt) {
  auto kv = kv_server();
  send(kv, StopServer{ExitReason::shutdown("maintenance")});
  ASSERT_TRUE(kv.join(Deadline::after(5.0)));
  EXPECT_EQ(kv.exit_reason(), ExitReason::shutdown("maintenance"));
}

struct Tick {
  int n;
};

GROVE_TEST(SendAfter, DeliversAfterTheDelay) {
  std::vector<int> got;
  auto a = spawn([&] {
    (void)send_after(self(), Tick{1}, 0.01);
    receive([&](Tick t) { got.push_back(t.n); });
  });
  ASSERT_TRUE(a.join(Deadline::after(5.0)));
  EXPECT_EQ(got, std::vector<int>{1});
}

GROVE_TEST(SendAfter, CancelledMessagesNeverArrive) {
  bool got_cancelled = false;
  auto a = spawn([&] {
    TimerHandle t = send_after(self(), Tick{1}, 0.01);
    EXPECT_TRUE(t.pending());
    EXPECT_TRUE(t.cancel());
    EXPECT_FALSE(t.cancel());
    (void)send_after(self(), Tick{2}, 0.03);
    receive([&](Tick t2) { got_cancelled = t2.n == 1; });
  });
  ASSERT_TRUE(a.join(Deadline::after(5.0)));
  EXPECT_FALSE(got_cancelled);
}

GROVE_TEST(SendAfter, MoveOnlyMessagesTravel) {
  int got = 0;
  auto a = spawn([&] {
    (void)send_after(self(), std::make_unique<int>(7), 0.001);
    receive([&](std::unique_ptr<int> p) { got = *p; });
  });
  ASSERT_TRUE(a.join(Deadline::after(5.0)));
  EXPECT_EQ(got, 7);
}

GROVE_TEST(CallLater, AFiredTimerIsNotPendingAndAnUnfiredOneDiesWithTheHub) {
  bool fired = false;
  TimerHandle t = call_later(0.001, [&] { fired = true; });
  sleep(0.02);
  EXPECT_TRUE(fired);
  EXPECT_FALSE(t.pending());
  EXPECT_FALSE(t.cancel());
  // Left pending on purpose: the hub frees it when the test's hub is destroyed (LSan checks).
  (void)call_later(3600, [keep = std::make_shared<int>(1)] {});
}

GROVE_TEST(Mailbox, DropNewestKeepsTheFirstMessages) {
  ActorOptions options;
  options.mailbox = {.max_messages = 3, .overflow = MailboxOverflow::kDropNewest};
  std::vector<int> got;
  auto a = spawn_opt(options, [&] {
    receive([](Go) {});
    while (receive_for(std::chrono::milliseconds(1), [&](Tick t) { got.push_back(t.n); })) {
    }
  });
  for (int i = 0; i < 10; ++i) send(a, Tick{i});
  EXPECT_EQ(a->mailbox_size(), 3u);
  EXPECT_EQ(a->mailbox_dropped(), 7u);
  EXPECT_NE(Hub::current().run_info().find("mailbox=3/3 dropped=7"), std::string::npos);
  exit(a, ExitReason::user("x"));  // an exit signal is not a message: never dropped
  ASSERT_TRUE(a.join(Deadline::after(5.0)));
  EXPECT_TRUE(got.empty());
}

GROVE_TEST(Mailbox, DropOldestKeepsTheLatestMessages) {
  ActorOptions options;
  options.mailbox = {.max_messages = 3, .overflow = MailboxOverflow::kDropOldest};
  std::vector<int> got;
  auto a = spawn_opt(options, [&] {
    receive([](Go) {});
    for (int i = 0; i < 2; ++i) receive([&](Tick t) { got.push_back(t.n); });
  });
  sleep(0.0);
  for (int i = 0; i < 10; ++i) send(a, Tick{i});  // keeps 7, 8, 9
  send(a, Go{});                                  // drops 7
  ASSERT_TRUE(a.join(Deadline::after(5.0)));
  EXPECT_EQ(got, (std::vector<int>{8, 9}));
  EXPECT_EQ(a->mailbox_dropped(), 0u);  // dead: its mailbox is gone
}

GROVE_TEST(Mailbox, KillReceiverEndsItWithMailboxOverflow) {
  ActorOptions options;
  options.mailbox = {.max_messages = 2, .overflow = MailboxOverflow::kKillReceiver};
  auto a = spawn_opt(options, [] {
    trap_exit(true);  // cannot trap this one
    receive([](Go) {});
  });
  sleep(0.0);
  for (int i = 0; i < 3; ++i) send(a, Tick{i});
  ASSERT_TRUE(a.join(Deadline::after(5.0)));
  EXPECT_EQ(a.exit_reason(), ExitReason::user("mailbox_overflow"));
}

GROVE_TEST(Mailbox, BlockSenderWaitsForRoomThenGivesUpWithMailboxFull) {
  ActorOptions options;
  options.mailbox = {.max_messages = 2, .overflow = MailboxOverflow::kBlockSender,
                     .block_seconds = 0.5};
  std::vector<int> got;
  bool open = false;
  auto a = spawn_opt(options, [&] {
    while (!open) sleep(0.001);  // not reading yet
    for (;;) receive([&](Tick t) { got.push_back(t.n); });
  });
  send(a, Tick{0});
  send(a, Tick{1});
  EXPECT_THROW(send(a, Tick{2}), MailboxFull);  // nobody reads: the wait runs out
  EXPECT_EQ(a->mailbox_size(), 2u);
  // Once the receiver reads, a blocked sender goes through, in order.
  FiberRef sender = spawn_fiber([&] {
    for (int i = 2; i < 6; ++i) send(a, Tick{i});
  });
  sleep(0.0);  // the sender waits for room
  open = true;
  ASSERT_TRUE(sender->join(Deadline::after(5.0)));
  while (got.size() < 6 && a->mailbox_size() > 0) sleep(0.001);
  sleep(0.001);
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2, 3, 4, 5}));
  a.kill();
}

GROVE_TEST(Mailbox, ExitAndDownAreNeverDropped) {
  ActorOptions options;
  options.mailbox = {.max_messages = 1, .overflow = MailboxOverflow::kDropNewest};
  auto b = spawn([] {
    receive([](Go) {});
    throw ExitSignal{ExitReason::user("bye")};
  });
  auto a = spawn_opt(options, [b] {
    trap_exit(true);
    link(b);
    (void)monitor(b);
    receive([](Go) {});
  });
  sleep(0.0);
  send(a, Tick{0});  // fills it
  send(a, Tick{1});  // dropped
  send(b, Go{});
  ASSERT_TRUE(b.join(Deadline::after(5.0)));
  sleep(0.0);
  EXPECT_EQ(a->mailbox_size(), 3u);  // Tick 0, Exit, Down
  EXPECT_EQ(a->mailbox_dropped(), 1u);
  a.kill();
}

GROVE_TEST(Receive, AnyMessageIsACatchAllForTheUnexpected) {
  std::vector<std::string> got;
  auto a = spawn([&] {
    for (int i = 0; i < 3; ++i) {
      receive([&](Tick t) { got.push_back("tick " + std::to_string(t.n)); },
              [&](AnyMessage m) {
                got.push_back("unexpected " + m.type_name());
                if (const Get* g = m.get_if<Get>()) got.push_back("key " + g->key);
              });
    }
  });
  send(a, Get{"k"});
  send(a, Tick{1});
  send(a, std::string("s"));
  ASSERT_TRUE(a.join(Deadline::after(5.0)));
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0], "unexpected grove::(anonymous namespace)::Get");
  EXPECT_EQ(got[1], "key k");
  EXPECT_EQ(got[2], "tick 1");
  EXPECT_EQ(got[3].rfind("unexpected std::", 0), 0u) << got[3];
}

GROVE_TEST(Registry, RegisterAsNamesTheActorBeforeItRuns) {
  ActorOptions options;
  options.register_as = "kv";
  auto a = spawn_opt(options, [] { receive([](Go) {}); });
  EXPECT_EQ(whereis("kv"), ActorRef(a));
  EXPECT_EQ(a.name(), "kv");
  send("kv", Go{});
  ASSERT_TRUE(a.join(Deadline::after(5.0)));
  EXPECT_FALSE(whereis("kv"));
}

GROVE_TEST(Registry, RegisterAsATakenNameThrowsAndNothingRuns) {
  auto holder = spawn([] { receive([](Go) {}); });
  register_name("taken", holder);
  bool ran = false;
  ActorOptions options;
  options.register_as = "taken";
  EXPECT_THROW((void)spawn_opt(options, [&] { ran = true; }), std::invalid_argument);
  sleep(0.0);
  EXPECT_FALSE(ran);
  EXPECT_EQ(whereis("taken"), ActorRef(holder));
  holder.kill();
}

GROVE_TEST(Registry, OneNamePerActor) {
  auto a = spawn([] { receive([](Go) {}); });
  register_name("first", a);
  EXPECT_THROW(register_name("second", a), std::invalid_argument);
  EXPECT_FALSE(whereis("second"));
  EXPECT_TRUE(unregister_name("first"));
  register_name("second", a);  // free again after unregister
  EXPECT_EQ(whereis("second"), ActorRef(a));
  a.kill();
}

GROVE_TEST(Registry, SendToAnUnknownNameIsAnError) {
  EXPECT_THROW(send("nobody", Go{}), std::invalid_argument);
}

}  // namespace
}  // namespace grove
