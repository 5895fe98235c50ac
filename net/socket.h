// net/socket.h — a cooperative socket: the standard socket API where a blocking call parks only
// the calling fiber.
//
// Model: a Socket owns a non-blocking file descriptor. Every call tries the system call first and
// waits (on the hub's libev loop, through one IoWatcher per direction: the read interest stays
// registered from the first wait until close, the write interest only while a write waits; see
// hub/io.h) only when the kernel says EAGAIN. Readiness is tracked per direction the way
// nginx does: a read that returns less than asked for, or EAGAIN, marks the socket not readable,
// and the next read waits first instead of paying for a system call that would fail; a write
// that completes leaves it writable. So a request/response connection costs one read and one
// write per exchange, plus the poll it shares with every other fiber, and no poller change.
//
// Timeouts follow Python's socket module: settimeout(std::nullopt) (the default, see
// set_default_timeout) blocks; settimeout(0) makes every call non-blocking (a call that would
// block throws SocketError with EAGAIN, or EINPROGRESS for connect); settimeout(s > 0) gives each
// call `s` seconds and then throws SocketTimeout — for sendall, `s` covers the whole call.
// A grove::Timeout scope or a kill still interrupts any wait, as everywhere in grove.
//
// Sharing: one fiber may wait to read and another to write at the same time; a second fiber
// waiting in the same direction gets grove::ConcurrentObjectUseError. close() (or destroying the
// Socket) while other fibers are blocked on it wakes them at once with SocketError(EBADF,
// "... File descriptor was closed in another greenlet").
//
// Thread: a socket belongs to the hub of the thread that first waits on it; use it from that
// thread's fibers only. Lifetime: the destructor closes the descriptor (detach() to keep it).
// Moving a socket while a fiber is blocked on it is not allowed.
//
//   using namespace grove::net;
//   Socket sock = create_connection(Address::parse("127.0.0.1:8080"), /*timeout=*/5.0);
//   sock.sendall("GET / HTTP/1.0\r\n\r\n");
//   std::string reply;
//   while (true) {
//     std::string chunk = sock.recv(4096);
//     if (chunk.empty()) break;  // the peer closed
//     reply += chunk;
//   }
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "hub/wait.h"
#include "hub/wait_any.h"
#include "net/address.h"
#include "net/errors.h"

namespace grove::net {

class Socket;

// What accept() returns.
struct Accepted;

// What recvfrom() returns.
struct Datagram {
  std::string data;
  Address from;
};

class Socket {
 public:
  // No socket: fileno() == -1; every call throws SocketError(EBADF).
  Socket() noexcept;
  // A new socket (socket(2) with SOCK_NONBLOCK | SOCK_CLOEXEC added); timeout = default_timeout().
  static Socket create(int family = AF_INET, int type = SOCK_STREAM, int protocol = 0);
  // Takes ownership of an open descriptor and makes it non-blocking (and asks the kernel for
  // its family and type: three system calls).
  static Socket adopt(int fd);
  // Takes ownership of a descriptor the caller opened non-blocking and whose family and type it
  // knows (accept4 or socketpair with SOCK_NONBLOCK): no system call.
  static Socket adopt(int fd, int family, int type);

  Socket(Socket&& other) noexcept;
  Socket& operator=(Socket&& other) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket();

  int fileno() const noexcept;
  bool is_open() const noexcept { return fileno() >= 0; }
  int family() const noexcept;
  int type() const noexcept;  // SOCK_STREAM, SOCK_DGRAM, ...

  // --- setup --------------------------------------------------------------------------------
  void bind(const Address& address);
  void listen(int backlog = 128);
  // Waits for a connection; the new socket has the default timeout (not this one's).
  Accepted accept();
  // Connects (waits for the handshake). Throws SocketError ("connect to 127.0.0.1:1: Connection
  // refused") or SocketTimeout.
  void connect(const Address& address);
  // As connect, returning 0 or the errno instead of throwing; EAGAIN when the timeout passed
  // (gevent's choice).
  int connect_ex(const Address& address);

  // --- reading ------------------------------------------------------------------------------
  // Reads up to `size` bytes into `buffer`; 0 means the peer closed (or `size` was 0).
  std::size_t recv_into(void* buffer, std::size_t size, int flags = 0);
  // Reads up to `max_bytes`; "" means the peer closed.
  std::string recv(std::size_t max_bytes, int flags = 0);
  Datagram recvfrom(std::size_t max_bytes, int flags = 0);
  std::pair<std::size_t, Address> recvfrom_into(void* buffer, std::size_t size, int flags = 0);

