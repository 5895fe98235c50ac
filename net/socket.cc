// net/socket.cc — the cooperative socket: syscall first, wait on EAGAIN, readiness per direction.
#include "net/socket.h"

#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "hub/hub.h"
#include "hub/io.h"

namespace grove::net {

namespace {

// Process-wide default timeout; negative = none (blocking).
std::atomic<double> g_default_timeout{-1.0};

double to_internal_timeout(std::optional<double> seconds) {
  if (!seconds) return -1.0;
  if (std::isnan(*seconds) || *seconds < 0) {
    throw std::invalid_argument(fmt::format("socket timeout must be >= 0 or none, not {}", *seconds));
  }
  return *seconds;
}

std::optional<double> from_internal_timeout(double t) {
  if (t < 0) return std::nullopt;
  return t;
}

bool would_block(int e) { return e == EAGAIN || e == EWOULDBLOCK; }

void set_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0) {
    const int e = errno;
    throw SocketError(e, fmt::format("fcntl(F_GETFL) on fd {}", fd));
  }
  if ((flags & O_NONBLOCK) == 0 && ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    const int e = errno;
    throw SocketError(e, fmt::format("fcntl(F_SETFL, O_NONBLOCK) on fd {}", fd));
  }
}

constexpr const char* kClosedByOther = "File descriptor was closed in another greenlet";

}  // namespace

// ---------------------------------------------------------------------------------------------
// Impl: everything a fiber blocked on the socket touches lives here, so a Socket can be closed or
// destroyed by another fiber while one waits. `busy` counts fibers inside wait(); a destroyed
// Socket whose Impl is still busy is only marked `orphaned` and the last waiter frees it.

struct Socket::Impl {
  int fd = -1;
  int family = AF_UNSPEC;
  int type = 0;
  double timeout = -1.0;  // < 0: blocking; 0: non-blocking; > 0: seconds per call
  bool read_ready = true;
  bool write_ready = true;
  bool orphaned = false;
  int busy = 0;
  const char* read_op = "recv from";
  const char* write_op = "send to";
  IoWatcher read_watcher;
  IoWatcher write_watcher;

  Impl(int fd, int family, int type)
      : fd(fd), family(family), type(type), timeout(g_default_timeout.load()) {}

