// examples/kv/pubsub.h — PUBLISH/SUBSCRIBE: every channel with subscribers is an actor.
//
// Model: the first SUBSCRIBE to a channel starts a channel actor (a temporary child of the pub/sub
// supervisor); its subscriber list lives in a small shared record so PUBLISH can answer "how many
// received it" at once, as redis-server does. PUBLISH encodes the push (`*3 message <channel>
// <payload>`) once and sends it to the channel actor, which hands it to each subscriber's
// ClientOutput (kv/client_output.h): that queues it for the client's writer actor, which writes
// pushes to the socket in order. A slow subscriber therefore delays only itself, never the
// publisher or the channel, and what it has not read counts against its output buffer limit
// (pubsub class): past it, the subscriber is disconnected and its queue freed. When its last
// subscriber leaves, the channel actor ends and forgets the channel.
//
// Patterns (PSUBSCRIBE) work the same way: every pattern with subscribers is an actor of its
// own. PUBLISH goes to the channel's actor first, then to the actor of each pattern that matches
// the channel (glob syntax, kv/glob.h) with `*4 pmessage <pattern> <channel> <payload>`; a client
// subscribed to both therefore gets "message" before "pmessage", as from redis-server, and the
// count PUBLISH answers includes the pattern subscriptions. Keyspace notifications (kv/events.h)
// are published the same way.
//
// Thread: one hub; called from connection actors.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "actors/actor.h"
#include "actors/supervisor.h"
#include "examples/kv/client_output.h"

namespace kv {

class PubSub {
 public:
  explicit PubSub(grove::Supervisor channels) : channels_supervisor_(std::move(channels)) {}
  // The supervisor new channel actors start under (replaced when the pub/sub supervisor restarts).
  void set_supervisor(grove::Supervisor channels) { channels_supervisor_ = std::move(channels); }

  void subscribe(const std::string& channel, const std::shared_ptr<ClientOutput>& subscriber);
  void unsubscribe(const std::string& channel, const ClientOutput* subscriber);
  // Number of subscribers the message goes to.
  void psubscribe(const std::string& pattern, const std::shared_ptr<ClientOutput>& subscriber);
  void punsubscribe(const std::string& pattern, const ClientOutput* subscriber);
  // Number of subscribers the message goes to (pattern subscriptions included).
  std::size_t publish(std::string_view channel, std::string_view message);
  std::size_t channel_count() const { return channels_.size(); }
  // PUBSUB NUMPAT: patterns with at least one subscriber.
  std::size_t pattern_count() const { return patterns_.size(); }
  // PUBSUB CHANNELS [pattern]: the channels with subscribers (all of them when `pattern` is
  // empty), sorted.
  std::vector<std::string> active_channels(std::string_view pattern) const;
  // The patterns with subscribers, sorted (PUBSUB NUMPAT over several hubs counts their union).
  std::vector<std::string> active_patterns() const;
  // PUBSUB NUMSUB: the subscribers of one channel.
  std::size_t subscribers(std::string_view channel) const;

  struct Channel;
  using Directory = std::map<std::string, std::shared_ptr<Channel>, std::less<>>;

 private:
  void channel_main(Directory& directory, std::shared_ptr<Channel> channel);
  void add(Directory& directory, const std::string& name,
           const std::shared_ptr<ClientOutput>& subscriber);
  void remove(Directory& directory, const std::string& name, const ClientOutput* subscriber);
  grove::Supervisor channels_supervisor_;
  Directory channels_;
  Directory patterns_;
};

}  // namespace kv