  // --- writing (never raises SIGPIPE: a closed peer is SocketError EPIPE) ----------------------
  // Writes what the kernel takes at once (waiting first if none fits); returns the count.
  std::size_t send(std::string_view data, int flags = 0);
  // Writes all of `data`; the timeout covers the whole call. On timeout, some prefix may have
  // been sent.
  void sendall(std::string_view data, int flags = 0);
  // Several buffers in one sendmsg(2) (one system call for a header and a body).
  std::size_t send_vectored(std::span<const std::string_view> parts, int flags = 0);
  void sendall(std::span<const std::string_view> parts, int flags = 0);
  std::size_t sendto(std::string_view data, const Address& to, int flags = 0);

  // --- ending -------------------------------------------------------------------------------
  // shutdown(2): SHUT_RD, SHUT_WR or SHUT_RDWR.
  void shutdown(int how);
  // Closes the descriptor; fibers blocked on this socket wake with SocketError(EBADF). Idempotent.
  void close() noexcept;
  // Gives up ownership: returns the descriptor (still non-blocking) and leaves the socket closed.
  int detach() noexcept;

  // --- options and names --------------------------------------------------------------------
  void setsockopt(int level, int option, int value);
  void setsockopt(int level, int option, const void* value, socklen_t length);
  int getsockopt(int level, int option) const;
  socklen_t getsockopt(int level, int option, void* value, socklen_t length) const;
  // TCP_NODELAY (servers want it; nothing sets it for you).
  void set_nodelay(bool on = true);
  Address getsockname() const;
  Address getpeername() const;

  // --- timeouts -----------------------------------------------------------------------------
  // std::nullopt: block; 0: non-blocking; > 0: seconds per call. Negative is invalid_argument.
  void settimeout(std::optional<double> seconds);
  template <class Rep, class Period>
  void settimeout(std::chrono::duration<Rep, Period> d) {
    settimeout(std::optional<double>(std::chrono::duration<double>(d).count()));
  }
  std::optional<double> gettimeout() const noexcept;
  // setblocking(true) == settimeout(nullopt); setblocking(false) == settimeout(0).
  void setblocking(bool blocking);
  bool getblocking() const noexcept;

  // The timeout new sockets get (Python's socket.setdefaulttimeout). Process-wide.
  static void set_default_timeout(std::optional<double> seconds);
  static std::optional<double> default_timeout() noexcept;

  // --- low level: waits with a status (for protocols layered on the socket, e.g. TLS) --------
  // Parks until readable / writable. False when `deadline` passed. Throws SocketError(EBADF) if
  // the socket is closed meanwhile, ConcurrentObjectUseError if another fiber waits the same way.
  [[nodiscard]] bool wait_readable(Deadline deadline = Deadline::never());
  [[nodiscard]] bool wait_writable(Deadline deadline = Deadline::never());
  // The socket as a source for grove::wait_any (hub/wait_any.h) and receive_or_until: ready when
  // the poller has reported the socket readable (writable) since the last read (write), so a
  // recv after it fired does not wait. It is the socket's own watcher: a fiber waiting on the
  // source and another reading the socket are two waiters (ConcurrentObjectUseError). Closing
  // or destroying the socket while a fiber waits on it throws SocketError(EBADF) out of that
  // wait, as for recv. SocketError(EBADF) here if the socket is closed.
  WaitSource readable();
  WaitSource writable();
  // The deadline a call starting now would have under this socket's timeout (never when none).
  Deadline call_deadline() const;
  // What the readiness tracking believes (see the header comment). Protocols that do their own
  // system calls on fileno() report what they saw with mark_*.
  bool read_ready() const noexcept;
  bool write_ready() const noexcept;
  void mark_read_ready(bool ready) noexcept;
  void mark_write_ready(bool ready) noexcept;
  // "127.0.0.1:8080" of the peer (or of the local end when unconnected), for messages.
  std::string describe_peer() const;

  struct Impl;

 private:
  explicit Socket(Impl* impl) noexcept : impl_(impl) {}
  Impl* impl_ = nullptr;
};

struct Accepted {
  Socket socket;
  Address peer;
};

// A connected pair (socketpair(2)), both non-blocking, default timeout.
std::pair<Socket, Socket> socketpair(int family = AF_UNIX, int type = SOCK_STREAM,
                                     int protocol = 0);
// A new Socket on a dup() of `fd` (the caller keeps `fd`).
Socket fromfd(int fd);

// Connects to `address` with `timeout` applied to the connect and kept on the socket (nullopt:
// the default timeout, usually blocking); binds to `source_address` first when given. (create_connection(host, port, ...) in net/dns.h resolves
// a name first.)
Socket create_connection(const Address& address, std::optional<double> timeout = std::nullopt,
                         const std::optional<Address>& source_address = std::nullopt);

// A TCP listening socket with SO_REUSEADDR, bound to `address` (port 0 = any free port). With
// `reuse_port`, also SO_REUSEPORT: more sockets may then bind the same address (each with
// SO_REUSEPORT) and the kernel spreads new connections over them.
Socket create_server(const Address& address, int backlog = 128, bool reuse_port = false);

}  // namespace grove::net
