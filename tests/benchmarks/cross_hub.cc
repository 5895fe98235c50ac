// Cross-hub figures, printed as `figure value unit` lines like the anchors:
//
//   cross_hub_rtt          round trip of a ping-pong between actors on two hubs (us)
//   cross_hub_msgs         messages per second in that ping-pong (both directions)
//   inbox_2producers       posts per second into one hub's inbox from two threads at once
//   inbox_wakeups_per_1k   eventfd signals the posters needed per 1000 posts in that run
//
// bazel run -c opt //tests/benchmarks:cross_hub -- [round_trips] [posts_per_producer]
// Times are wall clock over the run (both hubs busy); the Go and CAF anchors print the same
// figures (anchors/go: `anchors pingpong`, anchors/caf_pingpong).
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "actors/actor.h"
#include "hub/runtime.h"

namespace {

struct Ball {
  grove::ActorRef from;
  int n;
};

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void ping_pong(grove::Runtime& rt, int round_trips) {
  grove::ActorOptions on1;
  on1.hub = &rt.hub(1);
  auto pong = grove::spawn_opt(on1, [] {
    for (bool more = true; more;) {
      grove::receive([&](Ball b) {
        more = b.n >= 0;
        grove::send(b.from, Ball{grove::self(), b.n});
      });
    }
  });
  grove::ActorOptions on0;
  on0.hub = &rt.hub(0);
  auto ping = grove::spawn_opt(on0, [pong, round_trips] {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < round_trips; ++i) {
      grove::send(pong, Ball{grove::self(), i});
      grove::receive([](Ball) {});
    }
    const double s = seconds_since(t0);
    grove::send(pong, Ball{grove::self(), -1});
    grove::receive([](Ball) {});
    return s;
  });
  const double s = ping.get();
  fmt::print("cross_hub_rtt {:.3f} us\n", s / round_trips * 1e6);
  fmt::print("cross_hub_msgs {:.0f} /s\n", 2.0 * round_trips / s);
}

void inbox_contention(grove::Runtime& rt, int posts) {
  grove::RemoteHub target = rt.remote(0);
  std::atomic<int> ran{0};
  const std::uint64_t wakeups_before =
      grove::run_on(rt.hub(0), [] { return grove::Hub::current().stats().inbox_wakeups; });
  const auto t0 = std::chrono::steady_clock::now();
  auto producer = [&] {
    for (int i = 0; i < posts; ++i) target.post([&ran] { ran.fetch_add(1, std::memory_order_relaxed); });
  };
  std::thread a(producer), b(producer);
  a.join();
  b.join();
  while (ran.load() < 2 * posts) std::this_thread::yield();
  const double s = seconds_since(t0);
  const std::uint64_t wakeups =
      grove::run_on(rt.hub(0), [] { return grove::Hub::current().stats().inbox_wakeups; }) -
      wakeups_before;
  fmt::print("inbox_2producers {:.0f} /s\n", 2.0 * posts / s);
  fmt::print("inbox_wakeups_per_1k {:.2f} signals\n", 1000.0 * static_cast<double>(wakeups) / (2.0 * posts));
}

}  // namespace

int main(int argc, char** argv) {
  const int round_trips = argc > 1 ? std::atoi(argv[1]) : 200000;
  const int posts = argc > 2 ? std::atoi(argv[2]) : 1000000;
  grove::Runtime rt({.threads = 2});
  ping_pong(rt, round_trips);
  inbox_contention(rt, posts);
  rt.stop();
}
