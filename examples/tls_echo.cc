// tls_echo — the echo server over TLS: the same handler as echo_server, on encrypted streams.
//
//   bazel run //examples:tls_echo -- --port 4433            # makes a throw-away self-signed pair
//   bazel run //examples:tls_echo -- --cert c.pem --key k.pem
//   openssl s_client -connect 127.0.0.1:4433 -quiet          # type; lines come back
//
// The StreamServer is the plain one; servers::tls_streams(context) wraps each accepted socket
// in a TLS session (the handshake runs in the connection's own actor). Without --cert/--key a
// self-signed certificate for CN=localhost is made with `openssl req` (on a worker thread, so the
// hub stays free) in a private temporary directory, read into memory and the directory removed
// at once: nothing of it is left on disk, however the server ends. --cert and --key go together.
#include <fmt/core.h>
#include <stdlib.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "examples/cli.h"
#include "hub/thread_pool.h"
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

struct KeyPair {
  std::string cert_pem;
  std::string key_pem;
};

// A self-signed certificate and its key, made by the openssl command line tool in a fresh
// directory that is gone again when this returns (or throws).
KeyPair make_self_signed() {
  std::string dir = (std::filesystem::temp_directory_path() / "tls_echo.XXXXXX").string();
  if (::mkdtemp(dir.data()) == nullptr) {
    throw examples::StartupError(
        examples::kExitSystem,
        fmt::format("cannot make a temporary directory {}: {}", dir, std::strerror(errno)));
  }
  struct RemoveWhenDone {
    std::string dir;
    ~RemoveWhenDone() {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  } remove{dir};
  const std::string cert = dir + "/cert.pem", key = dir + "/key.pem";
  const std::string command = fmt::format(
      "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
      "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout {} -out {} 2>/dev/null",
      key, cert);
  if (grove::run_in_thread([&] { return std::system(command.c_str()); }) != 0) {
    throw examples::StartupError(examples::kExitSystem,
                                 "cannot make a self-signed certificate: `openssl req` failed "
                                 "(is the openssl tool installed?); or pass --cert and --key");
  }
  return {examples::read_file(cert, "the generated certificate"),
          examples::read_file(key, "the generated key")};
}

int main(int argc, char** argv) {
  examples::Command cli("tls_echo",
                        "Echo over TLS; without --cert/--key a throw-away self-signed pair is made.");
  const examples::Endpoint& at = cli.listen_options("127.0.0.1", 4433);
  std::string cert_file, key_file;
  auto* cert = cli.app().add_option("--cert", cert_file, "certificate chain, PEM")->type_name("FILE");
  auto* key = cli.app().add_option("--key", key_file, "its private key, PEM")->type_name("FILE");
  cert->needs(key);
  key->needs(cert);
  cli.exit_code(examples::kExitOk, "stopped by SIGINT or SIGTERM");
  cli.exit_code(examples::kExitBadFile, "--cert or --key cannot be read, or they do not make a pair");
  cli.exit_code(examples::kExitSystem, "no --cert given and `openssl req` could not make one");
  cli.parse(argc, argv);

  return examples::run(cli, [&] {
    auto context = grove::net::TlsContext::server();
    if (cert_file.empty()) {
      const KeyPair pair = make_self_signed();
      context.load_cert_chain_pem(pair.cert_pem, pair.key_pem);
      fmt::print("tls_echo: made a self-signed certificate for CN=localhost (kept in memory only)\n");
    } else {
      const std::string cert_pem = examples::read_file(cert_file, "--cert");
      const std::string key_pem = examples::read_file(key_file, "--key");
      try {
        context.load_cert_chain_pem(cert_pem, key_pem);
      } catch (const grove::net::TlsError& e) {
        throw examples::StartupError(
            examples::kExitBadFile,
            fmt::format("cannot use --cert {} with --key {}: {}", cert_file, key_file, e.what()));
      }
    }
    grove::servers::StreamServerOptions options;
    options.name = "tls_echo";
    options.make_stream = grove::servers::tls_streams(context);
    grove::servers::StreamServer server(examples::listen(at), echo, options);
    grove::servers::SignalWatch stop({SIGINT, SIGTERM}, [&](int) { server.stop(1.0); });
    server.start();
    examples::print_listening(cli, server.address());
    server.serve_forever();
    return examples::kExitOk;
  });
}
