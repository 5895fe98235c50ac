// tests/cluster/node_test.cc — nodes in separate processes talking through a real nats-server:
// remote send order, remote links and monitors (E3–E8 across nodes), node-down with
// `noconnection` after kill -9, reconnection after the server restarts, and hostile payloads.

#include "cluster/node.h"

#include <nats/nats.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <map>

#include "actors/actor.h"
#include "actors/event.h"
#include "hub/thread_pool.h"
#include "tests/cluster/fixture.h"

namespace grove::cluster::testing {
namespace {

GROVE_TEST(ClusterNode, RemoteSendKeepsOrderPerSenderAcrossThreeNodes) {
  Cluster c;
  as_actor([&] {
    auto started = c.start_peers({"b", "d"});
    std::map<std::string, Pid> peers{{"b", started["b"].pid}, {"d", started["d"].pid}};
    constexpr std::uint64_t kCount = 2000;
    const Pid me = c.node->self_pid();
    for (std::uint64_t i = 0; i < kCount; ++i) c.node->send(peers["b"], Ping{me, i});
    for (std::uint64_t i = 0; i < kCount; ++i) {
      std::uint64_t seq = ~0ull;
      ASSERT_TRUE(grove::receive_until(Deadline::after(kWait), [&](const Pong& p) { seq = p.seq; }));
      ASSERT_EQ(seq, i) << "pongs out of order";
    }
    for (auto& [name, pid] : peers) c.node->send(pid, Burst{me, kCount});
    std::map<std::string, std::uint64_t> next;
    for (std::uint64_t i = 0; i < 2 * kCount; ++i) {
      Numbered got;
      ASSERT_TRUE(grove::receive_until(Deadline::after(kWait), [&](const Numbered& n) { got = n; }));
      ASSERT_EQ(got.n, next[got.node]++) << "out of order from " << got.node;
    }
    EXPECT_EQ(next["b"], kCount);
    EXPECT_EQ(next["d"], kCount);
  });
}

GROVE_TEST(ClusterNode, E8_RemoteMonitorDeliversOneDownWithTheReasonThenNoproc) {
  Cluster c;
  as_actor([&] {
    Peer b = c.start_peer("b");
    const Pid peer = b.pid;
    const MonitorRef ref = c.node->monitor(peer);
    const MonitorRef second = c.node->monitor(peer);  // monitors stack
    EXPECT_FALSE(ref == second);
    c.node->send(peer, Crash{"boom"});
    std::map<std::uint64_t, int> downs;
    for (int i = 0; i < 2; ++i) {
      ASSERT_TRUE(grove::receive_until(Deadline::after(kWait), [&](const RemoteDown& d) {
        EXPECT_EQ(d.from, peer);
        EXPECT_EQ(d.reason, ExitReason::user("boom"));
        ++downs[d.ref.id];
      }));
    }
    EXPECT_EQ(downs[ref.id], 1);
    EXPECT_EQ(downs[second.id], 1);
    // Monitoring the dead actor gives Down with noproc.
    const MonitorRef late = c.node->monitor(peer);
    ASSERT_TRUE(grove::receive_until(Deadline::after(kWait), [&](const RemoteDown& d) {
      EXPECT_EQ(d.ref, late);
      EXPECT_EQ(d.reason, ExitReason::noproc());
    }));
    EXPECT_FALSE(grove::receive_for(std::chrono::milliseconds(200), [](const RemoteDown&) {}))
        << "one Down per monitor";
  });
}

GROVE_TEST(ClusterNode, E4_E5_RemoteLinkCarriesTheExitSignalBothWays) {
  Cluster c;
  as_actor([&] {
    Peer b = c.start_peer("b");
    const Pid peer = b.pid;
    // A non-trapping local actor linked to the peer ends with the peer's reason (E4).
    grove::Event linked;
    auto follower = grove::spawn([&] {
      c.node->link(peer);
      linked.set();
      grove::receive([](const Ping&) {});
    });
    ASSERT_TRUE(linked.wait_for(std::chrono::seconds(30)));
    // A trapping one gets RemoteExit (E5).
    grove::trap_exit(true);
    c.node->link(peer);
    // And the peer links to a local actor: its end reaches the peer (the other direction).
    auto local = grove::spawn([] { grove::receive([](const Ping&) {}); });
    c.node->send(peer, LinkTo{c.node->pid(local)});
    ASSERT_TRUE(grove::receive_until(Deadline::after(kWait), [](const Linked&) {}));
    const MonitorRef ref = c.node->monitor(peer);
    grove::exit(local, ExitReason::user("bye"));
    ASSERT_TRUE(grove::receive_until(Deadline::after(kWait), [&](const RemoteExit& e) {
      EXPECT_EQ(e.from, peer);
      EXPECT_EQ(e.reason, ExitReason::user("bye"));
    }));
    ASSERT_TRUE(grove::receive_until(Deadline::after(kWait), [&](const RemoteDown& d) {
      EXPECT_EQ(d.ref, ref);
      EXPECT_EQ(d.reason, ExitReason::user("bye"));
    }));
    ASSERT_TRUE(follower.join_for(std::chrono::seconds(30)));
    EXPECT_EQ(follower.exit_reason(), ExitReason::user("bye"));
  });
}

GROVE_TEST(ClusterNode, E7_LinkToADeadRemoteActorGivesNoproc) {
  Cluster c;
  as_actor([&] {
    Peer b = c.start_peer("b");
    const Pid peer = b.pid;
    const MonitorRef ref = c.node->monitor(peer);
    c.node->send(peer, Crash{"boom"});
    ASSERT_TRUE(grove::receive_until(Deadline::after(kWait), [&](const RemoteDown& d) { EXPECT_EQ(d.ref, ref); }));
    grove::trap_exit(true);
    c.node->link(peer);
    ASSERT_TRUE(grove::receive_until(Deadline::after(kWait), [&](const RemoteExit& e) {
      EXPECT_EQ(e.from, peer);
      EXPECT_EQ(e.reason, ExitReason::noproc());
    }));
  });
}

GROVE_TEST(ClusterNode, NodeKilledWithSigkillFiresLinksAndMonitorsWithNoconnection) {
  Cluster c;
  as_actor([&] {
    Peer b = c.start_peer("b");
    const Pid peer = b.pid;
    // Wait until the peer's heartbeats arrive (it is up), then cut it off.
    const Pid me = c.node->self_pid();
    c.node->send(peer, Ping{me, 1});
    ASSERT_TRUE(grove::receive_until(Deadline::after(kWait), [](const Pong&) {}));
    const auto up_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!c.node->is_up("b") && std::chrono::steady_clock::now() < up_deadline) grove::sleep(0.05);
    ASSERT_TRUE(c.node->is_up("b"));
    grove::trap_exit(true);
    c.node->link(peer);
    const MonitorRef ref = c.node->monitor(peer);
    const auto killed_at = std::chrono::steady_clock::now();
    b.process.signal(SIGKILL);
    ASSERT_TRUE(grove::receive_until(Deadline::after(kWait), [&](const RemoteDown& d) {
      EXPECT_EQ(d.ref, ref);
      EXPECT_EQ(d.reason, noconnection());
    }));
    ASSERT_TRUE(grove::receive_until(Deadline::after(kWait), [&](const RemoteExit& e) {
      EXPECT_EQ(e.from, peer);
      EXPECT_EQ(e.reason, noconnection());
    }));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - killed_at).count();
    spdlog::info("noconnection {:.2f} s after kill -9 (node_timeout {} s)", seconds, kNodeTimeout);
    EXPECT_FALSE(c.node->is_up("b"));
    // The old incarnation stays dead: a new monitor of its pid fires at once.
    const MonitorRef late = c.node->monitor(peer);
    ASSERT_TRUE(grove::receive_until(Deadline::after(kWait), [&](const RemoteDown& d) {
      EXPECT_EQ(d.ref, late);
      EXPECT_EQ(d.reason, noconnection());
    }));
  });
}

