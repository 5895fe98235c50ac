// net/dns.h — cooperative name resolution: getaddrinfo, gethostbyname, getnameinfo and
// create_connection(host, port), on one of two resolvers.
//
// Model: a lookup parks only the calling fiber. Two backends, as in gevent:
//   - ResolverKind::kAres (default): c-ares driven by the hub's loop. Its sockets are watched
//     through one epoll instance the resolver owns, waited for by a pump fiber that exists only
//     while lookups are in flight; c-ares' retry timers are that fiber's wait deadlines. Honours
//     /etc/hosts (files first, then DNS) and the servers, timeout and tries you give it.
//   - ResolverKind::kThread: the system's getaddrinfo(3)/getnameinfo(3) on grove's thread pool
//     (nsswitch, /etc/hosts, /etc/resolv.conf). The timeout bounds the wait (the worker thread
//     itself cannot be interrupted and finishes in the background).
// The kind is chosen by GROVE_RESOLVER=ares|thread (gevent's GEVENT_RESOLVER) for the thread's
// default resolver, or explicitly with Resolver::create and set_resolver.
//
// Failures throw DnsError (a SocketError, like Python's gaierror is an OSError) carrying the
// resolver's own message and the name: "getaddrinfo nosuch.test: Domain name not found".
// IP literals ("127.0.0.1", "::1") never reach a backend.
//
// Many lookups at once: each fiber's lookup is one c-ares query; at most
// ResolverOptions::max_in_flight are sent at a time and the rest wait their turn in FIFO order,
// so ten thousand fibers resolving at once do not overflow the server's socket buffer.
//
// Thread: a Resolver belongs to one thread (c-ares channels are not thread-safe); the default
// resolver is per thread. It may outlive the thread's hub (tests create a hub per test): lookups
// cut short by a dying hub are abandoned and cleaned up by the next one.
//
//   auto results = grove::net::getaddrinfo("example.org", "443");
//   grove::net::Socket s = grove::net::create_connection("example.org", 443, /*timeout=*/5.0);
//   auto resolver = grove::net::Resolver::create(grove::net::ResolverKind::kAres,
//                                                {.servers = {"127.0.0.1:5353"}, .timeout = 1.0});
//   std::string ip = resolver->gethostbyname("alpha.test");
#pragma once

#include <netdb.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/address.h"
#include "net/errors.h"
#include "net/socket.h"

namespace grove::net {

enum class DnsStatus {
  kNotFound,          // NXDOMAIN / EAI_NONAME
  kNoData,            // the name exists, without an address of the asked family
  kTimeout,           // no answer within timeout * tries
  kServerFailure,     // SERVFAIL, a malformed answer, a temporary failure (EAI_AGAIN)
  kRefused,           // the server refused, or refused the connection
  kBadName,           // not a valid name
  kBadFamily,         // an address family the resolver cannot do
  kBadService,        // an unknown service name
  kCancelled,         // the resolver was destroyed with the lookup in flight
  kOther,
};
const char* to_string(DnsStatus status);

class DnsError : public SocketError {
 public:
  // `resolver_code`: the backend's own code (ARES_E* for ares, EAI_* for thread).
  DnsError(DnsStatus status, int resolver_code, std::string message);
  DnsStatus status() const noexcept { return status_; }
  int resolver_code() const noexcept { return resolver_code_; }

