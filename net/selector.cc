// net/selector.cc — the Selector: one IoWatcher per key, select() is grove::wait_any over them.
#include "net/selector.h"

#include <poll.h>
#include <sys/stat.h>

#include <cerrno>
#include <cmath>

#include <fmt/format.h>

#include "hub/errors.h"
#include "hub/hub.h"
#include "hub/wait_any.h"
#include "net/errors.h"
#include "net/socket.h"

namespace grove::net {

namespace {

int to_io(int events) {
  return ((events & kEventRead) ? kIoRead : 0) | ((events & kEventWrite) ? kIoWrite : 0);
}

int from_io(int ready) {
  return ((ready & kIoRead) ? kEventRead : 0) | ((ready & kIoWrite) ? kEventWrite : 0);
}

void check_events(int events) {
  if (events == 0 || (events & ~(kEventRead | kEventWrite)) != 0) {
    throw std::invalid_argument(fmt::format("invalid selector events: {:#x}", events));
  }
}

// What epoll would refuse: a closed fd, a regular file or a directory (always "ready").
void check_pollable(int fd) {
  struct stat st;
  if (fd < 0 || ::fstat(fd, &st) != 0) {
    throw std::invalid_argument(fmt::format("invalid file descriptor: {}", fd));
  }
  if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
    throw std::invalid_argument(
        fmt::format("fd {} cannot be selected (a regular file or directory?)", fd));
  }
}

}  // namespace

Selector::Selector() = default;

Selector::~Selector() { close(); }

void Selector::check_open(const char* op) const {
  if (closed_) throw SelectorClosedError(fmt::format("{} on a closed selector", op));
}

const SelectorKey& Selector::add(int fd, Socket* socket, int events, std::any data) {
  check_open("register");
  check_events(events);
  check_pollable(fd);
  if (keys_.count(fd) != 0) {
    throw SelectorKeyError(fmt::format("fd {} is already registered", fd));
  }
  changed_.wake_all();  // a fiber inside select() waits on the new set from now on
  watchers_[fd] = std::make_unique<IoWatcher>(fd, to_io(events));
  SelectorKey& key = keys_[fd];
  key.fd = fd;
  key.socket = socket;
  key.events = events;
  key.data = std::move(data);
  return key;
}

const SelectorKey& Selector::register_fd(int fd, int events, std::any data) {
  return add(fd, nullptr, events, std::move(data));
}

const SelectorKey& Selector::register_fd(Socket& socket, int events, std::any data) {
  return add(socket.fileno(), &socket, events, std::move(data));
}

SelectorKey Selector::unregister(int fd) {
  check_open("unregister");
  auto it = keys_.find(fd);
  if (it == keys_.end()) throw SelectorKeyError(fmt::format("fd {} is not registered", fd));
  // Wake a select() first: its registration on this watcher then ends quietly (the watcher's
  // destructor would otherwise throw ObjectDestroyed into it). An fd closed meanwhile is fine:
  // the watcher only stops.
  changed_.wake_all();
  watchers_.erase(fd);
  SelectorKey key = std::move(it->second);
  keys_.erase(it);
  return key;
}

SelectorKey Selector::unregister(const Socket& socket) {
  check_open("unregister");
  // A closed Socket no longer knows its fd: find it by identity.
  for (auto& [fd, key] : keys_) {
    if (key.socket == &socket) return unregister(fd);
  }
  throw SelectorKeyError(fmt::format("socket (fd {}) is not registered", socket.fileno()));
}

const SelectorKey& Selector::modify(int fd, int events, std::any data) {
  check_open("modify");
  check_events(events);
  auto it = keys_.find(fd);
  if (it == keys_.end()) throw SelectorKeyError(fmt::format("fd {} is not registered", fd));
  if (it->second.events != events) {
    changed_.wake_all();
    watchers_.at(fd)->reset(fd, to_io(events));
    it->second.events = events;
  }
  it->second.data = std::move(data);
  return it->second;
}

const SelectorKey& Selector::modify(Socket& socket, int events, std::any data) {
  return modify(socket.fileno(), events, std::move(data));
}

std::vector<SelectedKey> Selector::poll_once() {
  std::vector<pollfd> fds;
  fds.reserve(keys_.size());
  for (const auto& [fd, key] : keys_) {
    fds.push_back(pollfd{fd, static_cast<short>(((key.events & kEventRead) ? POLLIN : 0) |
                                                ((key.events & kEventWrite) ? POLLOUT : 0)),
                         0});
  }
  int n;
  do {
    n = ::poll(fds.data(), fds.size(), 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) throw SocketError(errno, "selector: poll");
  std::vector<SelectedKey> out;
  for (const pollfd& p : fds) {
    int ready = 0;
    if (p.revents & (POLLIN | POLLPRI | POLLRDHUP)) ready |= kEventRead;
    if (p.revents & POLLOUT) ready |= kEventWrite;
    if (p.revents & (POLLERR | POLLHUP)) ready |= kEventRead | kEventWrite;
    const SelectorKey& key = keys_.at(p.fd);
    ready &= key.events;
    if (ready != 0) out.push_back(SelectedKey{key, ready});
  }
  return out;
}

std::vector<SelectedKey> Selector::select(std::optional<double> timeout) {
  check_open("select");
  if (selecting_) {
    throw ConcurrentObjectUseError("This selector is already used by another greenlet in select()");
  }
  const bool poll_only = timeout && (*timeout <= 0 || std::isnan(*timeout));
  if (poll_only) {
    Hub::current().interruption_point();
    return poll_once();
  }
  const Deadline deadline = timeout ? Deadline::after(*timeout) : Deadline::never();
  selecting_ = true;
  struct Leave {
    bool& flag;
    ~Leave() { flag = false; }
  } leave{selecting_};
  std::vector<WaitSource> sources;
  for (;;) {
    // Level-triggered: what the poller reported for an earlier select was handed out then;
    // ask again (an fd still ready is reported at the next poll).
    sources.clear();
    sources.emplace_back(
        changed_, [](const void* s) noexcept { return static_cast<const Selector*>(s)->closed_; },
        this);
    for (auto& [fd, watcher] : watchers_) {
      (void)watcher->take_ready();
      sources.emplace_back(*watcher);
    }
    const auto fired = wait_any(sources, deadline, "select");
    check_open("select");  // closed by another fiber while this one waited
    if (!fired) return {};
    if (*fired == 0) continue;  // the keys changed: wait on the new set
    std::vector<SelectedKey> out;
    for (auto& [fd, watcher] : watchers_) {
      const int ready = from_io(watcher->take_ready()) & keys_.at(fd).events;
      if (ready != 0) out.push_back(SelectedKey{keys_.at(fd), ready});
    }
    if (!out.empty()) return out;
  }
}

const SelectorKey& Selector::get_key(int fd) const {
  check_open("get_key");
  auto it = keys_.find(fd);
  if (it == keys_.end()) throw SelectorKeyError(fmt::format("fd {} is not registered", fd));
  return it->second;
}

const SelectorKey& Selector::get_key(const Socket& socket) const {
  check_open("get_key");
  for (auto& [fd, key] : keys_) {
    if (key.socket == &socket) return key;
  }
  throw SelectorKeyError(fmt::format("socket (fd {}) is not registered", socket.fileno()));
}

const std::map<int, SelectorKey>& Selector::get_map() const {
  check_open("get_map");
  return keys_;
}

void Selector::close() noexcept {
  if (closed_) return;
  closed_ = true;
  changed_.wake_all();  // a fiber inside select() wakes and throws SelectorClosedError
  watchers_.clear();
  keys_.clear();
}

}  // namespace grove::net
