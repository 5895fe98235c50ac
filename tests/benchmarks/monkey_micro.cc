// The cost of gevent.monkey's interposition (hub/monkey.h): a read(2) of 16 bytes from a socket
// that has data, three ways in one run, on the same socket:
//   BM_ReadReady/libc       libc's read, called through its own address (what a program
//                           without //hub:monkey calls)
//   BM_ReadReady/unpatched  ::read in a program linked with //hub:monkey, before patching
//   BM_ReadReady/patched    ::read after patch_socket(), from the hub's main greenlet: the
//                           socket is managed (non-blocking behind the program's back)
// They run in this order (patching cannot be undone); compare patched and unpatched with libc.
//   bazel run //tests/benchmarks:monkey_micro -- --benchmark_repetitions=5
#include <benchmark/benchmark.h>
#include <dlfcn.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "hub/hub.h"
#include "hub/monkey.h"

namespace {

using ReadFn = ssize_t (*)(int, void*, size_t);
using WriteFn = ssize_t (*)(int, const void*, size_t);

enum Way { kLibc = 0, kUnpatched = 1, kPatched = 2 };

void BM_ReadReady(benchmark::State& state) {
  const auto way = static_cast<Way>(state.range(0));
  static const auto libc_read = reinterpret_cast<ReadFn>(::dlsym(RTLD_NEXT, "read"));
  static const auto libc_write = reinterpret_cast<WriteFn>(::dlsym(RTLD_NEXT, "write"));
  if (way == kPatched) {
    grove::patch_socket();
    (void)grove::Hub::current();  // the benchmark's thread becomes a hub's main greenlet
  }
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) std::abort();
  const int buffer = 4 << 20;
  ::setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  ::setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
  const std::vector<char> chunk(64 * 1024, 'r');
  std::size_t available = 0;
  const auto refill = [&] {
    // As much as the socket takes without blocking, written with libc's write.
    while (available < 2 * 1024 * 1024) {
      const ssize_t n = ::send(sv[1], chunk.data(), chunk.size(), MSG_DONTWAIT);
      if (n <= 0) break;
      available += static_cast<std::size_t>(n);
    }
  };
  refill();
  char out[16];
  for (auto _ : state) {
    if (available < sizeof out) [[unlikely]] {
      state.PauseTiming();
      refill();
      state.ResumeTiming();
    }
    const ssize_t n = way == kLibc ? libc_read(sv[0], out, sizeof out) : ::read(sv[0], out, sizeof out);
    if (n != static_cast<ssize_t>(sizeof out)) std::abort();
    available -= sizeof out;
    benchmark::DoNotOptimize(out);
  }
  (void)libc_write;
  ::close(sv[0]);
  ::close(sv[1]);
  state.SetLabel(way == kLibc ? "libc" : way == kUnpatched ? "unpatched" : "patched");
}
BENCHMARK(BM_ReadReady)->Arg(kLibc)->Arg(kUnpatched)->Arg(kPatched);

}  // namespace

BENCHMARK_MAIN();
