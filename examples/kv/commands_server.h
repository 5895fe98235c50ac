// examples/kv/commands_server.h — the transaction, pattern pub/sub and server commands:
// MULTI, EXEC, DISCARD, WATCH, UNWATCH (kv/transaction.h), PSUBSCRIBE, PUNSUBSCRIBE, PUBSUB
// (kv/pubsub.h), CLIENT KILL/NO-EVICT and BGREWRITEAOF (kv/aof.h), with redis-server 7.0's
// replies and errors. They are rows of the command table in commands.cc like every other
// command; Session::execute (commands.cc) does the queueing between MULTI and EXEC.
//
// Thread: the server's hub; each runs on the calling connection's greenlet and never waits,
// except BGREWRITEAOF's reply, which comes at once while the rewrite goes on in the background.
#pragma once

#include <string_view>
#include <vector>

#include "examples/kv/resp.h"

namespace kv {

class Session;

struct ServerCommands {
  using Args = std::vector<std::string_view>;

  static bool multi(Session& s, const Args& a, ReplyWriter& out);
  static bool exec(Session& s, const Args& a, ReplyWriter& out);
  static bool discard(Session& s, const Args& a, ReplyWriter& out);
  static bool watch(Session& s, const Args& a, ReplyWriter& out);
  static bool unwatch(Session& s, const Args& a, ReplyWriter& out);
  // Whether `name` (a table name) runs at once inside MULTI instead of being queued.
  static bool runs_inside_multi(std::string_view name);
  // A request refused before it ran (unknown, wrong arity, wrong context): inside MULTI this
  // aborts the transaction; a refused EXEC answers EXECABORT with the reason and ends it.
  static void refused(Session& s, std::string_view name, std::string_view error,
                      ReplyWriter& out);

  static bool psubscribe(Session& s, const Args& a, ReplyWriter& out);
  static bool punsubscribe(Session& s, const Args& a, ReplyWriter& out);
  static bool pubsub(Session& s, const Args& a, ReplyWriter& out);
  // Leaves every channel and pattern (a closing connection, RESET).
  static void unsubscribe_all(Session& s);

  // CLIENT KILL and CLIENT NO-EVICT (the other CLIENT subcommands are in commands.cc). False:
  // close this connection after the reply.
  static bool client_kill(Session& s, const Args& a, ReplyWriter& out);
  static bool client_no_evict(Session& s, const Args& a, ReplyWriter& out);

  static bool bgrewriteaof(Session& s, const Args& a, ReplyWriter& out);
};

}  // namespace kv
