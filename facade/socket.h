// facade/socket.h — gevent.socket: the cooperative socket module, as aliases of grove::net.
//
//   socket                     grove::net::Socket (socket::create(AF_INET, SOCK_STREAM), bind,
//                              listen, accept, connect, connect_ex, recv, recv_into, recvfrom,
//                              send, sendall, sendto, shutdown, close, detach, fileno,
//                              setsockopt/getsockopt, getsockname/getpeername,
//                              settimeout/gettimeout/setblocking)
//   error, timeout, gaierror   SocketError, SocketTimeout (not gevent::Timeout), DnsError
//   create_connection((host, port), timeout, source_address), socketpair, fromfd,
//   getaddrinfo, gethostbyname, getnameinfo, getdefaulttimeout/setdefaulttimeout
//   wait_read, wait_write, wait_readwrite, wait, cancel_wait (gevent's extensions)
// The AF_*/SOCK_*/SHUT_* constants are the system's own macros.
//
//   #include "facade/socket.h"
//   namespace socket = gevent::socket;
//   socket::socket s = socket::create_connection({"localhost", 8080}, /*timeout=*/5.0);
//   s.sendall("GET / HTTP/1.0\r\n\r\n");
//   for (std::string chunk; !(chunk = s.recv(4096)).empty();) std::cout << chunk;
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "net/address.h"
#include "net/dns.h"
#include "net/errors.h"
#include "net/socket.h"
#include "net/wait.h"

namespace gevent::socket {

using socket = grove::net::Socket;
using error = grove::net::SocketError;
using timeout = grove::net::SocketTimeout;
using gaierror = grove::net::DnsError;
using Address = grove::net::Address;
using AddrInfo = grove::net::AddrInfo;
using NameInfo = grove::net::NameInfo;
using Watcher = grove::net::Watcher;
using OnTimeout = grove::net::OnTimeout;

// (host, port), as Python writes a socket address.
using HostPort = std::pair<std::string, std::uint16_t>;

using grove::net::cancel_wait;
using grove::net::fromfd;
using grove::net::gethostbyname;
using grove::net::getnameinfo;
using grove::net::socketpair;
using grove::net::wait;
using grove::net::wait_read;
using grove::net::wait_readwrite;
using grove::net::wait_write;

inline socket create_connection(const HostPort& address,
                                std::optional<double> timeout = std::nullopt,
                                const std::optional<Address>& source_address = std::nullopt) {
  return grove::net::create_connection(address.first, address.second, timeout, source_address);
}
inline socket create_connection(const Address& address,
                                std::optional<double> timeout = std::nullopt,
                                const std::optional<Address>& source_address = std::nullopt) {
  return grove::net::create_connection(address, timeout, source_address);
}

// Python's getaddrinfo(host, port, family=0, type=0, proto=0, flags=0).
inline std::vector<AddrInfo> getaddrinfo(const std::string& host, std::uint16_t port,
                                         int family = 0, int type = 0, int proto = 0,
                                         int flags = 0) {
  grove::net::AddrInfoHints hints;
  hints.family = family;
  hints.socktype = type;
  hints.protocol = proto;
  hints.flags = flags;
  return grove::net::getaddrinfo(host, port, hints);
}

inline std::optional<double> getdefaulttimeout() { return socket::default_timeout(); }
inline void setdefaulttimeout(std::optional<double> seconds) { socket::set_default_timeout(seconds); }

}  // namespace gevent::socket
