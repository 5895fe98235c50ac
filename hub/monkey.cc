// hub/monkey.cc — libc's blocking calls, defined here so that a greenlet parks instead of its
// thread once the program patched them (hub/monkey.h). Every definition forwards to the next one
// in the lookup order (libc, or a sanitizer's interceptor in front of it), found once with
// dlsym(RTLD_NEXT); parking is IoWatcher::wait / wait_any and grove::sleep, nothing else.
#include "hub/monkey.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "hub/hub.h"
#include "hub/internal/next_definition.h"
#include "hub/io.h"
#include "hub/local.h"
#include "hub/wait.h"

namespace grove {

namespace {

std::atomic<unsigned> patched_set{0};

constexpr unsigned bit(Patch p) { return static_cast<unsigned>(p); }

[[gnu::always_inline]] inline bool socket_patched() noexcept {
  return (patched_set.load(std::memory_order_relaxed) & bit(Patch::kSocket)) != 0;
}
[[gnu::always_inline]] inline bool time_patched() noexcept {
  return (patched_set.load(std::memory_order_relaxed) & bit(Patch::kTime)) != 0;
}

[[gnu::always_inline]] inline bool on_greenlet() noexcept {
  const Hub* hub = Hub::current_if_exists();
  return hub != nullptr && hub->can_wait();
}

// ---------------------------------------------------------------------------------------------
// The next definitions (libc's), resolved on first use (hub/internal/next_definition.h).

#define NEXT(name) (::grove::next_##name.load(std::memory_order_relaxed))

GROVE_NEXT(read, ssize_t, (int fd, void* buf, size_t n), (fd, buf, n))
GROVE_NEXT(write, ssize_t, (int fd, const void* buf, size_t n), (fd, buf, n))
GROVE_NEXT(readv, ssize_t, (int fd, const iovec* iov, int cnt), (fd, iov, cnt))
GROVE_NEXT(writev, ssize_t, (int fd, const iovec* iov, int cnt), (fd, iov, cnt))
GROVE_NEXT(recv, ssize_t, (int fd, void* buf, size_t n, int flags), (fd, buf, n, flags))
GROVE_NEXT(recvfrom, ssize_t,
           (int fd, void* buf, size_t n, int flags, sockaddr* from, socklen_t* len),
           (fd, buf, n, flags, from, len))
GROVE_NEXT(recvmsg, ssize_t, (int fd, msghdr* msg, int flags), (fd, msg, flags))
GROVE_NEXT(send, ssize_t, (int fd, const void* buf, size_t n, int flags), (fd, buf, n, flags))
GROVE_NEXT(sendto, ssize_t,
           (int fd, const void* buf, size_t n, int flags, const sockaddr* to, socklen_t len),
           (fd, buf, n, flags, to, len))
GROVE_NEXT(sendmsg, ssize_t, (int fd, const msghdr* msg, int flags), (fd, msg, flags))
GROVE_NEXT(connect, int, (int fd, const sockaddr* addr, socklen_t len), (fd, addr, len))
GROVE_NEXT(accept, int, (int fd, sockaddr* addr, socklen_t* len), (fd, addr, len))
GROVE_NEXT(accept4, int, (int fd, sockaddr* addr, socklen_t* len, int flags),
           (fd, addr, len, flags))
GROVE_NEXT(poll, int, (pollfd * fds, nfds_t n, int timeout), (fds, n, timeout))
GROVE_NEXT(ppoll, int, (pollfd * fds, nfds_t n, const timespec* tmo, const sigset_t* mask),
           (fds, n, tmo, mask))
GROVE_NEXT(select, int, (int n, fd_set* r, fd_set* w, fd_set* e, timeval* tv), (n, r, w, e, tv))
GROVE_NEXT(sleep, unsigned, (unsigned seconds), (seconds))
GROVE_NEXT(usleep, int, (useconds_t us), (us))
GROVE_NEXT(nanosleep, int, (const timespec* req, timespec* rem), (req, rem))
GROVE_NEXT(clock_nanosleep, int, (clockid_t clock, int flags, const timespec* req, timespec* rem),
           (clock, flags, req, rem))
GROVE_NEXT(socket, int, (int domain, int type, int protocol), (domain, type, protocol))
GROVE_NEXT(socketpair, int, (int domain, int type, int protocol, int* sv),
           (domain, type, protocol, sv))
GROVE_NEXT(close, int, (int fd), (fd))
GROVE_NEXT(dup, int, (int fd), (fd))
GROVE_NEXT(dup2, int, (int from, int to), (from, to))
GROVE_NEXT(dup3, int, (int from, int to, int flags), (from, to, flags))
GROVE_NEXT(setsockopt, int, (int fd, int level, int name, const void* value, socklen_t len),
           (fd, level, name, value, len))
// fcntl and ioctl are variadic; every argument they take fits a pointer-sized slot.
GROVE_NEXT(fcntl, int, (int fd, int cmd, void* arg), (fd, cmd, arg))
GROVE_NEXT(ioctl, int, (int fd, unsigned long request, void* arg), (fd, request, arg))

// ---------------------------------------------------------------------------------------------
// Per-fd state. A socket is looked at the first time a greenlet uses it (fstat, its flags, its
// timeouts); from then on its entry says whether the program asked for non-blocking I/O itself
// and whether grove switched O_NONBLOCK on behind its back ("forced"), and holds the greenlets
// parked on it so that a close can wake them.

enum Mode : std::uint8_t {
  kSeen = 1,          // classified (0: never looked at, or closed since)
  kSocket = 2,
  kStream = 4,        // SOCK_STREAM
  kUserNonblock = 8,  // the program's own O_NONBLOCK
  kForced = 16,       // grove set O_NONBLOCK; the program expects blocking calls
};

struct Parked;

struct FdState {
  std::atomic<std::uint8_t> mode{0};
  std::atomic<std::int64_t> recv_timeout_ns{0};  // SO_RCVTIMEO, 0 = none
  std::atomic<std::int64_t> send_timeout_ns{0};  // SO_SNDTIMEO, 0 = none
  // A stream socket whose last read found its receive queue empty (EAGAIN, or fewer bytes than
  // asked): the next read on a greenlet waits for readiness before it tries, instead of a read
  // that would fail (nginx's rule). A hint: a wrong "drained" costs one poll, never a result.
  std::atomic<bool> drained{false};
  // Moved whenever the fd's number may name another file (closed, or a new socket or dup took
  // it): a hub's kept watchers for the number are re-set before their next use.
  std::atomic<std::uint64_t> generation{0};
  Parked* parked = nullptr;                      // guarded by parked_mutex
  std::uint64_t closes = 0;                      // times closed; guarded by parked_mutex
  bool closing = false;  // a close handed to other hubs is under way; guarded by parked_mutex
};

constexpr int kChunkBits = 10;
constexpr int kChunkSize = 1 << kChunkBits;
constexpr int kChunks = 1024;  // fds below 1,048,576
std::atomic<FdState*> chunks[kChunks];

inline FdState* find_state(int fd) noexcept {
  if (static_cast<unsigned>(fd) >= static_cast<unsigned>(kChunks * kChunkSize)) return nullptr;
  FdState* chunk = chunks[fd >> kChunkBits].load(std::memory_order_acquire);
  return chunk == nullptr ? nullptr : &chunk[fd & (kChunkSize - 1)];
}

FdState* state_of(int fd) {
  if (static_cast<unsigned>(fd) >= static_cast<unsigned>(kChunks * kChunkSize)) return nullptr;
  std::atomic<FdState*>& slot = chunks[fd >> kChunkBits];
  FdState* chunk = slot.load(std::memory_order_acquire);
  if (chunk == nullptr) {
    auto* fresh = new FdState[kChunkSize];  // lives as long as the process
    if (slot.compare_exchange_strong(chunk, fresh, std::memory_order_acq_rel)) {
      chunk = fresh;
    } else {
      delete[] fresh;
    }
  }
  return &chunk[fd & (kChunkSize - 1)];
}

std::mutex classify_mutex;

std::int64_t timeout_ns(int fd, int option) {
  timeval tv{};
  socklen_t len = sizeof tv;
  if (::getsockopt(fd, SOL_SOCKET, option, &tv, &len) != 0) return 0;
  return static_cast<std::int64_t>(tv.tv_sec) * 1'000'000'000 +
         static_cast<std::int64_t>(tv.tv_usec) * 1'000;
}

// Looks at `fd` for the first time (on a greenlet). Returns its mode, 0 if it cannot be looked
// at (closed).
std::uint8_t classify(int fd, FdState& st) {
  std::lock_guard lock(classify_mutex);
  if (const std::uint8_t m = st.mode.load(std::memory_order_acquire)) return m;
  struct stat sb;
  if (::fstat(fd, &sb) != 0) return 0;
  if (!S_ISSOCK(sb.st_mode)) {
    st.mode.store(kSeen, std::memory_order_release);
    return kSeen;
  }
  const int flags = NEXT(fcntl)(fd, F_GETFL, nullptr);
  if (flags < 0) return 0;
  int type = 0;
  socklen_t len = sizeof type;
  (void)::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len);
  st.recv_timeout_ns.store(timeout_ns(fd, SO_RCVTIMEO), std::memory_order_relaxed);
  st.send_timeout_ns.store(timeout_ns(fd, SO_SNDTIMEO), std::memory_order_relaxed);
  std::uint8_t m = kSeen | kSocket;
  if (type == SOCK_STREAM) m |= kStream;
  if ((flags & O_NONBLOCK) != 0) {
    m |= kUserNonblock;
  } else if (NEXT(fcntl)(fd, F_SETFL, reinterpret_cast<void*>(static_cast<intptr_t>(
                                           flags | O_NONBLOCK))) == 0) {
    m |= kForced;
  }
  st.mode.store(m, std::memory_order_release);
  return m;
}

// The state of a socket whose blocking calls grove handles (it forced O_NONBLOCK), else null.
// Only a greenlet classifies an fd it has not seen; elsewhere an unseen fd is libc's alone.
[[gnu::noinline]] FdState* managed_slow(int fd) {
  FdState* st = find_state(fd);
  std::uint8_t m = st != nullptr ? st->mode.load(std::memory_order_acquire) : 0;
  if (m == 0) {
    // The standard streams are shared with other processes (a parent's socket, a terminal):
    // never switched to non-blocking behind their backs.
    if (fd <= STDERR_FILENO || !on_greenlet()) return nullptr;
    st = state_of(fd);
    if (st == nullptr) return nullptr;
    m = classify(fd, *st);
  }
  return (m & kForced) != 0 ? st : nullptr;
}

[[gnu::always_inline]] inline FdState* managed(int fd) {
  if (!socket_patched()) [[likely]] return nullptr;
  return managed_slow(fd);
}

// Forgets what was known about `fd` (a new socket took its number, or it was closed).
void forget(int fd) noexcept {
  if (FdState* st = find_state(fd)) {
    st->generation.fetch_add(1, std::memory_order_acq_rel);
    st->drained.store(false, std::memory_order_relaxed);
    st->mode.store(0, std::memory_order_release);
  }
}

// A dup of `from` now lives at `to`: same open file, same flags.
void copy_state(int from, int to) {
  FdState* src = find_state(from);
  const std::uint8_t m = src != nullptr ? src->mode.load(std::memory_order_acquire) : 0;
  if (m == 0) {
    forget(to);
    return;
  }
  FdState* dst = state_of(to);
  if (dst == nullptr) return;
  dst->recv_timeout_ns.store(src->recv_timeout_ns.load(std::memory_order_relaxed),
                             std::memory_order_relaxed);
  dst->send_timeout_ns.store(src->send_timeout_ns.load(std::memory_order_relaxed),
                             std::memory_order_relaxed);
  dst->drained.store(false, std::memory_order_relaxed);
  dst->generation.fetch_add(1, std::memory_order_acq_rel);
  dst->mode.store(m, std::memory_order_release);
}

// ---------------------------------------------------------------------------------------------
// Parking on an fd, and being woken by its close.

// Thrown into a parked greenlet whose fd was closed by another greenlet; becomes EBADF.
struct FdClosed {};

struct Parked {
  IoWatcher* watcher;
  Hub* hub;
  std::uint64_t closes;  // the fd's close count when it parked: a later close wakes it
  Parked* prev = nullptr;
  Parked* next = nullptr;
};

std::mutex parked_mutex;

class ParkedOn {
 public:
  ParkedOn(FdState* st, IoWatcher& watcher) : st_(st), entry_{&watcher, &Hub::current(), 0} {
    if (st_ == nullptr) return;
    std::lock_guard lock(parked_mutex);
    entry_.closes = st_->closes;
    entry_.next = st_->parked;
    if (st_->parked != nullptr) st_->parked->prev = &entry_;
    st_->parked = &entry_;
  }
  ParkedOn(const ParkedOn&) = delete;
  ParkedOn& operator=(const ParkedOn&) = delete;
  ~ParkedOn() {
    if (st_ == nullptr) return;
    std::lock_guard lock(parked_mutex);
    if (entry_.prev != nullptr) {
      entry_.prev->next = entry_.next;
    } else {
      st_->parked = entry_.next;
    }
    if (entry_.next != nullptr) entry_.next->prev = entry_.prev;
  }

