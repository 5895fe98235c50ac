// examples/kv/events.cc — WATCH invalidation and keyspace notifications (see events.h).
#include "examples/kv/events.h"

#include <fmt/format.h>

#include "examples/kv/pubsub.h"
#include "examples/kv/server.h"
#include "examples/kv/shards.h"

namespace kv {
namespace {

struct Letter {
  char letter;
  unsigned cls;
};
// CONFIG GET's order: the type classes (unless A covers them), then K, E, then m.
constexpr Letter kTypeLetters[] = {
    {'g', kNotifyGeneric}, {'$', kNotifyString},  {'l', kNotifyList},  {'s', kNotifySet},
    {'h', kNotifyHash},    {'z', kNotifyZset},    {'x', kNotifyExpired}, {'e', kNotifyEvicted},
    {'t', kNotifyStream},  {'d', kNotifyModule},  {'n', kNotifyNew},
};

}  // namespace

std::optional<unsigned> parse_notify_flags(std::string_view letters) {
  unsigned flags = 0;
  for (char c : letters) {
    switch (c) {
      case 'A': flags |= kNotifyAll; break;
      case 'K': flags |= kNotifyKeyspace; break;
      case 'E': flags |= kNotifyKeyevent; break;
      case 'm': flags |= kNotifyKeyMiss; break;
      default: {
        bool known = false;
        for (const Letter& l : kTypeLetters) {
          if (l.letter == c) {
            flags |= l.cls;
            known = true;
          }
        }
        if (!known) return std::nullopt;
      }
    }
  }
  return flags;
}

std::string format_notify_flags(unsigned flags) {
  std::string text;
  if ((flags & kNotifyAll) == kNotifyAll) {
    text += 'A';
  } else {
    for (const Letter& l : kTypeLetters) {
      if (flags & l.cls) text += l.letter;
    }
  }
  if (flags & kNotifyKeyspace) text += 'K';
  if (flags & kNotifyKeyevent) text += 'E';
  if (flags & kNotifyKeyMiss) text += 'm';
  return text;
}

void notify_keyspace_event(Server& server, unsigned cls, std::string_view event,
                           std::string_view key) {
  const unsigned flags = server.config.notify_keyspace_events;
  if (!(flags & cls) || !(flags & (kNotifyKeyspace | kNotifyKeyevent)) || !server.pubsub) return;
  // --threads N: the subscribers of the other hubs hear it too (not waited for).
  if (flags & kNotifyKeyspace) {
    const std::string channel = fmt::format("__keyspace@0__:{}", key);
    server.pubsub->publish(channel, event);
    if (server.shards) publish_on_other_hubs(server, channel, event, false);
  }
  if (flags & kNotifyKeyevent) {
    const std::string channel = fmt::format("__keyevent@0__:{}", event);
    server.pubsub->publish(channel, key);
    if (server.shards) publish_on_other_hubs(server, channel, key, false);
  }
}

void key_changed(Server& server, std::string_view key, unsigned cls, std::string_view event) {
  server.watches.touch(key);
  if (server.aof) server.aof->note_write(key);  // a rewrite in progress writes it again
  notify_keyspace_event(server, cls, event, key);
}

}  // namespace kv
