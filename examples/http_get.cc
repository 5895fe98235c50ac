// http_get — the README's client example: fetch a page with gevent's cooperative socket.
//
//   bazel run //examples:http_hello -- --port 8080 &   (or any HTTP server)
//   bazel run //examples:http_get -- 127.0.0.1 8080 /
//
// Ten lines of gevent-style code: connect with a timeout, send, read until the server closes.
// Run it in a greenlet and the hub serves every other greenlet while this one waits.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "facade/gevent.h"
#include "facade/socket.h"

int main(int argc, char** argv) {
  if (argc < 3 || std::string(argv[1]) == "--help") {
    std::fprintf(stderr, "usage: http_get HOST PORT [PATH]\n");
    return argc < 3 ? 2 : 0;
  }
  const std::string host = argv[1], path = argc > 3 ? argv[3] : "/";
  const auto port = static_cast<std::uint16_t>(std::atoi(argv[2]));

  auto fetch = gevent::spawn([&] {
    namespace socket = gevent::socket;
    socket::socket s = socket::create_connection({host, port}, /*timeout=*/5.0);
    s.sendall("GET " + path + " HTTP/1.0\r\nHost: " + host + "\r\n\r\n");
    std::string page;
    for (std::string chunk; !(chunk = s.recv(4096)).empty();) page += chunk;
    return page;
  });
  try {
    std::cout << fetch.get();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "http_get: %s\n", e.what());
    return 1;
  }
  return 0;
}
