// Micro benchmarks of the coordination primitives (actors/queue.h). Part of
// //tests/benchmarks:micro.
#include <benchmark/benchmark.h>

#include "actors/queue.h"
#include "hub/hub.h"

namespace grove {
namespace {

// Two fibers, two rendezvous channels: the main fiber puts on `ping` (handed straight to the
// partner parked in get, no yield) then gets from `pong` (parks; the partner runs, puts the
// reply into the main fiber's get slot, parks on `ping` again). One iteration is a round trip:
// put -> get -> put -> get, two switches. Goal <= 60 ns (issue 4).
void BM_ChannelRoundTrip(benchmark::State& state) {
  Channel<int> ping;
  Channel<int> pong;
  FiberRef partner = spawn_fiber([&] {
    for (;;) {
      QueueResult<int> r = ping.get();
      if (!r) return;  // shut down
      (void)pong.put(*r + 1);
    }
  });
  yield();  // the partner parks in ping.get()
  int v = 0;
  for (auto _ : state) {
    (void)ping.put(v);
    v = *pong.get();
  }
  benchmark::DoNotOptimize(v);
  ping.shutdown();
  (void)partner->join();
}
BENCHMARK(BM_ChannelRoundTrip);

// One producer fiber puts N items into an unbounded queue, one consumer fiber gets N.
// Counter items_per_second. Goal >= 60 M/s (issue 4).
void BM_QueueThroughput(benchmark::State& state) {
  const auto n = static_cast<int>(state.range(0));
  Queue<int> q;
  for (auto _ : state) {
    long sum = 0;
    FiberRef consumer = spawn_fiber([&] {
      for (int i = 0; i < n; ++i) sum += *q.get();
    });
    FiberRef producer = spawn_fiber([&] {
      for (int i = 0; i < n; ++i) (void)q.put(i);
    });
    (void)producer->join();
    (void)consumer->join();
    benchmark::DoNotOptimize(sum);
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_QueueThroughput)->Arg(1 << 16);

}  // namespace
}  // namespace grove
