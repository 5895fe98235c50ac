// facade/socket.h — gevent.socket: the cooperative socket module, as aliases of grove::net.
//
//   socket                     a grove::net::Socket with Python's manners: socket(AF_INET,
//                              SOCK_STREAM), bind({host, port}), connect({host, port}) (the
//                              host resolved), accept() -> (socket, address), makefile(mode);
//                              and the core's listen, connect_ex, recv, recv_into, recvfrom,
//                              send, sendall, sendto, shutdown, close, detach, fileno,
//                              setsockopt/getsockopt, getsockname/getpeername,
//                              settimeout/gettimeout/setblocking
//   SocketFile                 what makefile() returns: readline(), read(n), read(), write(),
//                              flush(), close(), range-for over lines (over net::Reader)
//   error, timeout, gaierror   SocketError, SocketTimeout (not gevent::Timeout), DnsError
//   herror                     what gethostbyaddr/getfqdn throw for an address with no name
//                              (a gaierror too, as both are OSErrors in Python)
//   gethostbyname_ex, gethostbyaddr, getfqdn, gethostname
//   create_connection((host, port), timeout, source_address), socketpair, fromfd,
//   getaddrinfo, gethostbyname, getnameinfo, getdefaulttimeout/setdefaulttimeout
//   wait_read, wait_write, wait_readwrite, wait, cancel_wait (gevent's extensions)
// The AF_*/SOCK_*/SHUT_* constants are the system's own macros.
//
//   #include "facade/socket.h"
//   namespace socket = gevent::socket;
//   socket::socket s(AF_INET, SOCK_STREAM);
//   s.connect({"localhost", 8080});
//   s.sendall("GET / HTTP/1.0\r\n\r\n");
//   auto f = s.makefile("rb");
//   for (const std::string& line : f) std::cout << line;
//
// A SocketFile borrows its socket: keep the socket alive while the file is used (Python keeps
// the socket open until its files are closed; here the socket's owner decides).
#pragma once

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <optional>
#include <string>
#include <iterator>
#include <utility>
#include <vector>

#include "net/address.h"
#include "net/dns.h"
#include "net/errors.h"
#include "net/reader.h"
#include "net/socket.h"
#include "net/wait.h"

namespace gevent::socket {

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

class SocketFile;

class socket : public grove::net::Socket {
 public:
  // No socket yet (fileno() == -1).
  socket() = default;
  // Python's socket.socket(family, type, proto): a new cooperative socket.
  socket(int family, int type = SOCK_STREAM, int proto = 0)
      : grove::net::Socket(grove::net::Socket::create(family, type, proto)) {}
  socket(grove::net::Socket&& s) noexcept : grove::net::Socket(std::move(s)) {}  // NOLINT

  using grove::net::Socket::bind;
  using grove::net::Socket::connect;
  using grove::net::Socket::connect_ex;
  // bind((host, port)): host is an address literal; "" means every interface.
  void bind(const HostPort& address) { bind(bind_address(address)); }
  // connect((host, port)): resolves host (on the hub's resolver) and connects to the first
  // address of the socket's family.
  void connect(const HostPort& address) { connect(resolve(address)); }
  int connect_ex(const HostPort& address) { return connect_ex(resolve(address)); }
  // (connection, peer address).
  std::pair<socket, Address> accept() {
    grove::net::Accepted a = grove::net::Socket::accept();
    return {socket(std::move(a.socket)), std::move(a.peer)};
  }
  // A file over this socket: mode "r"/"rb" reads, "w"/"wb" writes (buffered until flush()),
  // "rw"/"rwb" both. Text and binary modes are the same here (bytes either way).
  SocketFile makefile(std::string_view mode = "r");

 private:
  Address bind_address(const HostPort& a) const {
    if (a.first.empty()) {
      return family() == AF_INET6 ? Address::ipv6("::", a.second)
                                  : Address::ipv4("0.0.0.0", a.second);
    }
    return Address::ip(a.first, a.second);
  }
  Address resolve(const HostPort& a) const {
    if (auto literal = Address::try_parse(a.first.find(':') != std::string::npos
                                              ? "[" + a.first + "]:" + std::to_string(a.second)
                                              : a.first + ":" + std::to_string(a.second))) {
      return *literal;
    }
    grove::net::AddrInfoHints hints;
    hints.family = family();
    hints.socktype = type();
    auto found = grove::net::getaddrinfo(a.first, a.second, hints);
    if (found.empty()) throw gaierror(grove::net::DnsStatus::kNotFound, 0, "no address for " + a.first);
    return found.front().address;
  }
};

// socket.makefile(): a buffered file over a socket.
class SocketFile {
 public:
  SocketFile(grove::net::Socket& sock, std::string_view mode)
      : sock_(&sock),
        reader_(sock),
        readable_(mode.find('r') != std::string_view::npos),
        writable_(mode.find('w') != std::string_view::npos || mode.find('a') != std::string_view::npos) {}
  SocketFile(SocketFile&&) = default;
  SocketFile(const SocketFile&) = delete;
  ~SocketFile() {
    try {
      flush();
    } catch (...) {
      // Python's file close() reports the error; a destructor cannot. Call flush() to see it.
    }
  }

