// echo_server — every byte a client sends comes back (gevent's examples/echoserver.py).
//
//   bazel run //examples:echo_server -- --port 6000
//   nc 127.0.0.1 6000        # type lines; they come back; Ctrl-C the server to stop it
//
// Each connection is handled by its own greenlet-actor: read what is there, write it back, until
// the client closes. Reads and writes look blocking but only park this connection's greenlet.
// SIGINT/SIGTERM stop the server gracefully: no new connections, the open ones get a second to
// finish, then they are closed.
#include <fmt/core.h>

#include <csignal>
#include <memory>

#include "examples/cli.h"
#include "servers/signals.h"
#include "servers/stream_server.h"

using grove::servers::Stream;

void echo(Stream& connection, const grove::net::Address& peer) {
  // On the heap: a greenlet's stack is 64 KiB by default. Not zero-filled: an idle
  // connection's buffer costs the pages its reads touched, not 64 KiB.
  constexpr std::size_t kSize = 64 * 1024;
  const auto buffer = std::make_unique_for_overwrite<char[]>(kSize);
  // write_all returns once the client took every byte: a client that does not read is not read
  // from either (TCP pushes back on it), so nothing piles up here.
  while (std::size_t n = connection.read_some(buffer.get(), kSize)) {
    connection.write_all(std::string_view(buffer.get(), n));
  }
}

int main(int argc, char** argv) {
  examples::Cli cli(argc, argv,
                    "usage: echo_server [--host 127.0.0.1] [--port 6000]\n"
                    "Echoes every byte back to its sender; stop with Ctrl-C.",
                    {"--host", "--port"});
  const std::string address =
      fmt::format("{}:{}", cli.get("--host", "127.0.0.1"), cli.get_int("--port", 6000));

  grove::servers::StreamServer server(address, echo);
  grove::servers::SignalWatch stop({SIGINT, SIGTERM}, [&](int) { server.stop(1.0); });
  server.start();
  fmt::print("echo_server listening on {}\n", server.address().to_string());
  std::fflush(stdout);
  server.serve_forever();
  return 0;
}
