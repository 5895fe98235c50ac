// cluster/codec.h — message types that cross nodes: each C++ type registered once under a
// stable name, encoded with msgpack-c.
//
// Model: a node sends a value as its registered name plus its msgpack encoding; the receiving
// node looks the name up and decodes it into the same C++ type, then queues it in the target
// actor's mailbox like a local send. A type is made encodable the msgpack-c way (MSGPACK_DEFINE
// in the struct, or an adaptor), and registered in every process that sends or receives it,
// before any node of the process starts. A name that is unknown on the receiving side, or a
// payload that does not decode as the registered type, is logged (spdlog warning) and dropped;
// the receiver goes on.
//
// Thread: register_type from any thread (registrations are guarded); lookups from any hub.
//
//   struct Ping {
//     grove::cluster::Pid from;
//     std::uint64_t seq = 0;
//     MSGPACK_DEFINE(from, seq);
//   };
//   grove::cluster::register_type<Ping>("example.Ping");
//
// A request answered across nodes (Node::call) is registered as a pair: register_call<Req, Rep>
// names the request type; Req and Rep must be msgpack-encodable. The serving actor receives the
// usual grove::Request<Req, Rep> (actors/call.h), so a serve() loop answers local and remote
// callers alike.
//
//   grove::cluster::register_call<Get, int>("example.Get");
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <functional>
#include <tuple>
#include <typeinfo>
#include <utility>

#include <msgpack.hpp>

#include "actors/actor.h"
#include "actors/call.h"

namespace grove::cluster {

// Names one actor anywhere in the cluster: the node's name, the node's incarnation (a random
// number drawn when the node starts: a node that restarts under the same name is a new
// incarnation and the old Pids stay dead), and the actor's id on that node. A plain value:
// copy it, compare it, put it inside messages.
struct Pid {
  std::string node;
  std::uint64_t incarnation = 0;
  std::uint64_t actor = 0;

  explicit operator bool() const noexcept { return actor != 0; }
  friend bool operator==(const Pid& a, const Pid& b) noexcept {
    return a.actor == b.actor && a.incarnation == b.incarnation && a.node == b.node;
  }
  friend bool operator<(const Pid& a, const Pid& b) noexcept {
    return std::tie(a.node, a.incarnation, a.actor) < std::tie(b.node, b.incarnation, b.actor);
  }
  MSGPACK_DEFINE(node, incarnation, actor);
};

// "<node>/<incarnation hex>/<actor>" — for logs, and for a command line (parse_pid reads it back).
std::string to_string(const Pid& pid);
// The inverse of to_string; throws std::invalid_argument on anything else.
Pid parse_pid(std::string_view text);

// Registering one name for two types, or two names for one type, is a programming error.
class TypeRegistrationError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

namespace internal {

// How a request made by another node ended on the serving node: a reply (its msgpack
// encoding), or the CallError the local call gave.
struct CallOutcome {
  bool ok = false;
  std::string reply;
  CallError::Kind error = CallError::Kind::kTimeout;
  ExitReason reason;
};
using CallDone = std::function<void(CallOutcome)>;

struct TypeEntry {
  std::string name;
  // Decodes `payload` as the registered type and queues it in `to`'s mailbox; throws
  // msgpack::type_error (or another std::exception) when it does not decode. Null for a call.
  void (*deliver)(const ActorRef& to, const msgpack::object& payload) = nullptr;
  // For a request type (register_call): decodes `payload` at once (throws as deliver does), then
  // calls `to` locally on a new fiber with the usual grove::call and hands the outcome to `done`.
  void (*call)(const ActorRef& to, const msgpack::object& payload, double timeout, CallDone done) = nullptr;
};

// Registers `entry` for `type` (idempotent for the same pair).
void register_type_entry(const std::type_info& type, TypeEntry entry);
// nullptr when nothing is registered under that name / for that type.
const TypeEntry* find_type(std::string_view name) noexcept;
const TypeEntry* find_type(const std::type_info& type) noexcept;

}  // namespace internal

// Registers M under `name`. Do it once per process, in every process that sends or receives M.
template <class M>
void register_type(std::string name) {
  internal::register_type_entry(
      typeid(M), internal::TypeEntry{std::move(name), [](const ActorRef& to, const msgpack::object& payload) {
                                       M value = payload.as<M>();
                                       grove::send(to, std::move(value));
                                     }});
}

// Registers the request type Req, answered with Rep, under `name` for Node::call. Do it once per
// process, in every process that makes or serves such calls.
template <class Req, class Rep>
void register_call(std::string name) {
  internal::TypeEntry entry;
  entry.name = std::move(name);
  entry.call = [](const ActorRef& to, const msgpack::object& payload, double timeout, internal::CallDone done) {
    Req request = payload.as<Req>();
    spawn_fiber([to, request = std::move(request), timeout, done = std::move(done)]() mutable {
      internal::CallOutcome outcome;
      try {
        const Rep reply = grove::call<Rep>(to, std::move(request), timeout);
        msgpack::sbuffer buffer;
        msgpack::pack(buffer, reply);
        outcome.ok = true;
        outcome.reply.assign(buffer.data(), buffer.size());
      } catch (const CallError& e) {
        outcome.error = e.kind();
        outcome.reason = e.reason();
      } catch (const std::exception& e) {  // no reply: the caller times out; the node logs why
        outcome.error = CallError::Kind::kTimeout;
        outcome.reason = ExitReason::user(e.what());
      }
      done(std::move(outcome));
    });
  };
  internal::register_type_entry(typeid(Request<Req, Rep>), std::move(entry));
}

// The name M was registered under; throws TypeRegistrationError if it was not.
template <class M>
const std::string& type_name() {
  const internal::TypeEntry* entry = internal::find_type(typeid(M));
  if (entry == nullptr) {
    throw TypeRegistrationError(std::string("grove::cluster: message type ") + typeid(M).name() +
                                " is not registered (cluster::register_type)");
  }
  return entry->name;
}

}  // namespace grove::cluster

template <>
struct std::hash<grove::cluster::Pid> {
  std::size_t operator()(const grove::cluster::Pid& p) const noexcept {
    return std::hash<std::uint64_t>()(p.actor * 0x9e3779b97f4a7c15ULL ^ p.incarnation);
  }
};
