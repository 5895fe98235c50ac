// cluster_ping — two grove nodes exchanging pings through a NATS server, printing round trips.
//
//   nats-server -a 127.0.0.1 -p 4222 -js &           # JetStream holds the global registry
//   bazel run //examples:cluster_ping -- --node b --nats nats://127.0.0.1:4222 &
//   bazel run //examples:cluster_ping -- --node a --nats nats://127.0.0.1:4222 --count 20
//
// Node b registers its ponger actor under a global name; node a finds it there, monitors it
// (if b goes away, a hears `noconnection`), sends pings one at a time and prints each round
// trip, then a summary. Each node is one process on one hub thread: the NATS connection runs on
// that hub's loop.
#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "actors/actor.h"
#include "cluster/node.h"
#include "examples/cli.h"

namespace cluster = grove::cluster;

struct Ping {
  cluster::Pid from;
  std::uint64_t seq = 0;
  MSGPACK_DEFINE(from, seq);
};
struct Pong {
  std::uint64_t seq = 0;
  MSGPACK_DEFINE(seq);
};

constexpr const char* kPongName = "cluster_ping.pong";

int main(int argc, char** argv) {
  examples::Command cli("cluster_ping", "Two nodes over NATS: b answers pings, a sends them and prints round trips.");
  std::string node_name;
  std::string url = "nats://127.0.0.1:4222";
  int count = 10;
  double interval = 0.2;
  cli.app().add_option("--node", node_name, "which side this process is")->required()->check(CLI::IsMember({"a", "b"}));
  cli.app().add_option("--nats", url, "NATS server URL (comma-separated for several)")->capture_default_str();
  cli.app().add_option("--count", count, "pings node a sends")->check(CLI::Range(1, 1000000))->capture_default_str();
  cli.app().add_option("--interval", interval, "seconds between pings")->check(CLI::Range(0.0, 60.0))->capture_default_str();
  cli.parse(argc, argv);

  return examples::run(cli, [&]() -> int {
    cluster::register_type<Ping>("cluster_ping.Ping");
    cluster::register_type<Pong>("cluster_ping.Pong");
    cluster::NodeOptions options;
    options.name = node_name;
    for (std::size_t at = 0; at <= url.size();) {
      const std::size_t comma = std::min(url.find(',', at), url.size());
      options.servers.push_back(url.substr(at, comma - at));
      at = comma + 1;
    }
    cluster::Node node(options);

    if (node_name == "b") {
      auto ponger = grove::spawn([&] {
        for (;;) grove::receive([&](const Ping& p) { node.send(p.from, Pong{p.seq}); });
      });
      if (!node.register_global(kPongName, ponger)) {
        throw examples::StartupError(examples::kExitFailed, "another node b is running");
      }
      fmt::print("node b: answering pings as \"{}\" ({})\n", kPongName, cluster::to_string(node.pid(ponger)));
      std::fflush(stdout);
      (void)ponger.join();
      return examples::kExitOk;
    }

    auto pinger = grove::spawn([&]() -> int {
      std::optional<cluster::Pid> pong;
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      while (!(pong = node.whereis_global(kPongName))) {
        if (std::chrono::steady_clock::now() > give_up) {
          fmt::print(stderr, "cluster_ping: no node b registered as \"{}\" after 30 s\n", kPongName);
          return examples::kExitFailed;
        }
        grove::sleep(0.2);
      }
      const grove::MonitorRef watch = node.monitor(*pong);
      const cluster::Pid me = node.self_pid();
      std::vector<double> rtts;
      for (int i = 0; i < count; ++i) {
        const auto sent = std::chrono::steady_clock::now();
        node.send(*pong, Ping{me, static_cast<std::uint64_t>(i)});
        bool answered = false;
        bool down = false;
        while (!answered && !down) {
          if (!grove::receive_for(std::chrono::seconds(5),
                                  [&](const Pong& p) { answered = p.seq == static_cast<std::uint64_t>(i); },
                                  [&](const cluster::RemoteDown& d) {
                                    down = d.ref == watch;
                                    fmt::print("node b is gone: {}\n", d.reason.to_string());
                                  })) {
            fmt::print(stderr, "cluster_ping: no answer to ping {} within 5 s\n", i);
            return examples::kExitFailed;
          }
        }
        if (down) return examples::kExitFailed;
        const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - sent).count();
        rtts.push_back(us);
        fmt::print("ping {} from a to b: {:.0f} us\n", i, us);
        std::fflush(stdout);
        if (interval > 0 && i + 1 < count) grove::sleep(interval);
      }
      std::sort(rtts.begin(), rtts.end());
      fmt::print("{} pings: min {:.0f} us, median {:.0f} us, max {:.0f} us\n", rtts.size(), rtts.front(),
                 rtts[rtts.size() / 2], rtts.back());
      return examples::kExitOk;
    });
    (void)pinger.join();
    return pinger.value().value_or(examples::kExitFailed);
  });
}
