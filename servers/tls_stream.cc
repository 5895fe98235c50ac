// servers/tls_stream.cc — TlsStream over net::TlsSocket.
#include "servers/tls_stream.h"

#include <sys/socket.h>

#include <spdlog/spdlog.h>

namespace grove::servers {

std::size_t TlsStream::read_some(void* buffer, std::size_t size, Deadline deadline) {
  if (deadline.is_never() || tls_.pending() > 0) return tls_.recv_into(buffer, size);
  const double left = deadline.remaining();
  if (left <= 0) throw net::SocketTimeout("TLS recv");
  const auto old = tls_.gettimeout();
  tls_.settimeout(left);
  try {
    const std::size_t n = tls_.recv_into(buffer, size);
    tls_.settimeout(old);
    return n;
  } catch (...) {
    tls_.settimeout(old);
    throw;
  }
}

void TlsStream::write_all(std::span<const std::string_view> parts) {
  if (parts.size() == 1) {
    tls_.sendall(parts[0]);
    return;
  }
  std::size_t total = 0;
  for (auto p : parts) total += p.size();
  if (total <= 16 * 1024) {
    std::string record;
    record.reserve(total);
    for (auto p : parts) record.append(p);
    tls_.sendall(record);
    return;
  }
  for (auto p : parts) tls_.sendall(p);
}

void TlsStream::shutdown_write() { tls_.shutdown(SHUT_WR); }

bool TlsStream::read_ready() const noexcept {
  return tls_.pending() > 0 || const_cast<net::TlsSocket&>(tls_).socket().read_ready();
}

StreamFactory tls_streams(net::TlsContext context, double handshake_timeout) {
  return [context, handshake_timeout](net::Socket accepted) mutable -> std::unique_ptr<Stream> {
    const std::string peer = accepted.describe_peer();
    try {
      // No TLS session (and none of its buffers) until the client has said something: a
      // connection that never sends a ClientHello costs a socket and a greenlet, nothing more.
      if (!accepted.wait_readable(Deadline::after(handshake_timeout))) {
        spdlog::debug("TLS handshake with {}: no ClientHello within {} s", peer, handshake_timeout);
        return nullptr;
      }
      accepted.settimeout(handshake_timeout);
      net::TlsSocket tls = context.wrap_server(std::move(accepted), /*handshake_now=*/true);
      tls.settimeout(std::nullopt);
      return std::make_unique<TlsStream>(std::move(tls));
    } catch (const net::SocketError& e) {
      spdlog::debug("TLS handshake with {} failed: {}", peer, e.what());
      return nullptr;
    }
  };
}

}  // namespace grove::servers
