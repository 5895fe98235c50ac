// tests/cluster/remote_child_test.cc — a supervisor on node t with a child on other nodes (peer
// processes over a real nats-server): restarted on its node after a crash, elsewhere when that
// node is killed, stopped with the supervisor.

#include "cluster/remote_child.h"

#include <chrono>
#include <string>

#include "actors/supervisor.h"
#include "tests/cluster/fixture.h"

namespace grove::cluster::testing {
namespace {

GROVE_TEST(ClusterRemoteChild, RestartedOnItsNodeThenElsewhereWhenTheNodeDiesAndStoppedWithTheSupervisor) {
  Cluster c;
  as_actor([&] {
    auto peers = c.start_peers({"b", "d"});
    ASSERT_TRUE(eventually([&] { return c.node->is_up("b") && c.node->is_up("d"); }));
    const Pid me = c.node->self_pid();
    // Each child started reports its Pid here with a Hello.
    RemoteChildSpec spec{.id = "worker",
                         .nodes = {"b", "d"},
                         .spawn = [&](const std::string& at) { return c.node->spawn(at, kReportTo, Hello{me}, kWait); }};
    auto sup = Supervisor::start({.strategy = Strategy::kOneForOne, .intensity = 10, .period = 60},
                                 {remote_child(*c.node, spec)});
    const Pid first = await_hello();
    EXPECT_EQ(first.node, "b") << "the preferred node";
    // A crash: restarted on b again.
    c.node->send(first, Crash{"boom"});
    const Pid second = await_hello();
    EXPECT_EQ(second.node, "b");
    EXPECT_NE(second.actor, first.actor);
    // b dies: the child's end (noconnection) restarts it on d.
    peers["b"].process.signal(SIGKILL);
    const Pid third = await_hello();
    EXPECT_EQ(third.node, "d");
    // The supervisor stops: the child on d ends with shutdown.
    const MonitorRef ref = c.node->monitor(third);
    sup.stop();
    ASSERT_TRUE(grove::receive_until(Deadline::after(kWait), [&](const RemoteDown& d) {
      EXPECT_EQ(d.ref, ref);
      EXPECT_EQ(d.reason, ExitReason::shutdown());
    }));
  });
}

GROVE_TEST(ClusterRemoteChild, BrutalKillOfTheStandInKillsTheChild) {
  Cluster c;
  as_actor([&] {
    auto peers = c.start_peers({"b"});
    const Pid me = c.node->self_pid();
    RemoteChildSpec spec{.id = "worker",
                         .nodes = {"b"},
                         .spawn = [&](const std::string& at) { return c.node->spawn(at, kReportTo, Hello{me}, kWait); },
                         .shutdown = Shutdown::brutal_kill()};
    auto sup = Supervisor::start({}, {remote_child(*c.node, spec)});
    const Pid child = await_hello();
    const MonitorRef ref = c.node->monitor(child);
    sup.stop();
    ASSERT_TRUE(grove::receive_until(Deadline::after(kWait), [&](const RemoteDown& d) {
      EXPECT_EQ(d.ref, ref);
      EXPECT_EQ(d.reason, ExitReason::killed());
    }));
  });
}

GROVE_TEST(ClusterRemoteChild, NoNodeThatAcceptsFailsTheStart) {
  Cluster c;
  as_actor([&] {
    RemoteChildSpec spec{.id = "worker",
                         .nodes = {"nosuch"},
                         .spawn = [&](const std::string& at) { return c.node->spawn(at, kEcho, kWait); }};
    EXPECT_THROW(Supervisor::start({}, {remote_child(*c.node, spec)}), SupervisorError);
    spec.nodes = {"t"};
    EXPECT_THROW(remote_child(*c.node, spec), std::invalid_argument);
  });
}

}  // namespace
}  // namespace grove::cluster::testing
