// Micro benchmarks of net/: a 64-byte ping-pong between two fibers over a socketpair. Part of
// //tests/benchmarks:micro. Its twins in gevent and Go (anchors/gevent_micro.py,
// anchors/go/main.go: socketpair_roundtrip_ns) are set beside it by compare.sh.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "hub/hub.h"
#include "net/socket.h"

namespace grove {
namespace {

// Reads exactly `n` bytes with recvs of up to `buffer.size()`.
void read_message(net::Socket& s, std::vector<char>& buffer, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    const std::size_t r = s.recv_into(buffer.data(), buffer.size());
    if (r == 0) throw net::EndOfStream("ping-pong peer closed");
    got += r;
  }
}

// One iteration = one round trip: the benchmark's fiber sends 64 bytes, the partner fiber reads
// them and sends 64 back. range(0) is the receive buffer: 4096 is what a server does (a read
// shorter than the buffer marks the socket drained, so the next read waits instead of paying an
// EAGAIN); 64 reads exactly the message, which keeps the socket "ready" and costs one EAGAIN
// read per message.
void BM_SocketPairPingPong(benchmark::State& state) {
  const std::size_t buffer_size = static_cast<std::size_t>(state.range(0));
  auto [a, b] = net::socketpair();
  const std::string message(64, 'p');
  bool stop = false;
  FiberRef partner = spawn_fiber([&, &b = b] {
    std::vector<char> buffer(buffer_size);
    try {
      for (;;) {
        read_message(b, buffer, message.size());
        if (stop) return;
        b.sendall(message);
      }
    } catch (const net::SocketError&) {
    }
  });
  std::vector<char> buffer(buffer_size);
  for (auto _ : state) {
    a.sendall(message);
    read_message(a, buffer, message.size());
  }
  stop = true;
  a.sendall(message);
  (void)partner->join();
  state.counters["per_round_trip"] = benchmark::Counter(
      static_cast<double>(state.iterations()), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_SocketPairPingPong)->Arg(4096)->Arg(64)->UseRealTime();

}  // namespace
}  // namespace grove