 private:
  DnsStatus status_;
  int resolver_code_;
};

struct AddrInfo {
  int family = AF_UNSPEC;
  int socktype = 0;   // SOCK_STREAM, SOCK_DGRAM, SOCK_RAW
  int protocol = 0;   // IPPROTO_TCP, ...
  std::string canonname;  // only on the first entry, and only with AI_CANONNAME
  Address address;        // with the port filled in
};

struct AddrInfoHints {
  int family = AF_UNSPEC;  // AF_INET, AF_INET6 or AF_UNSPEC
  int socktype = 0;        // 0 = one entry per address for each of STREAM, DGRAM, RAW (glibc)
  int protocol = 0;
  int flags = 0;           // AI_CANONNAME, AI_PASSIVE, AI_NUMERICHOST, AI_NUMERICSERV, ...
};

struct NameInfo {
  std::string host;
  std::string service;
};

enum class ResolverKind { kAres, kThread };
const char* to_string(ResolverKind kind);

struct ResolverOptions {
  // "127.0.0.1:5353", "[::1]:53", "10.0.0.1" (port 53). Empty: /etc/resolv.conf. ares only.
  std::vector<std::string> servers;
  double timeout = 5.0;  // seconds per try
  int tries = 2;
  bool use_hosts_file = true;  // ares: look in /etc/hosts ($CARES_HOSTS) before DNS
  // Lookups sent at once; more wait in FIFO order. 64 keeps a burst inside a UDP socket's
  // receive buffer (measured against dnsmasq: 256 at once loses packets to overflow, and each
  // loss costs a full retry timeout).
  std::size_t max_in_flight = 64;
};

class Resolver {
 public:
  // Throws std::invalid_argument for options the kind cannot honour (servers for kThread),
  // DnsError when c-ares cannot start.
  static std::shared_ptr<Resolver> create(ResolverKind kind, ResolverOptions options = {});
  // GROVE_RESOLVER: "ares" (also when unset) or "thread"; anything else is invalid_argument.
  static ResolverKind kind_from_environment();

  virtual ~Resolver() = default;
  virtual ResolverKind kind() const noexcept = 0;
  const ResolverOptions& options() const noexcept { return options_; }

  // Python's socket.getaddrinfo(host, service, family, type, proto, flags). `service` is a port
  // number or a service name ("https"); empty means port 0. Empty `host`: the wildcard address
  // with AI_PASSIVE, else loopback.
  std::vector<AddrInfo> getaddrinfo(std::string_view host, std::string_view service = {},
                                    const AddrInfoHints& hints = {});
  // The first IPv4 address of `host`, as text (Python's gethostbyname).
  std::string gethostbyname(std::string_view host);
  // Python's getnameinfo((host, port), flags) with NI_* flags: the host name (or numeric host
  // with NI_NUMERICHOST) and the service name (or number with NI_NUMERICSERV).
  NameInfo getnameinfo(const Address& address, int flags = 0);

 protected:
  explicit Resolver(ResolverOptions options) : options_(std::move(options)) {}
  // `host` is not an IP literal and not empty.
  virtual std::vector<AddrInfo> lookup(const std::string& host, const std::string& service,
                                       const AddrInfoHints& hints) = 0;
  virtual NameInfo reverse(const Address& address, int flags) = 0;

  ResolverOptions options_;
};

// The calling thread's resolver: created on first use from GROVE_RESOLVER with default options.
Resolver& resolver();
// The same, as a shared handle: save it, set_resolver(another), and later set_resolver(saved).
std::shared_ptr<Resolver> shared_resolver();
// Replaces the calling thread's resolver (nullptr: back to the GROVE_RESOLVER default).
void set_resolver(std::shared_ptr<Resolver> resolver);

// The same, on the thread's resolver.
std::vector<AddrInfo> getaddrinfo(std::string_view host, std::string_view service = {},
                                  const AddrInfoHints& hints = {});
std::vector<AddrInfo> getaddrinfo(std::string_view host, std::uint16_t port,
                                  const AddrInfoHints& hints = {});
std::string gethostbyname(std::string_view host);
NameInfo getnameinfo(const Address& address, int flags = 0);

// Resolves `host` (SOCK_STREAM) and connects to each address in turn until one answers; throws
// the last error. `timeout` applies to each connect and stays on the socket (nullopt: the
// default timeout). Python's socket.create_connection((host, port), timeout, source_address).
Socket create_connection(std::string_view host, std::uint16_t port,
                         std::optional<double> timeout = std::nullopt,
                         const std::optional<Address>& source_address = std::nullopt);

}  // namespace grove::net
