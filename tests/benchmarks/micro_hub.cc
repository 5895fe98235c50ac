// Micro benchmarks of the hub: switch, spawn, idle memory. Part of //tests/benchmarks:micro.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <fstream>
#include <vector>

#include "hub/hub.h"

namespace grove {
namespace {

}  // namespace

// Resident memory of this process, in KiB (shared with the other micro_*.cc files).
double rss_kib() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE)) / 1024.0;
}

namespace {

// Two fibers alternating with sleep(0): the main fiber and a partner. One iteration is a round
// trip (two one-way yields); `per_yield` is the figure to compare with Go's Gosched.
void BM_HubYield(benchmark::State& state) {
  bool stop = false;
  FiberRef partner = spawn_fiber([&] {
    while (!stop) yield();
  });
  yield();  // let the partner start
  for (auto _ : state) yield();
  stop = true;
  (void)partner->join();
  // Seconds per one-way yield (shown with an SI prefix: "12n" is 12 ns).
  state.counters["per_yield"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * 2,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_HubYield);

// Create a bare hub fiber with a trivial body, run it to completion, join it. (BM_SpawnJoin
// measures the same for a full greenlet-actor.)
void BM_FiberSpawnJoin(benchmark::State& state) {
  for (auto _ : state) {
    FiberRef f = spawn_fiber([] {});
    benchmark::DoNotOptimize(f->join());
  }
}
BENCHMARK(BM_FiberSpawnJoin);

// 100,000 bare fibers parked in sleep: resident memory growth per fiber.
void BM_IdleFiberMemory(benchmark::State& state) {
  const int count = static_cast<int>(state.range(0));
  for (auto _ : state) {
    std::vector<FiberRef> fibers;
    fibers.reserve(count);
    const double before = rss_kib();
    for (int i = 0; i < count; ++i) fibers.push_back(spawn_fiber([] { sleep(3600.0); }));
    sleep(0.0);
    while (Hub::current().stats().ready > 0) sleep(0.0);
    const double after = rss_kib();
    state.counters["kib_per_greenlet"] = (after - before) / count;
    for (auto& f : fibers) f->kill();
    for (auto& f : fibers) (void)f->join();
  }
}
// 1,000,000 is the "a million sleeping fibers fit on this machine" check (takes ~10 s).
BENCHMARK(BM_IdleFiberMemory)
    ->Arg(100000)
    ->Arg(1000000)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace grove