  // Up to and including the next '\n' (at most `limit` bytes); "" at the end of the stream.
  std::string readline(std::size_t limit = 64 * 1024) {
    check_read();
    return reader_.readline(limit);
  }
  // Up to `n` bytes: fewer only at the end of the stream.
  std::string read(std::size_t n) {
    check_read();
    std::string out;
    while (out.size() < n) {
      std::string part = reader_.read_some(n - out.size());
      if (part.empty()) break;
      out += part;
    }
    return out;
  }
  // Everything until the peer closes.
  std::string read() {
    check_read();
    std::string out;
    for (std::string part; !(part = reader_.read_some()).empty();) out += part;
    return out;
  }
  // Every line until the end of the stream.
  std::vector<std::string> readlines() {
    std::vector<std::string> lines;
    for (std::string line; !(line = readline()).empty();) lines.push_back(std::move(line));
    return lines;
  }
  // Buffers `data` (sent on flush(), or at once past 8 KiB); returns its size.
  std::size_t write(std::string_view data) {
    if (!writable_) throw std::logic_error("makefile: not opened for writing");
    out_.append(data);
    if (out_.size() >= 8 * 1024) flush();
    return data.size();
  }
  void flush() {
    if (out_.empty()) return;
    std::string pending = std::move(out_);
    out_.clear();
    sock_->sendall(pending);
  }
  // Flushes and stops using the socket (the socket itself stays open, as in Python).
  void close() {
    flush();
    closed_ = true;
  }
  bool closed() const noexcept { return closed_; }

  // for (const std::string& line : file): lines until the end of the stream.
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = std::string;
    using difference_type = std::ptrdiff_t;
    using pointer = const std::string*;
    using reference = const std::string&;
    iterator() = default;
    explicit iterator(SocketFile* f) : file_(f) { ++*this; }
    reference operator*() const { return line_; }
    pointer operator->() const { return &line_; }
    iterator& operator++() {
      line_ = file_->readline();
      if (line_.empty()) file_ = nullptr;
      return *this;
    }
    void operator++(int) { ++*this; }
    friend bool operator==(const iterator& a, const iterator& b) { return a.file_ == b.file_; }

   private:
    SocketFile* file_ = nullptr;
    std::string line_;
  };
  iterator begin() { return iterator(this); }
  iterator end() { return iterator(); }

 private:
  void check_read() const {
    if (closed_) throw std::logic_error("makefile: I/O on a closed file");
    if (!readable_) throw std::logic_error("makefile: not opened for reading");
  }

  grove::net::Socket* sock_;
  grove::net::Reader<grove::net::Socket> reader_;
  std::string out_;
  bool readable_;
  bool writable_;
  bool closed_ = false;
};

inline SocketFile socket::makefile(std::string_view mode) { return SocketFile(*this, mode); }

using grove::net::cancel_wait;
using grove::net::gethostbyname;
using grove::net::getnameinfo;
using grove::net::wait;
using grove::net::wait_read;
using grove::net::wait_readwrite;
using grove::net::wait_write;

inline std::pair<socket, socket> socketpair(int family = AF_UNIX, int type = SOCK_STREAM,
                                            int proto = 0) {
  auto [a, b] = grove::net::socketpair(family, type, proto);
  return {socket(std::move(a)), socket(std::move(b))};
}
inline socket fromfd(int fd) { return socket(grove::net::fromfd(fd)); }

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

// Python's socket.herror: an address lookup that failed.
class herror : public gaierror {
 public:
  explicit herror(const gaierror& e) : gaierror(e) {}
};

// (hostname, aliases, addresses), as Python's gethostbyname_ex returns them.
struct HostEntry {
  std::string hostname;
  std::vector<std::string> aliases;
  std::vector<std::string> addresses;
};

// The canonical name of `host` and its IPv4 addresses (no aliases: resolvers do not report
// them). Throws gaierror.
inline HostEntry gethostbyname_ex(const std::string& host) {
  grove::net::AddrInfoHints hints;
  hints.family = AF_INET;
  hints.socktype = SOCK_STREAM;
  hints.flags = AI_CANONNAME;
  HostEntry entry;
  for (const AddrInfo& ai : grove::net::getaddrinfo(host, std::uint16_t(0), hints)) {
    if (entry.hostname.empty() && !ai.canonname.empty()) entry.hostname = ai.canonname;
    std::string ip = ai.address.host();
    if (std::find(entry.addresses.begin(), entry.addresses.end(), ip) == entry.addresses.end()) {
      entry.addresses.push_back(std::move(ip));
    }
  }
  if (entry.hostname.empty()) entry.hostname = host;
  return entry;
}

// The name of an IP address (reverse lookup): (hostname, aliases, [address]). Throws herror
// when the address has no name, gaierror for a malformed address.
inline HostEntry gethostbyaddr(const std::string& ip) {
  const Address address = Address::ip(ip, 0);
  try {
    NameInfo info = grove::net::getnameinfo(address, NI_NAMEREQD);
    return HostEntry{std::move(info.host), {}, {address.host()}};
  } catch (const herror&) {
    throw;
  } catch (const gaierror& e) {
    throw herror(e);
  }
}

// This machine's host name (gethostname(2)).
inline std::string gethostname() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0) throw error(errno, "gethostname");
  return name;
}

// Python's getfqdn(name): the first name with a dot among the reverse lookup of `name`'s
// address; `name` itself when there is none (or the lookups fail). "" means this host.
inline std::string getfqdn(std::string name = "") {
  if (name.empty() || name == "0.0.0.0" || name == "::") name = gethostname();
  try {
    const HostEntry byname = gethostbyname_ex(name);
    if (byname.hostname.find('.') != std::string::npos) return byname.hostname;
    for (const std::string& ip : byname.addresses) {
      const HostEntry byaddr = gethostbyaddr(ip);
      if (byaddr.hostname.find('.') != std::string::npos) return byaddr.hostname;
    }
  } catch (const gaierror&) {
    // Python's getfqdn never fails: the name as given.
  }
  return name;
}

inline std::optional<double> getdefaulttimeout() { return socket::default_timeout(); }
inline void setdefaulttimeout(std::optional<double> seconds) { socket::set_default_timeout(seconds); }

}  // namespace gevent::socket
