// net/selector.h — gevent's GeventSelector (Python's selectors API): wait for many file
// descriptors at once, from one fiber, while other fibers keep running.
//
// Model: register(fd or Socket, events, data) adds a SelectorKey; select(timeout) parks the
// calling fiber until at least one registered fd is ready (or the timeout passes) and returns
// each ready key with the ready events (kEventRead | kEventWrite, limited to what was
// registered; an error or hang-up on the fd reports every registered event, so the caller's
// next read or write sees it). select(0) polls and never parks; select() with no timeout blocks
// until something is ready. Readiness is level-triggered: an fd that stays readable is returned
// by every select until it is drained.
//
// Implementation: one IoWatcher per registered fd on the hub's own loop, and select() is
// grove::wait_any over them (hub/wait_any.h): no epoll set of its own, and a blocking select
// costs no system call beyond the poll the hub makes anyway. select(0) looks with one poll(2)
// over the registered fds without parking. Other fibers doing I/O on the same fds (through
// Sockets) are unaffected. register/modify/unregister/close while a fiber is inside select()
// wake it; it then looks again with the new set (or, after close(), throws
// SelectorClosedError).
//
// Errors: an invalid event mask or a descriptor that cannot be polled (negative, closed, a
// regular file) is std::invalid_argument (Python's ValueError); registering an fd twice or
// unregistering/modifying one that is not registered is SelectorKeyError (Python's KeyError);
// any use after close() is SelectorClosedError. As the gevent docs insist: unregister an fd
// before closing it (or close the selector first); unregister of an fd closed meanwhile still
// succeeds.
//
// Thread: hub thread only; one fiber at a time may be inside select() (a second gets
// grove::ConcurrentObjectUseError). Lifetime: the destructor closes the selector; no fiber may
// be inside select() then.
//
//   grove::net::Selector selector;
//   selector.register_fd(listener, grove::net::kEventRead, std::string("listener"));
//   for (auto& [key, events] : selector.select(1.0)) {
//     if (key.socket == &listener) handle_accept();
//   }
#pragma once

#include <any>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <vector>

#include "hub/io.h"

namespace grove::net {

class Socket;

inline constexpr int kEventRead = 1;   // selectors.EVENT_READ
inline constexpr int kEventWrite = 2;  // selectors.EVENT_WRITE

class SelectorKeyError : public std::out_of_range {
 public:
  using std::out_of_range::out_of_range;
};
class SelectorClosedError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

struct SelectorKey {
  int fd = -1;
  Socket* socket = nullptr;  // the registered Socket (Python's fileobj), or nullptr for a raw fd
  int events = 0;            // kEventRead | kEventWrite
  std::any data;             // whatever the caller attached
};

struct SelectedKey {
  const SelectorKey& key;
  int events;  // the ready subset of key.events
};

class Selector {
 public:
  Selector();
  Selector(const Selector&) = delete;
  Selector& operator=(const Selector&) = delete;
  ~Selector();

  // Returns the new key (valid until unregister/close).
  const SelectorKey& register_fd(int fd, int events, std::any data = {});
  const SelectorKey& register_fd(Socket& socket, int events, std::any data = {});
  // Removes and returns the key.
  SelectorKey unregister(int fd);
  SelectorKey unregister(const Socket& socket);
  // Changes the events and data of a registered fd (Python's modify); returns the updated key.
  const SelectorKey& modify(int fd, int events, std::any data = {});
  const SelectorKey& modify(Socket& socket, int events, std::any data = {});

  // Parks until something registered is ready or `timeout` seconds pass (nullopt: no limit;
  // <= 0: poll). Returns the ready keys, empty on timeout. Also returns (empty) when a silent
  // grove::Timeout scope expires; a kill or throwing Timeout is thrown.
  std::vector<SelectedKey> select(std::optional<double> timeout = std::nullopt);

  // The key of `fd`, or SelectorKeyError.
  const SelectorKey& get_key(int fd) const;
  const SelectorKey& get_key(const Socket& socket) const;
  // Every registered key by fd.
  const std::map<int, SelectorKey>& get_map() const;

  // Forgets every key (stops their watchers). Idempotent.
  void close() noexcept;
  bool closed() const noexcept { return closed_; }
  // Whether a fiber is inside select() now.
  bool selecting() const noexcept { return selecting_; }

 private:
  void check_open(const char* op) const;
  const SelectorKey& add(int fd, Socket* socket, int events, std::any data);
  std::vector<SelectedKey> poll_once();

  bool closed_ = false;
  bool selecting_ = false;
  std::map<int, SelectorKey> keys_;
  std::map<int, std::unique_ptr<IoWatcher>> watchers_;  // one per key, by fd
  WaitList changed_;  // woken when the keys change or the selector closes, to wake select()
};

}  // namespace grove::net
