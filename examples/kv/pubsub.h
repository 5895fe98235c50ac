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
  std::size_t publish(std::string_view channel, std::string_view message);
  std::size_t channel_count() const { return channels_.size(); }

  struct Channel;

 private:
  void channel_main(std::shared_ptr<Channel> channel);
  grove::Supervisor channels_supervisor_;
  std::map<std::string, std::shared_ptr<Channel>, std::less<>> channels_;
};

}  // namespace kv
