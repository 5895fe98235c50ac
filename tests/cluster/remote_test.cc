// tests/cluster/remote_test.cc — spawn on a named node and call across nodes, against a real
// nats-server and a peer node process: the Pid or the error spawn gives, call's reply / noproc /
// server-exited / timeout with the late reply dropped, node-down during a call, and hostile
// spawn and call frames.

#include <nats/nats.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "actors/call.h"
#include "actors/event.h"
#include "cluster/node.h"
#include "hub/thread_pool.h"
#include "tests/cluster/fixture.h"

namespace grove::cluster::testing {
namespace {

// Publishes raw frames from a plain NATS connection (what a hostile or broken client sends).
void publish_raw(const std::string& url, const std::vector<std::pair<std::string, std::string>>& frames) {
  const natsStatus s = grove::run_in_thread([&] {
    natsConnection* raw = nullptr;
    natsStatus st = natsConnection_ConnectTo(&raw, url.c_str());
    for (const auto& [to, payload] : frames) {
      if (st == NATS_OK) st = natsConnection_Publish(raw, to.c_str(), payload.data(), static_cast<int>(payload.size()));
    }
    if (st == NATS_OK) st = natsConnection_Flush(raw);
    natsConnection_Destroy(raw);
    return st;
  });
  ASSERT_EQ(s, NATS_OK);
}

template <class... Fields>
std::string pack(const Fields&... fields) {
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> p(buffer);
  p.pack_array(sizeof...(fields));
  (p.pack(fields), ...);
  return std::string(buffer.data(), buffer.size());
}

template <class F>
SpawnError::Kind spawn_error(F attempt) {
  try {
    attempt();
  } catch (const SpawnError& e) {
    return e.kind();
  }
  ADD_FAILURE() << "spawn did not fail";
  return SpawnError::Kind::kTimeout;
}

template <class F>
CallError call_error(F attempt) {
  try {
    attempt();
  } catch (const CallError& e) {
    return e;
  }
  ADD_FAILURE() << "call did not fail";
  return CallError(CallError::Kind::kTimeout, ExitReason::normal(), "none");
}

GROVE_TEST(ClusterSpawn, StartsTheFunctionRegisteredOnTheNamedNode) {
  Cluster c;
  as_actor([&] {
    Peer b = c.start_peer("b");
    const Pid me = c.node->self_pid();
    const Pid echo = c.node->spawn("b", kEcho, kWait);
    EXPECT_EQ(echo.node, "b");
    EXPECT_EQ(echo.incarnation, b.pid.incarnation);
    EXPECT_NE(echo.actor, b.pid.actor) << "a new actor";
    c.node->send(echo, Ping{me, 7});
    ASSERT_TRUE(grove::receive_until(Deadline::after(kWait), [](const Pong& p) {
      EXPECT_EQ(p.seq, 7u);
      EXPECT_EQ(p.node, "b");
    }));
    // With an argument: the new actor reports to the Pid it was given.
    const Pid reporter = c.node->spawn("b", kReportTo, Hello{me}, kWait);
    EXPECT_EQ(await_hello(), reporter);
    // The spawned actors are ordinary remote actors: monitor one, end it.
    const MonitorRef ref = c.node->monitor(echo);
    c.node->send(echo, Crash{"done"});
    ASSERT_TRUE(grove::receive_until(Deadline::after(kWait), [&](const RemoteDown& d) {
      EXPECT_EQ(d.ref, ref);
      EXPECT_EQ(d.reason, ExitReason::user("done"));
    }));
  });
}

GROVE_TEST(ClusterSpawn, OnTheOwnNodeStartsLocally) {
  Cluster c;
  as_actor([&] {
    grove::Event ran;
    c.node->register_function("test.local", [&] { ran.set(); });
    const Pid pid = c.node->spawn("t", "test.local");
    EXPECT_EQ(pid.node, "t");
    EXPECT_TRUE(ran.wait_for(std::chrono::seconds(30)));
    EXPECT_EQ(spawn_error([&] { c.node->spawn("t", "no.such.function"); }), SpawnError::Kind::kUnknownFunction);
  });
}

GROVE_TEST(ClusterSpawn, UnknownFunctionBadArgumentsAndADownNodeGiveClearErrors) {
  Cluster c;
  as_actor([&] {
    Peer b = c.start_peer("b");
    try {
      c.node->spawn("b", "no.such.function", kWait);
      ADD_FAILURE() << "spawn of an unknown function succeeded";
    } catch (const SpawnError& e) {
      EXPECT_EQ(e.kind(), SpawnError::Kind::kUnknownFunction);
      EXPECT_NE(std::string(e.what()).find("no.such.function"), std::string::npos) << e.what();
    }
    // kReportTo wants a Hello: none, or a Ping instead, do not fit.
    EXPECT_EQ(spawn_error([&] { c.node->spawn("b", kReportTo, kWait); }), SpawnError::Kind::kBadArguments);
    EXPECT_EQ(spawn_error([&] { c.node->spawn("b", kReportTo, std::string("not a hello"), kWait); }),
              SpawnError::Kind::kBadArguments);
    // A node nobody runs: not up within node_timeout.
    EXPECT_EQ(spawn_error([&] { c.node->spawn("nosuch", kEcho, kWait); }), SpawnError::Kind::kNodeDown);
    // A node killed: down once it is declared so, and spawn says that at once.
    ASSERT_TRUE(eventually([&] { return c.node->is_up("b"); }));
    b.process.signal(SIGKILL);
    ASSERT_TRUE(eventually([&] { return !c.node->is_up("b"); }));
    EXPECT_EQ(spawn_error([&] { c.node->spawn("b", kEcho, kWait); }), SpawnError::Kind::kNodeDown);
    // A bad node name is the caller's mistake.
    EXPECT_THROW(c.node->spawn("bad name!", kEcho), std::invalid_argument);
  });
}

GROVE_TEST(ClusterSpawn, GarbageSpawnRequestsAreDroppedWithALogLine) {
  LogCounter dropped("dropped a message");
  LogCounter refused("spawn asked by node");
  Cluster c;
  as_actor([&] {
    c.node->register_function<Hello>("test.greet", [](const Hello&) {});
    const std::string subject = fmt::format("grove.node.t.{:x}", c.node->incarnation());
    const Pid reply_to{"x", 1, 0};
    const std::vector<std::pair<std::string, std::string>> garbage = {
        {subject, pack(1, 8)},                                                        // fields missing
        {subject, pack(1, 8, std::string("not a pid"), 1, std::string(kEcho), 0)},  // reply node not a Pid
        {subject, pack(1, 8, Pid{"bad name!", 1, 0}, 1, std::string(kEcho), 0)},    // bad reply node
        {subject, pack(1, 8, reply_to, std::string("id"), std::string(kEcho), 0)},  // id not a number
        {subject, pack(1, 8, reply_to, 1, 42, 0)},                                  // name not a string
    };
    // Well-formed but refused: answered (to a node nobody runs) and logged, not dropped.
    const std::vector<std::pair<std::string, std::string>> refused_frames = {
        {subject, pack(1, 8, reply_to, 2, std::string("no.such.function"), msgpack::type::nil_t())},
        {subject, pack(1, 8, reply_to, 3, std::string("test.greet"), std::string("not a hello"))},
    };
    std::vector<std::pair<std::string, std::string>> all = garbage;
    all.insert(all.end(), refused_frames.begin(), refused_frames.end());
    publish_raw(c.nats.url(), all);
    ASSERT_TRUE(eventually([&] {
      return c.node->stats().dropped >= garbage.size() && refused.count() >= refused_frames.size();
    }));
    EXPECT_EQ(c.node->stats().dropped, garbage.size());
    EXPECT_EQ(dropped.count(), garbage.size());
    EXPECT_EQ(refused.count(), refused_frames.size());
    // The node goes on: a peer can still spawn here, and this node there.
    Peer b = c.start_peer("b");
    const Pid echo = c.node->spawn("b", kEcho, kWait);
    EXPECT_EQ(c.node->call<std::int64_t>(echo, Add{20, 22}, kWait), 42);
  });
}

GROVE_TEST(ClusterCall, RepliesAcrossNodesAsLocally) {
  Cluster c;
  as_actor([&] {
    Peer b = c.start_peer("b");
    for (std::int64_t i = 0; i < 50; ++i) EXPECT_EQ(c.node->call<std::int64_t>(b.pid, Add{i, 1}, kWait), i + 1);
    // A local server named by its Pid is called locally.
    auto local = grove::spawn([] { grove::serve(grove::on_call<Add>([](const Add& a) { return a.a * a.b; })); });
    EXPECT_EQ(c.node->call<std::int64_t>(c.node->pid(local), Add{6, 7}, kWait), 42);
    local.kill();
    ASSERT_TRUE(local.join_for(std::chrono::seconds(30)));
    // ... and when it is gone, the call says noproc, as locally.
    EXPECT_EQ(call_error([&] { c.node->call<std::int64_t>(c.node->pid(local), Add{1, 1}, kWait); }).kind(),
              CallError::Kind::kNoProc);
  });
}

GROVE_TEST(ClusterCall, CalleeDyingBeforeReplyingGivesServerExitedWithItsReason) {
  Cluster c;
  as_actor([&] {
    Peer b = c.start_peer("b");
    const CallError e = call_error([&] { c.node->call<std::int64_t>(b.pid, DieOnCall{"bye"}, kWait); });
    EXPECT_EQ(e.kind(), CallError::Kind::kServerExited);
    EXPECT_EQ(e.reason(), ExitReason::user("bye"));
    // Calling it now that it is dead: noproc.
    const CallError again = call_error([&] { c.node->call<std::int64_t>(b.pid, Add{1, 2}, kWait); });
    EXPECT_EQ(again.kind(), CallError::Kind::kNoProc);
    EXPECT_EQ(again.reason(), ExitReason::noproc());
  });
}

GROVE_TEST(ClusterCall, ReplyAfterTheTimeoutIsDroppedNotMistakenForTheNextReply) {
  Cluster c;
  as_actor([&] {
    Peer b = c.start_peer("b");
    const std::uint64_t dropped_before = c.node->stats().dropped;
    // The first request this node makes has id 1.
    EXPECT_EQ(call_error([&] { c.node->call<std::int64_t>(b.pid, SlowEcho{1.0, 7}, 0.1); }).kind(),
              CallError::Kind::kTimeout);
    // The server is still busy with it. Meanwhile the answer to the first call arrives late (sent
    // here by hand: the serving node itself stops waiting at the caller's timeout).
    const std::string subject = fmt::format("grove.node.t.{:x}", c.node->incarnation());
    auto late = grove::spawn([&] { publish_raw(c.nats.url(), {{subject, pack(1, 10, 1, 0, std::int64_t{7})}}); });
    // The next call gets its own answer, not the late 7.
    EXPECT_EQ(c.node->call<std::int64_t>(b.pid, SlowEcho{0.5, 2}, kWait), 2);
    ASSERT_TRUE(late.join_for(std::chrono::seconds(30)));
    EXPECT_EQ(c.node->call<std::int64_t>(b.pid, Add{1, 1}, kWait), 2);
    EXPECT_EQ(grove::self()->mailbox_size(), 0u) << "a late reply reached the caller's mailbox";
    EXPECT_EQ(c.node->stats().dropped, dropped_before) << "a late reply is not bad input";
  });
}

GROVE_TEST(ClusterCall, NodeKilledDuringTheCallGivesNoconnection) {
  Cluster c;
  as_actor([&] {
    Peer b = c.start_peer("b");
    ASSERT_TRUE(eventually([&] { return c.node->is_up("b"); }));
    auto killer = grove::spawn([&] {
      grove::sleep(0.3);
      b.process.signal(SIGKILL);
    });
    const CallError e = call_error([&] { c.node->call<std::int64_t>(b.pid, SlowEcho{600, 1}, 120); });
    EXPECT_EQ(e.kind(), CallError::Kind::kServerExited);
    EXPECT_EQ(e.reason(), noconnection());
    ASSERT_TRUE(killer.join_for(std::chrono::seconds(30)));
    // The old incarnation stays dead.
    EXPECT_EQ(call_error([&] { c.node->call<std::int64_t>(b.pid, Add{1, 1}, kWait); }).reason(), noconnection());
  });
}

GROVE_TEST(ClusterCall, GarbageCallFramesAreDroppedWithALogLine) {
  LogCounter dropped("dropped a message");
  Cluster c;
  as_actor([&] {
    auto server = grove::spawn([] { grove::serve(grove::on_call<Add>([](const Add& a) { return a.a + a.b; })); });
    const Pid to = c.node->pid(server);
    const std::string subject = fmt::format("grove.node.t.{:x}", c.node->incarnation());
    const Pid reply_to{"x", 1, 0};
    const std::vector<std::pair<std::string, std::string>> garbage = {
        {subject, pack(1, 9, reply_to, 1, to.actor, std::string("no.such.Call"), Add{1, 2}, 5.0)},  // unknown
        {subject, pack(1, 9, reply_to, 2, to.actor, std::string("test.Add"), std::string("x"), 5.0)},  // bad body
        {subject, pack(1, 9, reply_to, 3, to.actor, std::string("test.Add"), Add{1, 2}, -1.0)},  // bad timeout
        {subject, pack(1, 9, reply_to, 4, to.actor, std::string("test.Ping"), Add{1, 2}, 5.0)},  // not a call
        {subject, pack(1, 0, to.actor, std::string("test.Add"), Add{1, 2})},  // a call sent as a message
        {subject, pack(1, 10, 99, 0)},                                        // a reply missing its body
        {subject, pack(1, 9, reply_to)},                                      // fields missing
    };
    publish_raw(c.nats.url(), garbage);
    ASSERT_TRUE(eventually([&] { return c.node->stats().dropped >= garbage.size(); }));
    EXPECT_EQ(c.node->stats().dropped, garbage.size());
    EXPECT_EQ(dropped.count(), garbage.size());
    EXPECT_FALSE(server.dead());
    EXPECT_EQ(c.node->call<std::int64_t>(to, Add{2, 3}, kWait), 5);
    server.kill();
  });
}

}  // namespace
}  // namespace grove::cluster::testing