 private:
  FdState* st_;
  Parked entry_;
};

// On `hub`'s thread: wakes, with FdClosed, its greenlets that parked on the fd before its close
// number `closes` (later ones wait on whatever file took the number since). Caller holds
// parked_mutex.
void wake_closed_locked(FdState& st, const Hub* hub, std::uint64_t closes) {
  for (Parked* p = st.parked; p != nullptr; p = p->next) {
    if (p->hub != hub || p->closes >= closes) continue;
    p->watcher->stop();  // the fd leaves the poller before its number can be reused
    (void)p->watcher->cancel(std::make_exception_ptr(FdClosed{}));
  }
}

// The hubs, other than `here`, with greenlets parked on the fd before close number `closes`.
// Caller holds parked_mutex.
std::vector<const Hub*> other_hubs_locked(const FdState& st, const Hub* here,
                                          std::uint64_t closes) {
  std::vector<const Hub*> others;
  for (const Parked* p = st.parked; p != nullptr; p = p->next) {
    if (p->hub != here && p->closes < closes &&
        std::find(others.begin(), others.end(), p->hub) == others.end()) {
      others.push_back(p->hub);
    }
  }
  return others;
}

// `fd` is being replaced by dup2/dup3: wakes the greenlets parked on it with EBADF. Those of
// this thread's hub at once; those of other hubs (a dup2 from another thread) through their hub's
// inbox (the number stays valid meanwhile: it names the new file, so their hub's poller can
// still register it).
void wake_parked(int fd) {
  FdState* st = find_state(fd);
  if (st == nullptr) return;
  const Hub* here = Hub::current_if_exists();
  std::vector<const Hub*> others;
  std::uint64_t closes = 0;
  {
    std::lock_guard lock(parked_mutex);
    closes = ++st->closes;
    if (here != nullptr) wake_closed_locked(*st, here, closes);
    others = other_hubs_locked(*st, here, closes);
  }
  IoWatcher::closing(fd);
  for (const Hub* hub : others) {
    (void)Hub::remote_of(hub).post([fd, st, closes] {
      {
        std::lock_guard lock(parked_mutex);
        wake_closed_locked(*st, Hub::current_if_exists(), closes);
      }
      IoWatcher::closing(fd);
    });
  }
}

// close(fd) for a program that patched sockets. Greenlets of this thread's hub parked on the fd
// are woken with EBADF and the fd closed at once. When greenlets of another hub are parked on it
// (a close from another thread), the fd must not disappear under their hub's poller (a
// registration it has not applied yet would name a closed fd), so the close is handed to those
// hubs: each wakes its greenlets with EBADF, and the last one closes the fd. The caller gets 0 at
// once; the fd's number stays taken until then.
int close_tracked(int fd) {
  FdState* st = find_state(fd);
  if (st == nullptr) return NEXT(close)(fd);
  const Hub* here = Hub::current_if_exists();
  std::vector<const Hub*> others;
  {
    std::lock_guard lock(parked_mutex);
    if (st->closing) {  // a second close of an fd being closed
      errno = EBADF;
      return -1;
    }
    const std::uint64_t closes = ++st->closes;
    if (here != nullptr) wake_closed_locked(*st, here, closes);
    others = other_hubs_locked(*st, here, closes);
    if (!others.empty()) st->closing = true;
  }
  if (others.empty()) {
    forget(fd);
    IoWatcher::closing(fd);
    return NEXT(close)(fd);
  }
  auto remaining = std::make_shared<std::atomic<std::size_t>>(others.size());
  auto finish = [fd, st, remaining] {
    if (remaining->fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    forget(fd);
    IoWatcher::closing(fd);
    {
      std::lock_guard lock(parked_mutex);
      st->closing = false;
    }
    NEXT(close)(fd);
  };
  for (const Hub* hub : others) {
    const bool posted = Hub::remote_of(hub).post([fd, st, finish] {
      {
        std::lock_guard lock(parked_mutex);
        // Every greenlet of this hub on the fd, also one that parked after the close began.
        wake_closed_locked(*st, Hub::current_if_exists(), std::numeric_limits<std::uint64_t>::max());
      }
      IoWatcher::closing(fd);  // this hub's other watchers on the fd
      finish();
    });
    if (!posted) finish();  // that hub is gone, and its greenlets with it
  }
  return 0;
}

Deadline deadline_after_ns(std::int64_t ns) {
  return ns > 0 ? Deadline::after(static_cast<double>(ns) * 1e-9) : Deadline::never();
}

// ---------------------------------------------------------------------------------------------
// The watchers a hub keeps per fd, one per direction, from one blocking call to the next. A
// watcher made for each call would cost an epoll_ctl per wait: libev re-registers the fd of a
// watcher whose fd was just set, in case the number now names another file. A kept watcher
// that is re-armed in the pass that reported it costs none. They live on the hub's main fiber
// (destroyed with the hub) and are inactive whenever no greenlet waits on them, so destroying
// them never touches the loop.

struct KeptWatchers {
  struct Entry {
    std::uint64_t generation = 0;
    IoWatcher read;
    IoWatcher write;
  };
  std::vector<std::unique_ptr<Entry>> by_fd;
};

const std::uint64_t kept_watchers_key = internal::next_local_key();

void destroy_kept(void* v) noexcept { delete static_cast<KeptWatchers*>(v); }

// Looked up on the hub's main fiber each time (a scan of its few locals): a cache keyed by the
// hub's address could outlive the hub and match a new one made at the same address.
KeptWatchers& kept_watchers() {
  Fiber& main = Hub::current().main_fiber();
  auto* kept = static_cast<KeptWatchers*>(main.local(kept_watchers_key));
  if (kept == nullptr) {
    kept = new KeptWatchers();
    main.set_local(kept_watchers_key, kept, &destroy_kept);
  }
  return *kept;
}

// This hub's kept watcher for `fd` and one direction, or null when a greenlet already waits on
// it (two greenlets reading one socket: the second gets a watcher of its own).
IoWatcher* kept_watcher(FdState* st, int fd, int events) {
  KeptWatchers& kept = kept_watchers();
  const auto index = static_cast<std::size_t>(fd);
  if (index >= kept.by_fd.size()) kept.by_fd.resize(index + 1);
  std::unique_ptr<KeptWatchers::Entry>& e = kept.by_fd[index];
  const std::uint64_t generation = st->generation.load(std::memory_order_acquire);
  if (e == nullptr) {
    e = std::make_unique<KeptWatchers::Entry>();
    e->read.reset(fd, kIoRead);
    e->write.reset(fd, kIoWrite);
    e->generation = generation;
  } else if (e->generation != generation) {
    if (e->read.has_waiter() || e->write.has_waiter()) return nullptr;
    e->read.reset(fd, kIoRead);
    e->write.reset(fd, kIoWrite);
    e->generation = generation;
  }
  IoWatcher& w = events == kIoRead ? e->read : e->write;
  return w.has_waiter() ? nullptr : &w;
}

// How long a kept watcher waits before it is re-set (re-registered with the poller): an fd
// closed behind grove's back (a close inside libc, such as fclose of an fdopen'd socket) and its
// number reused by a file the poller does not know would otherwise never report ready.
constexpr double kKeptWatcherRecheckSeconds = 1.0;

// Waits until `fd` is ready for `events` for a call that would block. Returns 0 when it is,
// else the errno the blocking call would give: EAGAIN when `deadline` passed, EBADF when the fd
// was closed meanwhile. On a greenlet it parks; elsewhere (a thread without a hub, the hub's
// loop) it blocks in libc's poll, as the blocking call would have.
int wait_fd(FdState* st, int fd, int events, Deadline deadline) {
  if (on_greenlet()) {
    IoWatcher* watcher = st != nullptr ? kept_watcher(st, fd, events) : nullptr;
    const bool kept = watcher != nullptr;
    std::optional<IoWatcher> own;
    if (!kept) watcher = &own.emplace(fd, events);
    ParkedOn parked(st, *watcher);
    // A wait that ends without readiness (timeout, kill, close) leaves the watcher active.
    struct StopAfter {
      IoWatcher& w;
      ~StopAfter() { w.stop(); }
    } stop_after{*watcher};
    try {
      for (;;) {
        Deadline slice = deadline;
        if (kept && deadline.remaining() > kKeptWatcherRecheckSeconds) {
          slice = Deadline::after(kKeptWatcherRecheckSeconds);
        }
        if (watcher->wait(slice, "blocking socket call") != 0) return 0;
        if (deadline.passed() || slice.seconds() == deadline.seconds()) return EAGAIN;
        watcher->reset(fd, events);
      }
    } catch (const FdClosed&) {
      return EBADF;
    }
  }
  pollfd pfd{fd, static_cast<short>(((events & kIoRead) ? POLLIN : 0) |
                                    ((events & kIoWrite) ? POLLOUT : 0)),
             0};
  for (;;) {
    int ms = -1;
    if (!deadline.is_never()) {
      const double left = deadline.remaining();
      if (left <= 0) return EAGAIN;
      ms = static_cast<int>(std::min(std::ceil(left * 1000.0), 1e9));
    }
    const int r = NEXT(poll)(&pfd, 1, ms);
    if (r > 0) return (pfd.revents & POLLNVAL) ? EBADF : 0;
    if (r < 0 && errno != EINTR) return errno;
  }
}

bool would_block(int e) { return e == EAGAIN || e == EWOULDBLOCK; }

// One call that returns what it got (read, recv, accept): retried until it does not block.
template <class Op>
auto once(FdState* st, int fd, int events, bool receive, Op op) -> decltype(op()) {
  std::int64_t limit = -1;
  Deadline deadline;
  for (;;) {
    const auto r = op();
    if (r >= 0) return r;
    const int e = errno;
    if (e == EINTR) continue;
    if (!would_block(e)) return r;
    if (limit < 0) {  // the first time it would block: the socket timeout starts now
      limit = (receive ? st->recv_timeout_ns : st->send_timeout_ns).load(std::memory_order_relaxed);
      deadline = deadline_after_ns(limit);
    }
    if (const int w = wait_fd(st, fd, events, deadline)) {
      errno = w;
      return -1;
    }
  }
}

// A read of up to `requested` bytes (read, readv, recv, recvfrom): once(), with readiness
// tracked per stream socket. A read that returns fewer bytes than asked, or EAGAIN, leaves the
// socket marked drained, and the next read on a greenlet parks until the poller reports it
// readable before it tries: a request/response client (write, then read the answer) costs one
// read per answer instead of a failing read and a second one.
template <class Op>
ssize_t receive(FdState* st, int fd, std::size_t requested, Op op) {
  if (!(st->mode.load(std::memory_order_relaxed) & kStream) || requested == 0) {
    return once(st, fd, kIoRead, true, op);
  }
  Deadline deadline;
  bool started = false;  // the socket timeout runs from the first wait
  bool wait_first = st->drained.load(std::memory_order_relaxed) && on_greenlet();
  for (;;) {
    if (wait_first) {
      if (!started) {
        deadline = deadline_after_ns(st->recv_timeout_ns.load(std::memory_order_relaxed));
        started = true;
      }
      if (const int w = wait_fd(st, fd, kIoRead, deadline)) {
        errno = w;
        return -1;
      }
      wait_first = false;
    }
    const ssize_t r = op();
    if (r >= 0) {
      st->drained.store(r > 0 && static_cast<std::size_t>(r) < requested,
                        std::memory_order_relaxed);
      return r;
    }
    const int e = errno;
    if (e == EINTR) continue;
    if (!would_block(e)) return r;
    wait_first = true;
  }
}

// A call that moves `total` bytes (write, send, MSG_WAITALL receive): retried until all of them
// moved, the peer ended the stream (`op` returned 0 on a receive), or an error or the socket
// timeout stopped it (then what moved so far, if anything, is the result, as the kernel does).
// `op(done)` moves bytes from offset `done`.
template <class Op>
ssize_t all(FdState* st, int fd, int events, bool receive, std::size_t total, Op op) {
  std::size_t done = 0;
  std::int64_t limit = -1;
  Deadline deadline;
  for (;;) {
    const ssize_t r = op(done);
    if (r > 0) {
      done += static_cast<std::size_t>(r);
      if (done >= total) return static_cast<ssize_t>(done);
      continue;
    }
    if (r == 0) return static_cast<ssize_t>(done);
    const int e = errno;
    if (e == EINTR) continue;
    if (would_block(e)) {
      if (limit < 0) {
        limit = (receive ? st->recv_timeout_ns : st->send_timeout_ns).load(std::memory_order_relaxed);
        deadline = deadline_after_ns(limit);
      }
      const int w = wait_fd(st, fd, events, deadline);
      if (w == 0) continue;
      if (done > 0 && w != EBADF) return static_cast<ssize_t>(done);
      errno = w;
      return -1;
    }
    if (done > 0) return static_cast<ssize_t>(done);
    errno = e;
    return -1;
  }
}

// The iovecs left after `done` bytes of `iov`, in `out`.
void advance(const iovec* iov, int cnt, std::size_t done, std::vector<iovec>& out) {
  out.clear();
  for (int i = 0; i < cnt; ++i) {
    if (done >= iov[i].iov_len) {
      done -= iov[i].iov_len;
      continue;
    }
    out.push_back({static_cast<char*>(iov[i].iov_base) + done, iov[i].iov_len - done});
    done = 0;
  }
}

std::size_t iov_total(const iovec* iov, int cnt) {
  std::size_t n = 0;
  for (int i = 0; i < cnt; ++i) n += iov[i].iov_len;
  return n;
}

// ---------------------------------------------------------------------------------------------
// poll, the one "wait for many fds" the others are built on.

int poll_events_to_io(short events) {
  int io = 0;
  if (events & (POLLIN | POLLPRI | POLLRDNORM | POLLRDBAND | POLLRDHUP)) io |= kIoRead;
  if (events & (POLLOUT | POLLWRNORM | POLLWRBAND)) io |= kIoWrite;
  return io == 0 ? kIoRead : io;  // errors and hang-ups are reported to a read interest
}

// Waits for one of `fds` to be ready. With a `mask` (ppoll's), every readiness check is a
// zero-timeout ppoll under that mask, so a signal the mask unblocks that is pending then is
// delivered to its handler and the call fails with EINTR, as ppoll would; `signal_fd` (a
// signalfd for those signals, or -1) wakes the wait when one arrives meanwhile.
int cooperative_poll(pollfd* fds, nfds_t n, Deadline deadline, const sigset_t* mask = nullptr,
                     int signal_fd = -1) {
  for (;;) {
    static constexpr timespec kNoWait{0, 0};
    const int r = mask != nullptr ? NEXT(ppoll)(fds, n, &kNoWait, mask) : NEXT(poll)(fds, n, 0);
    if (r != 0) {
      if (r < 0 && errno == EINTR && mask == nullptr) continue;
      return r;
    }
    if (deadline.passed()) return 0;
    std::vector<IoWatcher> watchers(n + 1);
    std::vector<IoWatcher*> waiting;
    std::vector<std::unique_ptr<ParkedOn>> parked;
    waiting.reserve(n + 1);
    parked.reserve(n);
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].fd < 0) continue;
      watchers[i].reset(fds[i].fd, poll_events_to_io(fds[i].events));
      waiting.push_back(&watchers[i]);
      parked.push_back(std::make_unique<ParkedOn>(state_of(fds[i].fd), watchers[i]));
    }
    if (signal_fd >= 0) {
      watchers[n].reset(signal_fd, kIoRead);
      waiting.push_back(&watchers[n]);
    }
    if (waiting.empty()) {  // poll(NULL, 0, ms), or only negative fds: a sleep
      if (deadline.is_never()) {
        Waiter forever;
        (void)forever.wait(Deadline::never(), "poll with no fds");
      } else {
        grove::sleep(deadline.remaining());
      }
      return 0;
    }
    try {
      (void)IoWatcher::wait_any(waiting.data(), waiting.size(), deadline, "poll");
    } catch (const FdClosed&) {
      // The next poll reports the closed fd (POLLNVAL).
    }
  }
}