// libnats starts threads of its own; they must not take a process-directed SIGTERM, which would
// end the process by its default action before the program's SignalWatch (created after the
// Node, as the peer does) sees it.
GROVE_TEST(ClusterNode, SigtermReachesTheSignalWatchOfANodeProcess) {
  Cluster c;
  as_actor([&] {
    Peer b = c.start_peer("b");
    c.node->send(b.pid, Ping{c.node->self_pid(), 1});
    ASSERT_TRUE(grove::receive_until(Deadline::after(kWait), [](const Pong&) {}));
    const int status = grove::run_in_thread([&] { return b.process.signal(SIGTERM); });
    EXPECT_TRUE(WIFEXITED(status)) << "the peer ended by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    if (WIFEXITED(status)) {
      EXPECT_EQ(WEXITSTATUS(status), 0);
    }
  });
}

GROVE_TEST(ClusterNode, NatsServerRestartReconnectsAndWorkResumes) {
  Cluster c;
  as_actor([&] {
    Peer b = c.start_peer("b");
    const Pid peer = b.pid;
    const Pid me = c.node->self_pid();
    c.node->send(peer, Ping{me, 1});
    ASSERT_TRUE(grove::receive_until(Deadline::after(kWait), [](const Pong&) {}));
    c.nats.stop();
    c.nats.start();
    // The nodes reconnect by themselves; ask until the peer answers again.
    bool answered = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    for (std::uint64_t seq = 100; !answered && std::chrono::steady_clock::now() < deadline; ++seq) {
      c.node->send(peer, Ping{me, seq});
      while (grove::receive_for(std::chrono::milliseconds(500), [&](const Pong& p) { answered |= p.seq == seq; })) {
        if (answered) break;
      }
    }
    EXPECT_TRUE(answered) << "no Pong after the server restarted";
  });
}