  static Impl* from_fd(int fd) {
    int family = AF_UNSPEC, type = 0;
    socklen_t len = sizeof family;
    if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &len) != 0) family = AF_UNSPEC;
    len = sizeof type;
    if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0) type = 0;
    return new Impl(fd, family, type);
  }

  std::string describe_peer() const {
    if (fd < 0) return "closed socket";
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0) {
      return Address::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len).to_string();
    }
    len = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0 && len > sizeof(sa_family_t)) {
      return Address::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len).to_string();
    }
    return fmt::format("fd {}", fd);
  }

  // "recv from 127.0.0.1:80"
  std::string context(const char* op) const { return fmt::format("{} {}", op, describe_peer()); }
  SocketError error(const char* op, int e) const { return SocketError(e, context(op)); }
  SocketError closed_error(const char* op) const {
    return SocketError(std::error_code(EBADF, std::generic_category()),
                       fmt::format("{}: socket is closed", op));
  }

  Deadline call_deadline() const {
    return timeout < 0 ? Deadline::never() : Deadline::after(timeout);
  }

  // Frees the Impl if its Socket is gone and nobody else waits. After true, `this` is dead.
  bool leave_wait() noexcept {
    --busy;
    if (orphaned && busy == 0) {
      delete this;
      return true;
    }
    return false;
  }

  // Parks until `direction` is ready. True when ready; false when `deadline` passed (or a silent
  // Timeout scope expired). Throws when the socket is closed meanwhile (then `this` may be gone).
  bool wait(int direction, Deadline deadline, const char* op) {
    if (fd < 0) throw closed_error(op);
    IoWatcher& watcher = direction == kIoRead ? read_watcher : write_watcher;
    if (watcher.fd() != fd) watcher.reset(fd, direction);
    (direction == kIoRead ? read_op : write_op) = op;
    ++busy;
    int ready;
    try {
      ready = watcher.wait(deadline, op);
    } catch (...) {
      leave_wait();
      throw;
    }
    if (orphaned || fd < 0) {
      // Woken by readiness, but closed before this fiber ran again.
      SocketError e(std::error_code(EBADF, std::generic_category()),
                    fmt::format("{}: {}", op, kClosedByOther));
      leave_wait();
      throw e;
    }
    --busy;
    if (ready == 0) return false;
    if (direction == kIoRead) {
      read_ready = true;
    } else {
      write_ready = true;
    }
    return true;
  }

  // The one read/write pattern: the system call when the direction is believed ready (or the
  // socket is non-blocking), a wait on EAGAIN. `want` is what the call asked for: a shorter
  // result means the kernel had no more (a stream's receive queue drained, or its send buffer
  // full: nginx's rule); a datagram's size says nothing about what is left to read.
  // `deadline`/`have_deadline` are shared by the calls of one sendall.
  template <class Call>
  std::size_t transfer(int direction, const char* op, std::size_t want, Deadline& deadline,
                       bool& have_deadline, Call&& call) {
    const bool reading = direction == kIoRead;
    bool& ready = reading ? read_ready : write_ready;
    IoWatcher& watcher = reading ? read_watcher : write_watcher;
    for (;;) {
      if (fd < 0) throw closed_error(op);
      if (ready || timeout == 0) {
        // The poller's last report is used up by this call (see readable()).
        (void)watcher.take_ready();
        const ssize_t n = call();
        if (n >= 0) {
          if (static_cast<std::size_t>(n) < want && (!reading || type == SOCK_STREAM)) {
            ready = false;
          }
          return static_cast<std::size_t>(n);
        }
        const int e = errno;
        if (e == EINTR) continue;
        if (!would_block(e)) throw error(op, e);
        ready = false;
        if (timeout == 0) throw error(op, e);
      }
      if (!have_deadline) {
        deadline = call_deadline();
        have_deadline = true;
      }
      if (!wait(direction, deadline, op)) throw SocketTimeout(context(op));
    }
  }

  template <class Call>
  std::size_t read_op_loop(const char* op, std::size_t want, Call&& call) {
    Deadline deadline;
    bool have_deadline = false;
    return transfer(kIoRead, op, want, deadline, have_deadline, std::forward<Call>(call));
  }

  template <class Call>
  std::size_t write_op_loop(const char* op, std::size_t want, Deadline& deadline,
                            bool& have_deadline, Call&& call) {
    return transfer(kIoWrite, op, want, deadline, have_deadline, std::forward<Call>(call));
  }

  // 0, an errno, or -1 for "the timeout passed".
  int connect(const Address& address) {
    const char* op = "connect";
    Deadline deadline;
    bool have_deadline = false;
    for (;;) {
      if (fd < 0) throw closed_error(op);
      if (::connect(fd, address.sockaddr_ptr(), address.length()) == 0) return 0;
      const int e = errno;
      if (e == EINPROGRESS || e == EINTR || e == EALREADY) {
        if (timeout == 0) return EINPROGRESS;
        write_ready = false;
        if (!have_deadline) deadline = call_deadline();
        if (!wait(kIoWrite, deadline, op)) return -1;
        int so_error = 0;
        socklen_t len = sizeof so_error;
        if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0) return errno;
        return so_error;
      }
      if (e == EAGAIN && family == AF_UNIX) {
        // A full listen queue on a Unix socket: no readiness to wait for; retry shortly.
        if (timeout == 0) return e;
        if (!have_deadline) {
          deadline = call_deadline();
          have_deadline = true;
        }
        if (deadline.passed()) return -1;
        grove::sleep(std::min(0.001, std::max(0.0, deadline.remaining())));
        continue;
      }
      return e;
    }
  }

  void close() noexcept {
    if (fd < 0) return;
    const bool reader = read_watcher.has_waiter();
    const bool writer = write_watcher.has_waiter();
    if (reader || writer) {
      const std::string peer = describe_peer();
      auto cancel = [&](IoWatcher& w, const char* op) {
        w.cancel(std::make_exception_ptr(
            SocketError(std::error_code(EBADF, std::generic_category()),
                        fmt::format("{} {}: {}", op, peer, kClosedByOther))));
      };
      if (reader) cancel(read_watcher, read_op);
      if (writer) cancel(write_watcher, write_op);
    }
    read_watcher.stop();
    write_watcher.stop();
    IoWatcher::closing(fd);  // and any other watcher on the fd (net::wait, a Selector key)
    ::close(fd);
    fd = -1;
  }

  int detach() noexcept {
    const int out = fd;
    if (fd < 0) return -1;
    read_watcher.stop();
    write_watcher.stop();
    fd = -1;
    return out;
  }
};