// ppoll with a signal mask on a greenlet. The signals the mask unblocks (blocked in the thread,
// absent from the mask) are the ones the caller waits for: a signalfd on them wakes the wait, and
// the zero-timeout ppoll under the mask then delivers the signal and returns EINTR. Signals the
// mask would block but the thread does not are not held back meanwhile: the thread keeps
// running other greenlets, which must get their signals.
int cooperative_ppoll(pollfd* fds, nfds_t n, Deadline deadline, const sigset_t* mask) {
  sigset_t thread_mask;
  if (::pthread_sigmask(SIG_SETMASK, nullptr, &thread_mask) != 0) return -1;
  sigset_t awaited;
  sigemptyset(&awaited);
  bool any = false;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sigismember(&thread_mask, sig) == 1 && sigismember(mask, sig) == 0) {
      sigaddset(&awaited, sig);
      any = true;
    }
  }
  if (!any) return cooperative_poll(fds, n, deadline, mask);
  const int signal_fd = ::signalfd(-1, &awaited, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd < 0) return -1;
  struct Closer {
    int fd;
    ~Closer() { NEXT(close)(fd); }
  } closer{signal_fd};
  return cooperative_poll(fds, n, deadline, mask, signal_fd);
}

Deadline deadline_from_ms(int ms) {
  return ms < 0 ? Deadline::never() : Deadline::after(static_cast<double>(ms) * 1e-3);
}

