// cluster/node.h — a grove process as a node of a cluster whose nodes talk through a NATS server.
//
// Model: a Node has a name, connects to NATS (a list of server URLs; reconnects by itself with
// exponential backoff between attempts), and drives the connection from its hub's loop, so it
// costs no I/O thread. A message is written to the server when it is sent (libnats' "send
// asap"), not batched behind libnats' flusher, which waits a millisecond before each write: a
// remote round trip costs ~0.1-0.2 ms on loopback instead of ~2 ms, at the same throughput
// (tests/benchmarks/cluster_bench.sh). Each node listens on its own subject (`<prefix>.node.<name>.<incarnation>`)
// and publishes a heartbeat on `<prefix>.hb` every `heartbeat_interval` seconds; a node not heard
// for `node_timeout` seconds is down, and so is an incarnation replaced by a newer one.
//
// Remote actors keep the local rules (docs/SEMANTICS.md):
//   send(pid, m)     queues m in the remote actor's mailbox; order per sending node is kept; to a
//                    dead actor or an old incarnation it is dropped silently. M must be
//                    registered (cluster/codec.h).
//   link(pid)        E1–E7 across nodes: the survivor gets the exit signal of the other's end, a
//                    trapping actor as RemoteExit{from, reason} in its mailbox; linking to a dead
//                    actor gives `noproc`.
//   monitor(pid)     E8: exactly one RemoteDown{ref, from, reason}; `noproc` if already dead.
//   exit(pid, r)     E9 (ExitReason::kill() cannot be trapped).
//   spawn(node, f)   starts, on `node`, the function registered there as `f` (register_function)
//                    as a new actor and returns its Pid; SpawnError says why it could not.
//   call(pid, req)   grove::call across nodes (actors/call.h): the reply, or CallError with the
//                    same kinds as locally — kNoProc for a dead actor, kServerExited with the
//                    reason when it dies before replying (noconnection when its node goes down),
//                    kTimeout at the deadline; a reply that arrives later is dropped.
// When a node goes down, every link and monitor to its actors fires with reason `noconnection`
// (ExitReason::user("noconnection")). Reasons cross the wire as their kind and text; an
// `exception` reason arrives as a user reason with the exception's text.
//
// Bad input: a message on the node's subjects that is larger than max_message_bytes, not
// msgpack, of an unknown kind or type, or not decodable as its type is logged (spdlog warning)
// and dropped; stats().dropped counts them.
//
// Thread: a Node lives on the hub of the thread that made it; call everything there, from a
// greenlet (link/monitor from the actor they are for). Destruction: closes the connection;
// links and monitors it held are forgotten (the other nodes see this one go down).
//
//   grove::cluster::Node node({.name = "a", .servers = {"nats://127.0.0.1:4222"}});
//   auto echo = grove::spawn([] { for (;;) grove::receive([](Ping p) { ... }); });
//   grove::cluster::Pid pid = node.pid(echo);       // give it to another node in a message
//   node.send(other_pid, Ping{pid, 1});
//
//   node.register_function("echo", echo_loop);      // on node b
//   grove::cluster::Pid e = node.spawn("b", "echo"); // on node a
//   int sum = node.call<int>(e, Add{2, 3}, 1.0);     // register_call<Add, int>("example.Add")
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "actors/actor.h"
#include "actors/call.h"
#include "actors/exit_reason.h"
#include "cluster/codec.h"

