// net/dns.cc — what both resolvers share (literals, services, wildcard hosts, the per-thread
// default, create_connection by name) and the thread-pool backend over getaddrinfo(3).
#include "net/dns.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <type_traits>

#include <fmt/format.h>

#include "hub/thread_pool.h"
#include "hub/timeout.h"
#include "net/internal/resolvers.h"

namespace grove::net {

namespace {

class DnsCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "dns"; }
  std::string message(int value) const override {
    return to_string(static_cast<DnsStatus>(value));
  }
};

const std::error_category& dns_category() {
  static const DnsCategory category;
  return category;
}

DnsStatus status_of_gai(int rc) {
  switch (rc) {
    case EAI_NONAME: return DnsStatus::kNotFound;
#ifdef EAI_NODATA
    case EAI_NODATA: return DnsStatus::kNoData;
#endif
    case EAI_AGAIN:
    case EAI_FAIL: return DnsStatus::kServerFailure;
    case EAI_FAMILY:
#ifdef EAI_ADDRFAMILY
    case EAI_ADDRFAMILY:
#endif
      return DnsStatus::kBadFamily;
    case EAI_SERVICE: return DnsStatus::kBadService;
    default: return DnsStatus::kOther;
  }
}

DnsError gai_error(const char* op, const std::string& name, int rc, int saved_errno) {
  const char* text = rc == EAI_SYSTEM ? std::strerror(saved_errno) : ::gai_strerror(rc);
  return DnsError(status_of_gai(rc), rc, fmt::format("{}: {}", internal::lookup_context(op, name), text));
}

