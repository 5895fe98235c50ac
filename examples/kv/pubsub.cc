// examples/kv/pubsub.cc — channel actors (see pubsub.h).
#include "examples/kv/pubsub.h"

#include <algorithm>

#include "examples/kv/resp.h"

namespace kv {

struct PubSub::Channel {
  std::string name;
  std::vector<std::shared_ptr<ClientOutput>> subscribers;
  grove::ActorRef actor;
};

namespace {
struct Publish {
  std::shared_ptr<const std::string> resp;
};
struct LastSubscriberLeft {};
}  // namespace

void PubSub::channel_main(std::shared_ptr<Channel> channel) {
  for (;;) {
    grove::receive(
        [&](Publish p) {
          // push() never waits, so the list cannot change under this loop (a subscriber
          // closed for its limit unsubscribes later, from its own connection).
          for (const auto& s : channel->subscribers) s->push(p.resp);
        },
        [](LastSubscriberLeft) {});
    if (channel->subscribers.empty() && grove::self()->mailbox_size() == 0) {
      auto it = channels_.find(channel->name);
      if (it != channels_.end() && it->second == channel) channels_.erase(it);
      return;
    }
  }
}

void PubSub::subscribe(const std::string& name, const std::shared_ptr<ClientOutput>& subscriber) {
  auto it = channels_.find(name);
  if (it == channels_.end() || it->second->actor.dead()) {
    auto channel = std::make_shared<Channel>();
    channel->name = name;
    channel->actor = channels_supervisor_.start_child([this, channel] {
      grove::ActorOptions options;
      options.name = "channel " + channel->name;
      return grove::ActorRef(
          grove::spawn_opt(std::move(options), [this, channel] { channel_main(channel); }));
    });
    // start_child waited for the supervisor: another connection may have created it meanwhile.
    it = channels_.find(name);
    if (it != channels_.end() && !it->second->actor.dead()) {
      grove::send(channel->actor, LastSubscriberLeft{});  // ours is not needed: let it end
    } else {
      it = channels_.insert_or_assign(name, channel).first;
    }
  }
  it->second->subscribers.push_back(subscriber);
}

void PubSub::unsubscribe(const std::string& name, const ClientOutput* subscriber) {
  auto it = channels_.find(name);
  if (it == channels_.end()) return;
  auto& subs = it->second->subscribers;
  subs.erase(std::remove_if(subs.begin(), subs.end(),
                            [&](const auto& s) { return s.get() == subscriber; }),
             subs.end());
  if (subs.empty()) grove::send(it->second->actor, LastSubscriberLeft{});
}

std::size_t PubSub::publish(std::string_view name, std::string_view message) {
  auto it = channels_.find(name);
  if (it == channels_.end() || it->second->subscribers.empty()) return 0;
  auto resp = std::make_shared<std::string>();
  // Its exact size (the RESP framing takes at most 72 bytes): the push is held by every
  // subscriber that has not read it yet, and what they hold is what client-output-buffer-limit
  // counts — a string grown by appends could take twice that.
  resp->reserve(72 + name.size() + message.size());
  ReplyWriter out(*resp);
  out.array_header(3);
  out.bulk("message");
  out.bulk(name);
  out.bulk(message);
  grove::send(it->second->actor, Publish{std::move(resp)});
  return it->second->subscribers.size();
}

}  // namespace kv
