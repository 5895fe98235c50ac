// tls_echo — the echo server over TLS: the same handler as echo_server, on encrypted streams.
//
//   bazel run //examples:tls_echo -- --port 4433            # makes a self-signed pair
//   bazel run //examples:tls_echo -- --cert c.pem --key k.pem
//   openssl s_client -connect 127.0.0.1:4433 -quiet          # type; lines come back
//
// The StreamServer is the plain one; servers::tls_streams(context) wraps each accepted socket
// in a TLS session (the handshake runs in the connection's own actor). Without --cert/--key a
// throw-away self-signed certificate for CN=localhost is made with `openssl req`.
#include <fmt/core.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "examples/cli.h"
#include "net/tls.h"
#include "servers/signals.h"
#include "servers/stream_server.h"
#include "servers/tls_stream.h"

void echo(grove::servers::Stream& connection, const grove::net::Address&) {
  constexpr std::size_t kSize = 16 * 1024;  // one TLS record
  const auto buffer = std::make_unique_for_overwrite<char[]>(kSize);
  while (std::size_t n = connection.read_some(buffer.get(), kSize)) {
    connection.write_all(std::string_view(buffer.get(), n));
  }
}

// A self-signed certificate and key in a fresh directory, by the openssl command line tool.
std::pair<std::string, std::string> make_self_signed() {
  char dir_template[] = "/tmp/tls_echo.XXXXXX";
  const std::string dir = ::mkdtemp(dir_template);
  const std::string cert = dir + "/cert.pem", key = dir + "/key.pem";
  const std::string command = fmt::format(
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
      "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout {} -out {} 2>/dev/null",
      key, cert);
  if (std::system(command.c_str()) != 0) {
    throw std::runtime_error("could not run `openssl req` to make a self-signed certificate");
  }
  return {cert, key};
}

int main(int argc, char** argv) {
  examples::Cli cli(argc, argv,
                    "usage: tls_echo [--host 127.0.0.1] [--port 4433] [--cert cert.pem --key key.pem]\n"
                    "Echo over TLS; without --cert/--key a self-signed pair is generated.",
                    {"--host", "--port", "--cert", "--key"});
  const std::string address =
      fmt::format("{}:{}", cli.get("--host", "127.0.0.1"), cli.get_int("--port", 4433));
  std::string cert = cli.get("--cert", ""), key = cli.get("--key", "");
  if (cert.empty() || key.empty()) {
    std::tie(cert, key) = make_self_signed();
    fmt::print("generated a self-signed certificate: {}\n", cert);
  }

  auto context = grove::net::TlsContext::server();
  context.load_cert_chain(cert, key);
  grove::servers::StreamServerOptions options;
  options.name = "tls_echo";
  options.make_stream = grove::servers::tls_streams(context);
  grove::servers::StreamServer server(address, echo, options);
  grove::servers::SignalWatch stop({SIGINT, SIGTERM}, [&](int) { server.stop(1.0); });
  server.start();
  fmt::print("tls_echo listening on {}\n", server.address().to_string());
  std::fflush(stdout);
  server.serve_forever();
  return 0;
}
