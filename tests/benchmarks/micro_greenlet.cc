// Micro benchmarks of the greenlet-actor: spawn+join, idle memory, message ping-pong.
#include <benchmark/benchmark.h>

#include <vector>

#include "actors/actor.h"

namespace grove {

double rss_kib();  // micro_hub.cc

namespace {

// Create a greenlet-actor with a trivial body, run it, join it; time per actor.
void BM_SpawnJoin(benchmark::State& state) {
  for (auto _ : state) {
    auto g = spawn([] {});
    benchmark::DoNotOptimize(g.join());
  }
}
BENCHMARK(BM_SpawnJoin);

// 100,000 greenlet-actors parked in sleep: resident memory growth per actor (stack page, actor
// object, timer).
void BM_IdleGreenletMemory(benchmark::State& state) {
  const int count = static_cast<int>(state.range(0));
  for (auto _ : state) {
    std::vector<Greenlet<void>> actors;
    actors.reserve(count);
    const double before = rss_kib();
    for (int i = 0; i < count; ++i) actors.push_back(spawn([] { sleep(3600.0); }));
    sleep(0.0);
    while (Hub::current().stats().ready > 0) sleep(0.0);
    const double after = rss_kib();
    state.counters["kib_per_greenlet"] = (after - before) / count;
    for (auto& a : actors) a.kill();
    for (auto& a : actors) (void)a.join();
  }
}
BENCHMARK(BM_IdleGreenletMemory)->Arg(100000)->Iterations(1)->Unit(benchmark::kMillisecond);

struct Ball {
  ActorRef from;
  long n;
};

// Two actors exchanging a small message by send/receive; items_per_second = messages.
void BM_ActorPingPong(benchmark::State& state) {
  auto ponger = spawn([] {
    for (;;) {
      bool more = true;
      receive([&](Ball b) {
        if (b.n < 0) {
          more = false;
          return;
        }
        send(b.from, Ball{self(), b.n});
      });
      if (!more) return;
    }
  });
  std::int64_t messages = 0;
  auto pinger = spawn([&] {
    for (auto _ : state) {
      send(ponger, Ball{self(), 1});
      receive([](Ball) {});
      messages += 2;
    }
    send(ponger, Ball{self(), -1});
  });
  (void)pinger.join();
  (void)ponger.join();
  state.SetItemsProcessed(messages);
}
BENCHMARK(BM_ActorPingPong);

}  // namespace
}  // namespace grove