// ---------------------------------------------------------------------------------------------
// Socket

namespace {
[[noreturn, gnu::noinline, gnu::cold]] void throw_closed(const char* op) {
  throw SocketError(std::error_code(EBADF, std::generic_category()),
                    fmt::format("{}: socket is closed", op));
}

// On every call: inline, with the throw out of line.
inline Socket::Impl& open_impl(Socket::Impl* impl, const char* op) {
  if (impl == nullptr || impl->fd < 0) [[unlikely]] throw_closed(op);
  return *impl;
}
}  // namespace

Socket::Socket() noexcept = default;

Socket Socket::create(int family, int type, int protocol) {
  const int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) {
    const int e = errno;
    throw SocketError(e, fmt::format("socket(family {}, type {}, protocol {})", family, type,
                                         protocol));
  }
  return Socket(new Impl(fd, family, type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)));
}

Socket Socket::adopt(int fd) {
  if (fd < 0) throw SocketError(EBADF, "adopt");
  set_nonblocking(fd);
  return Socket(Impl::from_fd(fd));
}

Socket Socket::adopt(int fd, int family, int type) {
  if (fd < 0) throw SocketError(EBADF, "adopt");
  return Socket(new Impl(fd, family, type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)));
}

Socket::Socket(Socket&& other) noexcept : impl_(std::exchange(other.impl_, nullptr)) {}

Socket& Socket::operator=(Socket&& other) noexcept {
  if (this != &other) {
    Socket old(std::move(*this));
    impl_ = std::exchange(other.impl_, nullptr);
  }
  return *this;
}

Socket::~Socket() {
  if (impl_ == nullptr) return;
  impl_->close();
  if (impl_->busy > 0) {
    impl_->orphaned = true;  // the last fiber to leave its wait frees it
  } else {
    delete impl_;
  }
}

int Socket::fileno() const noexcept { return impl_ ? impl_->fd : -1; }
int Socket::family() const noexcept { return impl_ ? impl_->family : AF_UNSPEC; }
int Socket::type() const noexcept { return impl_ ? impl_->type : 0; }

void Socket::bind(const Address& address) {
  Impl& s = open_impl(impl_, "bind");
  if (::bind(s.fd, address.sockaddr_ptr(), address.length()) != 0) {
    const int e = errno;
    throw SocketError(e, "bind to " + address.to_string());
  }
}

void Socket::listen(int backlog) {
  Impl& s = open_impl(impl_, "listen");
  if (::listen(s.fd, backlog) != 0) {
    const int e = errno;
    throw s.error("listen on", e);
  }
}

Accepted Socket::accept() {
  Impl& s = open_impl(impl_, "accept");
  sockaddr_storage ss;
  socklen_t len = 0;
  int fd = -1;
  // "want" 1 and a result of 1: accepting leaves the listener ready; only EAGAIN marks it not.
  s.read_op_loop("accept on", 1, [&]() -> ssize_t {
    len = sizeof ss;
    fd = ::accept4(s.fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    return fd < 0 ? -1 : 1;
  });
  Accepted out{Socket(new Impl(fd, s.family, s.type)),
               Address::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len)};
  return out;
}

