// cluster/remote_child.cc — the start function and the stand-in actor of a remote child.

#include "cluster/remote_child.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

namespace grove::cluster {

namespace {

// Spawns the child on the first node that accepts it (see the header). Throws ClusterError.
Pid place(Node& node, const RemoteChildSpec& spec) {
  std::vector<std::string> order;
  for (const std::string& n : spec.nodes) {
    if (node.is_up(n)) order.push_back(n);
  }
  for (const std::string& n : spec.nodes) {
    if (!node.is_up(n)) order.push_back(n);
  }
  std::vector<std::string> failures;
  for (const std::string& at : order) {
    try {
      return spec.spawn(at);
    } catch (const std::exception& e) {
      spdlog::warn("remote child {}: not started on node {}: {}", spec.id, at, e.what());
      failures.push_back(fmt::format("{}: {}", at, e.what()));
    }
  }
  throw ClusterError(fmt::format("remote child {}: no node started it ({})", spec.id, fmt::join(failures, "; ")));
}

// Stands in for the remote `child` under the supervisor (see the header).
void stand_in(Node& node, const Pid& child) {
  struct KillChildOnUnwind {
    Node& node;
    const Pid& child;
    bool ended = false;
    ~KillChildOnUnwind() {
      if (ended) return;
      try {
        node.kill(child);  // killed ourselves: the child must not outlive us
      } catch (const std::exception& e) {
        spdlog::warn("remote child {}: could not kill it: {}", to_string(child), e.what());
      }
    }
  } guard{node, child};
  grove::trap_exit(true);
  node.link(child);
  for (;;) {
    std::optional<ExitReason> end;
    grove::receive([&](const RemoteExit& e) { if (e.from == child) end = e.reason; },
                   // From the supervisor (or another linked local actor): the child gets it,
                   // and its end follows as a RemoteExit.
                   [&](const Exit& e) { node.exit(child, e.reason); });
    if (end) {
      guard.ended = true;
      if (end->is_normal()) return;
      throw ExitSignal{*end};
    }
  }
}

}  // namespace

ChildSpec remote_child(Node& node, RemoteChildSpec spec) {
  if (spec.nodes.empty()) throw std::invalid_argument("remote_child " + spec.id + ": no node to run on");
  if (std::find(spec.nodes.begin(), spec.nodes.end(), node.name()) != spec.nodes.end()) {
    throw std::invalid_argument("remote_child " + spec.id + ": names this node (use an ordinary ChildSpec)");
  }
  if (!spec.spawn) throw std::invalid_argument("remote_child " + spec.id + ": no spawn function");
  ChildSpec child;
  child.id = spec.id;
  child.restart = spec.restart;
  child.shutdown = spec.shutdown;
  child.start = [&node, spec = std::move(spec)]() -> ActorRef {
    const Pid pid = place(node, spec);
    spdlog::info("remote child {}: running as {}", spec.id, to_string(pid));
    return grove::spawn([&node, pid] { stand_in(node, pid); });
  };
  return child;
}

}  // namespace grove::cluster
