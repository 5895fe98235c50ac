// tests/cluster/fixture.h — what every cluster test starts with: a real nats-server, a node "t"
// in the test process, and peer node processes (tests/cluster/peer.cc) that announce their actor
// with a Hello.
#pragma once

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "actors/actor.h"
#include "cluster/node.h"
#include "tests/cluster/messages.h"
#include "tests/cluster/processes.h"
#include "tests/support/grove_test.h"

namespace grove::cluster::testing {

constexpr double kNodeTimeout = 1.5;
constexpr double kWait = 30.0;  // generous: a loaded machine may be slow, never this slow

// Counts log lines that contain `needle` while it lives (it hooks itself into the default logger).
class CountingSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit CountingSink(std::string needle) : needle_(std::move(needle)) {}
  std::size_t count() const { return count_.load(); }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    if (std::string_view(msg.payload.data(), msg.payload.size()).find(needle_) != std::string_view::npos) ++count_;
  }
  void flush_() override {}

 private:
  std::string needle_;
  std::atomic<std::size_t> count_{0};
};

// Hooks a CountingSink into the default logger for the scope.
struct LogCounter {
  std::shared_ptr<CountingSink> sink;
  explicit LogCounter(std::string needle) : sink(std::make_shared<CountingSink>(std::move(needle))) {
    spdlog::default_logger()->sinks().push_back(sink);
  }
  ~LogCounter() { std::erase(spdlog::default_logger()->sinks(), sink); }
  std::size_t count() const { return sink->count(); }
};

inline Pid await_hello() {
  Pid actor;
  if (!grove::receive_until(Deadline::after(kWait), [&](const Hello& h) { actor = h.actor; })) {
    ADD_FAILURE() << "no Hello from the peer";
  }
  return actor;
}

// A peer node process and the Pid of its first actor.
struct Peer {
  Process process;
  Pid pid;
};

struct Cluster {
  NatsServer nats;
  std::unique_ptr<Node> node;

  explicit Cluster(std::size_t max_message_bytes = 1 << 20) {
    register_types();
    NodeOptions options;
    options.name = "t";
    options.servers = {nats.url()};
    options.node_timeout = kNodeTimeout;
    options.heartbeat_interval = kNodeTimeout / 6;
    options.max_message_bytes = max_message_bytes;
    node = std::make_unique<Node>(options);
  }

  // Starts peer node processes named `names` that report to the calling actor, and waits for
  // each one's Hello. Call from an actor.
  std::map<std::string, Peer> start_peers(std::initializer_list<std::string> names) {
    std::map<std::string, Peer> peers;
    for (const std::string& name : names) {
      peers[name].process = Process({peer_program(), "--nats", nats.url(), "--name", name, "--report",
                                     to_string(node->self_pid()), "--node-timeout", std::to_string(kNodeTimeout)});
    }
    for (std::size_t i = 0; i < peers.size(); ++i) {
      const Pid hello = await_hello();
      if (auto it = peers.find(hello.node); it != peers.end()) it->second.pid = hello;
    }
    return peers;
  }
  Peer start_peer(const std::string& name) { return std::move(start_peers({name})[name]); }
};

// Runs `body` as an actor and waits for it (the node calls need an actor).
template <class F>
void as_actor(F body) {
  auto a = grove::spawn(std::move(body));
  ASSERT_TRUE(a.join_for(std::chrono::seconds(120)));
  if (auto e = a.exception()) std::rethrow_exception(e);
}

// Polls `condition` until it holds, for at most 30 s.
template <class F>
bool eventually(F condition) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    grove::sleep(0.05);
  }
  return true;
}

}  // namespace grove::cluster::testing
