// tests/cluster/messages.h — the message types the cluster tests and their peer process share.
#pragma once

#include <cstdint>
#include <string>

#include "cluster/codec.h"

namespace grove::cluster::testing {

struct Hello {  // peer -> test: here is my actor
  Pid actor;
  MSGPACK_DEFINE(actor);
};
struct Ping {
  Pid from;
  std::uint64_t seq = 0;
  MSGPACK_DEFINE(from, seq);
};
struct Pong {
  std::uint64_t seq = 0;
  std::string node;
  MSGPACK_DEFINE(seq, node);
};
struct Burst {  // ask the peer to send `count` Numbered to `to`
  Pid to;
  std::uint64_t count = 0;
  MSGPACK_DEFINE(to, count);
};
struct Numbered {
  std::string node;
  std::uint64_t n = 0;
  MSGPACK_DEFINE(node, n);
};
struct Crash {  // end with ExitReason::user(reason)
  std::string reason;
  MSGPACK_DEFINE(reason);
};
struct LinkTo {  // link to `target` (a remote link made from the peer's side)
  Pid target;
  MSGPACK_DEFINE(target);
};
struct Linked {  // the peer made the link asked for
  MSGPACK_DEFINE();
};

struct Contend {  // try register_global(name) for the peer's actor
  std::string name;
  MSGPACK_DEFINE(name);
};
struct Registered {
  std::string node;
  bool won = false;
  MSGPACK_DEFINE(node, won);
};

// Calls the peer's actors serve (Node::call).
struct Add {  // -> a + b
  std::int64_t a = 0;
  std::int64_t b = 0;
  MSGPACK_DEFINE(a, b);
};
struct DieOnCall {  // the server ends with ExitReason::user(reason) instead of replying
  std::string reason;
  MSGPACK_DEFINE(reason);
};
struct SlowEcho {  // -> value, after `seconds`
  double seconds = 0;
  std::int64_t value = 0;
  MSGPACK_DEFINE(seconds, value);
};

// Functions the peer registers for Node::spawn: "test.echo" (no arguments: the peer's actor
// loop) and "test.report_to" (a Hello: sends Hello{its own pid} to Hello::actor, then the loop).
inline constexpr const char* kEcho = "test.echo";
inline constexpr const char* kReportTo = "test.report_to";

inline void register_types() {
  register_call<Add, std::int64_t>("test.Add");
  register_call<DieOnCall, std::int64_t>("test.DieOnCall");
  register_call<SlowEcho, std::int64_t>("test.SlowEcho");
  register_type<Contend>("test.Contend");
  register_type<Registered>("test.Registered");
  register_type<Hello>("test.Hello");
  register_type<Ping>("test.Ping");
  register_type<Pong>("test.Pong");
  register_type<Burst>("test.Burst");
  register_type<Numbered>("test.Numbered");
  register_type<Crash>("test.Crash");
  register_type<LinkTo>("test.LinkTo");
  register_type<Linked>("test.Linked");
}

}  // namespace grove::cluster::testing
