// cluster_bench — remote send between two grove nodes next to raw libnats between the same two
// processes (the limit NATS itself sets). Run by tests/benchmarks/cluster_bench.sh, which
// starts nats-server and the two roles:
//
//   cluster_bench --role b --nats URL &     # grove echo actor + a raw libnats responder
//   cluster_bench --role a --nats URL       # measures, prints a table
//
// Figures (same run, same payload of 16 bytes):
//   round trip   one message there and one back, one at a time (median and p99 of --pings)
//   one-way      --messages sends as fast as the sender goes, then one marker; messages/s until
//                the receiver has counted them all and said so
// grove: Node::send to an actor (msgpack encoding, the hub's loop driving libnats, delivery to a
// mailbox). raw: natsConnection_Request / natsConnection_Publish with libnats' own threads.
// Both sides send as soon as they publish (natsOptions_SetSendAsap, as a Node does): libnats'
// default batches writes behind a flusher thread that sleeps a millisecond, which would put
// ~1 ms into every hop of both figures.
#include <nats/nats.h>

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "actors/actor.h"
#include "cluster/node.h"
#include "hub/thread_pool.h"

namespace cluster = grove::cluster;
using Clock = std::chrono::steady_clock;

struct BPing {
  cluster::Pid from;
  std::uint64_t seq = 0;
  std::string payload;
  MSGPACK_DEFINE(from, seq, payload);
};
struct BPong {
  std::uint64_t seq = 0;
  std::string payload;
  MSGPACK_DEFINE(seq, payload);
};
struct BData {
  std::uint64_t seq = 0;
  std::string payload;
  MSGPACK_DEFINE(seq, payload);
};
struct BDone {
  cluster::Pid from;
  MSGPACK_DEFINE(from);
};
struct BCount {
  std::uint64_t received = 0;
  MSGPACK_DEFINE(received);
};

const std::string kPayload(16, 'x');

void check(natsStatus s, const char* what) {
  if (s != NATS_OK) throw std::runtime_error(fmt::format("{}: {}", what, natsStatus_GetText(s)));
}

// ---- role b

std::atomic<std::uint64_t> raw_received{0};

void raw_on_message(natsConnection* nc, natsSubscription*, natsMsg* msg, void*) {
  const char* data = natsMsg_GetData(msg);
  const int len = natsMsg_GetDataLength(msg);
  if (const char* reply = natsMsg_GetReply(msg)) {
    if (len > 0 && data[0] == 'D') {  // the end of a one-way run: say how many came
      const std::string count = std::to_string(raw_received.exchange(0));
      natsConnection_Publish(nc, reply, count.data(), static_cast<int>(count.size()));
    } else {
      natsConnection_Publish(nc, reply, data, len);  // a ping
    }
  } else {
    ++raw_received;
  }
  natsMsg_Destroy(msg);
}

// A plain libnats connection with its own threads, sending each publish at once.
natsConnection* raw_connect(const std::string& url) {
  natsOptions* opts = nullptr;
  check(natsOptions_Create(&opts), "raw options");
  check(natsOptions_SetURL(opts, url.c_str()), "raw url");
  check(natsOptions_SetSendAsap(opts, true), "raw send asap");
  natsConnection* nc = nullptr;
  check(natsConnection_Connect(&nc, opts), "raw connect");
  natsOptions_Destroy(opts);
  return nc;
}

int run_b(const std::string& url) {
  // The raw responder: libnats with its own threads, as a plain NATS program would be.
  natsConnection* raw = raw_connect(url);
  natsSubscription* sub = nullptr;
  check(natsConnection_Subscribe(&sub, raw, "bench.raw", raw_on_message, nullptr), "raw subscribe");
  check(natsSubscription_SetPendingLimits(sub, -1, -1), "raw limits");

  cluster::Node node({.name = "bench_b", .servers = {url}});
  auto echo = grove::spawn([&] {
    std::uint64_t received = 0;
    for (;;) {
      grove::receive([&](const BPing& p) { node.send(p.from, BPong{p.seq, p.payload}); },
                     [&](const BData&) { ++received; },
                     [&](const BDone& d) { node.send(d.from, BCount{std::exchange(received, 0)}); });
    }
  });
  if (!node.register_global("bench.echo", echo)) throw std::runtime_error("bench.echo is taken");
  fmt::print("b ready\n");
  std::fflush(stdout);
  (void)echo.join();
  return 0;
}

// ---- role a

struct Figures {
  double p50_us = 0, p99_us = 0, msgs_per_s = 0;
  std::uint64_t received = 0;
};

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))];
}

