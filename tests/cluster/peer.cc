// tests/cluster/peer.cc — a node process the cluster tests start beside themselves.
//
//   cluster_peer --nats URL --name b --report PID [--node-timeout S]
//
// Connects as node `b`, starts one actor and sends Hello{its pid} to PID (the test's actor).
// The actor answers Ping with Pong, sends a Burst of Numbered messages in order, links to a
// pid it is given (LinkTo), serves the calls of messages.h (Add, DieOnCall, SlowEcho), and ends
// with the reason a Crash names. The functions kEcho and kReportTo start more actors like it
// (Node::spawn). The process exits when its first actor has ended, or with status 0 on SIGTERM
// (its SignalWatch starts after the Node, so libnats' threads exist by then).

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "actors/actor.h"
#include "cluster/node.h"
#include "servers/signals.h"
#include "tests/cluster/messages.h"

using namespace grove::cluster;
using namespace grove::cluster::testing;

int main(int argc, char** argv) {
  CLI::App app{"cluster test peer"};
  std::string url;
  std::string name;
  std::string report;
  double node_timeout = 3.0;
  app.add_option("--nats", url)->required();
  app.add_option("--name", name)->required();
  app.add_option("--report", report)->required();
  app.add_option("--node-timeout", node_timeout);
  CLI11_PARSE(app, argc, argv);
  register_types();

  const Pid report_to = parse_pid(report);
  NodeOptions options;
  options.name = name;
  options.servers = {url};
  options.node_timeout = node_timeout;
  options.heartbeat_interval = node_timeout / 6;
  Node node(options);

  const auto loop = [&node, report_to] {
    for (;;) {
      grove::receive(
          [&](const Ping& p) { node.send(p.from, Pong{p.seq, node.name()}); },
          [&](const Burst& b) {
            for (std::uint64_t i = 0; i < b.count; ++i) node.send(b.to, Numbered{node.name(), i});
          },
          [&](const LinkTo& l) {
            node.link(l.target);
            node.send(report_to, Linked{});
          },
          [&](const Contend& c) {
            node.send(report_to, Registered{node.name(), node.register_global(c.name, grove::self())});
          },
          [&](const grove::Request<Add, std::int64_t>& r) { r.reply(r.body.a + r.body.b); },
          [&](const grove::Request<DieOnCall, std::int64_t>& r) {
            grove::exit(grove::self(), grove::ExitReason::user(r.body.reason));
          },
          [&](const grove::Request<SlowEcho, std::int64_t>& r) {
            grove::sleep(r.body.seconds);
            r.reply(r.body.value);
          },
          [&](const Crash& c) { grove::exit(grove::self(), grove::ExitReason::user(c.reason)); });
    }
  };
  node.register_function(kEcho, loop);
  node.register_function<Hello>(kReportTo, [&node, loop](const Hello& h) {
    node.send(h.actor, Hello{node.self_pid()});
    loop();
  });
  auto actor = grove::spawn([&] {
    node.send(report_to, Hello{node.self_pid()});
    loop();
  });
  grove::servers::SignalWatch terminate({SIGTERM}, [&](int) { actor.kill(); });
  (void)actor.join();
  // Let the exit signals and Down messages of its links and monitors leave.
  grove::sleep(0.5);
  spdlog::info("peer {}: actor ended: {}", name, actor.exit_reason().to_string());
  return 0;
}