void Socket::connect(const Address& address) {
  Impl& s = open_impl(impl_, "connect");
  const int e = s.connect(address);
  if (e == 0) return;
  if (e < 0) throw SocketTimeout("connect to " + address.to_string());
  throw SocketError(e, "connect to " + address.to_string());
}

int Socket::connect_ex(const Address& address) {
  Impl& s = open_impl(impl_, "connect");
  const int e = s.connect(address);
  return e < 0 ? EAGAIN : e;
}

// [[gnu::hot]]: on every I/O wait. GCC groups such functions in .text.hot, so a wait and a wake
// run through a few contiguous lines of code (the kernel's work in between evicts the rest).
[[gnu::hot]] std::size_t Socket::recv_into(void* buffer, std::size_t size, int flags) {
  Impl& s = open_impl(impl_, "recv");
  return s.read_op_loop("recv from", size,
                        [&] { return ::recv(s.fd, buffer, size, flags); });
}

std::string Socket::recv(std::size_t max_bytes, int flags) {
  std::string out;
  out.resize(max_bytes);
  out.resize(recv_into(out.data(), max_bytes, flags));
  return out;
}

std::pair<std::size_t, Address> Socket::recvfrom_into(void* buffer, std::size_t size, int flags) {
  Impl& s = open_impl(impl_, "recvfrom");
  sockaddr_storage ss;
  socklen_t len = 0;
  const std::size_t n = s.read_op_loop("recvfrom on", size, [&] {
    len = sizeof ss;
    return ::recvfrom(s.fd, buffer, size, flags, reinterpret_cast<sockaddr*>(&ss), &len);
  });
  return {n, Address::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len)};
}

Datagram Socket::recvfrom(std::size_t max_bytes, int flags) {
  Datagram out;
  out.data.resize(max_bytes);
  auto [n, from] = recvfrom_into(out.data.data(), max_bytes, flags);
  out.data.resize(n);
  out.from = from;
  return out;
}

std::size_t Socket::send(std::string_view data, int flags) {
  Impl& s = open_impl(impl_, "send");
  Deadline deadline;
  bool have_deadline = false;
  return s.write_op_loop("send to", data.size(), deadline, have_deadline, [&] {
    return ::send(s.fd, data.data(), data.size(), flags | MSG_NOSIGNAL);
  });
}

[[gnu::hot]] void Socket::sendall(std::string_view data, int flags) {
  Impl& s = open_impl(impl_, "sendall");
  Deadline deadline;  // one deadline for the whole call, taken at the first wait
  bool have_deadline = false;
  while (!data.empty()) {
    const std::size_t n = s.write_op_loop("sendall to", data.size(), deadline, have_deadline, [&] {
      return ::send(s.fd, data.data(), data.size(), flags | MSG_NOSIGNAL);
    });
    data.remove_prefix(n);
  }
}

namespace {

// The iovecs of one sendmsg: on the stack for up to kInline parts (a header and a body, a
// few replies), on the heap beyond; at most IOV_MAX.
class Iovecs {
 public:
  static constexpr std::size_t kInline = 8;

  explicit Iovecs(std::size_t parts) {
    if (parts > kInline) {
      heap_.resize(std::min<std::size_t>(parts, IOV_MAX));
      data_ = heap_.data();
      capacity_ = heap_.size();
    }
  }
  Iovecs(const Iovecs&) = delete;
  Iovecs& operator=(const Iovecs&) = delete;

  // Points at `parts` minus their first `skip` bytes, skipping empty ones; returns the bytes
  // covered (0 when nothing is left).
  std::size_t fill(std::span<const std::string_view> parts, std::size_t skip) {
    count_ = 0;
    std::size_t total = 0;
    for (std::string_view p : parts) {
      if (skip >= p.size()) {
        skip -= p.size();
        continue;
      }
      p.remove_prefix(skip);
      skip = 0;
      if (count_ == capacity_) break;
      data_[count_++] = {const_cast<char*>(p.data()), p.size()};
      total += p.size();
    }
    return total;
  }