namespace grove::cluster {

struct NodeOptions {
  std::string name;                  // letters, digits, '-' and '_' (a NATS subject token)
  std::vector<std::string> servers;  // "nats://127.0.0.1:4222", tried in order
  std::string subject_prefix = "grove";
  double heartbeat_interval = 0.5;   // seconds between heartbeats
  double node_timeout = 3.0;         // a node not heard for this long is down
  double connect_timeout = 2.0;      // per attempt to reach a server
  double reconnect_min = 0.05;       // backoff between reconnect attempts: doubles from this ...
  double reconnect_max = 2.0;        // ... up to this
  std::size_t max_message_bytes = 1 << 20;  // larger messages are dropped
};

// The node could not start (bad options, no server reachable).
class ClusterError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What a monitor of a remote actor delivers (the remote twin of grove::Down).
struct RemoteDown {
  MonitorRef ref;
  Pid from;
  ExitReason reason;
};
// What a trapping actor linked to a remote actor receives (the remote twin of grove::Exit).
struct RemoteExit {
  Pid from;
  ExitReason reason;
};

// The reason links and monitors fire with when the other node is down.
ExitReason noconnection();

// Why spawn(node, function) gave no actor.
class SpawnError : public ClusterError {
 public:
  enum class Kind {
    kUnknownFunction,  // nothing is registered under that name on that node
    kBadArguments,     // the arguments do not decode as the function's parameter type
    kNodeDown,         // the node is not up (not heard within node_timeout), or went down
    kTimeout,          // no answer within the timeout
  };
  SpawnError(Kind kind, const std::string& what) : ClusterError(what), kind_(kind) {}
  Kind kind() const noexcept { return kind_; }

 private:
  Kind kind_;
};

struct NodeStats {
  std::uint64_t sent = 0;        // messages published (sends, signals, heartbeats)
  std::uint64_t received = 0;    // messages taken from the node's subjects
  std::uint64_t dropped = 0;     // of those, dropped as bad input
  std::uint64_t nodes_down = 0;  // nodes (incarnations) declared down
};

class Node {
 public:
  // Connects (parks the calling greenlet, not the hub, while it does) and starts the heartbeat.
  // Throws ClusterError.
  explicit Node(NodeOptions options);
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;
  ~Node();

  const std::string& name() const noexcept;
  std::uint64_t incarnation() const noexcept;

  // The Pid of a local actor, for other nodes to reach it.
  Pid pid(const ActorRef& actor);
  // The Pid of the calling actor.
  Pid self_pid();
  // The local actor `pid` names, if it is on this node's incarnation and known here.
  ActorRef local(const Pid& pid) const;

  template <class M>
  void send(const Pid& to, M message) {
    if (ActorRef here = local(to)) {
      grove::send(here, std::move(message));
      return;
    }
    send_remote(to, type_name<M>(), [&](msgpack::packer<msgpack::sbuffer>& p) { p.pack(message); });
  }

  void link(const Pid& other);
  void unlink(const Pid& other);
  MonitorRef monitor(const Pid& target);
  // Removes the monitor; false if it had fired or is unknown. (No flush: a RemoteDown already
  // queued stays.)
  bool demonitor(MonitorRef ref);
  void exit(const Pid& target, ExitReason reason);
  void kill(const Pid& target) { exit(target, ExitReason::kill()); }

  // The global registry, on a JetStream key-value bucket (`<prefix>_registry`) the nodes share.
  // register_global makes `actor` (a local one) known under `name` to every node, atomically:
  // false if the name is taken by an actor that is alive as far as this node knows (an owner on
  // a node declared down, or on an older incarnation, counts as gone). The name is released when
  // its actor dies, or when a node notices that the owner's node is down. Names: letters,
  // digits, '-', '_', '.', '/', '='. These calls wait for the server (parking the calling
  // greenlet, not the hub); they throw ClusterError when the server has no JetStream.
  bool register_global(const std::string& name, const ActorRef& actor);
  // Releases `name` if an actor of this node holds it.
  void unregister_global(const std::string& name);
  std::optional<Pid> whereis_global(const std::string& name);
  // Sends to the actor registered as `name`; std::invalid_argument if there is none (as send to
  // an unknown local name).
  template <class M>
  void send(const std::string& name, M message) {
    const std::optional<Pid> to = whereis_global(name);
    if (!to) throw std::invalid_argument("cluster send: no actor is registered as \"" + name + "\"");
    send(*to, std::move(message));
  }

