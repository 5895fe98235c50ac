// Micro benchmarks of the gevent facade: exact twins of BM_ChannelRoundTrip and
// BM_QueueThroughput (micro_actors.cc) through gevent::queue, to show the facade adds no
// measurable cost (issue 5: within 10% of the core figures). Part of //tests/benchmarks:micro.
#include <benchmark/benchmark.h>

#include "facade/queue.h"
#include "hub/hub.h"

namespace gevent {
namespace {

// Twin of BM_ChannelRoundTrip: put on `ping` (handed to the parked partner), get from `pong`.
void BM_GeventChannelRoundTrip(benchmark::State& state) {
  queue::Channel<int> ping;
  queue::Channel<int> pong;
  grove::FiberRef partner = grove::spawn_fiber([&] {
    for (;;) {
      int v;
      try {
        v = ping.get();
      } catch (const queue::ShutDown&) {
        return;
      }
      pong.put(v + 1);
    }
  });
  grove::yield();  // the partner parks in ping.get()
  int v = 0;
  for (auto _ : state) {
    ping.put(v);
    v = pong.get();
  }
  benchmark::DoNotOptimize(v);
  ping.shutdown();
  (void)partner->join();
}
BENCHMARK(BM_GeventChannelRoundTrip);

// Twin of BM_QueueThroughput: one producer puts N items into an unbounded queue, one consumer
// gets N.
void BM_GeventQueueThroughput(benchmark::State& state) {
  const auto n = static_cast<int>(state.range(0));
  queue::Queue<int> q;
  for (auto _ : state) {
    long sum = 0;
    grove::FiberRef consumer = grove::spawn_fiber([&] {
      for (int i = 0; i < n; ++i) sum += q.get();
    });
    grove::FiberRef producer = grove::spawn_fiber([&] {
      for (int i = 0; i < n; ++i) q.put(i);
    });
    (void)producer->join();
    (void)consumer->join();
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_GeventQueueThroughput)->Arg(1 << 16);

}  // namespace
}  // namespace gevent
