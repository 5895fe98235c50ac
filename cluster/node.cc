// cluster/node.cc — the node: its NATS connection, the wire format, remote links and monitors,
// heartbeats and node-down.
//
// Wire format: every message on a node subject is one msgpack array [version, kind, ...]:
//   kSend      [1, 0, to, type name, payload]
//   kLink      [1, 1, from pid, to]          kUnlink    [1, 2, from pid, to]
//   kLinkExit  [1, 3, from pid, to, reason]  (a linked actor ended)
//   kSignal    [1, 4, from pid, to, reason]  (exit/2, E9)
//   kMonitor   [1, 5, watcher pid, ref, to]  kDemonitor [1, 6, watcher pid, ref, to]
//   kDown      [1, 7, from pid, ref, to, reason]
//   kSpawn     [1, 8, reply node, request id, function name, args or nil]
//   kCall      [1, 9, reply node, request id, to, type name, payload, timeout]
//   kReply     [1, 10, request id, status, body]   (to a kSpawn or kCall)
// `to` is an actor id on the receiving node; a reason is [kind, text]; a reply node is a Pid
// with actor 0. A reply's status and body: kOk and the value (a Pid, a call's reply), kExited
// and a reason, kUnknownFunction or kBadArguments and a text. A heartbeat on `<prefix>.hb` is
// [1, node name, incarnation].

#include "cluster/node.h"

#include <nats/nats.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <unordered_map>
#include <utility>

#include <fmt/format.h>

#include "cluster/internal/nats_loop.h"
#include "hub/thread_pool.h"

