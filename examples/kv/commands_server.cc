// examples/kv/commands_server.cc — MULTI/EXEC/DISCARD/WATCH/UNWATCH, PSUBSCRIBE/PUNSUBSCRIBE/
// PUBSUB, CLIENT KILL/NO-EVICT and BGREWRITEAOF (see commands_server.h).
#include "examples/kv/commands_server.h"

#include <algorithm>
#include <cctype>
#include <string>

#include <fmt/format.h>

#include "actors/actor.h"
#include "examples/kv/pubsub.h"
#include "examples/kv/server.h"

namespace kv {
namespace {

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

constexpr std::string_view kExecAbort =
    "EXECABORT Transaction discarded because of previous errors.";

}  // namespace

// --- transactions --------------------------------------------------------------------------------

bool ServerCommands::runs_inside_multi(std::string_view name) {
  return name == "exec" || name == "discard" || name == "multi" || name == "watch" ||
         name == "quit" || name == "reset";
}

void ServerCommands::refused(Session& s, std::string_view name, std::string_view error,
                             ReplyWriter& out) {
  Transaction& tx = s.tx_;
  if (name == "exec") {
    // redis-server's execCommandAbort: the reason, less its "ERR " prefix.
    std::string_view reason = error;
    if (reason.substr(0, 4) == "ERR ") reason.remove_prefix(4);
    out.error(fmt::format("EXECABORT Transaction discarded because of: {}", reason));
    s.server_.watches.unwatch_all(tx);
    tx.reset();
    return;
  }
  out.error(error);
  if (tx.active) tx.aborted = true;
}

bool ServerCommands::multi(Session& s, const Args&, ReplyWriter& out) {
  if (s.tx_.active) {
    out.error("ERR MULTI calls can not be nested");
    return true;
  }
  s.tx_.active = true;
  out.ok();
  return true;
}

bool ServerCommands::exec(Session& s, const Args&, ReplyWriter& out) {
  Transaction& tx = s.tx_;
  if (!tx.active) {
    out.error("ERR EXEC without MULTI");
    return true;
  }
  // A watched key that expired since WATCH was written by the clock: looking it up deletes it,
  // which touches its watchers (redis-server's isWatchedKeyExpired).
  for (const std::string& key : tx.watched) (void)s.server_.store->find(key, s.now_);
  if (tx.aborted || tx.dirty) {
    if (tx.aborted) out.error(kExecAbort); else out.null_array();
    s.server_.watches.unwatch_all(tx);
    tx.reset();
    return true;
  }
  // The transaction's own writes must not count against it: forget the watches first.
  s.server_.watches.unwatch_all(tx);
  std::vector<std::vector<std::string>> queued = std::move(tx.queued);
  tx.reset();
  out.array_header(queued.size());
  tx.executing = true;
  bool keep_open = true;
  std::vector<std::string_view> args;
  for (const std::vector<std::string>& request : queued) {
    args.assign(request.begin(), request.end());
    keep_open = s.call(args, out.buffer()) && keep_open;
  }
  tx.executing = false;
  return keep_open;
}

bool ServerCommands::discard(Session& s, const Args&, ReplyWriter& out) {
  if (!s.tx_.active) {
    out.error("ERR DISCARD without MULTI");
    return true;
  }
  s.server_.watches.unwatch_all(s.tx_);
  s.tx_.reset();
  out.ok();
  return true;
}

bool ServerCommands::watch(Session& s, const Args& a, ReplyWriter& out) {
  if (s.tx_.active) {
    out.error("ERR WATCH inside MULTI is not allowed");
    return true;
  }
  for (std::size_t i = 1; i < a.size(); ++i) {
    // An already expired key goes now: its deletion is not a write this client watched.
    (void)s.server_.store->find(a[i], s.now_);
    s.server_.watches.watch(s.tx_, a[i]);
  }
  out.ok();
  return true;
}

bool ServerCommands::unwatch(Session& s, const Args&, ReplyWriter& out) {
  s.server_.watches.unwatch_all(s.tx_);
  out.ok();
  return true;
}

// --- pattern pub/sub -----------------------------------------------------------------------------

bool ServerCommands::psubscribe(Session& s, const Args& a, ReplyWriter& out) {
  if (!s.output_) return true;
  s.output_->start_pushing();
  for (std::size_t i = 1; i < a.size(); ++i) {
    std::string pattern(a[i]);
    if (s.patterns_.insert(pattern).second) s.server_.pubsub->psubscribe(pattern, s.output_);
    out.array_header(3);
    out.bulk("psubscribe");
    out.bulk(pattern);
    out.integer(static_cast<std::int64_t>(s.channels_.size() + s.patterns_.size()));
  }
  s.output_->set_pubsub(true);
  return true;
}

bool ServerCommands::punsubscribe(Session& s, const Args& a, ReplyWriter& out) {
  auto leave = [&](const std::string& pattern) {
    if (s.patterns_.erase(pattern) > 0) s.server_.pubsub->punsubscribe(pattern, s.output_.get());
    out.array_header(3);
    out.bulk("punsubscribe");
    out.bulk(pattern);
    out.integer(static_cast<std::int64_t>(s.channels_.size() + s.patterns_.size()));
  };
  if (a.size() == 1) {
    if (s.patterns_.empty()) {
      out.array_header(3);
      out.bulk("punsubscribe");
      out.null_bulk();
      out.integer(static_cast<std::int64_t>(s.channels_.size()));
    }
    const std::vector<std::string> all(s.patterns_.begin(), s.patterns_.end());
    for (const std::string& pattern : all) leave(pattern);
  } else {
    for (std::size_t i = 1; i < a.size(); ++i) leave(std::string(a[i]));
  }
  if (s.output_ && s.channels_.empty() && s.patterns_.empty()) s.output_->set_pubsub(false);
  return true;
}

void ServerCommands::unsubscribe_all(Session& s) {
  for (const std::string& channel : s.channels_) {
    s.server_.pubsub->unsubscribe(channel, s.output_.get());
  }
  for (const std::string& pattern : s.patterns_) {
    s.server_.pubsub->punsubscribe(pattern, s.output_.get());
  }
  s.channels_.clear();
  s.patterns_.clear();
  if (s.output_) s.output_->set_pubsub(false);
}

bool ServerCommands::pubsub(Session& s, const Args& a, ReplyWriter& out) {
  const std::string sub = lowercase(a[1]);
  PubSub& pubsub = *s.server_.pubsub;
  if (sub == "channels" && a.size() <= 3) {
    const std::vector<std::string> names =
        pubsub.active_channels(a.size() == 3 ? a[2] : std::string_view("*"));
    out.array_header(names.size());
    for (const std::string& name : names) out.bulk(name);
  } else if (sub == "numsub") {
    out.array_header((a.size() - 2) * 2);
    for (std::size_t i = 2; i < a.size(); ++i) {
      out.bulk(a[i]);
      out.integer(static_cast<std::int64_t>(pubsub.subscribers(a[i])));
    }
  } else if (sub == "numpat" && a.size() == 2) {
    out.integer(static_cast<std::int64_t>(pubsub.pattern_count()));
  } else if (sub == "shardchannels" && a.size() <= 3) {
    out.array_header(0);  // no shard channels (no cluster)
  } else if (sub == "shardnumsub") {
    out.array_header((a.size() - 2) * 2);
    for (std::size_t i = 2; i < a.size(); ++i) {
      out.bulk(a[i]);
      out.integer(0);
    }
  } else if (sub == "help" && a.size() == 2) {
    static constexpr const char* kHelp[] = {
        "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        "HELP",
        "    Prints this help.",
    };
    out.array_header(std::size(kHelp));
    for (const char* line : kHelp) out.simple(line);
  } else if (sub == "numpat" || sub == "help") {
    out.error(fmt::format("ERR wrong number of arguments for 'pubsub|{}' command", sub));
  } else if (sub == "channels" || sub == "shardchannels") {
    out.error(fmt::format(
        "ERR unknown subcommand or wrong number of arguments for '{:.128}'. Try PUBSUB HELP.",
        a[1]));
  } else {
    out.error(fmt::format("ERR unknown subcommand '{:.128}'. Try PUBSUB HELP.", a[1]));
  }
  return true;
}

// --- CLIENT KILL / NO-EVICT ----------------------------------------------------------------------

bool ServerCommands::client_kill(Session& s, const Args& a, ReplyWriter& out) {
  Server& server = s.server_;
  // CLIENT KILL addr:port (the old form): OK, or an error when no client has that address.
  // CLIENT KILL <filter> <value> ...: how many were killed; SKIPME yes (the default) spares the
  // caller.
  std::uint64_t id = 0;
  std::string addr, laddr, user;
  int type = -1;  // 0 normal, 1 pubsub
  bool skip_me = true;
  const bool old_form = a.size() == 3;
  if (old_form) {
    addr = std::string(a[2]);
  } else if (a.size() % 2 != 0) {
    out.error("ERR syntax error");
    return true;
  } else {
    for (std::size_t i = 2; i + 1 < a.size(); i += 2) {
      const std::string filter = lowercase(a[i]);
      const std::string_view value = a[i + 1];
      if (filter == "id") {
        std::int64_t v = 0;
        if (!parse_int64(value, v) || v <= 0) {
          out.error("ERR client-id should be greater than 0");
          return true;
        }
        id = static_cast<std::uint64_t>(v);
      } else if (filter == "type") {
        const std::string t = lowercase(value);
        if (t == "normal") type = 0;
        else if (t == "pubsub") type = 1;
        else if (t == "master" || t == "slave" || t == "replica") type = 2;
        else {
          out.error(fmt::format("ERR Unknown client type '{}'", value));
          return true;
        }
      } else if (filter == "addr") {
        addr = std::string(value);
      } else if (filter == "laddr") {
        laddr = std::string(value);
      } else if (filter == "user") {
        if (value != "default") {
          out.error(fmt::format("ERR No such user '{}'", value));
          return true;
        }
        user = std::string(value);
      } else if (filter == "skipme") {
        const std::string v = lowercase(value);
        if (v == "yes") skip_me = true;
        else if (v == "no") skip_me = false;
        else {
          out.error("ERR syntax error");
          return true;
        }
      } else {
        out.error("ERR syntax error");
        return true;
      }
    }
  }
  std::vector<Session*> victims;
  for (const auto& [client_id, client] : server.clients) {
    if (id != 0 && client_id != id) continue;
    if (!addr.empty() && client->info_.addr != addr) continue;
    if (!laddr.empty() && client->info_.laddr != laddr) continue;
    const bool is_pubsub = !client->channels_.empty() || !client->patterns_.empty();
    if (type == 2 || (type == 0 && is_pubsub) || (type == 1 && !is_pubsub)) continue;
    if (client == &s && skip_me && !old_form) continue;
    victims.push_back(client);
  }
  if (old_form && victims.empty()) {
    out.error("ERR No such client");
    return true;
  }
  bool me = false;
  for (Session* victim : victims) {
    if (victim == &s) {
      me = true;  // closed once this reply is sent
    } else if (victim->actor_) {
      grove::exit(victim->actor_, grove::ExitReason::shutdown("CLIENT KILL"));
    }
  }
  if (old_form) out.ok(); else out.integer(static_cast<std::int64_t>(victims.size()));
  return !me;
}

bool ServerCommands::client_no_evict(Session& s, const Args& a, ReplyWriter& out) {
  if (a.size() != 3) {
    out.error("ERR wrong number of arguments for 'client|no-evict' command");
    return true;
  }
  const std::string v = lowercase(a[2]);
  if (v == "on") s.no_evict_ = true;
  else if (v == "off") s.no_evict_ = false;
  else {
    out.error("ERR syntax error");
    return true;
  }
  out.ok();
  return true;
}

}  // namespace kv

namespace kv {

// --- BGREWRITEAOF --------------------------------------------------------------------------------

bool ServerCommands::bgrewriteaof(Session& s, const Args&, ReplyWriter& out) {
  if (!s.server_.aof) {
    out.error("ERR kv_server runs without an append-only file (start it with --aof)");
  } else if (s.server_.aof_rewrite.in_progress) {
    out.error("ERR Background append only file rewriting already in progress");
  } else {
    (void)start_aof_rewrite(s.server_);
    out.simple("Background append only file rewriting started");
  }
  return true;
}

}  // namespace kv
