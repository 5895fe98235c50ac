// facade/ssl.h — gevent.ssl: SSLContext/SSLSocket over grove::net::TlsContext/TlsSocket.
//
//   create_default_context(Purpose::SERVER_AUTH)  a client context: verifies the server
//                          against the system CAs and checks the hostname (Python's default)
//   create_default_context(Purpose::CLIENT_AUTH)  a server context (load_cert_chain next)
//   SSLContext::wrap_socket(sock, server_side, do_handshake_on_connect, server_hostname)
//   load_cert_chain, load_verify_locations, set_alpn_protocols, set_verify, set_check_hostname
//   SSLError = TlsError (reason(), verify_message()); timeouts raise gevent::socket::timeout.
//
//   auto ctx = gevent::ssl::create_default_context();
//   auto tls = ctx.wrap_socket(gevent::socket::create_connection({"example.org", 443}, 10.0),
//                              false, true, "example.org");
//   tls.sendall("GET / HTTP/1.1\r\nHost: example.org\r\n\r\n");
#pragma once

#include <string>
#include <utility>

#include "net/socket.h"
#include "net/tls.h"

namespace gevent::ssl {

using SSLSocket = grove::net::TlsSocket;
using SSLError = grove::net::TlsError;
using TLSVersion = grove::net::TlsVersion;

enum class Purpose { SERVER_AUTH, CLIENT_AUTH };

class SSLContext : public grove::net::TlsContext {
 public:
  explicit SSLContext(grove::net::TlsContext context) : grove::net::TlsContext(std::move(context)) {}

  SSLSocket wrap_socket(grove::net::Socket sock, bool server_side = false,
                        bool do_handshake_on_connect = true, std::string server_hostname = {}) {
    if (server_side) return wrap_server(std::move(sock), do_handshake_on_connect);
    return wrap_client(std::move(sock), std::move(server_hostname), do_handshake_on_connect);
  }
};

inline SSLContext create_default_context(Purpose purpose = Purpose::SERVER_AUTH) {
  return SSLContext(purpose == Purpose::SERVER_AUTH ? grove::net::TlsContext::client()
                                                    : grove::net::TlsContext::server());
}

}  // namespace gevent::ssl
