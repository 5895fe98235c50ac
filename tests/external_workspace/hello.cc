// A program of another Bazel workspace using grove: greenlets, a server and a client over
// 127.0.0.1, through @grove//facade:gevent. Prints "hello from a greenlet" and exits 0.
#include <iostream>
#include <string>

#include "facade/gevent.h"

int main() {
  gevent::server::StreamServer server({"127.0.0.1", 0}, [](gevent::socket::socket& sock) {
    sock.sendall("hello from a greenlet\n");
  });
  server.start();
  auto client = gevent::spawn([&] {
    auto s = gevent::socket::create_connection({"127.0.0.1", server.server_port()}, 10.0);
    return s.makefile().readline();
  });
  const std::string line = client.get();
  server.stop();
  std::cout << line;
  return line == "hello from a greenlet\n" ? 0 : 1;
}
