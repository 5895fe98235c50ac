// servers/stream.h — the byte stream a connection handler talks to: a plain socket or TLS.
//
// Model: a Stream is one accepted connection, owned by the greenlet-actor that handles it. It
// reads what is there (waiting, up to a deadline, when nothing is) and writes everything it is
// given. Handlers written against Stream serve plain TCP and TLS alike; a handler that needs the
// socket itself (options, peer name, shutdown) gets it from socket().
//
// Cost: PlainStream is a thin layer over net::Socket and inherits its readiness tracking: a read
// that returns less than asked for marks the socket not ready, so the next read parks first
// instead of paying for an EAGAIN system call; write_all of several parts is one sendmsg(2)
// when the kernel takes them all. One virtual call per operation.
//
// Thread: the hub thread of the handling greenlet. Lifetime: destroying a stream closes the
// connection.
//
//   void echo(grove::servers::Stream& conn, const grove::net::Address&) {
//     char buf[4096];
//     while (std::size_t n = conn.read_some(buf, sizeof buf)) conn.write_all({buf, n});
//   }
#pragma once

#include <cstddef>
#include <initializer_list>
#include <span>
#include <string_view>

#include "hub/wait.h"
#include "net/socket.h"

namespace grove::servers {

class Stream {
 public:
  Stream() = default;
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  virtual ~Stream() = default;

  // Reads up to `size` bytes, waiting until `deadline` when none is available. Returns 0 when
  // the peer closed; throws net::SocketTimeout when the deadline passed, net::SocketError on a
  // failed connection.
  virtual std::size_t read_some(void* buffer, std::size_t size,
                                Deadline deadline = Deadline::never()) = 0;
  // Writes every byte of every part, in order (one system call when the kernel takes it all).
  virtual void write_all(std::span<const std::string_view> parts) = 0;
  void write_all(std::string_view data) { write_all(std::span<const std::string_view>(&data, 1)); }
  void write_all(std::initializer_list<std::string_view> parts) {
    write_all(std::span<const std::string_view>(parts.begin(), parts.size()));
  }
  // No more writes: sends FIN (TLS: close_notify first). Reads still work.
  virtual void shutdown_write() = 0;
  // Closes the connection now. Idempotent.
  virtual void close() noexcept = 0;
  // True when bytes are believed readable without waiting (plain: the socket's readiness mark;
  // TLS: decrypted bytes are buffered).
  virtual bool read_ready() const noexcept = 0;
  virtual bool is_tls() const noexcept { return false; }
  // The underlying socket (for TLS: the encrypted transport; do not read or write it).
  virtual net::Socket& socket() noexcept = 0;

  // net::Reader compatibility: `net::Reader<servers::Stream> reader(conn)`.
  std::size_t recv_into(void* buffer, std::size_t size) { return read_some(buffer, size); }
  void sendall(std::string_view data) { write_all(data); }
};

// A plain TCP (or Unix) connection.
class PlainStream final : public Stream {
 public:
  explicit PlainStream(net::Socket socket) : socket_(std::move(socket)) {}

  std::size_t read_some(void* buffer, std::size_t size,
                        Deadline deadline = Deadline::never()) override;
  void write_all(std::span<const std::string_view> parts) override;
  using Stream::write_all;
  void shutdown_write() override;
  void close() noexcept override { socket_.close(); }
  bool read_ready() const noexcept override { return socket_.read_ready(); }
  net::Socket& socket() noexcept override { return socket_; }

 private:
  net::Socket socket_;
};

}  // namespace grove::servers
