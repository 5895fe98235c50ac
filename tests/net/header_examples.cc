// The example of every net header, as written there, compiled (never run: they reach hosts this
// machine has no route to). The header_examples_test fails when a header's example is not found
// here line by line, so the two cannot drift apart. Each example sits in a function of its own,
// after the stubs it names.
#include <netdb.h>
#include <sys/socket.h>

#include <cassert>
#include <string>
#include <system_error>

#include "hub/fiber.h"
#include "hub/hub.h"
#include "net/address.h"
#include "net/dns.h"
#include "net/errors.h"
#include "net/monkey.h"
#include "net/reader.h"
#include "net/selector.h"
#include "net/socket.h"
#include "net/tls.h"
#include "net/wait.h"

namespace examples {

namespace address_h {
void example() {
  grove::net::Address a = grove::net::Address::parse("[::1]:8080");
  assert(a.family() == AF_INET6 && a.port() == 8080);
  std::string text = a.to_string();  // "[::1]:8080"
}
}  // namespace address_h

namespace dns_h {
void example() {
  auto results = grove::net::getaddrinfo("example.org", "443");
  grove::net::Socket s = grove::net::create_connection("example.org", 443, /*timeout=*/5.0);
  auto resolver = grove::net::Resolver::create(grove::net::ResolverKind::kAres,
                                               {.servers = {"127.0.0.1:5353"}, .timeout = 1.0});
  std::string ip = resolver->gethostbyname("alpha.test");
}
}  // namespace dns_h

namespace errors_h {
void retry_later() {}
void example(grove::net::Socket& sock) {
  try {
    sock.connect(grove::net::Address::parse("127.0.0.1:1"));
  } catch (const grove::net::SocketError& e) {
    if (e.code() == std::errc::connection_refused) retry_later();
  }
}
}  // namespace errors_h

namespace monkey_h {
void example() {
  grove::net::patch_dns();
  grove::spawn_fiber([] { addrinfo* ai = nullptr; ::getaddrinfo("example.org", "80", nullptr, &ai); });
}
}  // namespace monkey_h

namespace reader_h {
void example(grove::net::Socket& sock, std::size_t content_length) {
  grove::net::SocketReader reader(sock);
  std::string request_line = reader.readline(8192);
  std::string body = reader.read_exact(content_length);
}
}  // namespace reader_h

namespace selector_h {
void handle_accept() {}
void example(grove::net::Socket& listener) {
  grove::net::Selector selector;
  selector.register_fd(listener, grove::net::kEventRead, std::string("listener"));
  for (auto& [key, events] : selector.select(1.0)) {
    if (key.socket == &listener) handle_accept();
  }
}
}  // namespace selector_h

namespace socket_h {
void example() {
  using namespace grove::net;
  Socket sock = create_connection(Address::parse("127.0.0.1:8080"), /*timeout=*/5.0);
  sock.sendall("GET / HTTP/1.0\r\n\r\n");
  std::string reply;
  while (true) {
    std::string chunk = sock.recv(4096);
    if (chunk.empty()) break;  // the peer closed
    reply += chunk;
  }
}
}  // namespace socket_h

namespace tls_h {
void example() {
  auto ctx = grove::net::TlsContext::client();
  ctx.set_alpn_protocols({"http/1.1"});
  grove::net::TlsSocket tls = ctx.wrap_client(
      grove::net::create_connection("example.org", 443, 10.0), "example.org");
  tls.sendall("GET / HTTP/1.1\r\nHost: example.org\r\n\r\n");
  std::string reply = tls.recv(65536);
}
}  // namespace tls_h

namespace wait_h {
void report(const grove::net::SocketError&) {}
void example(int pipe_fd) {
  grove::net::Watcher readable(pipe_fd, grove::net::kRead);
  grove::spawn_fiber([&] { grove::net::cancel_wait(readable); });
  try { grove::net::wait(readable, 5.0); } catch (const grove::net::SocketError& e) { report(e); }
}
}  // namespace wait_h

}  // namespace examples
