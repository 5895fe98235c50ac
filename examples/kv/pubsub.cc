// examples/kv/pubsub.cc — channel and pattern actors (see pubsub.h).
#include "examples/kv/pubsub.h"

#include <algorithm>

#include "examples/kv/glob.h"
#include "examples/kv/resp.h"

namespace kv {

struct PubSub::Channel {
  std::string name;  // the channel, or the pattern
  std::vector<std::shared_ptr<ClientOutput>> subscribers;
  grove::ActorRef actor;
};

namespace {
struct Publish {
  std::shared_ptr<const std::string> resp;
};
struct LastSubscriberLeft {};

// A push in its exact size (the RESP framing takes at most 24 bytes a part): it is held by every
// subscriber that has not read it yet, and what they hold is what client-output-buffer-limit
// counts — a string grown by appends could take twice that.
std::shared_ptr<const std::string> encode(std::initializer_list<std::string_view> parts) {
  auto resp = std::make_shared<std::string>();
  std::size_t size = 24;
  for (std::string_view part : parts) size += 24 + part.size();
  resp->reserve(size);
  ReplyWriter out(*resp);
  out.array_header(parts.size());
  for (std::string_view part : parts) out.bulk(part);
  return resp;
}
}  // namespace

void PubSub::channel_main(Directory& directory, std::shared_ptr<Channel> channel) {
  for (;;) {
    grove::receive(
        [&](Publish p) {
          // push() never waits, so the list cannot change under this loop (a subscriber
          // closed for its limit unsubscribes later, from its own connection).
          for (const auto& s : channel->subscribers) s->push(p.resp);
        },
        [](LastSubscriberLeft) {});
    if (channel->subscribers.empty() && grove::self()->mailbox_size() == 0) {
      auto it = directory.find(channel->name);
      if (it != directory.end() && it->second == channel) directory.erase(it);
      return;
    }
  }
}

void PubSub::add(Directory& directory, const std::string& name,
                 const std::shared_ptr<ClientOutput>& subscriber) {
  auto it = directory.find(name);
  if (it == directory.end() || it->second->actor.dead()) {
    auto channel = std::make_shared<Channel>();
    channel->name = name;
    const bool pattern = &directory == &patterns_;
    channel->actor = channels_supervisor_.start_child([this, channel, &directory, pattern] {
      grove::ActorOptions options;
      options.name = (pattern ? "pattern " : "channel ") + channel->name;
      return grove::ActorRef(grove::spawn_opt(
          std::move(options), [this, channel, &directory] { channel_main(directory, channel); }));
    });
    // start_child waited for the supervisor: another connection may have created it meanwhile.
    it = directory.find(name);
    if (it != directory.end() && !it->second->actor.dead()) {
      grove::send(channel->actor, LastSubscriberLeft{});  // ours is not needed: let it end
    } else {
      it = directory.insert_or_assign(name, channel).first;
    }
  }
  it->second->subscribers.push_back(subscriber);
}

void PubSub::remove(Directory& directory, const std::string& name,
                    const ClientOutput* subscriber) {
  auto it = directory.find(name);
  if (it == directory.end()) return;
  auto& subs = it->second->subscribers;
  subs.erase(std::remove_if(subs.begin(), subs.end(),
                            [&](const auto& s) { return s.get() == subscriber; }),
             subs.end());
  if (subs.empty()) {
    grove::send(it->second->actor, LastSubscriberLeft{});
    // Forgotten now, not when the actor gets to it: PUBSUB CHANNELS and NUMPAT answer at once,
    // and a new subscriber starts a new actor.
    directory.erase(it);
  }
}

void PubSub::subscribe(const std::string& name, const std::shared_ptr<ClientOutput>& subscriber) {
  add(channels_, name, subscriber);
}
void PubSub::unsubscribe(const std::string& name, const ClientOutput* subscriber) {
  remove(channels_, name, subscriber);
}
void PubSub::psubscribe(const std::string& pattern,
                        const std::shared_ptr<ClientOutput>& subscriber) {
  add(patterns_, pattern, subscriber);
}
void PubSub::punsubscribe(const std::string& pattern, const ClientOutput* subscriber) {
  remove(patterns_, pattern, subscriber);
}

std::size_t PubSub::publish(std::string_view name, std::string_view message) {
  std::size_t receivers = 0;
  auto it = channels_.find(name);
  if (it != channels_.end() && !it->second->subscribers.empty()) {
    grove::send(it->second->actor, Publish{encode({"message", name, message})});
    receivers += it->second->subscribers.size();
  }
  for (const auto& [pattern, channel] : patterns_) {
    if (channel->subscribers.empty() || !glob_match(pattern, name)) continue;
    grove::send(channel->actor, Publish{encode({"pmessage", pattern, name, message})});
    receivers += channel->subscribers.size();
  }
  return receivers;
}

std::vector<std::string> PubSub::active_channels(std::string_view pattern) const {
  std::vector<std::string> names;
  for (const auto& [name, channel] : channels_) {
    if (!channel->subscribers.empty() && (pattern.empty() || glob_match(pattern, name))) {
      names.push_back(name);
    }
  }
  return names;
}

std::vector<std::string> PubSub::active_patterns() const {
  std::vector<std::string> names;
  for (const auto& [name, pattern] : patterns_) {
    if (!pattern->subscribers.empty()) names.push_back(name);
  }
  return names;
}

std::size_t PubSub::subscribers(std::string_view name) const {
  auto it = channels_.find(name);
  return it == channels_.end() ? 0 : it->second->subscribers.size();
}

}  // namespace kv