bool valid_timespec(const timespec* ts) {
  return ts->tv_sec >= 0 && ts->tv_nsec >= 0 && ts->tv_nsec < 1'000'000'000;
}

double seconds_of(const timespec& ts) {
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// fcntl's commands that change or reveal O_NONBLOCK, or copy an fd.
int fcntl_tracked(int fd, int cmd, void* arg) {
  if (!socket_patched()) [[likely]] return NEXT(fcntl)(fd, cmd, arg);
  FdState* st = find_state(fd);
  const std::uint8_t m = st != nullptr ? st->mode.load(std::memory_order_acquire) : 0;
  switch (cmd) {
    case F_GETFL: {
      const int r = NEXT(fcntl)(fd, cmd, arg);
      if (r >= 0 && (m & kForced)) return r & ~O_NONBLOCK;
      return r;
    }
    case F_SETFL: {
      if (!(m & kSocket)) return NEXT(fcntl)(fd, cmd, arg);
      const int want = static_cast<int>(reinterpret_cast<intptr_t>(arg));
      const int r =
          NEXT(fcntl)(fd, F_SETFL, reinterpret_cast<void*>(static_cast<intptr_t>(want | O_NONBLOCK)));
      if (r == 0) {
        const std::uint8_t rest = m & ~(kUserNonblock | kForced);
        st->mode.store((want & O_NONBLOCK) ? (rest | kUserNonblock) : (rest | kForced),
                       std::memory_order_release);
      }
      return r;
    }
    case F_DUPFD:
    case F_DUPFD_CLOEXEC: {
      const int r = NEXT(fcntl)(fd, cmd, arg);
      if (r >= 0) copy_state(fd, r);
      return r;
    }
    default:
      return NEXT(fcntl)(fd, cmd, arg);
  }
}

}  // namespace