namespace grove::cluster {

namespace {

constexpr int kVersion = 1;
enum Kind : int {
  kSend = 0,
  kLink = 1,
  kUnlink = 2,
  kLinkExit = 3,
  kSignal = 4,
  kMonitor = 5,
  kDemonitor = 6,
  kDown = 7,
  kSpawn = 8,
  kCall = 9,
  kReply = 10,
};

enum ReplyStatus : int {
  kOk = 0,
  kExited = 1,
  kUnknownFunction = 2,
  kBadArguments = 3,
};

// Starts every frame: [version, kind, <fields more>].
void begin_frame(msgpack::packer<msgpack::sbuffer>& p, Kind kind, std::uint32_t fields) {
  p.pack_array(2 + fields);
  p.pack(kVersion);
  p.pack(static_cast<int>(kind));
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::uint64_t draw_incarnation() {
  std::random_device device;
  std::uint64_t value = 0;
  while (value == 0) value = (std::uint64_t{device()} << 32) ^ device();
  return value;
}

bool valid_token(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

void pack_reason(msgpack::packer<msgpack::sbuffer>& p, const ExitReason& r) {
  p.pack_array(2);
  p.pack(static_cast<int>(r.kind()));
  switch (r.kind()) {
    case ExitReason::Kind::kShutdown:
    case ExitReason::Kind::kUser: p.pack(r.text()); break;
    case ExitReason::Kind::kException: p.pack(r.to_string()); break;
    default: p.pack(std::string()); break;
  }
}

ExitReason unpack_reason(const msgpack::object& o) {
  const auto [kind, text] = o.as<std::tuple<int, std::string>>();
  switch (static_cast<ExitReason::Kind>(kind)) {
    case ExitReason::Kind::kNormal: return ExitReason::normal();
    case ExitReason::Kind::kShutdown: return text.empty() ? ExitReason::shutdown() : ExitReason::shutdown(text);
    case ExitReason::Kind::kKilled: return ExitReason::killed();
    case ExitReason::Kind::kNoProc: return ExitReason::noproc();
    case ExitReason::Kind::kKill: return ExitReason::kill();
    case ExitReason::Kind::kException:
    case ExitReason::Kind::kUser: return ExitReason::user(text);
  }
  throw std::invalid_argument(fmt::format("unknown exit reason kind {}", kind));
}

class BadFrame : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

const msgpack::object& field(const msgpack::object_array& a, std::uint32_t i) {
  if (i >= a.size) throw BadFrame(fmt::format("frame has {} fields, wanted more than {}", a.size, i));
  return a.ptr[i];
}

}  // namespace

ExitReason noconnection() { return ExitReason::user("noconnection"); }

// ---------------------------------------------------------------------------------------------

struct Node::Impl : std::enable_shared_from_this<Impl> {
  NodeOptions options;
  std::uint64_t incarnation = draw_incarnation();
  std::string subject;     // where this node listens
  std::string hb_subject;  // where every node's heartbeat goes
  RemoteHub remote;

  std::shared_ptr<internal::NatsLoop> loop;
  natsConnection* nc = nullptr;
  natsSubscription* sub = nullptr;
  natsSubscription* hb_sub = nullptr;
  FiberRef heartbeat;

  // Local actors other nodes may name, by id; forgotten when they die.
  std::unordered_map<std::uint64_t, ActorRef> exported;
  // Local actor id -> remote actors it is linked to.
  std::unordered_map<std::uint64_t, std::set<Pid>> links;
  // Local actor id -> remote monitors of it: (watcher, ref).
  std::unordered_map<std::uint64_t, std::vector<std::pair<Pid, std::uint64_t>>> watchers;
  // Monitors held by local actors on remote ones, by ref.
  struct Outgoing {
    ActorRef watcher;
    Pid target;
  };
  std::unordered_map<std::uint64_t, Outgoing> outgoing;

  struct Peer {
    std::uint64_t incarnation = 0;
    double last_heard = 0;
    bool heard = false;  // false: only named by a Pid so far, never heard from
  };
  std::map<std::string, Peer> peers;
  std::set<std::pair<std::string, std::uint64_t>> gone;  // incarnations replaced by newer ones
  std::set<std::pair<std::string, std::uint64_t>> silent;  // down for silence; may be heard again
  // What libnats' connection callbacks see. They run on its own thread, possibly after the node
  // is gone, so they get this small record, freed by the last of them (closed).
  struct ConnInfo {
    std::string name;
    std::atomic<bool> closing{false};
  };
  ConnInfo* conn_info = nullptr;

  NodeStats stats;

  // Functions other nodes may spawn here, by name.
  std::unordered_map<std::string, std::function<ActorRef(const msgpack::object*)>> functions;
  // Requests to other nodes (spawn, call) waiting for a kReply, by request id. Each lives on the
  // stack of the greenlet that waits for it, which removes it when it stops waiting: a reply
  // that comes later finds nothing and is dropped.
  struct Pending {
    std::string node;
    std::uint64_t incarnation = 0;
    std::function<void(const msgpack::object&)> accept;  // takes an kOk body; throws if it does not decode
    bool answered = false;
    int status = kOk;
    ExitReason reason;     // kExited
    std::string refusal;   // kUnknownFunction, kBadArguments
    WaitList waiters;
  };
  std::unordered_map<std::uint64_t, Pending*> pending;
  std::uint64_t next_request = 1;
  WaitList peer_heard;  // woken when a node is heard for the first time (or a new incarnation)

  // The global registry (null when the server has no JetStream).
  jsCtx* js = nullptr;
  kvStore* kv = nullptr;
  std::map<std::string, std::uint64_t> owned;  // names held by local actors -> actor id

  std::string subject_of(const std::string& node, std::uint64_t inc) const {
    return fmt::format("{}.node.{}.{:x}", options.subject_prefix, node, inc);
  }

  Pid pid_of(const ActorRef& a) const { return Pid{options.name, incarnation, a.id()}; }

  void publish(const std::string& to, const msgpack::sbuffer& frame) {
    if (nc == nullptr) return;
    const natsStatus s = natsConnection_Publish(nc, to.c_str(), frame.data(), static_cast<int>(frame.size()));
    if (s != NATS_OK) {
      // Only while closing, or a frame over the server's limit: the message is lost like a send
      // to a node that went down.
      spdlog::warn("cluster node {}: publish to {} failed: {}", options.name, to, natsStatus_GetText(s));
      return;
    }
    ++stats.sent;
  }

  // Builds one frame of `kind` (`fields` after the header, packed by `pack_fields`) and
  // publishes it to incarnation `inc` of `node`.
  template <class F>
  void send_frame(const std::string& node, std::uint64_t inc, Kind kind, std::uint32_t fields, F&& pack_fields) {
    msgpack::sbuffer buffer;
    msgpack::packer<msgpack::sbuffer> p(buffer);
    begin_frame(p, kind, fields);
    pack_fields(p, buffer);
    publish(subject_of(node, inc), buffer);
  }

  // [1, kind, from, to(, reason)]
  void send_signal(Kind kind, const Pid& from, const Pid& to, const ExitReason* reason) {
    send_frame(to.node, to.incarnation, kind, reason != nullptr ? 3 : 2, [&](auto& p, auto&) {
      p.pack(from);
      p.pack(to.actor);
      if (reason != nullptr) pack_reason(p, *reason);
    });
  }

  void send_monitor_frame(Kind kind, const Pid& watcher, std::uint64_t ref, const Pid& target) {
    send_frame(target.node, target.incarnation, kind, 3, [&](auto& p, auto&) {
      p.pack(watcher);
      p.pack(ref);
      p.pack(target.actor);
    });
  }

  void send_down(const Pid& from, std::uint64_t ref, const Pid& watcher, const ExitReason& reason) {
    send_frame(watcher.node, watcher.incarnation, kDown, 4, [&](auto& p, auto&) {
      p.pack(from);
      p.pack(ref);
      p.pack(watcher.actor);
      pack_reason(p, reason);
    });
  }

  // [1, 10, request id, status, body]; `pack_body` packs the one body field.
  template <class F>
  void send_reply(const Pid& to, std::uint64_t request, ReplyStatus status, F&& pack_body) {
    send_frame(to.node, to.incarnation, kReply, 3, [&](auto& p, auto& buffer) {
      p.pack(request);
      p.pack(static_cast<int>(status));
      pack_body(p, buffer);
    });
  }

  // ---- local actors seen from other nodes

  ActorRef local(const Pid& pid) const {
    if (pid.incarnation != incarnation || pid.node != options.name) return {};
    const auto it = exported.find(pid.actor);
    if (it == exported.end() || it->second.dead()) return {};
    return it->second;
  }

  Pid export_actor(const ActorRef& actor) {
    if (!actor) throw std::invalid_argument("cluster::Node::pid: empty actor handle");
    if (actor.dead()) return pid_of(actor);  // a Pid that names nobody: sends are dropped
    const auto [it, inserted] = exported.emplace(actor.id(), actor);
    if (inserted) {
      std::weak_ptr<Impl> weak = weak_from_this();
      const std::uint64_t id = actor.id();
      actor.rawlink([weak, id](const ActorRef& dead) {
        if (auto self = weak.lock()) self->on_local_death(id, dead.exit_reason());
      });
    }
    return pid_of(actor);
  }

  // A local actor other nodes knew about ended: its remote links and monitors fire.
  void on_local_death(std::uint64_t id, const ExitReason& reason) {
    const Pid from{options.name, incarnation, id};
    // A link sees `killed` for a kill (E6); kill itself is a signal, not an end.
    if (auto it = links.find(id); it != links.end()) {
      for (const Pid& other : it->second) send_signal(kLinkExit, from, other, &reason);
      links.erase(it);
    }
    if (auto it = watchers.find(id); it != watchers.end()) {
      for (const auto& [watcher, ref] : it->second) send_down(from, ref, watcher, reason);
      watchers.erase(it);
    }
    exported.erase(id);
    for (auto it = owned.begin(); it != owned.end();) {
      if (it->second == id) {
        release_in_background(it->first, from);
        it = owned.erase(it);
      } else {
        ++it;
      }
    }
    // Monitors this actor held on remote actors die with it.
    std::erase_if(outgoing, [id](const auto& entry) { return entry.second.watcher.id() == id; });
  }

  // ---- applying signals to local actors

  // An exit signal from a remote actor reaches local `to` (rules E3–E6, E9).
  void apply_signal(const ActorRef& to, const Pid& from, const ExitReason& reason) {
    if (!to || to.dead()) return;
    if (reason.kind() == ExitReason::Kind::kKill) {
      grove::exit(to, reason);  // E6: untrappable
    } else if (traps_exit(to)) {
      grove::send(to, RemoteExit{from, reason});  // E5
    } else if (!reason.is_normal()) {
      grove::exit(to, reason);  // E4
    }  // E3: normal is ignored
  }

  // ---- peers and node-down

  // Whether links/monitors to `pid` can be set up now; if not, the reason they fire with.
  std::optional<ExitReason> unreachable(const Pid& pid) {
    if (gone.count({pid.node, pid.incarnation}) != 0) return ExitReason::noproc();
    if (silent.count({pid.node, pid.incarnation}) != 0) return noconnection();
    auto it = peers.find(pid.node);
    if (it == peers.end()) {
      // Never heard of: give it node_timeout to show up, like a node that went quiet.
      peers.emplace(pid.node, Peer{pid.incarnation, now_seconds(), false});
      return std::nullopt;
    }
    if (it->second.incarnation != pid.incarnation) {
      if (it->second.heard) return ExitReason::noproc();  // an older incarnation
      it->second.incarnation = pid.incarnation;
    }
    return std::nullopt;
  }

  void on_heartbeat(const std::string& node, std::uint64_t inc) {
    if (node == options.name && inc == incarnation) return;
    if (gone.count({node, inc}) != 0) return;
    silent.erase({node, inc});  // heard again after a partition: up, with its old links fired
    auto [it, inserted] = peers.try_emplace(node);
    Peer& peer = it->second;
    if (!inserted && peer.incarnation != inc) {
      // A new incarnation under the same name: the old one is down for good.
      const std::uint64_t old = peer.incarnation;
      gone.insert({node, old});
      node_down(node, old, peer.heard ? "replaced by a new incarnation" : "named incarnation never seen");
    }
    const bool news = !peer.heard || peer.incarnation != inc;
    if (news) spdlog::info("cluster node {}: node {} ({:x}) is up", options.name, node, inc);
    peer.incarnation = inc;
    peer.last_heard = now_seconds();
    peer.heard = true;
    if (news) peer_heard.wake_all();
  }

  // Every link and monitor to actors of `node`'s incarnation `inc` fires with noconnection;
  // what that node's actors held here is forgotten.
  void node_down(const std::string& node, std::uint64_t inc, const char* why) {
    ++stats.nodes_down;
    if (kv != nullptr) release_node_in_background(node, inc);
    spdlog::warn("cluster node {}: node {} ({:x}) is down: {}", options.name, node, inc, why);
    const auto on_node = [&](const Pid& p) { return p.node == node && p.incarnation == inc; };
    const ExitReason reason = noconnection();
    std::vector<std::pair<ActorRef, Pid>> signals;
    for (auto it = links.begin(); it != links.end();) {
      for (auto p = it->second.begin(); p != it->second.end();) {
        if (on_node(*p)) {
          const auto a = exported.find(it->first);
          if (a != exported.end()) signals.emplace_back(a->second, *p);
          p = it->second.erase(p);
        } else {
          ++p;
        }
      }
      it = it->second.empty() ? links.erase(it) : std::next(it);
    }
    for (auto& [id, list] : watchers) std::erase_if(list, [&](const auto& w) { return on_node(w.first); });
    std::vector<std::pair<std::uint64_t, Outgoing>> downs;
    for (auto it = outgoing.begin(); it != outgoing.end();) {
      if (on_node(it->second.target)) {
        downs.emplace_back(it->first, std::move(it->second));
        it = outgoing.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& [ref, o] : downs) grove::send(o.watcher, RemoteDown{MonitorRef{ref}, o.target, reason});
    for (auto& [actor, from] : signals) apply_signal(actor, from, reason);
    // Requests waiting on that node end as a monitor of the callee would: with noconnection.
    for (auto& [id, p] : pending) {
      if (p->node == node && p->incarnation == inc && !p->answered) {
        p->answered = true;
        p->status = kExited;
        p->reason = reason;
        p->waiters.wake_all();
      }
    }
  }

  void check_peers() {
    const double now = now_seconds();
    std::vector<std::pair<std::string, std::uint64_t>> down;
    for (auto& [name, peer] : peers) {
      if (now - peer.last_heard > options.node_timeout) down.emplace_back(name, peer.incarnation);
    }
    for (auto& [name, inc] : down) {
      const bool heard = peers[name].heard;
      peers.erase(name);
      silent.insert({name, inc});
      node_down(name, inc, heard ? "no heartbeat within node_timeout" : "never heard from");
    }
  }

  void send_heartbeat() {
    msgpack::sbuffer buffer;
    msgpack::packer<msgpack::sbuffer> p(buffer);
    p.pack_array(3);  // not a node frame: [version, name, incarnation]
    p.pack(kVersion);
    p.pack(options.name);
    p.pack(incarnation);
    publish(hb_subject, buffer);
  }

  // ---- the global registry (blocking KV calls run on the thread pool)

  struct KvValue {
    bool found = false;       // the key exists (deleted keys count as absent)
    std::uint64_t revision = 0;
    std::string value;        // empty: released
  };

  KvValue kv_get(const std::string& key) {
    return run_in_thread([&] {
      KvValue out;
      kvEntry* e = nullptr;
      const natsStatus s = kvStore_Get(&e, kv, key.c_str());
      if (s == NATS_NOT_FOUND) return out;
      if (s != NATS_OK) throw ClusterError(fmt::format("registry get {}: {}", key, natsStatus_GetText(s)));
      out.found = true;
      out.revision = kvEntry_Revision(e);
      out.value.assign(static_cast<const char*>(kvEntry_Value(e)), static_cast<std::size_t>(kvEntry_ValueLen(e)));
      kvEntry_Destroy(e);
      return out;
    });
  }

  // Create-if-absent (revision 0) or compare-and-set on `revision`; false if someone else won.
  bool kv_write(const std::string& key, const std::string& value, const KvValue& seen) {
    return run_in_thread([&] {
      std::uint64_t rev = 0;
      const natsStatus s = seen.found
          ? kvStore_Update(&rev, kv, key.c_str(), value.data(), static_cast<int>(value.size()), seen.revision)
          : kvStore_Create(&rev, kv, key.c_str(), value.data(), static_cast<int>(value.size()));
      return s == NATS_OK;
    });
  }

  static std::string encode_pid(const Pid& pid) {
    msgpack::sbuffer buffer;
    msgpack::pack(buffer, pid);
    return std::string(buffer.data(), buffer.size());
  }
  static std::optional<Pid> decode_pid(const std::string& value) {
    if (value.empty()) return std::nullopt;
    try {
      return msgpack::unpack(value.data(), value.size()).get().as<Pid>();
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }

  // Whether the holder `pid` is known to be gone: an older incarnation, a node declared down.
  bool stale(const Pid& pid) const {
    if (pid.node == options.name) return pid.incarnation != incarnation || !local(pid);
    if (gone.count({pid.node, pid.incarnation}) != 0 || silent.count({pid.node, pid.incarnation}) != 0) return true;
    const auto it = peers.find(pid.node);
    return it != peers.end() && it->second.heard && it->second.incarnation != pid.incarnation;
  }

  std::string registry_key(const std::string& name) const {
    const bool ok = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
             c == '_' || c == '/' || c == '=' || c == '.';
    });
    if (!ok || name.front() == '.' || name.back() == '.') {
      throw std::invalid_argument(fmt::format("cluster registry name \"{}\": use letters, digits, -_/=.", name));
    }
    if (kv == nullptr) throw ClusterError("cluster registry: the NATS server has no JetStream");
    return name;
  }

  bool register_global(const std::string& name, const ActorRef& actor) {
    const std::string key = registry_key(name);
    const Pid pid = export_actor(actor);
    if (actor.dead()) return false;
    const std::string value = encode_pid(pid);
    for (int attempt = 0; attempt < 16; ++attempt) {
      const KvValue seen = kv_get(key);
      if (seen.found) {
        const std::optional<Pid> holder = decode_pid(seen.value);
        if (holder && *holder == pid) return true;
        if (holder && !stale(*holder)) return false;
      }
      if (kv_write(key, value, seen)) {
        if (actor.dead()) {  // died while we waited: give the name back
          release_in_background(name, pid);
          return false;
        }
        owned[name] = pid.actor;
        return true;
      }
      // Someone wrote in between: look again.
    }
    return false;
  }

  std::optional<Pid> whereis_global(const std::string& name) {
    const KvValue seen = kv_get(registry_key(name));
    std::optional<Pid> holder = decode_pid(seen.value);
    if (holder && stale(*holder)) holder.reset();
    return holder;
  }

  // Empties `name` if `holder` still holds it (compare-and-set: a newer holder is kept).
  void release(const std::string& name, const Pid& holder) {
    const KvValue seen = kv_get(name);
    if (!seen.found) return;
    const std::optional<Pid> now = decode_pid(seen.value);
    if (now && *now == holder) (void)kv_write(name, std::string(), seen);
  }

  void release_in_background(const std::string& name, const Pid& holder) {
    std::weak_ptr<Impl> weak = weak_from_this();
    spawn_fiber([weak, name, holder] {
      if (auto self = weak.lock(); self && self->kv != nullptr) {
        try {
          self->release(name, holder);
        } catch (const std::exception& e) {
          spdlog::warn("cluster node {}: releasing {}: {}", self->options.name, name, e.what());
        }
      }
    });
  }

  // Releases every name held by an actor of `node`'s incarnation `inc` (each node that sees it
  // down does this; the compare-and-set makes the repeats harmless).
  void release_node_in_background(const std::string& node, std::uint64_t inc) {
    std::weak_ptr<Impl> weak = weak_from_this();
    spawn_fiber([weak, node, inc] {
      auto self = weak.lock();
      if (!self || self->kv == nullptr) return;
      try {
        kvStore* kv = self->kv;
        std::vector<std::string> keys = run_in_thread([kv] {
          std::vector<std::string> out;
          kvKeysList list{};
          if (kvStore_Keys(&list, kv, nullptr) == NATS_OK) {
            for (int i = 0; i < list.Count; ++i) out.emplace_back(list.Keys[i]);
            kvKeysList_Destroy(&list);
          }
          return out;
        });
        for (const std::string& key : keys) {
          const KvValue seen = self->kv_get(key);
          const std::optional<Pid> holder = decode_pid(seen.value);
          if (holder && holder->node == node && holder->incarnation == inc) {
            (void)self->kv_write(key, std::string(), seen);
          }
        }
      } catch (const std::exception& e) {
        spdlog::warn("cluster node {}: releasing the names of node {}: {}", self->options.name, node, e.what());
      }
    });
  }

  void open_registry() {
    const std::string bucket = options.subject_prefix + "_registry";
    const natsStatus s = run_in_thread([&] {
      natsStatus st = natsConnection_JetStream(&js, nc, nullptr);
      if (st != NATS_OK) return st;
      kvConfig cfg;
      kvConfig_Init(&cfg);
      cfg.Bucket = bucket.c_str();
      cfg.History = 1;
      st = js_CreateKeyValue(&kv, js, &cfg);
      if (st != NATS_OK) {
        kv = nullptr;
        st = js_KeyValue(&kv, js, bucket.c_str());  // another node made it first
      }
      return st;
    });
    if (s != NATS_OK) {
      kv = nullptr;
      spdlog::warn("cluster node {}: no global registry (JetStream bucket {}): {}", options.name, bucket,
                   natsStatus_GetText(s));
    }
  }

  // ---- inbound

  void drop(std::size_t size, const std::string& why) {
    ++stats.dropped;
    spdlog::warn("cluster node {}: dropped a message of {} bytes: {}", options.name, size, why);
  }

  void on_frame(const std::string& data, bool is_heartbeat) {
    ++stats.received;
    if (data.size() > options.max_message_bytes) {
      drop(data.size(), fmt::format("larger than max_message_bytes ({})", options.max_message_bytes));
      return;
    }
    try {
      const msgpack::object_handle handle = msgpack::unpack(data.data(), data.size());
      const msgpack::object& o = handle.get();
      if (o.type != msgpack::type::ARRAY) throw BadFrame("not a msgpack array");
      const msgpack::object_array& a = o.via.array;
      if (field(a, 0).as<int>() != kVersion) throw BadFrame("unknown version");
      if (is_heartbeat) {
        const auto node = field(a, 1).as<std::string>();
        if (!valid_token(node)) throw BadFrame("heartbeat with a bad node name");
        on_heartbeat(node, field(a, 2).as<std::uint64_t>());
        return;
      }
      dispatch(a);
    } catch (const std::exception& e) {
      drop(data.size(), e.what());
    }
  }

  ActorRef target(std::uint64_t id) const {
    const auto it = exported.find(id);
    return it == exported.end() || it->second.dead() ? ActorRef() : it->second;
  }

  void dispatch(const msgpack::object_array& a) {
    switch (field(a, 1).as<int>()) {
      case kSend: {
        const ActorRef to = target(field(a, 2).as<std::uint64_t>());
        const auto type = field(a, 3).as<std::string_view>();
        const internal::TypeEntry* entry = internal::find_type(type);
        if (entry == nullptr) throw BadFrame(fmt::format("unknown message type \"{}\"", type));
        if (entry->deliver == nullptr) throw BadFrame(fmt::format("\"{}\" is a call, not a message", type));
        if (!to) return;  // a dead actor: dropped silently, as locally
        entry->deliver(to, field(a, 4));
        return;
      }
      case kLink: {
        const auto from = field(a, 2).as<Pid>();
        const std::uint64_t id = field(a, 3).as<std::uint64_t>();
        const ActorRef to = target(id);
        if (!to) {  // E7
          const ExitReason noproc = ExitReason::noproc();
          send_signal(kLinkExit, Pid{options.name, incarnation, id}, from, &noproc);
          return;
        }
        if (unreachable(from)) return;  // its node is gone already
        links[id].insert(from);
        return;
      }
      case kUnlink: {
        const auto from = field(a, 2).as<Pid>();
        const std::uint64_t id = field(a, 3).as<std::uint64_t>();
        if (auto it = links.find(id); it != links.end()) it->second.erase(from);
        return;
      }
      case kLinkExit: {
        const auto from = field(a, 2).as<Pid>();
        const std::uint64_t id = field(a, 3).as<std::uint64_t>();
        const ExitReason reason = unpack_reason(field(a, 4));
        auto it = links.find(id);
        if (it == links.end() || it->second.erase(from) == 0) return;  // unlinked meanwhile (E1)
        apply_signal(target(id), from, reason);
        return;
      }
      case kSignal: {
        const auto from = field(a, 2).as<Pid>();
        apply_signal(target(field(a, 3).as<std::uint64_t>()), from, unpack_reason(field(a, 4)));
        return;
      }
      case kMonitor: {
        const auto watcher = field(a, 2).as<Pid>();
        const auto ref = field(a, 3).as<std::uint64_t>();
        const std::uint64_t id = field(a, 4).as<std::uint64_t>();
        if (!target(id)) {  // E8: monitoring a dead actor gives noproc at once
          send_down(Pid{options.name, incarnation, id}, ref, watcher, ExitReason::noproc());
          return;
        }
        if (unreachable(watcher)) return;
        watchers[id].emplace_back(watcher, ref);
        return;
      }
      case kDemonitor: {
        const auto watcher = field(a, 2).as<Pid>();
        const auto ref = field(a, 3).as<std::uint64_t>();
        if (auto it = watchers.find(field(a, 4).as<std::uint64_t>()); it != watchers.end()) {
          std::erase_if(it->second, [&](const auto& w) { return w.second == ref && w.first == watcher; });
        }
        return;
      }
      case kDown: {
        const auto from = field(a, 2).as<Pid>();
        const auto ref = field(a, 3).as<std::uint64_t>();
        const ExitReason reason = unpack_reason(field(a, 5));
        auto it = outgoing.find(ref);
        if (it == outgoing.end() || !(it->second.target == from)) return;  // demonitored
        const ActorRef watcher = it->second.watcher;
        outgoing.erase(it);
        grove::send(watcher, RemoteDown{MonitorRef{ref}, from, reason});
        return;
      }
      case kSpawn: on_spawn(a); return;
      case kCall: on_call(a); return;
      case kReply: on_reply(a); return;
      default:
        throw BadFrame("unknown message kind");
    }
  }

  // ---- spawn and call, the serving side

  // Starts the function `name` here; SpawnError when there is none or `args` do not fit it.
  ActorRef start_function(const std::string& name, const msgpack::object* args) {
    const auto it = functions.find(name);
    if (it == functions.end()) {
      throw SpawnError(SpawnError::Kind::kUnknownFunction,
                       fmt::format("spawn: no function \"{}\" is registered on node {}", name, options.name));
    }
    try {
      return it->second(args);
    } catch (const msgpack::type_error&) {
      throw SpawnError(SpawnError::Kind::kBadArguments,
                       fmt::format("spawn: the arguments do not fit function \"{}\" on node {}", name, options.name));
    }
  }

  // [1, 8, reply node, request id, function name, args or nil]
  void on_spawn(const msgpack::object_array& a) {
    const auto reply_to = field(a, 2).as<Pid>();
    const auto request = field(a, 3).as<std::uint64_t>();
    const auto name = field(a, 4).as<std::string>();
    const msgpack::object& args = field(a, 5);
    if (!valid_token(reply_to.node)) throw BadFrame("spawn request with a bad reply node");
    try {
      const ActorRef started = start_function(name, args.is_nil() ? nullptr : &args);
      const Pid pid = export_actor(started);
      send_reply(reply_to, request, kOk, [&](auto& p, auto&) { p.pack(pid); });
    } catch (const SpawnError& e) {
      spdlog::warn("cluster node {}: spawn asked by node {}: {}", options.name, reply_to.node, e.what());
      const ReplyStatus status = e.kind() == SpawnError::Kind::kUnknownFunction ? kUnknownFunction : kBadArguments;
      send_reply(reply_to, request, status, [&](auto& p, auto&) { p.pack(std::string(e.what())); });
    }
  }

  // [1, 9, reply node, request id, to, type name, payload, timeout]
  void on_call(const msgpack::object_array& a) {
    const auto reply_to = field(a, 2).as<Pid>();
    const auto request = field(a, 3).as<std::uint64_t>();
    const auto id = field(a, 4).as<std::uint64_t>();
    const auto type = field(a, 5).as<std::string_view>();
    const msgpack::object& payload = field(a, 6);
    const auto timeout = field(a, 7).as<double>();
    if (!valid_token(reply_to.node)) throw BadFrame("call with a bad reply node");
    if (!(timeout > 0) || timeout > 86400) throw BadFrame("call with a bad timeout");
    const internal::TypeEntry* entry = internal::find_type(type);
    if (entry == nullptr || entry->call == nullptr) throw BadFrame(fmt::format("unknown call type \"{}\"", type));
    const ActorRef to = target(id);
    if (!to) {  // as locally: a dead or unknown server is noproc
      send_reply(reply_to, request, kExited, [](auto& p, auto&) { pack_reason(p, ExitReason::noproc()); });
      return;
    }
    std::weak_ptr<Impl> weak = weak_from_this();
    entry->call(to, payload, timeout, [weak, reply_to, request](internal::CallOutcome outcome) {
      auto self = weak.lock();
      if (!self) return;
      if (outcome.ok) {
        self->send_reply(reply_to, request, kOk, [&](auto&, auto& buffer) {
          buffer.write(outcome.reply.data(), outcome.reply.size());
        });
      } else if (outcome.error == CallError::Kind::kTimeout) {
        // No reply: the caller reaches its own deadline.
        spdlog::warn("cluster node {}: a call from node {} got no reply: {}", self->options.name, reply_to.node,
                     outcome.reason.is_normal() ? std::string("timeout") : outcome.reason.to_string());
      } else {
        self->send_reply(reply_to, request, kExited, [&](auto& p, auto&) { pack_reason(p, outcome.reason); });
      }
    });
  }

  // [1, 10, request id, status, body]
  void on_reply(const msgpack::object_array& a) {
    const auto request = field(a, 2).as<std::uint64_t>();
    const auto status = field(a, 3).as<int>();
    const msgpack::object& body = field(a, 4);
    const auto it = pending.find(request);
    if (it == pending.end() || it->second->answered) return;  // the requester gave up: dropped
    Pending& p = *it->second;
    switch (status) {
      case kOk: p.accept(body); break;  // throws when it does not decode: dropped, still waiting
      case kExited: p.reason = unpack_reason(body); break;
      case kUnknownFunction:
      case kBadArguments: p.refusal = body.as<std::string>(); break;
      default: throw BadFrame(fmt::format("reply with unknown status {}", status));
    }
    p.status = status;
    p.answered = true;
    p.waiters.wake_all();
  }

  // ---- spawn and call, the asking side

  // Registers `p` under a new request id until the scope ends.
  struct PendingScope {
    Impl& node;
    std::uint64_t id;
    PendingScope(Impl& n, Pending& p) : node(n), id(n.next_request++) { node.pending.emplace(id, &p); }
    ~PendingScope() { node.pending.erase(id); }
  };

  // Waits until `p` is answered; false at the deadline.
  static bool await(Pending& p, Deadline deadline, const char* what) {
    while (!p.answered) {
      if (p.waiters.wait(deadline, what) == WaitStatus::kTimedOut) return p.answered;
    }
    return true;
  }

  // ---- the connection

  // libnats calls this on a subscription's own thread: the bytes go to the hub through its inbox.
  struct Inbound {
    std::weak_ptr<Impl> node;
    RemoteHub hub;
    bool heartbeat = false;
  };

  static void on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto* in = static_cast<Inbound*>(closure);
    std::string data(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
    natsMsg_Destroy(msg);
    (void)in->hub.post([node = in->node, data = std::move(data), hb = in->heartbeat] {
      if (auto self = node.lock()) self->on_frame(data, hb);
    });
  }

  static void on_subscription_done(void* closure) { delete static_cast<Inbound*>(closure); }

  static std::int64_t reconnect_delay(natsConnection*, int attempts, void* closure) {
    const auto* o = static_cast<const NodeOptions*>(closure);
    const double wait = std::min(o->reconnect_max, o->reconnect_min * std::pow(2.0, std::min(attempts, 30)));
    return static_cast<std::int64_t>(wait * 1000);
  }

  static void on_disconnected(natsConnection*, void* closure) {
    const auto* info = static_cast<const ConnInfo*>(closure);
    if (info->closing) return;
    spdlog::warn("cluster node {}: lost the NATS connection; reconnecting", info->name);
  }
  static void on_reconnected(natsConnection* nc, void* closure) {
    char url[256] = "";
    (void)natsConnection_GetConnectedUrl(nc, url, sizeof url);
    spdlog::info("cluster node {}: reconnected to {}", static_cast<const ConnInfo*>(closure)->name, url);
  }
  static void on_closed(natsConnection*, void* closure) { delete static_cast<ConnInfo*>(closure); }

  void subscribe(natsSubscription** out, const std::string& to, bool heartbeat) {
    auto* in = new Inbound{weak_from_this(), remote, heartbeat};
    natsStatus s = NATS_OK;
    {
      AsyncSignalsBlocked quiet;  // the subscription's delivery thread takes no process signal
      s = natsConnection_Subscribe(out, nc, to.c_str(), &Impl::on_message, in);
    }
    if (s == NATS_OK) s = natsSubscription_SetOnCompleteCB(*out, &Impl::on_subscription_done, in);
    if (s == NATS_OK) s = natsSubscription_SetPendingLimits(*out, -1, -1);
    if (s != NATS_OK) {
      if (*out == nullptr) delete in;
      throw ClusterError(fmt::format("cluster node {}: subscribe to {}: {}", options.name, to, natsStatus_GetText(s)));
    }
  }

  void connect() {
    natsOptions* opts = nullptr;
    const auto check = [&](natsStatus s, const char* what) {
      if (s != NATS_OK) {
        if (opts != nullptr) natsOptions_Destroy(opts);
        delete std::exchange(conn_info, nullptr);
        throw ClusterError(fmt::format("cluster node {}: {}: {}", options.name, what, natsStatus_GetText(s)));
      }
    };
    {
      // The first libnats call starts the library's threads (timers, callbacks): they must take
      // no process signal (see AsyncSignalsBlocked), whenever the program's SignalWatch starts.
      AsyncSignalsBlocked quiet;
      check(natsOptions_Create(&opts), "options");
    }
    std::vector<const char*> urls;
    for (const std::string& u : options.servers) urls.push_back(u.c_str());
    check(natsOptions_SetServers(opts, urls.data(), static_cast<int>(urls.size())), "server list");
    check(natsOptions_SetName(opts, options.name.c_str()), "name");
    check(natsOptions_SetTimeout(opts, static_cast<std::int64_t>(options.connect_timeout * 1000)), "timeout");
    check(natsOptions_SetMaxReconnect(opts, -1), "reconnect");
    check(natsOptions_SetCustomReconnectDelay(opts, &Impl::reconnect_delay, &options), "backoff");
    check(natsOptions_SetReconnectBufSize(opts, 8 << 20), "reconnect buffer");
    conn_info = new ConnInfo{options.name};
    check(natsOptions_SetDisconnectedCB(opts, &Impl::on_disconnected, conn_info), "callbacks");
    check(natsOptions_SetReconnectedCB(opts, &Impl::on_reconnected, conn_info), "callbacks");
    check(natsOptions_SetClosedCB(opts, &Impl::on_closed, conn_info), "callbacks");
    check(natsOptions_SetNoEcho(opts, false), "echo");
    // Write each message when it is sent: libnats' flusher would wait 1 ms before every write.
    check(natsOptions_SetSendAsap(opts, true), "send asap");
    check(loop->install(opts), "event loop");
    // The handshake blocks: it runs on the thread pool while this greenlet waits.
    const natsStatus s = run_in_thread([&] { return natsConnection_Connect(&nc, opts); });
    natsOptions_Destroy(opts);
    if (s != NATS_OK) {
      nc = nullptr;
      delete std::exchange(conn_info, nullptr);  // no connection, no closed callback
      throw ClusterError(fmt::format("cluster node {}: cannot connect to {}: {}", options.name,
                                     fmt::join(options.servers, ","), natsStatus_GetText(s)));
    }
  }

  void close() noexcept {
    if (conn_info != nullptr) conn_info->closing = true;
    if (heartbeat && !heartbeat->dead()) heartbeat->kill(std::make_exception_ptr(GreenletExit("node closed")));
    if (nc != nullptr) {
      if (sub != nullptr) (void)natsSubscription_Unsubscribe(sub);
      if (hb_sub != nullptr) (void)natsSubscription_Unsubscribe(hb_sub);
      natsConnection_Close(nc);
    }
    if (kv != nullptr) kvStore_Destroy(kv);
    if (js != nullptr) jsCtx_Destroy(js);
    kv = nullptr;
    js = nullptr;
    if (sub != nullptr) natsSubscription_Destroy(sub);
    if (hb_sub != nullptr) natsSubscription_Destroy(hb_sub);
    if (nc != nullptr) natsConnection_Destroy(nc);
    sub = hb_sub = nullptr;
    nc = nullptr;
    if (loop) loop->close();
  }
};

// ---------------------------------------------------------------------------------------------

Node::Node(NodeOptions options) : impl_(std::make_shared<Impl>()) {
  Impl& n = *impl_;
  n.options = std::move(options);
  if (!valid_token(n.options.name)) {
    throw ClusterError(fmt::format("cluster node name \"{}\": use letters, digits, '-' and '_'", n.options.name));
  }
  if (!valid_token(n.options.subject_prefix)) {
    throw ClusterError(fmt::format("cluster subject prefix \"{}\": use letters, digits, '-' and '_'",
                                   n.options.subject_prefix));
  }
  if (n.options.servers.empty()) throw ClusterError("cluster node: no NATS server given");
  if (!(n.options.heartbeat_interval > 0) || !(n.options.node_timeout > n.options.heartbeat_interval)) {
    throw ClusterError("cluster node: want 0 < heartbeat_interval < node_timeout");
  }
  n.subject = n.subject_of(n.options.name, n.incarnation);
  n.hb_subject = n.options.subject_prefix + ".hb";
  n.remote = Hub::current().remote();
  n.loop = internal::NatsLoop::create();
  try {
    n.connect();
    n.subscribe(&n.sub, n.subject, false);
    n.subscribe(&n.hb_sub, n.hb_subject, true);
    n.open_registry();
  } catch (...) {
    n.close();
    throw;
  }
  std::weak_ptr<Impl> weak = impl_;
  n.heartbeat = spawn_fiber([weak] {
    for (;;) {
      double interval = 0;
      if (auto self = weak.lock()) {
        self->send_heartbeat();
        self->check_peers();
        interval = self->options.heartbeat_interval;
      } else {
        return;
      }
      grove::sleep(interval);
    }
  });
  n.send_heartbeat();
  spdlog::info("cluster node {} ({:x}) connected", n.options.name, n.incarnation);
}

Node::~Node() { impl_->close(); }

const std::string& Node::name() const noexcept { return impl_->options.name; }
std::uint64_t Node::incarnation() const noexcept { return impl_->incarnation; }

Pid Node::pid(const ActorRef& actor) { return impl_->export_actor(actor); }
Pid Node::self_pid() { return impl_->export_actor(grove::self()); }
ActorRef Node::local(const Pid& pid) const { return impl_->local(pid); }

void Node::begin_send(msgpack::packer<msgpack::sbuffer>& p, const Pid& to, const std::string& type) {
  begin_frame(p, kSend, 3);
  p.pack(to.actor);
  p.pack(type);
}

void Node::publish_to(const Pid& to, const msgpack::sbuffer& frame) {
  impl_->publish(impl_->subject_of(to.node, to.incarnation), frame);
}

void Node::define_function(std::string name, std::function<ActorRef(const msgpack::object*)> start) {
  impl_->functions[std::move(name)] = std::move(start);
}

Pid Node::spawn_remote(const std::string& node, const std::string& function, const msgpack::sbuffer* args,
                       double timeout_seconds) {
  Impl& n = *impl_;
  if (!valid_token(node)) throw std::invalid_argument(fmt::format("spawn: bad node name \"{}\"", node));
  if (node == n.options.name) {
    std::optional<msgpack::object_handle> decoded;
    if (args != nullptr) decoded = msgpack::unpack(args->data(), args->size());
    return n.export_actor(n.start_function(function, decoded ? &decoded->get() : nullptr));
  }
  const Deadline deadline = Deadline::after(timeout_seconds);
  // A node not heard yet gets node_timeout to show up (its heartbeats come more often).
  const Deadline heard_by = Deadline::after(std::min(timeout_seconds, n.options.node_timeout));
  while (!is_up(node)) {
    if (n.peer_heard.wait(heard_by, "cluster spawn: node up") == WaitStatus::kTimedOut && !is_up(node)) {
      throw SpawnError(SpawnError::Kind::kNodeDown, fmt::format("spawn: node {} is not up", node));
    }
  }
  Impl::Pending pending;
  pending.node = node;
  pending.incarnation = n.peers.at(node).incarnation;
  Pid spawned;
  pending.accept = [&](const msgpack::object& o) { spawned = o.as<Pid>(); };
  const Impl::PendingScope scope(n, pending);
  n.send_frame(pending.node, pending.incarnation, kSpawn, 4, [&](auto& p, auto& buffer) {
    p.pack(Pid{n.options.name, n.incarnation, 0});
    p.pack(scope.id);
    p.pack(function);
    if (args != nullptr) buffer.write(args->data(), args->size());
    else p.pack_nil();
  });
  if (!Impl::await(pending, deadline, "cluster spawn")) {
    throw SpawnError(SpawnError::Kind::kTimeout,
                     fmt::format("spawn: node {} did not answer within {} s", node, timeout_seconds));
  }
  switch (pending.status) {
    case kOk: return spawned;
    case kUnknownFunction: throw SpawnError(SpawnError::Kind::kUnknownFunction, pending.refusal);
    case kBadArguments: throw SpawnError(SpawnError::Kind::kBadArguments, pending.refusal);
    default:
      throw SpawnError(SpawnError::Kind::kNodeDown,
                       fmt::format("spawn: node {} went down: {}", node, pending.reason.to_string()));
  }
}

void Node::call_remote(const Pid& server, const std::string& type, const msgpack::sbuffer& request,
                       double timeout_seconds, const std::function<void(const msgpack::object&)>& accept) {
  Impl& n = *impl_;
  // What a monitor of the server would say, as a CallError (the local call's kinds).
  const auto ended = [](const ExitReason& reason) {
    if (reason.kind() == ExitReason::Kind::kNoProc) {
      return CallError(CallError::Kind::kNoProc, reason, "call: the server is not running (noproc)");
    }
    return CallError(CallError::Kind::kServerExited, reason,
                     "call: the server exited before replying: " + reason.to_string());
  };
  if (!server || (server.node == n.options.name && server.incarnation == n.incarnation)) {
    throw ended(ExitReason::noproc());  // here, and not local(): gone
  }
  if (auto reason = n.unreachable(server)) throw ended(*reason);
  Impl::Pending pending;
  pending.node = server.node;
  pending.incarnation = server.incarnation;
  pending.accept = accept;
  const Impl::PendingScope scope(n, pending);
  n.send_frame(server.node, server.incarnation, kCall, 6, [&](auto& p, auto& buffer) {
    p.pack(Pid{n.options.name, n.incarnation, 0});
    p.pack(scope.id);
    p.pack(server.actor);
    p.pack(type);
    buffer.write(request.data(), request.size());
    p.pack(timeout_seconds);
  });
  if (!Impl::await(pending, Deadline::after(timeout_seconds), "cluster call")) {
    throw CallError(CallError::Kind::kTimeout, ExitReason::normal(),
                    fmt::format("call: no reply from {} within {} s", to_string(server), timeout_seconds));
  }
  if (pending.status != kOk) throw ended(pending.reason);
}

void Node::link(const Pid& other) {
  Impl& n = *impl_;
  const ActorRef me = grove::self();
  if (ActorRef here = n.local(other)) {
    grove::link(here);
    return;
  }
  if (other.node == n.options.name && other.incarnation == n.incarnation) {
    n.apply_signal(me, other, ExitReason::noproc());  // E7: a local actor that is gone
    return;
  }
  const Pid mine = n.export_actor(me);
  if (auto reason = n.unreachable(other)) {
    n.apply_signal(me, other, *reason);
    return;
  }
  if (!n.links[me.id()].insert(other).second) return;  // E1: one link
  n.send_signal(kLink, mine, other, nullptr);
}

void Node::unlink(const Pid& other) {
  Impl& n = *impl_;
  const ActorRef me = grove::self();
  if (ActorRef here = n.local(other)) {
    grove::unlink(here);
    return;
  }
  auto it = n.links.find(me.id());
  if (it == n.links.end() || it->second.erase(other) == 0) return;
  n.send_signal(kUnlink, n.pid_of(me), other, nullptr);
}

MonitorRef Node::monitor(const Pid& target) {
  Impl& n = *impl_;
  const ActorRef me = grove::self();
  if (ActorRef here = n.local(target)) return grove::monitor(here);
  static std::atomic<std::uint64_t> next_ref{1};
  const MonitorRef ref{(std::uint64_t{1} << 63) | next_ref++};
  if (target.node == n.options.name && target.incarnation == n.incarnation) {
    grove::send(me, RemoteDown{ref, target, ExitReason::noproc()});  // E8: gone already
    return ref;
  }
  if (auto reason = n.unreachable(target)) {
    grove::send(me, RemoteDown{ref, target, *reason});
    return ref;
  }
  const Pid mine = n.export_actor(me);
  n.outgoing.emplace(ref.id, Impl::Outgoing{me, target});
  n.send_monitor_frame(kMonitor, mine, ref.id, target);
  return ref;
}

bool Node::demonitor(MonitorRef ref) {
  Impl& n = *impl_;
  auto it = n.outgoing.find(ref.id);
  if (it == n.outgoing.end()) return grove::demonitor(ref);
  const Impl::Outgoing o = it->second;
  n.outgoing.erase(it);
  n.send_monitor_frame(kDemonitor, n.pid_of(o.watcher), ref.id, o.target);
  return true;
}

void Node::exit(const Pid& target, ExitReason reason) {
  Impl& n = *impl_;
  if (ActorRef here = n.local(target)) {
    grove::exit(here, std::move(reason));
    return;
  }
  const Pid from = grove::in_actor() ? n.export_actor(grove::self()) : Pid{n.options.name, n.incarnation, 0};
  n.send_signal(kSignal, from, target, &reason);
}

bool Node::register_global(const std::string& name, const ActorRef& actor) {
  return impl_->register_global(name, actor);
}

void Node::unregister_global(const std::string& name) {
  Impl& n = *impl_;
  const std::string key = n.registry_key(name);
  const auto it = n.owned.find(key);
  if (it == n.owned.end()) return;
  const Pid holder{n.options.name, n.incarnation, it->second};
  n.owned.erase(it);
  n.release(key, holder);
}

std::optional<Pid> Node::whereis_global(const std::string& name) { return impl_->whereis_global(name); }

bool Node::is_up(const std::string& node) const {
  if (node == impl_->options.name) return true;
  const auto it = impl_->peers.find(node);
  return it != impl_->peers.end() && it->second.heard;
}

std::vector<std::string> Node::nodes() const {
  std::vector<std::string> out{impl_->options.name};
  for (const auto& [name, peer] : impl_->peers) {
    if (peer.heard) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

NodeStats Node::stats() const noexcept { return impl_->stats; }

}  // namespace grove::cluster