Figures grove_figures(cluster::Node& node, const cluster::Pid& echo, int pings, int messages) {
  Figures f;
  const cluster::Pid me = node.self_pid();
  std::vector<double> rtts;
  for (int i = 0; i < pings; ++i) {
    const auto t0 = Clock::now();
    node.send(echo, BPing{me, static_cast<std::uint64_t>(i), kPayload});
    if (!grove::receive_for(std::chrono::seconds(10), [](const BPong&) {})) throw std::runtime_error("grove: no pong");
    rtts.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  f.p50_us = percentile(rtts, 0.5);
  f.p99_us = percentile(rtts, 0.99);
  const auto t0 = Clock::now();
  for (int i = 0; i < messages; ++i) node.send(echo, BData{static_cast<std::uint64_t>(i), kPayload});
  node.send(echo, BDone{me});
  if (!grove::receive_for(std::chrono::seconds(60), [&](const BCount& c) { f.received = c.received; })) {
    throw std::runtime_error("grove: no count");
  }
  f.msgs_per_s = messages / std::chrono::duration<double>(Clock::now() - t0).count();
  return f;
}

Figures raw_figures(const std::string& url, int pings, int messages) {
  Figures f;
  natsConnection* nc = raw_connect(url);
  std::vector<double> rtts;
  for (int i = 0; i < pings; ++i) {
    natsMsg* reply = nullptr;
    const auto t0 = Clock::now();
    check(natsConnection_Request(&reply, nc, "bench.raw", kPayload.data(), static_cast<int>(kPayload.size()), 10000),
          "raw request");
    rtts.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    natsMsg_Destroy(reply);
  }
  f.p50_us = percentile(rtts, 0.5);
  f.p99_us = percentile(rtts, 0.99);
  const auto t0 = Clock::now();
  for (int i = 0; i < messages; ++i) {
    check(natsConnection_Publish(nc, "bench.raw", kPayload.data(), static_cast<int>(kPayload.size())), "raw publish");
  }
  natsMsg* reply = nullptr;
  check(natsConnection_Request(&reply, nc, "bench.raw", "D", 1, 60000), "raw done");
  f.msgs_per_s = messages / std::chrono::duration<double>(Clock::now() - t0).count();
  f.received = std::stoull(std::string(natsMsg_GetData(reply), natsMsg_GetDataLength(reply)));
  natsMsg_Destroy(reply);
  natsConnection_Destroy(nc);
  return f;
}

int run_a(const std::string& url, int pings, int messages) {
  cluster::Node node({.name = "bench_a", .servers = {url}});
  auto bench = grove::spawn([&] {
    std::optional<cluster::Pid> echo;
    const auto give_up = Clock::now() + std::chrono::seconds(30);
    while (!(echo = node.whereis_global("bench.echo"))) {
      if (Clock::now() > give_up) throw std::runtime_error("no bench.echo");
      grove::sleep(0.1);
    }
    (void)grove_figures(node, *echo, pings / 10, messages / 10);  // warm-up
    const Figures g = grove_figures(node, *echo, pings, messages);
    const Figures r = grove::run_in_thread([&] { return raw_figures(url, pings, messages); });
    fmt::print("{:<28} {:>12} {:>12} {:>14} {:>10}\n", "", "rtt p50 us", "rtt p99 us", "one-way msg/s", "received");
    fmt::print("{:<28} {:>12.1f} {:>12.1f} {:>14.0f} {:>10}\n", "grove remote send", g.p50_us, g.p99_us,
               g.msgs_per_s, g.received);
    fmt::print("{:<28} {:>12.1f} {:>12.1f} {:>14.0f} {:>10}\n", "raw libnats (same processes)", r.p50_us,
               r.p99_us, r.msgs_per_s, r.received);
    fmt::print("grove / raw: rtt p50 {:.2f}x, one-way throughput {:.2f}x\n", g.p50_us / r.p50_us,
               g.msgs_per_s / r.msgs_per_s);
  });
  (void)bench.join();
  if (auto e = bench.exception()) std::rethrow_exception(e);
  return 0;
}

int main(int argc, char** argv) {
  CLI::App app{"cluster_bench: grove remote send next to raw libnats"};
  std::string role;
  std::string url = "nats://127.0.0.1:4222";
  int pings = 2000;
  int messages = 200000;
  app.add_option("--role", role)->required()->check(CLI::IsMember({"a", "b"}));
  app.add_option("--nats", url);
  app.add_option("--pings", pings)->check(CLI::Range(10, 10000000));
  app.add_option("--messages", messages)->check(CLI::Range(10, 100000000));
  CLI11_PARSE(app, argc, argv);
  cluster::register_type<BPing>("bench.Ping");
  cluster::register_type<BPong>("bench.Pong");
  cluster::register_type<BData>("bench.Data");
  cluster::register_type<BDone>("bench.Done");
  cluster::register_type<BCount>("bench.Count");
  try {
    return role == "b" ? run_b(url) : run_a(url, pings, messages);
  } catch (const std::exception& e) {
    fmt::print(stderr, "cluster_bench: {}\n", e.what());
    return 1;
  }
}
