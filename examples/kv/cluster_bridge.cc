#include "examples/kv/cluster_bridge.h"

#include <map>
#include <optional>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "examples/kv/pubsub.h"
#include "hub/wait.h"

namespace kv {
namespace {

// A PUBLISH made on another node.
struct RemotePublish {
  std::string channel;
  std::string message;
  MSGPACK_DEFINE(channel, message);
};

// A PUBLISH made here, for the other nodes (a local message to the bridge).
struct Forward {
  std::string channel;
  std::string message;
};

std::string bridge_name(const std::string& node) { return "kv.pubsub." + node; }

// A node whose bridge could not be found is asked again after this long, not on every PUBLISH.
constexpr double kRetryLookupSeconds = 0.5;

struct Peer {
  std::optional<grove::cluster::Pid> bridge;
  grove::MonitorRef watch{};
  grove::Deadline retry = grove::Deadline::after(0);
};

}  // namespace

void register_cluster_types() {
  grove::cluster::register_type<RemotePublish>("kv.RemotePublish");
}

void cluster_bridge_main(Server& server, grove::cluster::Node& node) {
  const grove::ActorRef self = grove::self();
  if (!node.register_global(bridge_name(node.name()), self)) {
    throw std::runtime_error(fmt::format(
        "kv cluster: the name {} is held by another live node", bridge_name(node.name())));
  }
  server.forward_publish = [self](std::string_view channel, std::string_view message) {
    grove::send(self, Forward{std::string(channel), std::string(message)});
  };
  struct Unhook {
    Server& server;
    ~Unhook() { server.forward_publish = nullptr; }
  } unhook{server};

  std::map<std::string, Peer> peers;
  auto bridge_of = [&](const std::string& name) -> std::optional<grove::cluster::Pid> {
    Peer& peer = peers[name];
    if (!peer.bridge && peer.retry.passed()) {
      peer.bridge = node.whereis_global(bridge_name(name));
      if (peer.bridge) {
        peer.watch = node.monitor(*peer.bridge);
      } else {
        peer.retry = grove::Deadline::after(kRetryLookupSeconds);
      }
    }
    return peer.bridge;
  };

  for (;;) {
    grove::receive(
        [&](const Forward& f) {
          for (const std::string& name : node.nodes()) {
            if (name == node.name() || !node.is_up(name)) continue;
            if (auto to = bridge_of(name)) node.send(*to, RemotePublish{f.channel, f.message});
          }
        },
        [&](const RemotePublish& p) { (void)server.pubsub->publish(p.channel, p.message); },
        [&](const grove::cluster::RemoteDown& down) {
          for (auto& [name, peer] : peers) {
            if (peer.bridge && peer.watch == down.ref) peer = Peer{};
          }
        });
  }
}

}  // namespace kv