std::optional<std::uint16_t> numeric_port(std::string_view service) {
  if (service.empty()) return 0;
  unsigned value = 0;
  auto [end, ec] = std::from_chars(service.data(), service.data() + service.size(), value);
  if (ec != std::errc() || end != service.data() + service.size() || value > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

// A service name through /etc/services (a local file read; no network).
std::optional<std::uint16_t> service_port(const std::string& service, int socktype) {
  const char* proto = socktype == SOCK_DGRAM ? "udp" : "tcp";
  servent entry;
  servent* found = nullptr;
  char buf[1024];
  if (::getservbyname_r(service.c_str(), proto, &entry, buf, sizeof buf, &found) != 0 ||
      found == nullptr) {
    return std::nullopt;
  }
  return ntohs(static_cast<std::uint16_t>(found->s_port));
}

bool family_allowed(int wanted, int family) { return wanted == AF_UNSPEC || wanted == family; }

// The thread's default resolver.
thread_local std::shared_ptr<Resolver> t_resolver;

}  // namespace

const char* to_string(DnsStatus status) {
  switch (status) {
    case DnsStatus::kNotFound: return "not found";
    case DnsStatus::kNoData: return "no data";
    case DnsStatus::kTimeout: return "timeout";
    case DnsStatus::kServerFailure: return "server failure";
    case DnsStatus::kRefused: return "refused";
    case DnsStatus::kBadName: return "bad name";
    case DnsStatus::kBadFamily: return "bad family";
    case DnsStatus::kBadService: return "bad service";
    case DnsStatus::kCancelled: return "cancelled";
    case DnsStatus::kOther: return "other";
  }
  return "?";
}

const char* to_string(ResolverKind kind) { return kind == ResolverKind::kAres ? "ares" : "thread"; }

DnsError::DnsError(DnsStatus status, int resolver_code, std::string message)
    : SocketError(std::error_code(static_cast<int>(status), dns_category()), std::move(message)),
      status_(status),
      resolver_code_(resolver_code) {}

namespace internal {

void append_addrinfo(std::vector<AddrInfo>& out, const Address& address, int socktype,
                     int protocol, const AddrInfoHints& hints) {
  auto push = [&](int type, int proto) {
    AddrInfo info;
    info.family = address.family();
    info.socktype = type;
    info.protocol = proto;
    info.address = address;
    out.push_back(std::move(info));
  };
  if (socktype != 0) {
    if (protocol == 0) protocol = socktype == SOCK_STREAM ? IPPROTO_TCP
                                 : socktype == SOCK_DGRAM ? IPPROTO_UDP
                                                          : 0;
    push(socktype, protocol);
    return;
  }
  if (hints.protocol != 0) {
    push(hints.protocol == IPPROTO_UDP ? SOCK_DGRAM : SOCK_STREAM, hints.protocol);
    return;
  }
  push(SOCK_STREAM, IPPROTO_TCP);
  push(SOCK_DGRAM, IPPROTO_UDP);
  push(SOCK_RAW, 0);
}

std::string lookup_context(const char* op, const std::string& name) {
  return fmt::format("{} {}", op, name);
}

}  // namespace internal

// ---------------------------------------------------------------------------------------------
// Resolver: the shared front half

std::shared_ptr<Resolver> Resolver::create(ResolverKind kind, ResolverOptions options) {
  if (options.timeout <= 0) throw std::invalid_argument("resolver timeout must be > 0");
  if (options.tries < 1) throw std::invalid_argument("resolver tries must be >= 1");
  if (options.max_in_flight == 0) options.max_in_flight = 1;
  if (kind == ResolverKind::kThread) return internal::make_thread_resolver(std::move(options));
  return internal::make_ares_resolver(std::move(options));
}

ResolverKind Resolver::kind_from_environment() {
  const char* env = std::getenv("GROVE_RESOLVER");
  if (env == nullptr || *env == '\0' || std::strcmp(env, "ares") == 0) return ResolverKind::kAres;
  if (std::strcmp(env, "thread") == 0) return ResolverKind::kThread;
  throw std::invalid_argument(
      fmt::format("GROVE_RESOLVER={} is not a resolver (expected \"ares\" or \"thread\")", env));
}

std::vector<AddrInfo> Resolver::getaddrinfo(std::string_view host_view, std::string_view service,
                                            const AddrInfoHints& hints) {
  const std::string host(host_view);
  if (hints.family != AF_UNSPEC && hints.family != AF_INET && hints.family != AF_INET6) {
    throw DnsError(DnsStatus::kBadFamily, EAI_FAMILY,
                   fmt::format("{}: {}", internal::lookup_context("getaddrinfo", host),
                               ::gai_strerror(EAI_FAMILY)));
  }
  std::optional<std::uint16_t> port = numeric_port(service);
  if (!port && (hints.flags & AI_NUMERICSERV) == 0) port = service_port(std::string(service), hints.socktype);
  if (!port) {
    throw DnsError(DnsStatus::kBadService, EAI_SERVICE,
                   fmt::format("{}: {} (service \"{}\")",
                               internal::lookup_context("getaddrinfo", host),
                               ::gai_strerror(EAI_SERVICE), service));
  }
  std::vector<AddrInfo> out;
  // No name: the wildcard (AI_PASSIVE) or loopback address.
  if (host.empty()) {
    const bool passive = (hints.flags & AI_PASSIVE) != 0;
    if (family_allowed(hints.family, AF_INET)) {
      internal::append_addrinfo(out, Address::ipv4(passive ? "0.0.0.0" : "127.0.0.1", *port),
                                hints.socktype, hints.protocol, hints);
    }
    if (family_allowed(hints.family, AF_INET6)) {
      internal::append_addrinfo(out, Address::ipv6(passive ? "::" : "::1", *port), hints.socktype,
                                hints.protocol, hints);
    }
    return out;
  }
  // IP literals never reach a backend.
  in6_addr scratch;
  const bool v4 = ::inet_pton(AF_INET, host.c_str(), &scratch) == 1;
  const bool v6 = !v4 && host.find(':') != std::string::npos &&
                  Address::try_parse("[" + host + "]:0").has_value();
  if (v4 || v6) {
    const int family = v4 ? AF_INET : AF_INET6;
    if (!family_allowed(hints.family, family)) {
      throw DnsError(DnsStatus::kBadFamily, EAI_ADDRFAMILY,
                     fmt::format("{}: {}", internal::lookup_context("getaddrinfo", host),
                                 ::gai_strerror(EAI_ADDRFAMILY)));
    }
    internal::append_addrinfo(out, Address::ip(host, *port), hints.socktype, hints.protocol, hints);
    if (!out.empty() && (hints.flags & AI_CANONNAME)) out.front().canonname = host;
    return out;
  }
  if (hints.flags & AI_NUMERICHOST) {
    throw DnsError(DnsStatus::kNotFound, EAI_NONAME,
                   fmt::format("{}: {}", internal::lookup_context("getaddrinfo", host),
                               ::gai_strerror(EAI_NONAME)));
  }
  return lookup(host, std::to_string(*port), hints);
}

std::string Resolver::gethostbyname(std::string_view host) {
  AddrInfoHints hints;
  hints.family = AF_INET;
  hints.socktype = SOCK_STREAM;
  const auto results = getaddrinfo(host, {}, hints);
  if (results.empty()) {
    throw DnsError(DnsStatus::kNoData, 0,
                   fmt::format("gethostbyname {}: no IPv4 address", std::string(host)));
  }
  return results.front().address.host();
}

NameInfo Resolver::getnameinfo(const Address& address, int flags) {
  if (!address.is_ip()) {
    throw DnsError(DnsStatus::kBadFamily, EAI_FAMILY,
                   fmt::format("getnameinfo {}: {}", address.to_string(), ::gai_strerror(EAI_FAMILY)));
  }
  if ((flags & NI_NUMERICHOST) && (flags & NI_NUMERICSERV)) {
    return {address.host(), std::to_string(address.port())};
  }
  return reverse(address, flags);
}

Resolver& resolver() {
  if (!t_resolver) t_resolver = Resolver::create(Resolver::kind_from_environment());
  return *t_resolver;
}

std::shared_ptr<Resolver> shared_resolver() {
  (void)resolver();
  return t_resolver;
}

void set_resolver(std::shared_ptr<Resolver> r) { t_resolver = std::move(r); }

std::vector<AddrInfo> getaddrinfo(std::string_view host, std::string_view service,
                                  const AddrInfoHints& hints) {
  return resolver().getaddrinfo(host, service, hints);
}

std::vector<AddrInfo> getaddrinfo(std::string_view host, std::uint16_t port,
                                  const AddrInfoHints& hints) {
  return resolver().getaddrinfo(host, std::to_string(port), hints);
}

std::string gethostbyname(std::string_view host) { return resolver().gethostbyname(host); }

NameInfo getnameinfo(const Address& address, int flags) {
  return resolver().getnameinfo(address, flags);
}

Socket create_connection(std::string_view host, std::uint16_t port, std::optional<double> timeout,
                         const std::optional<Address>& source_address) {
  AddrInfoHints hints;
  hints.socktype = SOCK_STREAM;
  if (source_address) hints.family = source_address->family();
  const auto results = getaddrinfo(host, port, hints);
  std::exception_ptr last;
  for (const AddrInfo& info : results) {
    try {
      return create_connection(info.address, timeout, source_address);
    } catch (const SocketError&) {
      last = std::current_exception();
    }
  }
  if (last) std::rethrow_exception(last);
  throw DnsError(DnsStatus::kNoData, 0,
                 fmt::format("create_connection {}: no address to connect to", std::string(host)));
}

// ---------------------------------------------------------------------------------------------
// The thread-pool backend

namespace internal {
namespace {

class ThreadResolver final : public Resolver {
 public:
  explicit ThreadResolver(ResolverOptions options) : Resolver(std::move(options)) {}
  ResolverKind kind() const noexcept override { return ResolverKind::kThread; }

 protected:
  std::vector<AddrInfo> lookup(const std::string& host, const std::string& service,
                               const AddrInfoHints& hints) override {
    struct Answer {
      int rc = 0;
      int saved_errno = 0;
      std::vector<AddrInfo> results;
    };
    Answer answer = run_bounded("getaddrinfo", host, [host, service, hints] {
      Answer a;
      addrinfo h{};
      h.ai_family = hints.family;
      h.ai_socktype = hints.socktype;
      h.ai_protocol = hints.protocol;
      h.ai_flags = hints.flags;
      addrinfo* res = nullptr;
      a.rc = ::getaddrinfo(host.c_str(), service.c_str(), &h, &res);
      a.saved_errno = errno;
      if (a.rc != 0) return a;
      for (addrinfo* p = res; p != nullptr; p = p->ai_next) {
        AddrInfo info;
        info.family = p->ai_family;
        info.socktype = p->ai_socktype;
        info.protocol = p->ai_protocol;
        if (p->ai_canonname != nullptr) info.canonname = p->ai_canonname;
        info.address = Address::from_sockaddr(p->ai_addr, p->ai_addrlen);
        a.results.push_back(std::move(info));
      }
      ::freeaddrinfo(res);
      return a;
    });
    if (answer.rc != 0) throw gai_error("getaddrinfo", host, answer.rc, answer.saved_errno);
    return std::move(answer.results);
  }

  NameInfo reverse(const Address& address, int flags) override {
    struct Answer {
      int rc = 0;
      int saved_errno = 0;
      NameInfo info;
    };
    Answer answer = run_bounded("getnameinfo", address.to_string(), [address, flags] {
      Answer a;
      char host[NI_MAXHOST];
      char serv[NI_MAXSERV];
      a.rc = ::getnameinfo(address.sockaddr_ptr(), address.length(), host, sizeof host, serv,
                           sizeof serv, flags);
      a.saved_errno = errno;
      if (a.rc == 0) a.info = {host, serv};
      return a;
    });
    if (answer.rc != 0) {
      throw gai_error("getnameinfo", address.to_string(), answer.rc, answer.saved_errno);
    }
    return std::move(answer.info);
  }

 private:
  // Runs `job` on the pool, giving up (DnsError kTimeout) after timeout * tries.
  template <class Job>
  std::invoke_result_t<Job&> run_bounded(const char* op, const std::string& name, Job job) {
    Timeout bound(options_.timeout * options_.tries);
    try {
      return run_in_thread(std::move(job));
    } catch (const Timeout& t) {
      if (!(t == bound)) throw;
      throw DnsError(DnsStatus::kTimeout, EAI_AGAIN,
                     fmt::format("{}: no answer within {} seconds", lookup_context(op, name),
                                 options_.timeout * options_.tries));
    }
  }
};

}  // namespace

std::shared_ptr<Resolver> make_thread_resolver(ResolverOptions options) {
  if (!options.servers.empty()) {
    throw std::invalid_argument(
        "the thread resolver uses the system's configuration (/etc/resolv.conf); servers are an "
        "option of the ares resolver");
  }
  return std::make_shared<ThreadResolver>(std::move(options));
}

}  // namespace internal

}  // namespace grove::net