void patch_socket() { internal::mark_patched(Patch::kSocket); }
void patch_time() { internal::mark_patched(Patch::kTime); }

bool is_patched(Patch what) noexcept {
  return (patched_set.load(std::memory_order_acquire) & bit(what)) != 0;
}

namespace internal {
void mark_patched(Patch what) noexcept {
  patched_set.fetch_or(bit(what), std::memory_order_acq_rel);
}
bool in_greenlet() noexcept { return on_greenlet(); }
}  // namespace internal

}  // namespace grove

// ---------------------------------------------------------------------------------------------
// The definitions the program's libraries call.

using grove::FdState;

extern "C" {

// The data calls come in two parts: the exported definition is one branch and a tail call when
// the program has not patched sockets (it saves no register: a call costs what the header says),
// and patched_<name> does the rest.

[[gnu::noinline]] static ssize_t patched_read(int fd, void* buf, size_t n) {
  FdState* st = grove::managed(fd);
  if (st == nullptr) [[likely]] return NEXT(read)(fd, buf, n);
  return grove::receive(st, fd, n, [&] { return NEXT(read)(fd, buf, n); });
}

ssize_t read(int fd, void* buf, size_t n) {
  if (!grove::socket_patched()) [[likely]] return NEXT(read)(fd, buf, n);
  return patched_read(fd, buf, n);
}

[[gnu::noinline]] static ssize_t patched_write(int fd, const void* buf, size_t n) {
  FdState* st = grove::managed(fd);
  if (st == nullptr) [[likely]] return NEXT(write)(fd, buf, n);
  const char* p = static_cast<const char*>(buf);
  return grove::all(st, fd, grove::kIoWrite, false, n,
                    [&](std::size_t done) { return NEXT(write)(fd, p + done, n - done); });
}

ssize_t write(int fd, const void* buf, size_t n) {
  if (!grove::socket_patched()) [[likely]] return NEXT(write)(fd, buf, n);
  return patched_write(fd, buf, n);
}

[[gnu::noinline]] static ssize_t patched_readv(int fd, const iovec* iov, int cnt) {
  FdState* st = grove::managed(fd);
  if (st == nullptr) [[likely]] return NEXT(readv)(fd, iov, cnt);
  return grove::receive(st, fd, grove::iov_total(iov, cnt),
                        [&] { return NEXT(readv)(fd, iov, cnt); });
}

ssize_t readv(int fd, const iovec* iov, int cnt) {
  if (!grove::socket_patched()) [[likely]] return NEXT(readv)(fd, iov, cnt);
  return patched_readv(fd, iov, cnt);
}

[[gnu::noinline]] static ssize_t patched_writev(int fd, const iovec* iov, int cnt) {
  FdState* st = grove::managed(fd);
  if (st == nullptr) [[likely]] return NEXT(writev)(fd, iov, cnt);
  std::vector<iovec> rest;
  return grove::all(st, fd, grove::kIoWrite, false, grove::iov_total(iov, cnt),
                    [&](std::size_t done) {
                      if (done == 0) return NEXT(writev)(fd, iov, cnt);
                      grove::advance(iov, cnt, done, rest);
                      return NEXT(writev)(fd, rest.data(), static_cast<int>(rest.size()));
                    });
}

ssize_t writev(int fd, const iovec* iov, int cnt) {
  if (!grove::socket_patched()) [[likely]] return NEXT(writev)(fd, iov, cnt);
  return patched_writev(fd, iov, cnt);
}

[[gnu::noinline]] static ssize_t patched_recv(int fd, void* buf, size_t n, int flags) {
  FdState* st = grove::managed(fd);
  if (st == nullptr || (flags & MSG_DONTWAIT) != 0) [[likely]] return NEXT(recv)(fd, buf, n, flags);
  if ((flags & MSG_WAITALL) != 0 && (st->mode.load(std::memory_order_relaxed) & grove::kStream)) {
    char* p = static_cast<char*>(buf);
    return grove::all(st, fd, grove::kIoRead, true, n, [&](std::size_t done) {
      return NEXT(recv)(fd, p + done, n - done, flags);
    });
  }
  if ((flags & MSG_PEEK) != 0) {  // a peek leaves the data queued: no readiness to track
    return grove::once(st, fd, grove::kIoRead, true, [&] { return NEXT(recv)(fd, buf, n, flags); });
  }
  return grove::receive(st, fd, n, [&] { return NEXT(recv)(fd, buf, n, flags); });
}

ssize_t recv(int fd, void* buf, size_t n, int flags) {
  if (!grove::socket_patched()) [[likely]] return NEXT(recv)(fd, buf, n, flags);
  return patched_recv(fd, buf, n, flags);
}

[[gnu::noinline]] static ssize_t patched_recvfrom(int fd, void* buf, size_t n, int flags,
                                                  sockaddr* from, socklen_t* len) {
  FdState* st = grove::managed(fd);
  if (st == nullptr || (flags & MSG_DONTWAIT) != 0) [[likely]] {
    return NEXT(recvfrom)(fd, buf, n, flags, from, len);
  }
  if ((flags & MSG_WAITALL) != 0 && (st->mode.load(std::memory_order_relaxed) & grove::kStream)) {
    char* p = static_cast<char*>(buf);
    return grove::all(st, fd, grove::kIoRead, true, n, [&](std::size_t done) {
      return NEXT(recvfrom)(fd, p + done, n - done, flags, from, len);
    });
  }
  if ((flags & MSG_PEEK) != 0) {
    return grove::once(st, fd, grove::kIoRead, true,
                       [&] { return NEXT(recvfrom)(fd, buf, n, flags, from, len); });
  }
  return grove::receive(st, fd, n, [&] { return NEXT(recvfrom)(fd, buf, n, flags, from, len); });
}

ssize_t recvfrom(int fd, void* buf, size_t n, int flags, sockaddr* from, socklen_t* len) {
  if (!grove::socket_patched()) [[likely]] return NEXT(recvfrom)(fd, buf, n, flags, from, len);
  return patched_recvfrom(fd, buf, n, flags, from, len);
}

[[gnu::noinline]] static ssize_t patched_recvmsg(int fd, msghdr* msg, int flags) {
  FdState* st = grove::managed(fd);
  if (st == nullptr || (flags & MSG_DONTWAIT) != 0) [[likely]] {
    return NEXT(recvmsg)(fd, msg, flags);
  }
  return grove::once(st, fd, grove::kIoRead, true, [&] { return NEXT(recvmsg)(fd, msg, flags); });
}

ssize_t recvmsg(int fd, msghdr* msg, int flags) {
  if (!grove::socket_patched()) [[likely]] return NEXT(recvmsg)(fd, msg, flags);
  return patched_recvmsg(fd, msg, flags);
}

[[gnu::noinline]] static ssize_t patched_send(int fd, const void* buf, size_t n, int flags) {
  FdState* st = grove::managed(fd);
  if (st == nullptr || (flags & MSG_DONTWAIT) != 0) [[likely]] {
    return NEXT(send)(fd, buf, n, flags);
  }
  const char* p = static_cast<const char*>(buf);
  return grove::all(st, fd, grove::kIoWrite, false, n,
                    [&](std::size_t done) { return NEXT(send)(fd, p + done, n - done, flags); });
}

ssize_t send(int fd, const void* buf, size_t n, int flags) {
  if (!grove::socket_patched()) [[likely]] return NEXT(send)(fd, buf, n, flags);
  return patched_send(fd, buf, n, flags);
}

[[gnu::noinline]] static ssize_t patched_sendto(int fd, const void* buf, size_t n, int flags,
                                                const sockaddr* to, socklen_t len) {
  FdState* st = grove::managed(fd);
  if (st == nullptr || (flags & MSG_DONTWAIT) != 0) [[likely]] {
    return NEXT(sendto)(fd, buf, n, flags, to, len);
  }
  const char* p = static_cast<const char*>(buf);
  return grove::all(st, fd, grove::kIoWrite, false, n, [&](std::size_t done) {
    return NEXT(sendto)(fd, p + done, n - done, flags, to, len);
  });
}

ssize_t sendto(int fd, const void* buf, size_t n, int flags, const sockaddr* to, socklen_t len) {
  if (!grove::socket_patched()) [[likely]] return NEXT(sendto)(fd, buf, n, flags, to, len);
  return patched_sendto(fd, buf, n, flags, to, len);
}

[[gnu::noinline]] static ssize_t patched_sendmsg(int fd, const msghdr* msg, int flags) {
  FdState* st = grove::managed(fd);
  if (st == nullptr || (flags & MSG_DONTWAIT) != 0) [[likely]] {
    return NEXT(sendmsg)(fd, msg, flags);
  }
  const int cnt = static_cast<int>(msg->msg_iovlen);
  std::vector<iovec> rest;
  return grove::all(st, fd, grove::kIoWrite, false, grove::iov_total(msg->msg_iov, cnt),
                    [&](std::size_t done) {
                      if (done == 0) return NEXT(sendmsg)(fd, msg, flags);
                      // The rest of a stream: the ancillary data went with the first part.
                      grove::advance(msg->msg_iov, cnt, done, rest);
                      msghdr more{};
                      more.msg_iov = rest.data();
                      more.msg_iovlen = rest.size();
                      return NEXT(sendmsg)(fd, &more, flags);
                    });
}

ssize_t sendmsg(int fd, const msghdr* msg, int flags) {
  if (!grove::socket_patched()) [[likely]] return NEXT(sendmsg)(fd, msg, flags);
  return patched_sendmsg(fd, msg, flags);
}

int connect(int fd, const sockaddr* addr, socklen_t len) {
  FdState* st = grove::managed(fd);
  if (st == nullptr) [[likely]] return NEXT(connect)(fd, addr, len);
  if (NEXT(connect)(fd, addr, len) == 0) return 0;
  const int e = errno;
  if (e != EINPROGRESS && e != EINTR) return -1;
  // Linux bounds a blocking connect by the send timeout.
  const grove::Deadline deadline =
      grove::deadline_after_ns(st->send_timeout_ns.load(std::memory_order_relaxed));
  if (const int w = grove::wait_fd(st, fd, grove::kIoWrite, deadline)) {
    errno = w == EAGAIN ? EINPROGRESS : w;
    return -1;
  }
  int error = 0;
  socklen_t error_len = sizeof error;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &error_len) != 0) return -1;
  if (error != 0) {
    errno = error;
    return -1;
  }
  return 0;
}

