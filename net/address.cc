// net/address.cc — parsing and printing socket addresses.
#include "net/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <charconv>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace grove::net {

namespace {

std::optional<std::uint16_t> parse_port(std::string_view text) {
  unsigned value = 0;
  if (text.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

bool parse_ipv4(std::string_view host, in_addr* out) {
  if (host.empty() || host.size() >= INET_ADDRSTRLEN) return false;
  char buf[INET_ADDRSTRLEN];
  std::memcpy(buf, host.data(), host.size());
  buf[host.size()] = '\0';
  return ::inet_pton(AF_INET, buf, out) == 1;
}

// IPv6 literal, optionally with "%scope" (numeric or interface name).
bool parse_ipv6(std::string_view host, in6_addr* out, std::uint32_t* scope) {
  std::string_view zone;
  if (const auto pct = host.find('%'); pct != std::string_view::npos) {
    zone = host.substr(pct + 1);
    host = host.substr(0, pct);
  }
  if (host.empty() || host.size() >= INET6_ADDRSTRLEN) return false;
  char buf[INET6_ADDRSTRLEN];
  std::memcpy(buf, host.data(), host.size());
  buf[host.size()] = '\0';
  if (::inet_pton(AF_INET6, buf, out) != 1) return false;
  if (!zone.empty() && scope != nullptr) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(zone.data(), zone.data() + zone.size(), value);
    if (ec == std::errc() && end == zone.data() + zone.size()) {
      *scope = value;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

Address::Address() noexcept {
  std::memset(&storage_, 0, sizeof storage_);
  storage_.ss_family = AF_UNSPEC;
}

Address Address::ipv4(std::string_view host, std::uint16_t port) {
  Address a;
  auto* sin = reinterpret_cast<sockaddr_in*>(&a.storage_);
  if (!parse_ipv4(host, &sin->sin_addr)) {
    throw std::invalid_argument(fmt::format("not an IPv4 address: \"{}\"", host));
  }
  sin->sin_family = AF_INET;
  sin->sin_port = htons(port);
  a.length_ = sizeof(sockaddr_in);
  return a;
}

Address Address::ipv6(std::string_view host, std::uint16_t port, std::uint32_t scope_id) {
  Address a;
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&a.storage_);
  std::uint32_t scope = scope_id;
  if (!parse_ipv6(host, &sin6->sin6_addr, &scope)) {
    throw std::invalid_argument(fmt::format("not an IPv6 address: \"{}\"", host));
  }
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  sin6->sin6_scope_id = scope;
  a.length_ = sizeof(sockaddr_in6);
  return a;
}

Address Address::ip(std::string_view host, std::uint16_t port) {
  if (host.find(':') != std::string_view::npos) return ipv6(host, port);
  return ipv4(host, port);
}

Address Address::unix_path(std::string_view path) {
  Address a;
  auto* sun = reinterpret_cast<sockaddr_un*>(&a.storage_);
  sun->sun_family = AF_UNIX;
  const bool abstract = !path.empty() && (path[0] == '@' || path[0] == '\0');
  if (path.size() >= sizeof(sun->sun_path)) {
    throw std::invalid_argument(fmt::format("unix socket path too long ({} bytes, at most {}): {}",
                                            path.size(), sizeof(sun->sun_path) - 1, path));
  }
  std::memcpy(sun->sun_path, path.data(), path.size());
  if (abstract) {
    sun->sun_path[0] = '\0';
    a.length_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  } else {
    sun->sun_path[path.size()] = '\0';
    a.length_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  }
  return a;
}

std::optional<Address> Address::try_parse(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (text[0] == '/' || text[0] == '@' || text[0] == '\0' || text.starts_with("./")) {
    if (text.size() >= sizeof(sockaddr_un::sun_path)) return std::nullopt;
    return unix_path(text);
  }
  if (text[0] == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::nullopt;
    }
    const auto port = parse_port(text.substr(close + 2));
    if (!port) return std::nullopt;
    Address a;
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&a.storage_);
    std::uint32_t scope = 0;
    if (!parse_ipv6(text.substr(1, close - 1), &sin6->sin6_addr, &scope)) return std::nullopt;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(*port);
    sin6->sin6_scope_id = scope;
    a.length_ = sizeof(sockaddr_in6);
    return a;
  }
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || text.find(':') != colon) return std::nullopt;
  const auto port = parse_port(text.substr(colon + 1));
  if (!port) return std::nullopt;
  Address a;
  auto* sin = reinterpret_cast<sockaddr_in*>(&a.storage_);
  if (!parse_ipv4(text.substr(0, colon), &sin->sin_addr)) return std::nullopt;
  sin->sin_family = AF_INET;
  sin->sin_port = htons(*port);
  a.length_ = sizeof(sockaddr_in);
  return a;
}

Address Address::parse(std::string_view text) {
  if (auto a = try_parse(text)) return *a;
  throw std::invalid_argument(fmt::format(
      "not a socket address: \"{}\" (expected \"1.2.3.4:80\", \"[::1]:80\" or a unix path)",
      text));
}

Address Address::from_sockaddr(const sockaddr* addr, socklen_t length) {
  Address a;
  if (addr == nullptr || length == 0) return a;
  if (length > sizeof a.storage_) length = sizeof a.storage_;
  std::memcpy(&a.storage_, addr, length);
  a.length_ = length;
  return a;
}

std::string Address::host() const {
  char buf[INET6_ADDRSTRLEN] = {0};
  switch (family()) {
    case AF_INET: {
      const auto* sin = reinterpret_cast<const sockaddr_in*>(&storage_);
      ::inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf);
      return buf;
    }
    case AF_INET6: {
      const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&storage_);
      ::inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof buf);
      if (sin6->sin6_scope_id != 0) return fmt::format("{}%{}", buf, sin6->sin6_scope_id);
      return buf;
    }
    case AF_UNIX: {
      const auto* sun = reinterpret_cast<const sockaddr_un*>(&storage_);
      const std::size_t header = offsetof(sockaddr_un, sun_path);
      if (length_ <= header) return "";
      const std::size_t n = length_ - header;
      if (sun->sun_path[0] == '\0') return "@" + std::string(sun->sun_path + 1, n - 1);
      return std::string(sun->sun_path, ::strnlen(sun->sun_path, n));
    }
    default:
      return "";
  }
}

std::uint16_t Address::port() const noexcept {
  switch (family()) {
    case AF_INET: return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
    case AF_INET6: return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
    default: return 0;
  }
}

Address Address::with_port(std::uint16_t port) const {
  Address a = *this;
  switch (family()) {
    case AF_INET: reinterpret_cast<sockaddr_in*>(&a.storage_)->sin_port = htons(port); break;
    case AF_INET6: reinterpret_cast<sockaddr_in6*>(&a.storage_)->sin6_port = htons(port); break;
    default: throw std::invalid_argument("with_port on a non-IP address " + to_string());
  }
  return a;
}

std::string Address::to_string() const {
  switch (family()) {
    case AF_INET: return fmt::format("{}:{}", host(), port());
    case AF_INET6: return fmt::format("[{}]:{}", host(), port());
    case AF_UNIX: {
      std::string h = host();
      return h.empty() ? "(unbound unix)" : h;
    }
    case AF_UNSPEC: return "(none)";
    default: return fmt::format("(family {})", family());
  }
}

bool operator==(const Address& a, const Address& b) noexcept {
  return a.length_ == b.length_ && std::memcmp(&a.storage_, &b.storage_, a.length_) == 0;
}

}  // namespace grove::net
