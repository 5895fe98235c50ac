// The example of every servers header, as written there, compiled (never run: they serve for
// ever). The header_examples_test fails when a header's example is not found here line by line,
// so the two cannot drift apart. Each example sits in a function of its own, after the stubs it
// names.
#include <signal.h>

#include <cstddef>
#include <string_view>

#include "net/address.h"
#include "net/tls.h"
#include "servers/datagram_server.h"
#include "servers/http_server.h"
#include "servers/signals.h"
#include "servers/stream.h"
#include "servers/stream_server.h"
#include "servers/tls_stream.h"

namespace examples {

namespace datagram_server_h {
void example() {
  grove::servers::DatagramServer server("127.0.0.1:9000",
      [](std::string_view data, const grove::net::Address& peer, auto& server) {
        server.sendto(data, peer);  // UDP echo
      });
  server.serve_forever();
}
}  // namespace datagram_server_h

namespace http_server_h {
void example() {
  grove::servers::HttpServer server("127.0.0.1:8080", [](auto& req, auto& res) {
    res.send(200, "Hello, World!", "text/plain");
  });
  server.serve_forever();
}
}  // namespace http_server_h

namespace stream_h {
void echo(grove::servers::Stream& conn, const grove::net::Address&) {
  char buf[4096];
  while (std::size_t n = conn.read_some(buf, sizeof buf)) conn.write_all({buf, n});
}
}  // namespace stream_h

namespace signals_h {
void handle(grove::servers::Stream&, const grove::net::Address&) {}
void example() {
  grove::servers::StreamServer server("127.0.0.1:6000", handle);
  grove::servers::SignalWatch stop({SIGINT, SIGTERM}, [&](int) { server.stop(); });
  server.serve_forever();  // returns after Ctrl-C, once the handlers finished
}
}  // namespace signals_h

namespace stream_server_h {
void example() {
  grove::servers::StreamServer server("127.0.0.1:6000", [](grove::servers::Stream& conn, const grove::net::Address&) {
    char buf[4096];
    while (std::size_t n = conn.read_some(buf, sizeof buf)) conn.write_all({buf, n});
  });
  server.serve_forever();
}
}  // namespace stream_server_h

namespace tls_stream_h {
using stream_h::echo;
void example() {
  auto ctx = grove::net::TlsContext::server();
  ctx.load_cert_chain("cert.pem", "key.pem");
  grove::servers::StreamServerOptions options;
  options.make_stream = grove::servers::tls_streams(ctx);
  grove::servers::StreamServer server("0.0.0.0:4433", echo, options);
}
}  // namespace tls_stream_h

}  // namespace examples