int accept(int fd, sockaddr* addr, socklen_t* len) {
  FdState* st = grove::managed(fd);
  const int r = st == nullptr ? NEXT(accept)(fd, addr, len)
                              : grove::once(st, fd, grove::kIoRead, true,
                                            [&] { return NEXT(accept)(fd, addr, len); });
  if (r >= 0 && grove::socket_patched()) grove::forget(r);
  return r;
}

int accept4(int fd, sockaddr* addr, socklen_t* len, int flags) {
  FdState* st = grove::managed(fd);
  const int r = st == nullptr ? NEXT(accept4)(fd, addr, len, flags)
                              : grove::once(st, fd, grove::kIoRead, true,
                                            [&] { return NEXT(accept4)(fd, addr, len, flags); });
  if (r >= 0 && grove::socket_patched()) grove::forget(r);
  return r;
}

int poll(pollfd* fds, nfds_t n, int timeout) {
  if (timeout == 0 || !grove::socket_patched() || !grove::on_greenlet()) [[likely]] {
    return NEXT(poll)(fds, n, timeout);
  }
  return grove::cooperative_poll(fds, n, grove::deadline_from_ms(timeout));
}

int ppoll(pollfd* fds, nfds_t n, const timespec* tmo, const sigset_t* mask) {
  if ((tmo != nullptr && tmo->tv_sec == 0 && tmo->tv_nsec == 0) || !grove::socket_patched() ||
      !grove::on_greenlet()) [[likely]] {
    return NEXT(ppoll)(fds, n, tmo, mask);
  }
  if (tmo != nullptr && !grove::valid_timespec(tmo)) {
    errno = EINVAL;
    return -1;
  }
  const grove::Deadline deadline =
      tmo == nullptr ? grove::Deadline::never() : grove::Deadline::after(grove::seconds_of(*tmo));
  if (mask == nullptr) return grove::cooperative_poll(fds, n, deadline);
  return grove::cooperative_ppoll(fds, n, deadline, mask);
}