GROVE_TEST(ClusterNode, GarbageAndOversizedPayloadsAreDroppedWithALogLine) {
  LogCounter dropped("dropped a message");
  Cluster c(64 * 1024);
  as_actor([&] {
    Peer b = c.start_peer("b");
    const Pid peer = b.pid;
    const Pid me = c.node->self_pid();
    const std::string subject = fmt::format("grove.node.t.{:x}", c.node->incarnation());
    const auto pack = [](auto&&... fields) {
      msgpack::sbuffer buffer;
      msgpack::packer<msgpack::sbuffer> p(buffer);
      p.pack_array(sizeof...(fields));
      (p.pack(fields), ...);
      return std::string(buffer.data(), buffer.size());
    };
    const std::vector<std::pair<std::string, std::string>> bad = {
        {subject, std::string("\xc1garbage\xff\x00", 10)},                  // not msgpack
        {subject, pack(1, 99)},                                             // unknown kind
        {subject, pack(1, 0, me.actor, std::string("no.such.Type"), 1)},     // unknown type
        {subject, pack(1, 0, me.actor, std::string("test.Ping"), std::string("not a ping"))},
        {subject, pack(1, 3)},                                              // fields missing
        {subject, std::string(100 * 1024, 'x')},                            // oversized
        {"grove.hb", pack(1, std::string("bad name!"), 7)},                 // bad heartbeat
    };
    const natsStatus s = grove::run_in_thread([&] {
      natsConnection* raw = nullptr;
      natsStatus st = natsConnection_ConnectTo(&raw, c.nats.url().c_str());
      for (const auto& [to, payload] : bad) {
        if (st == NATS_OK) st = natsConnection_Publish(raw, to.c_str(), payload.data(), static_cast<int>(payload.size()));
      }
      if (st == NATS_OK) st = natsConnection_Flush(raw);
      natsConnection_Destroy(raw);
      return st;
    });
    ASSERT_EQ(s, NATS_OK);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (c.node->stats().dropped < bad.size() && std::chrono::steady_clock::now() < deadline) grove::sleep(0.02);
    EXPECT_EQ(c.node->stats().dropped, bad.size());
    EXPECT_EQ(dropped.count(), bad.size());
    // The node goes on: a round trip still works, and nothing reached the actor.
    c.node->send(peer, Ping{me, 5});
    ASSERT_TRUE(grove::receive_until(Deadline::after(kWait), [](const Pong& p) { EXPECT_EQ(p.seq, 5u); }));
    EXPECT_FALSE(grove::receive_for(std::chrono::milliseconds(100), [](const Ping&) {}));
  });
}

