// net/address.h — a socket address: IPv4, IPv6 or Unix-domain, as a value.
//
// Model: an Address holds a `sockaddr_storage` and its length, so it can be handed to any socket
// call. It is built from text ("127.0.0.1:8080", "[::1]:80", "/run/app.sock", "@abstract"),
// from parts (Address::ipv4("10.0.0.1", 80)), or from what the kernel returned (accept,
// getpeername). to_string() gives the same text back; that text is what socket errors quote.
//
// Parsing never resolves names: "localhost:80" is not an Address (use net/dns.h for that).
//
// Thread: a plain value; any thread. Cost: no allocation except for to_string().
//
//   grove::net::Address a = grove::net::Address::parse("[::1]:8080");
//   assert(a.family() == AF_INET6 && a.port() == 8080);
//   std::string text = a.to_string();  // "[::1]:8080"
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace grove::net {

class Address {
 public:
  Address() noexcept;  // empty: family() == AF_UNSPEC

  // IPv4 or IPv6 literal host plus port; throws std::invalid_argument for anything else.
  static Address ipv4(std::string_view host, std::uint16_t port);
  static Address ipv6(std::string_view host, std::uint16_t port, std::uint32_t scope_id = 0);
  // An IPv4 or IPv6 literal, whichever it is.
  static Address ip(std::string_view host, std::uint16_t port);
  // A Unix-domain path; a leading '@' or '\0' makes it an abstract-namespace name.
  static Address unix_path(std::string_view path);
  // "1.2.3.4:80", "[::1]:80", "/path", "@abstract"; std::nullopt when the text is none of them.
  static std::optional<Address> try_parse(std::string_view text);
  // As try_parse, throwing std::invalid_argument naming the text.
  static Address parse(std::string_view text);
  // Copies what the kernel filled in.
  static Address from_sockaddr(const sockaddr* addr, socklen_t length);

  int family() const noexcept { return storage_.ss_family; }
  bool empty() const noexcept { return family() == AF_UNSPEC; }
  bool is_ip() const noexcept { return family() == AF_INET || family() == AF_INET6; }
  // The numeric host ("127.0.0.1", "::1") for IP; the path for Unix ("@name" when abstract).
  std::string host() const;
  // The port for IP; 0 otherwise.
  std::uint16_t port() const noexcept;
  // A copy with another port (IP only).
  Address with_port(std::uint16_t port) const;

  // "127.0.0.1:8080", "[::1]:80", "/tmp/s.sock", "@name", "(unbound unix)", "(none)".
  std::string to_string() const;

  const sockaddr* sockaddr_ptr() const noexcept {
    return reinterpret_cast<const sockaddr*>(&storage_);
  }
  sockaddr* sockaddr_ptr() noexcept { return reinterpret_cast<sockaddr*>(&storage_); }
  socklen_t length() const noexcept { return length_; }

  friend bool operator==(const Address& a, const Address& b) noexcept;

 private:
  sockaddr_storage storage_;
  socklen_t length_ = 0;
};

}  // namespace grove::net
