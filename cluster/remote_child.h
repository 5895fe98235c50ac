// cluster/remote_child.h — a supervisor child that runs on another node.
//
// Model: remote_child(node, spec) makes a grove::ChildSpec for an ordinary Supervisor
// (actors/supervisor.h). Its start function spawns the child on another node (spec.spawn, usually
// Node::spawn of a registered function) and a local stand-in actor that the supervisor links to
// and watches in place of the child:
//   - the child ends with a reason (crash, normal, `noconnection` when its node goes down): the
//     stand-in ends with the same reason, so restart types and strategies apply unchanged;
//   - the supervisor stops the child (its `shutdown` signal, or the supervisor's own end): the
//     stand-in passes the signal on and ends with the child's reason; if the stand-in is killed
//     (brutal_kill, or a shutdown timeout) it kills the child on its way out.
// Placement: each start and restart goes to the first node of spec.nodes that is up and
// accepts the spawn (nodes not up are tried last, in order). So a child comes back on its
// preferred node while that node is up, and on the next one in the list while it is down. A
// start on which no node accepts fails like a local start that throws (the supervisor counts
// it against its restart budget).
//
// Thread: the node's hub, as the supervisor. The node must outlive the supervisor.
//
//   node.register_function("worker", work);           // in every process that may run it
//   grove::Supervisor::start({}, {grove::cluster::remote_child(node, {
//       .id = "worker", .nodes = {"b", "c"},
//       .spawn = [&](const std::string& at) { return node.spawn(at, "worker"); }})});
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "actors/supervisor.h"
#include "cluster/node.h"

namespace grove::cluster {

struct RemoteChildSpec {
  std::string id;
  std::vector<std::string> nodes;  // where the child may run, preferred first; not this node
  // Starts the child on node `at` and returns its Pid; throws (SpawnError) when it cannot.
  std::function<Pid(const std::string& at)> spawn;
  Restart restart = Restart::kPermanent;
  std::optional<Shutdown> shutdown;  // of the stand-in, which waits this long for the child
};

// Throws std::invalid_argument when nodes is empty or names this node, or spawn is empty.
ChildSpec remote_child(Node& node, RemoteChildSpec spec);

}  // namespace grove::cluster