  ssize_t sendmsg(int fd, int flags) const {
    msghdr msg{};
    msg.msg_iov = data_;
    msg.msg_iovlen = count_;
    return ::sendmsg(fd, &msg, flags | MSG_NOSIGNAL);
  }

 private:
  iovec inline_[kInline];
  std::vector<iovec> heap_;
  iovec* data_ = inline_;
  std::size_t capacity_ = kInline;
  std::size_t count_ = 0;
};

}  // namespace

std::size_t Socket::send_vectored(std::span<const std::string_view> parts, int flags) {
  Impl& s = open_impl(impl_, "send");
  Iovecs iov(parts.size());
  const std::size_t total = iov.fill(parts, 0);
  if (total == 0) return 0;
  Deadline deadline;
  bool have_deadline = false;
  return s.write_op_loop("send to", total, deadline, have_deadline,
                         [&] { return iov.sendmsg(s.fd, flags); });
}

void Socket::sendall(std::span<const std::string_view> parts, int flags) {
  Impl& s = open_impl(impl_, "sendall");
  Iovecs iov(parts.size());
  std::size_t sent = 0;
  Deadline deadline;
  bool have_deadline = false;
  for (;;) {
    const std::size_t total = iov.fill(parts, sent);
    if (total == 0) return;
    sent += s.write_op_loop("sendall to", total, deadline, have_deadline,
                            [&] { return iov.sendmsg(s.fd, flags); });
  }
}

std::size_t Socket::sendto(std::string_view data, const Address& to, int flags) {
  Impl& s = open_impl(impl_, "sendto");
  Deadline deadline;
  bool have_deadline = false;
  try {
    return s.write_op_loop("sendto", data.size(), deadline, have_deadline, [&] {
      return ::sendto(s.fd, data.data(), data.size(), flags | MSG_NOSIGNAL, to.sockaddr_ptr(),
                      to.length());
    });
  } catch (const SocketTimeout&) {
    throw;
  } catch (const SocketError& e) {
    if (e.error_number() == EBADF) throw;
    throw SocketError(e.error_number(), "sendto " + to.to_string());
  }
}

void Socket::shutdown(int how) {
  Impl& s = open_impl(impl_, "shutdown");
  if (::shutdown(s.fd, how) != 0) {
    const int e = errno;
    throw s.error("shutdown of", e);
  }
}

WaitSource Socket::readable() {
  Impl& s = open_impl(impl_, "readable");
  if (s.read_watcher.fd() != s.fd) s.read_watcher.reset(s.fd, kIoRead);
  return WaitSource(s.read_watcher);
}

WaitSource Socket::writable() {
  Impl& s = open_impl(impl_, "writable");
  if (s.write_watcher.fd() != s.fd) s.write_watcher.reset(s.fd, kIoWrite);
  return WaitSource(s.write_watcher);
}

void Socket::close() noexcept {
  if (impl_ != nullptr) impl_->close();
}

int Socket::detach() noexcept { return impl_ ? impl_->detach() : -1; }

void Socket::setsockopt(int level, int option, int value) {
  setsockopt(level, option, &value, sizeof value);
}

void Socket::setsockopt(int level, int option, const void* value, socklen_t length) {
  Impl& s = open_impl(impl_, "setsockopt");
  if (::setsockopt(s.fd, level, option, value, length) != 0) {
    const int e = errno;
    throw s.error(fmt::format("setsockopt({}, {}) on", level, option).c_str(), e);
  }
}

int Socket::getsockopt(int level, int option) const {
  int value = 0;
  getsockopt(level, option, &value, sizeof value);
  return value;
}