int select(int nfds, fd_set* rd, fd_set* wr, fd_set* ex, timeval* tv) {
  if ((tv != nullptr && tv->tv_sec == 0 && tv->tv_usec == 0) || !grove::socket_patched() ||
      !grove::on_greenlet()) [[likely]] {
    return NEXT(select)(nfds, rd, wr, ex, tv);
  }
  if (nfds < 0 || nfds > FD_SETSIZE || (tv != nullptr && (tv->tv_sec < 0 || tv->tv_usec < 0))) {
    errno = EINVAL;
    return -1;
  }
  std::vector<pollfd> fds;
  for (int fd = 0; fd < nfds; ++fd) {
    short events = 0;
    if (rd != nullptr && FD_ISSET(fd, rd)) events |= POLLIN;
    if (wr != nullptr && FD_ISSET(fd, wr)) events |= POLLOUT;
    if (ex != nullptr && FD_ISSET(fd, ex)) events |= POLLPRI;
    if (events != 0) fds.push_back({fd, events, 0});
  }
  const grove::Deadline deadline =
      tv == nullptr ? grove::Deadline::never()
                    : grove::Deadline::after(static_cast<double>(tv->tv_sec) +
                                             static_cast<double>(tv->tv_usec) * 1e-6);
  const int r = grove::cooperative_poll(fds.data(), fds.size(), deadline);
  if (r < 0) return r;
  for (const pollfd& p : fds) {
    if (p.revents & POLLNVAL) {
      errno = EBADF;
      return -1;
    }
  }
  if (rd != nullptr) FD_ZERO(rd);
  if (wr != nullptr) FD_ZERO(wr);
  if (ex != nullptr) FD_ZERO(ex);
  int count = 0;
  for (const pollfd& p : fds) {
    if ((p.events & POLLIN) && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
      FD_SET(p.fd, rd);
      ++count;
    }
    if ((p.events & POLLOUT) && (p.revents & (POLLOUT | POLLERR))) {
      FD_SET(p.fd, wr);
      ++count;
    }
    if ((p.events & POLLPRI) && (p.revents & POLLPRI)) {
      FD_SET(p.fd, ex);
      ++count;
    }
  }
  if (tv != nullptr) {  // Linux leaves the time not slept
    const double left = std::max(0.0, deadline.remaining());
    tv->tv_sec = static_cast<time_t>(left);
    tv->tv_usec = static_cast<suseconds_t>((left - static_cast<double>(tv->tv_sec)) * 1e6);
  }
  return count;
}

