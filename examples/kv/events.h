// examples/kv/events.h — what a write tells the rest of the server: WATCH invalidation and
// keyspace notifications (redis-server's signalModifiedKey and notifyKeyspaceEvent).
//
// Model: every command that changes a key calls key_changed(server, key, class, event) once per
// event redis-server fires for it (LMOVE: "lpop"/"rpop" on the source, "lpush"/"rpush" on the
// destination; a collection emptied: "del"; an expiry: "expired"). That touches the transactions
// watching the key (kv/transaction.h), tells a running AOF rewrite to write the key again
// (kv/aof_rewrite.h) and, when the class is enabled by notify-keyspace-events,
// publishes through the pub/sub actors (kv/pubsub.h):
//   K: channel "__keyspace@0__:<key>", message <event>
//   E: channel "__keyevent@0__:<event>", message <key>
// so subscribers and pattern subscribers get them exactly like PUBLISHed messages.
//
// The classes are redis-server's letters: g generic, $ string, l list, s set, h hash, z sorted
// set, x expired, e evicted, t stream, d module, n new key, m key miss; A is g$lshzxetd; K and E
// choose the channels (neither: nothing is published).
//
// Cost: with notifications off (the default) and nobody watching, two comparisons per event.
// Thread: the server's hub.
//
//   kv::key_changed(server, "queue", kv::kNotifyList, "lpush");
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kv {

struct Server;

enum NotifyClass : unsigned {
  kNotifyKeyspace = 1u << 0,  // K
  kNotifyKeyevent = 1u << 1,  // E
  kNotifyGeneric = 1u << 2,   // g
  kNotifyString = 1u << 3,    // $
  kNotifyList = 1u << 4,      // l
  kNotifySet = 1u << 5,       // s
  kNotifyHash = 1u << 6,      // h
  kNotifyZset = 1u << 7,      // z
  kNotifyExpired = 1u << 8,   // x
  kNotifyEvicted = 1u << 9,   // e
  kNotifyStream = 1u << 10,   // t
  kNotifyKeyMiss = 1u << 11,  // m
  kNotifyModule = 1u << 12,   // d
  kNotifyNew = 1u << 13,      // n
  kNotifyAll = kNotifyGeneric | kNotifyString | kNotifyList | kNotifySet | kNotifyHash |
               kNotifyZset | kNotifyExpired | kNotifyEvicted | kNotifyStream | kNotifyModule,
};

// notify-keyspace-events' letters to classes; nullopt for a letter redis-server refuses.
std::optional<unsigned> parse_notify_flags(std::string_view letters);
// The classes as CONFIG GET shows them ("AKE", "gxK", ...), in redis-server's order.
std::string format_notify_flags(unsigned flags);

// A write of `key`: touches its watchers, and publishes `event` when `cls` is enabled.
void key_changed(Server& server, std::string_view key, unsigned cls, std::string_view event);
// Only the notification (for events that are not writes, such as "keymiss"; and for the
// second event of one write).
void notify_keyspace_event(Server& server, unsigned cls, std::string_view event,
                           std::string_view key);

}  // namespace kv