socklen_t Socket::getsockopt(int level, int option, void* value, socklen_t length) const {
  Impl& s = open_impl(impl_, "getsockopt");
  socklen_t len = length;
  if (::getsockopt(s.fd, level, option, value, &len) != 0) {
    const int e = errno;
    throw s.error(fmt::format("getsockopt({}, {}) on", level, option).c_str(), e);
  }
  return len;
}

void Socket::set_nodelay(bool on) { setsockopt(IPPROTO_TCP, TCP_NODELAY, on ? 1 : 0); }

Address Socket::getsockname() const {
  Impl& s = open_impl(impl_, "getsockname");
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (::getsockname(s.fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    const int e = errno;
    throw SocketError(e, fmt::format("getsockname of fd {}", s.fd));
  }
  return Address::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

Address Socket::getpeername() const {
  Impl& s = open_impl(impl_, "getpeername");
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (::getpeername(s.fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    const int e = errno;
    throw SocketError(e, fmt::format("getpeername of fd {}", s.fd));
  }
  return Address::from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

void Socket::settimeout(std::optional<double> seconds) {
  const double t = to_internal_timeout(seconds);
  open_impl(impl_, "settimeout").timeout = t;
}

std::optional<double> Socket::gettimeout() const noexcept {
  return impl_ ? from_internal_timeout(impl_->timeout) : std::nullopt;
}

void Socket::setblocking(bool blocking) {
  settimeout(blocking ? std::nullopt : std::optional<double>(0.0));
}

bool Socket::getblocking() const noexcept { return impl_ == nullptr || impl_->timeout != 0; }

void Socket::set_default_timeout(std::optional<double> seconds) {
  g_default_timeout.store(to_internal_timeout(seconds));
}

std::optional<double> Socket::default_timeout() noexcept {
  return from_internal_timeout(g_default_timeout.load());
}

bool Socket::wait_readable(Deadline deadline) {
  return open_impl(impl_, "wait_readable").wait(kIoRead, deadline, "wait_readable");
}

bool Socket::wait_writable(Deadline deadline) {
  return open_impl(impl_, "wait_writable").wait(kIoWrite, deadline, "wait_writable");
}

Deadline Socket::call_deadline() const {
  return impl_ ? impl_->call_deadline() : Deadline::never();
}

bool Socket::read_ready() const noexcept { return impl_ && impl_->read_ready; }
bool Socket::write_ready() const noexcept { return impl_ && impl_->write_ready; }
void Socket::mark_read_ready(bool ready) noexcept {
  if (impl_) impl_->read_ready = ready;
}
void Socket::mark_write_ready(bool ready) noexcept {
  if (impl_) impl_->write_ready = ready;
}

std::string Socket::describe_peer() const { return impl_ ? impl_->describe_peer() : "closed socket"; }

// ---------------------------------------------------------------------------------------------
// Helpers

std::pair<Socket, Socket> socketpair(int family, int type, int protocol) {
  int fds[2];
  if (::socketpair(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol, fds) != 0) {
    throw SocketError(errno, "socketpair");
  }
  return {Socket::adopt(fds[0], family, type), Socket::adopt(fds[1], family, type)};
}

Socket fromfd(int fd) {
  const int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) {
    const int e = errno;
    throw SocketError(e, fmt::format("fromfd (dup of fd {})", fd));
  }
  try {
    return Socket::adopt(copy);
  } catch (...) {
    ::close(copy);
    throw;
  }
}

Socket create_connection(const Address& address, std::optional<double> timeout,
                         const std::optional<Address>& source_address) {
  Socket sock = Socket::create(address.family(), SOCK_STREAM, 0);
  if (timeout) sock.settimeout(timeout);
  if (source_address) sock.bind(*source_address);
  sock.connect(address);
  return sock;
}

Socket create_server(const Address& address, int backlog, bool reuse_port) {
  Socket sock = Socket::create(address.family(), SOCK_STREAM, 0);
  if (address.is_ip()) sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  if (reuse_port) sock.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1);
  sock.bind(address);
  sock.listen(backlog);
  return sock;
}

}  // namespace grove::net