unsigned sleep(unsigned seconds) {
  if (!grove::time_patched() || !grove::on_greenlet()) [[likely]] return NEXT(sleep)(seconds);
  grove::sleep(static_cast<double>(seconds));
  return 0;
}

int usleep(useconds_t us) {
  if (!grove::time_patched() || !grove::on_greenlet()) [[likely]] return NEXT(usleep)(us);
  grove::sleep(static_cast<double>(us) * 1e-6);
  return 0;
}

int nanosleep(const timespec* req, timespec* rem) {
  if (!grove::time_patched() || !grove::on_greenlet()) [[likely]] return NEXT(nanosleep)(req, rem);
  if (req == nullptr || !grove::valid_timespec(req)) {
    errno = EINVAL;
    return -1;
  }
  grove::sleep(grove::seconds_of(*req));
  if (rem != nullptr) *rem = timespec{};
  return 0;
}

int clock_nanosleep(clockid_t clock, int flags, const timespec* req, timespec* rem) {
  const bool wall_clock = clock == CLOCK_REALTIME || clock == CLOCK_MONOTONIC ||
                          clock == CLOCK_BOOTTIME || clock == CLOCK_TAI;
  if (!wall_clock || !grove::time_patched() || !grove::on_greenlet()) [[likely]] {
    return NEXT(clock_nanosleep)(clock, flags, req, rem);
  }
  if (req == nullptr || !grove::valid_timespec(req)) return EINVAL;
  double seconds = grove::seconds_of(*req);
  if ((flags & TIMER_ABSTIME) != 0) {
    timespec now{};
    ::clock_gettime(clock, &now);
    seconds -= grove::seconds_of(now);
  } else if (rem != nullptr) {
    *rem = timespec{};
  }
  grove::sleep(std::max(seconds, 0.0));
  return 0;
}

int socket(int domain, int type, int protocol) {
  const int r = NEXT(socket)(domain, type, protocol);
  if (r >= 0 && grove::socket_patched()) grove::forget(r);
  return r;
}

int socketpair(int domain, int type, int protocol, int* sv) {
  const int r = NEXT(socketpair)(domain, type, protocol, sv);
  if (r == 0 && grove::socket_patched()) {
    grove::forget(sv[0]);
    grove::forget(sv[1]);
  }
  return r;
}

int close(int fd) {
  if (!grove::socket_patched()) [[likely]] return NEXT(close)(fd);
  return grove::close_tracked(fd);
}

int dup(int fd) noexcept {
  const int r = NEXT(dup)(fd);
  if (r >= 0 && grove::socket_patched()) grove::copy_state(fd, r);
  return r;
}

int dup2(int from, int to) noexcept {
  if (!grove::socket_patched() || from == to) return NEXT(dup2)(from, to);
  try {
    grove::wake_parked(to);
  } catch (...) {
  }
  const int r = NEXT(dup2)(from, to);
  if (r >= 0) grove::copy_state(from, r);
  return r;
}

int dup3(int from, int to, int flags) noexcept {
  if (!grove::socket_patched()) return NEXT(dup3)(from, to, flags);
  try {
    grove::wake_parked(to);
  } catch (...) {
  }
  const int r = NEXT(dup3)(from, to, flags);
  if (r >= 0) grove::copy_state(from, r);
  return r;
}

int setsockopt(int fd, int level, int name, const void* value, socklen_t len) noexcept {
  const int r = NEXT(setsockopt)(fd, level, name, value, len);
  if (r == 0 && level == SOL_SOCKET && (name == SO_RCVTIMEO || name == SO_SNDTIMEO) &&
      grove::socket_patched() && value != nullptr && len >= sizeof(timeval)) {
    FdState* st = grove::find_state(fd);
    if (st != nullptr && (st->mode.load(std::memory_order_acquire) & grove::kSocket)) {
      const auto* tv = static_cast<const timeval*>(value);
      const std::int64_t ns = static_cast<std::int64_t>(tv->tv_sec) * 1'000'000'000 +
                              static_cast<std::int64_t>(tv->tv_usec) * 1'000;
      (name == SO_RCVTIMEO ? st->recv_timeout_ns : st->send_timeout_ns)
          .store(ns, std::memory_order_relaxed);
    }
  }
  return r;
}


int fcntl(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  return grove::fcntl_tracked(fd, cmd, arg);
}

int fcntl64(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  return grove::fcntl_tracked(fd, cmd, arg);
}

int ioctl(int fd, unsigned long request, ...) noexcept {
  va_list ap;
  va_start(ap, request);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  if (request != FIONBIO || !grove::socket_patched() || arg == nullptr) [[likely]] {
    return NEXT(ioctl)(fd, request, arg);
  }
  FdState* st = grove::find_state(fd);
  const std::uint8_t m = st != nullptr ? st->mode.load(std::memory_order_acquire) : 0;
  if (!(m & grove::kSocket)) return NEXT(ioctl)(fd, request, arg);
  int on = 1;
  const int r = NEXT(ioctl)(fd, FIONBIO, &on);
  if (r == 0) {
    const std::uint8_t rest = m & ~(grove::kUserNonblock | grove::kForced);
    st->mode.store(*static_cast<int*>(arg) != 0 ? (rest | grove::kUserNonblock)
                                                : (rest | grove::kForced),
                   std::memory_order_release);
  }
  return r;
}

}  // extern "C"
