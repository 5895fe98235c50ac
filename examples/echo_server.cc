// echo_server — every byte a client sends comes back (gevent's examples/echoserver.py).
//
//   bazel run //examples:echo_server -- --port 6000
//   nc 127.0.0.1 6000        # type lines; they come back; Ctrl-C the server to stop it
//   --host accepts a name (localhost) or an address (::1); --port 0 takes any free port, and
//   the line "echo_server listening on 127.0.0.1:PORT" shows which. --help lists the exit codes.
//   --threads 2   serves on two hubs (threads), each with its own listener on the port
//                 (SO_REUSEPORT): the kernel spreads the connections over them.
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
  examples::Command cli("echo_server", "Echoes every byte back to its sender; stop with Ctrl-C.");
  const examples::Endpoint& at = cli.listen_options("127.0.0.1", 6000);
  const std::size_t& threads = cli.threads_option();
  cli.exit_code(examples::kExitOk, "stopped by SIGINT or SIGTERM");
  cli.parse(argc, argv);

  return examples::run(cli, [&] {
    grove::servers::StreamServerOptions options;
    options.threads = threads;
    grove::servers::StreamServer server(examples::listen(at, 128, threads > 1), echo, options);
    grove::servers::SignalWatch stop({SIGINT, SIGTERM}, [&](int) { server.stop(1.0); });
    server.start();
    examples::print_listening(cli, server.address());
    server.serve_forever();
    return examples::kExitOk;
  });
}