  // Makes `body` startable by other nodes under `name` (and by this one): spawn(node, name)
  // runs it as a new actor here. With an argument type, register_function<Args>(name, body)
  // takes a `body(Args)` and spawn passes the value (msgpack-encodable). Names: any text; one
  // body per name (a second registration replaces the first).
  template <class F>
    requires std::is_invocable_v<F&>
  void register_function(std::string name, F body) {
    define_function(std::move(name), [body = std::move(body)](const msgpack::object*) mutable {
      return ActorRef(grove::spawn(body));
    });
  }
  template <class Args, class F>
    requires std::is_invocable_v<F&, Args>
  void register_function(std::string name, F body) {
    define_function(std::move(name), [body = std::move(body)](const msgpack::object* args) mutable {
      if (args == nullptr) throw msgpack::type_error();
      return ActorRef(grove::spawn(body, args->as<Args>()));
    });
  }

  // Starts the function registered as `function` on node `node` (Erlang's spawn(Node, Fun)) and
  // returns the new actor's Pid. Parks the calling greenlet until the node answers; waits for a
  // node not heard yet at most node_timeout. Throws SpawnError.
  Pid spawn(const std::string& node, const std::string& function, double timeout_seconds = 5.0) {
    return spawn_remote(node, function, nullptr, timeout_seconds);
  }
  template <class Args>
  Pid spawn(const std::string& node, const std::string& function, const Args& args, double timeout_seconds = 5.0) {
    msgpack::sbuffer packed;
    msgpack::pack(packed, args);
    return spawn_remote(node, function, &packed, timeout_seconds);
  }

  // grove::call<Rep>(server, request, timeout) for a server anywhere in the cluster (see the
  // header comment). Req/Rep must be registered as a pair (register_call<Req, Rep>) in both
  // processes. A local server is called locally.
  template <class Rep, class Req>
  Rep call(const Pid& server, Req request, double timeout_seconds = 5.0) {
    using R = std::decay_t<Req>;
    if (ActorRef here = local(server)) return grove::call<Rep>(here, std::move(request), timeout_seconds);
    const std::string& type = type_name<Request<R, Rep>>();
    msgpack::sbuffer packed;
    msgpack::pack(packed, request);
    std::optional<Rep> reply;
    call_remote(server, type, packed, timeout_seconds, [&](const msgpack::object& o) { reply.emplace(o.as<Rep>()); });
    return std::move(*reply);
  }

  // Whether `node` is heard now (its heartbeats arrive in time). This node is always up.
  bool is_up(const std::string& node) const;
  // The nodes heard now, this one included.
  std::vector<std::string> nodes() const;
  NodeStats stats() const noexcept;

  struct Impl;

 private:
  template <class F>
  void send_remote(const Pid& to, const std::string& type, F&& pack_payload) {
    msgpack::sbuffer buffer;
    msgpack::packer<msgpack::sbuffer> p(buffer);
    begin_send(p, to, type);
    pack_payload(p);
    publish_to(to, buffer);
  }
  static void begin_send(msgpack::packer<msgpack::sbuffer>& p, const Pid& to, const std::string& type);
  void publish_to(const Pid& to, const msgpack::sbuffer& frame);
  void define_function(std::string name, std::function<ActorRef(const msgpack::object* args)> start);
  Pid spawn_remote(const std::string& node, const std::string& function, const msgpack::sbuffer* args,
                   double timeout_seconds);
  // Sends `request` (packed) and waits; `accept` decodes the reply (throws if it does not).
  void call_remote(const Pid& server, const std::string& type, const msgpack::sbuffer& request,
                   double timeout_seconds, const std::function<void(const msgpack::object&)>& accept);

  std::shared_ptr<Impl> impl_;
};

}  // namespace grove::cluster
