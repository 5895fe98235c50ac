// facade/ssl.h — gevent.ssl: SSLContext/SSLSocket over grove::net::TlsContext/TlsSocket.
//
//   create_default_context(Purpose::SERVER_AUTH)  a client context: verifies the server
//                          against the system CAs and checks the hostname (Python's default)
//   create_default_context(Purpose::CLIENT_AUTH)  a server context (load_cert_chain next)
//   SSLContext::wrap_socket(sock, server_side, do_handshake_on_connect, server_hostname)
//   load_cert_chain, load_verify_locations, set_alpn_protocols, set_verify, set_check_hostname,
//   set_ciphers, set_verify_mode(CERT_NONE / CERT_OPTIONAL / CERT_REQUIRED)
//   SSLSocket::getpeercert() -> the peer's certificate (subject, issuer, validity, serial,
//   subjectAltName; .der for binary_form=True), nullopt when it sent none
//   wrap_socket(sock, keyfile, certfile, server_side, cert_reqs, ca_certs, server_hostname): the
//   module-level function (a context made for the one call)
//   SSLError = TlsError (reason(), verify_message()); timeouts raise gevent::socket::timeout.
//
//   auto ctx = gevent::ssl::create_default_context();
//   auto tls = ctx.wrap_socket(gevent::socket::create_connection({"example.org", 443}, 10.0),
//                              false, true, "example.org");
//   tls.sendall("GET / HTTP/1.1\r\nHost: example.org\r\n\r\n");
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "net/socket.h"
#include "net/tls.h"

namespace gevent::ssl {

using SSLError = grove::net::TlsError;
using TLSVersion = grove::net::TlsVersion;
using PeerCertificate = grove::net::PeerCertificate;

enum class Purpose { SERVER_AUTH, CLIENT_AUTH };
enum VerifyMode { CERT_NONE = 0, CERT_OPTIONAL = 1, CERT_REQUIRED = 2 };

class SSLSocket : public grove::net::TlsSocket {
 public:
  SSLSocket() = default;
  SSLSocket(grove::net::TlsSocket&& s) noexcept : grove::net::TlsSocket(std::move(s)) {}  // NOLINT
  // The peer's certificate, or nullopt when it sent none.
  std::optional<PeerCertificate> getpeercert() const { return peer_certificate(); }
};

class SSLContext : public grove::net::TlsContext {
 public:
  explicit SSLContext(grove::net::TlsContext context) : grove::net::TlsContext(std::move(context)) {}

  SSLSocket wrap_socket(grove::net::Socket sock, bool server_side = false,
                        bool do_handshake_on_connect = true, std::string server_hostname = {}) {
    if (server_side) return wrap_server(std::move(sock), do_handshake_on_connect);
    return wrap_client(std::move(sock), std::move(server_hostname), do_handshake_on_connect);
  }
  // Python's verify_mode.
  SSLContext& set_verify_mode(VerifyMode mode) {
    if (mode == CERT_NONE) {
      set_verify(false);
    } else if (mode == CERT_OPTIONAL) {
      set_verify_optional();
    } else {
      set_verify(true);
    }
    return *this;
  }
};

inline SSLContext create_default_context(Purpose purpose = Purpose::SERVER_AUTH) {
  return SSLContext(purpose == Purpose::SERVER_AUTH ? grove::net::TlsContext::client()
                                                    : grove::net::TlsContext::server());
}

// The module-level wrap_socket of Python's ssl (deprecated there, still common in gevent code):
// a context for this one socket. A client verifies the server only with cert_reqs other than
// CERT_NONE (Python's default for this function), against `ca_certs` when given.
inline SSLSocket wrap_socket(grove::net::Socket sock, const std::string& keyfile = {},
                             const std::string& certfile = {}, bool server_side = false,
                             VerifyMode cert_reqs = CERT_NONE, const std::string& ca_certs = {},
                             std::string server_hostname = {}) {
  SSLContext ctx(server_side ? grove::net::TlsContext::server() : grove::net::TlsContext::client());
  if (!certfile.empty()) ctx.load_cert_chain(certfile, keyfile.empty() ? certfile : keyfile);
  if (!ca_certs.empty()) ctx.load_verify_locations(ca_certs);
  ctx.set_verify_mode(cert_reqs);
  if (!server_side) ctx.set_check_hostname(cert_reqs != CERT_NONE && !server_hostname.empty());
  return ctx.wrap_socket(std::move(sock), server_side, true, std::move(server_hostname));
}

}  // namespace gevent::ssl