GROVE_TEST(ClusterRegistry, GlobalNameIsUniqueUnderConcurrentRegistrationAndReleasedOnDeath) {
  Cluster c;
  as_actor([&] {
    auto started = c.start_peers({"b", "d"});
    std::map<std::string, Pid> peers{{"b", started["b"].pid}, {"d", started["d"].pid}};
    for (int round = 0; round < 5; ++round) {
      const std::string name = fmt::format("leader-{}", round);
      // Every node asks at once: the two peers and a local actor.
      for (auto& [node, pid] : peers) c.node->send(pid, Contend{name});
      auto local = grove::spawn([] { grove::receive([](const Crash&) {}); });
      const bool local_won = c.node->register_global(name, local);
      int winners = local_won ? 1 : 0;
      std::string winner = local_won ? "t" : "";
      for (int i = 0; i < 2; ++i) {
        ASSERT_TRUE(grove::receive_until(Deadline::after(kWait), [&](const Registered& r) {
          if (r.won) {
            ++winners;
            winner = r.node;
          }
        }));
      }
      ASSERT_EQ(winners, 1) << "round " << round;
      const std::optional<Pid> where = c.node->whereis_global(name);
      ASSERT_TRUE(where.has_value());
      EXPECT_EQ(where->node, winner);
      if (local_won) local.kill();
      else grove::exit(local, ExitReason::user("lost"));
    }
    // send(name) reaches the holder; its death releases the name.
    c.node->send(peers["b"], Contend{"leader-last"});
    ASSERT_TRUE(grove::receive_until(Deadline::after(kWait), [](const Registered& r) { EXPECT_TRUE(r.won); }));
    const MonitorRef ref = c.node->monitor(peers["b"]);
    c.node->send("leader-last", Crash{"done"});
    ASSERT_TRUE(grove::receive_until(Deadline::after(kWait), [&](const RemoteDown& d) {
      EXPECT_EQ(d.ref, ref);
      EXPECT_EQ(d.reason, ExitReason::user("done"));
    }));
    EXPECT_TRUE(eventually([&] { return !c.node->whereis_global("leader-last"); }));
    EXPECT_THROW(c.node->send("leader-last", Ping{}), std::invalid_argument);
    auto again = grove::spawn([] { grove::receive([](const Crash&) {}); });
    EXPECT_TRUE(c.node->register_global("leader-last", again));
    again.kill();
  });
}

GROVE_TEST(ClusterRegistry, NamesOfANodeKilledWithSigkillAreReleased) {
  Cluster c;
  as_actor([&] {
    Peer b = c.start_peer("b");
    const Pid peer = b.pid;
    c.node->send(peer, Contend{"owned-by-b"});
    ASSERT_TRUE(grove::receive_until(Deadline::after(kWait), [](const Registered& r) { EXPECT_TRUE(r.won); }));
    ASSERT_TRUE(eventually([&] { return c.node->is_up("b"); }));
    EXPECT_EQ(c.node->whereis_global("owned-by-b"), std::optional<Pid>(peer));
    b.process.signal(SIGKILL);
    // Once b is declared down its name is free, for whereis and for a new registration.
    ASSERT_TRUE(eventually([&] { return !c.node->is_up("b"); }));
    EXPECT_FALSE(c.node->whereis_global("owned-by-b").has_value());
    auto heir = grove::spawn([] { grove::receive([](const Crash&) {}); });
    EXPECT_TRUE(c.node->register_global("owned-by-b", heir));
    EXPECT_EQ(c.node->whereis_global("owned-by-b"), std::optional<Pid>(c.node->pid(heir)));
    heir.kill();
  });
}

}  // namespace
}  // namespace grove::cluster::testing
