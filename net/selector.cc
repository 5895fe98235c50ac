// net/selector.cc — the Selector on a private epoll instance, waited for on the hub's loop.
#include "net/selector.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

#include <fmt/format.h>

#include "hub/wait.h"
#include "net/errors.h"
#include "net/socket.h"

namespace grove::net {

namespace {

std::uint32_t to_epoll(int events) {
  std::uint32_t out = 0;
  if (events & kEventRead) out |= EPOLLIN;
  if (events & kEventWrite) out |= EPOLLOUT;
  return out;
}

int from_epoll(std::uint32_t e) {
  int out = 0;
  if (e & (EPOLLIN | EPOLLPRI | EPOLLRDHUP)) out |= kEventRead;
  if (e & EPOLLOUT) out |= kEventWrite;
  if (e & (EPOLLERR | EPOLLHUP)) out |= kEventRead | kEventWrite;
  return out;
}

void check_events(int events) {
  if (events == 0 || (events & ~(kEventRead | kEventWrite)) != 0) {
    throw std::invalid_argument(fmt::format("invalid selector events: {:#x}", events));
  }
}

}  // namespace

Selector::Selector() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw SocketError(errno, "selector: epoll_create1");
  ready_.reset(epoll_fd_, kIoRead);
}

Selector::~Selector() { close(); }

void Selector::check_open(const char* op) const {
  if (epoll_fd_ < 0) throw SelectorClosedError(fmt::format("{} on a closed selector", op));
}

const SelectorKey& Selector::add(int fd, Socket* socket, int events, std::any data) {
  check_open("register");
  check_events(events);
  if (fd < 0) throw std::invalid_argument(fmt::format("invalid file descriptor: {}", fd));
  if (keys_.count(fd) != 0) {
    throw SelectorKeyError(fmt::format("fd {} is already registered", fd));
  }
  epoll_event ev{};
  ev.events = to_epoll(events);
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    const int e = errno;
    if (e == EBADF) throw std::invalid_argument(fmt::format("invalid file descriptor: {}", fd));
    if (e == EPERM) {
      throw std::invalid_argument(
          fmt::format("fd {} cannot be selected (a regular file or directory?)", fd));
    }
    throw SocketError(e, fmt::format("selector: register fd {}", fd));
  }
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
  // An fd closed meanwhile fails with EBADF (or ENOENT if its number was reused): the kernel
  // has already forgotten it, which is what unregister wants.
  (void)::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
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
    epoll_event ev{};
    ev.events = to_epoll(events);
    ev.data.fd = fd;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) != 0) {
      const int e = errno;
      throw SocketError(e, fmt::format("selector: modify fd {}", fd));
    }
    it->second.events = events;
  }
  it->second.data = std::move(data);
  return it->second;
}

const SelectorKey& Selector::modify(Socket& socket, int events, std::any data) {
  return modify(socket.fileno(), events, std::move(data));
}

std::vector<SelectedKey> Selector::select(std::optional<double> timeout) {
  check_open("select");
  const bool poll_only = timeout && (*timeout <= 0 || std::isnan(*timeout));
  const Deadline deadline = (!timeout || poll_only) ? Deadline::never() : Deadline::after(*timeout);
  std::vector<epoll_event> events(std::clamp<std::size_t>(keys_.size(), 1, 1024));
  for (;;) {
    const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), 0);
    if (n < 0 && errno != EINTR) throw SocketError(errno, "selector: epoll_wait");
    std::vector<SelectedKey> out;
    for (int i = 0; i < n; ++i) {
      auto it = keys_.find(events[i].data.fd);
      if (it == keys_.end()) continue;
      const int ready = from_epoll(events[i].events) & it->second.events;
      if (ready != 0) out.push_back(SelectedKey{it->second, ready});
    }
    if (!out.empty() || poll_only) return out;
    if (ready_.wait(deadline, "select") == 0) return {};
    check_open("select");  // closed by another fiber while this one waited
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
  if (epoll_fd_ < 0) return;
  ready_.cancel(std::make_exception_ptr(SelectorClosedError("the selector was closed while selecting")));
  ready_.stop();
  ::close(epoll_fd_);
  epoll_fd_ = -1;
  keys_.clear();
}

}  // namespace grove::net
