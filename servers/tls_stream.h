// servers/tls_stream.h — TLS serving: a StreamFactory that wraps every accepted socket in a
// server-side TLS session, so any StreamServer (or HttpServer) handler speaks TLS unchanged.
//
// Model: tls_streams(context) returns the factory to put in StreamServerOptions::make_stream.
// It runs in the connection's own actor: the handshake (bounded by `handshake_timeout`) parks
// only that connection, and starts only once the client's first bytes arrived (an idle or
// half-open connection holds no TLS session). A client that fails the handshake (plain text on a TLS port, a bad
// certificate) is logged at debug level and dropped; the handler never sees it.
//
// Cost: OpenSSL's; one SSL object per connection from the one shared SSL_CTX. Reads return
// already-decrypted bytes without a system call; write_all of several parts makes one TLS
// record when they fit together.
//
// Thread: the connection's hub.
//
//   auto ctx = grove::net::TlsContext::server();
//   ctx.load_cert_chain("cert.pem", "key.pem");
//   grove::servers::StreamServerOptions options;
//   options.make_stream = grove::servers::tls_streams(ctx);
//   grove::servers::StreamServer server("0.0.0.0:4433", echo, options);
#pragma once

#include "net/tls.h"
#include "servers/stream.h"
#include "servers/stream_server.h"

namespace grove::servers {

class TlsStream final : public Stream {
 public:
  explicit TlsStream(net::TlsSocket tls) : tls_(std::move(tls)) {}

  std::size_t read_some(void* buffer, std::size_t size,
                        Deadline deadline = Deadline::never()) override;
  void write_all(std::span<const std::string_view> parts) override;
  using Stream::write_all;
  void shutdown_write() override;
  void close() noexcept override { tls_.close(); }
  bool read_ready() const noexcept override;
  bool is_tls() const noexcept override { return true; }
  net::Socket& socket() noexcept override { return tls_.socket(); }
  net::TlsSocket& tls() noexcept { return tls_; }

 private:
  net::TlsSocket tls_;
};

StreamFactory tls_streams(net::TlsContext context, double handshake_timeout = 10.0);

}  // namespace grove::servers
