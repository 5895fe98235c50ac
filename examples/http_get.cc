// http_get — the README's client example: fetch a page with gevent's cooperative socket.
//
//   bazel run //examples:http_hello -- --port 8080 &   (or any HTTP server)
//   bazel run //examples:http_get -- 127.0.0.1 8080 /
//
// Ten lines of gevent-style code: connect with a timeout, send, read until the server closes.
// Every wait is cooperative: in a program with other greenlets, the hub serves them meanwhile.
#include <cstdint>
#include <iostream>
#include <string>

#include <fmt/core.h>

#include "examples/cli.h"
#include "facade/gevent.h"
#include "facade/socket.h"

int main(int argc, char** argv) {
  examples::Command cli("http_get", "Fetches http://HOST:PORT/PATH and prints the reply.");
  std::string host, path = "/";
  std::uint16_t port = 80;
  cli.app().add_option("host", host, "the server's name or address")->required();
  cli.app().add_option("port", port, "its port")->required()->check(examples::port_number(1));
  cli.app().add_option("path", path, "the page")->capture_default_str();
  cli.exit_code(examples::kExitFailed, "no reply (refused, reset, timed out after 5 s)");
  cli.exit_code(examples::kExitNoHost, "HOST does not resolve");
  cli.parse(argc, argv);

  return examples::run(cli, [&] {
    // The fetch runs on the main fiber: a failure reaches examples::run, which prints it once
    // ("http_get: connect to 127.0.0.1:1: Connection refused"). Spawned in a greenlet, the same
    // failure would also be the hub's report of that greenlet (README, "What behaves how").
    namespace socket = gevent::socket;
    try {
      socket::socket s = socket::create_connection({host, port}, /*timeout=*/5.0);
      s.sendall("GET " + path + " HTTP/1.0\r\nHost: " + host + "\r\n\r\n");
      std::string page;
      for (std::string chunk; !(chunk = s.recv(4096)).empty();) page += chunk;
      std::cout << page;
    } catch (const socket::gaierror& e) {
      throw examples::StartupError(examples::kExitNoHost, e.what());
    }
    return examples::kExitOk;
  });
}
