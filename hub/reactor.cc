// hub/reactor.cc — the libev loop and the cross-thread inbox of a hub (hub/reactor.h).
#include "hub/reactor.h"

#include <ev.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>

#include "hub/hub.h"
#include "hub/internal/loop.h"
#include "hub/io.h"
#include "hub/wait.h"

namespace grove {

namespace internal {
// Work posted from other threads; shared with every RemoteHub so it outlives the hub.
//
// A Vyukov-style intrusive queue: producers exchange the tail and link the previous node (two
// atomic stores, no lock, no loop); the hub alone pops. `sleeping` is set by the hub just before
// it blocks in the poller, after which it looks at the queue once more; a producer links its item
// and then reads `sleeping` (both sequentially consistent), so either the hub sees the item or the
// producer sees the hub asleep and writes the eventfd — `signaled` makes that one write per sleep.
struct Inbox {
  Inbox() : fd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "grove: eventfd");
    head = &stub;
    tail.store(&stub, std::memory_order_relaxed);
  }
  ~Inbox() {
    drop_all();
    ::close(fd);
  }

  // Any thread. False if the hub has ended (the item was dropped).
  bool push(Posted* item) {
    if (closed.load(std::memory_order_acquire)) {
      item->run_posted(item, false);
      return false;
    }
    item->next_posted.store(nullptr, std::memory_order_relaxed);
    Posted* prev = tail.exchange(item, std::memory_order_acq_rel);
    prev->next_posted.store(item, std::memory_order_seq_cst);
    if (sleeping.load(std::memory_order_seq_cst) &&
        !signaled.exchange(true, std::memory_order_acq_rel)) {
      const std::uint64_t one = 1;
      [[maybe_unused]] const ssize_t n = ::write(fd, &one, sizeof one);
      wakeups.fetch_add(1, std::memory_order_relaxed);
    }
    if (closed.load(std::memory_order_seq_cst)) [[unlikely]] {
      // The hub ended while we pushed: nobody else will look at the queue again.
      drop_all();
    }
    return true;
  }

  // Hub thread (or, once closed, whoever holds `late`). Null when empty, or when the next item
  // is still being linked by a producer (that producer wakes the hub if it sleeps).
  Posted* pop() {
    Posted* h = head;
    Posted* next = h->next_posted.load(std::memory_order_seq_cst);
    if (h == &stub) {
      if (next == nullptr) return nullptr;
      head = next;
      h = next;
      next = next->next_posted.load(std::memory_order_seq_cst);
    }
    if (next != nullptr) {
      head = next;
      return h;
    }
    if (h != tail.load(std::memory_order_seq_cst)) return nullptr;  // a push is half done
    stub.next_posted.store(nullptr, std::memory_order_relaxed);
    Posted* prev = tail.exchange(&stub, std::memory_order_acq_rel);
    prev->next_posted.store(&stub, std::memory_order_seq_cst);
    next = h->next_posted.load(std::memory_order_seq_cst);
    if (next != nullptr) {
      head = next;
      return h;
    }
    return nullptr;
  }

  // The hub ended: drop what is queued, now and for anyone who pushes later.
  void close() {
    std::lock_guard lock(late);
    closed.store(true, std::memory_order_seq_cst);
    drop_queued();
  }
  void drop_all() {
    std::lock_guard lock(late);
    drop_queued();
  }
  void drop_queued() {
    for (;;) {
      Posted* item = pop();
      if (item != nullptr) {
        item->run_posted(item, false);
        continue;
      }
      if (tail.load(std::memory_order_seq_cst) == &stub && head == &stub) return;
      std::this_thread::yield();  // a producer is between its two stores
    }
  }

  // Producers' line.
  alignas(64) std::atomic<Posted*> tail{nullptr};
  // The hub's line.
  alignas(64) Posted* head = nullptr;
  Posted stub;
  std::uint64_t items = 0;
  std::atomic<bool> sleeping{false};
  std::atomic<bool> signaled{false};
  std::atomic<bool> closed{false};
  std::atomic<std::uint64_t> wakeups{0};
  int fd = -1;
  std::mutex late;  // drops after close (rare)
};

// RemoteHub::post(std::function): the function in a node of its own.
struct PostedFunction final : Posted {
  explicit PostedFunction(std::function<void()> f) : fn(std::move(f)) {
    run_posted = [](Posted* self, bool deliver) {
      std::unique_ptr<PostedFunction> owned(static_cast<PostedFunction*>(self));
      if (deliver) owned->fn();
    };
  }
  std::function<void()> fn;
};

}  // namespace internal

namespace {

// The epoll set behind `loop`, for the fast poll; -1 when there is none or it cannot be
// confirmed. libev keeps its backend's fd to itself except in one place: an ev_embed watcher
// that embeds the loop watches that fd, so embedding it into a throwaway select loop (which
// creates no fd) names it. The name is then checked with the kernel: adding `probe_fd`, which
// the loop already registered, to a set that holds it fails with EEXIST, and nothing else
// does. (If it was added, it is taken out again and the fast poll stays off.)
int learn_epoll_fd(struct ev_loop* loop, int probe_fd) {
  if (ev_backend(loop) != EVBACKEND_EPOLL || (ev_embeddable_backends() & EVBACKEND_EPOLL) == 0) {
    return -1;
  }
  struct ev_loop* outer = ev_loop_new(EVBACKEND_SELECT | EVFLAG_NOENV);
  if (outer == nullptr) return -1;
  ev_embed embed;
  ev_embed_init(&embed, nullptr, loop);
  ev_embed_start(outer, &embed);
  const int fd = embed.io.fd;
  ev_embed_stop(outer, &embed);
  ev_loop_destroy(outer);
  if (fd < 0) return -1;
  epoll_event probe{};
  probe.events = 0;
  probe.data.u64 = static_cast<std::uint32_t>(probe_fd);
  if (::epoll_ctl(fd, EPOLL_CTL_ADD, probe_fd, &probe) == 0) {
    ::epoll_ctl(fd, EPOLL_CTL_DEL, probe_fd, &probe);
    return -1;
  }
  return errno == EEXIST ? fd : -1;
}

}  // namespace

Reactor::Reactor(Hub& owner)
    : owner_(owner),
      loop_(std::make_unique<internal::Loop>()),
      inbox_(std::make_shared<internal::Inbox>()),
      inbox_head_(&inbox_->head),
      inbox_stub_(&inbox_->stub),
      inbox_first_(&inbox_->stub.next_posted) {
  loop_->loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOENV);
  if (loop_->loop == nullptr) throw std::runtime_error("grove: cannot create the libev loop");
  ev_set_userdata(loop_->loop, this);
  ev_io_init(&loop_->wake, &Reactor::on_inbox, inbox_->fd, EV_READ);
  ev_io_start(loop_->loop, &loop_->wake);
  ev_unref(loop_->loop);  // the inbox alone does not keep the loop alive (see LoopExit)
  poll();  // registers the eventfd with the kernel, which learn_epoll_fd checks
  polls_ = 0;
  epoll_fd_ = learn_epoll_fd(loop_->loop, inbox_->fd);
}

Reactor::~Reactor() {
  inbox_->close();
  // Watchers still registered (a socket that outlives its hub) leave the loop before it goes.
  IoWatcher::hub_ending(*this);
  ev_ref(loop_->loop);
  ev_io_stop(loop_->loop, &loop_->wake);
  ev_loop_destroy(loop_->loop);
}

void Reactor::on_inbox(struct ev_loop* loop, ev_io* w, int) {
  auto* reactor = static_cast<Reactor*>(ev_userdata(loop));
  std::uint64_t count;
  [[maybe_unused]] const ssize_t n = ::read(w->fd, &count, sizeof count);  // resets the eventfd
  if (!reactor->in_place_) reactor->drain_inbox_items();
}

bool Reactor::spin_for_inbox() {
  internal::Inbox& inbox = *inbox_;
  const double until = Deadline::now() + kInboxSpinSeconds;
  for (int i = 1;; ++i) {
    if (inbox.tail.load(std::memory_order_acquire) != &inbox.stub) return true;
#if defined(__x86_64__)
    __builtin_ia32_pause();
#endif
    if ((i & 63) == 0 && Deadline::now() > until) return false;
  }
}

bool Reactor::drain_inbox_items() {
  internal::Inbox& inbox = *inbox_;
  bool ran = false;
  while (internal::Posted* item = inbox.pop()) {
    ran = true;
    ++inbox.items;
    try {
      item->run_posted(item, true);
    } catch (...) {
      owner_.report_error("<posted callback>", std::current_exception());
    }
  }
  if (ran) inbox_active_ = true;
  return ran;
}

// [[gnu::hot]]: on every I/O wait. GCC groups such functions in .text.hot, so a wait and a wake
// run through a few contiguous lines of code (the kernel's work in between evicts the rest).
[[gnu::hot]] void Reactor::poll() {
  (void)libev_run(EVRUN_NOWAIT);
}

int Reactor::libev_run(int flags) {
  // Cleared first: watchers started or stopped by this iteration's callbacks set it again.
  libev_due_ = false;
  fast_in_a_row_ = 0;
  const int active = ev_run(loop_->loop, flags);
  ++polls_;
  if (armed_timers_ > 0) {
    // What was due has fired; the rest is not due before the slack has passed (or before a
    // timer armed from now on expires: timer_armed).
    clock_seen_ = Deadline::now();
    timers_checked_until_ = clock_seen_ + kTimerSlackSeconds;
  }
  return active;
}

[[gnu::hot]] void Reactor::poll_in_place() {
  in_place_ = true;
  if (fast_poll_allowed()) {
    fast_poll();
  } else {
    poll();
  }
  in_place_ = false;
}

// See poll_in_place in reactor.h.
[[gnu::hot]] bool Reactor::fast_poll_allowed() noexcept {
  if (epoll_fd_ < 0 || libev_due_ || fast_in_a_row_ >= kFastPollsInARow) return false;
  if (armed_timers_ == 0) return true;
  clock_seen_ = Deadline::now();
  return clock_seen_ < timers_checked_until_;
}

// See poll_in_place in reactor.h. What libev's epoll backend does with an event, minus its
// bookkeeping: the same mapping of epoll's bits to libev's, the same dispatch (ev_feed_fd_event
// runs each watcher of the fd that wants one of the directions), and an event for a direction
// nobody wants — a registration libev left in the kernel when its watcher stopped, which it
// removes when it meets one — sends the next poll to libev, which meets it again (epoll is
// level-triggered) and tidies it.
[[gnu::hot]] void Reactor::fast_poll() {
  epoll_event* const events = loop_->fast_poll_events;
  const int n = ::epoll_wait(epoll_fd_, events, internal::Loop::kFastPollEvents, 0);
  ++polls_;
  ++fast_polls_;
  ++fast_in_a_row_;
  if (n <= 0) {
    if (n < 0) libev_due_ = true;  // EINTR: let libev have the next one
    return;
  }
  struct ev_loop* loop = loop_->loop;
  for (int i = 0; i < n; ++i) {
    const std::uint32_t bits = events[i].events;
    const int fd = static_cast<int>(static_cast<std::uint32_t>(events[i].data.u64));
    const int got = ((bits & (EPOLLOUT | EPOLLERR | EPOLLHUP)) != 0 ? EV_WRITE : 0) |
                    ((bits & (EPOLLIN | EPOLLERR | EPOLLHUP)) != 0 ? EV_READ : 0);
    if ((got & ~wanted_on(fd)) != 0) libev_due_ = true;
    ev_feed_fd_event(loop, fd, got);
  }
  ev_invoke_pending(loop);
}

int Reactor::wanted_on(int fd) const noexcept {
  if (fd == loop_->wake.fd) return EV_READ;
  if (fd < 0 || static_cast<std::size_t>(fd) >= io_by_fd_.size()) return 0;
  int wanted = 0;
  for (const IoWatcher* w = io_by_fd_[static_cast<std::size_t>(fd)]; w != nullptr;
       w = w->next_on_fd_) {
    wanted |= w->events_;
  }
  return wanted;
}

int Reactor::sleep() {
  internal::Inbox& inbox = *inbox_;
  // A reactor that just got work from another hub spins a moment before it sleeps: the answer to
  // what it sent often comes within microseconds, and sleeping costs the poster an eventfd write
  // and this hub a poller wake-up (a few syscalls per message).
  if (std::exchange(inbox_active_, false) && spin_for_inbox()) {
    drain_inbox_items();
    return kPosted;
  }
  // Asleep from here on for posters; one more look at the inbox closes the race with a poster
  // that linked its item before it could see the flag.
  inbox.signaled.store(false, std::memory_order_relaxed);
  inbox.sleeping.store(true, std::memory_order_seq_cst);
  if (drain_inbox_items()) {
    inbox.sleeping.store(false, std::memory_order_relaxed);
    return kPosted;
  }
  idle_in_poll_.store(true, std::memory_order_relaxed);
  const int active = libev_run(EVRUN_ONCE);
  idle_in_poll_.store(false, std::memory_order_relaxed);
  inbox.sleeping.store(false, std::memory_order_relaxed);
  return active;
}

void Reactor::ref_external() noexcept {
  ++loop_->external_refs;
  ev_ref(loop_->loop);
}

void Reactor::unref_external() noexcept {
  --loop_->external_refs;
  ev_unref(loop_->loop);
}

std::uint64_t Reactor::inbox_items() const noexcept { return inbox_->items; }

std::uint64_t Reactor::inbox_wakeups() const noexcept {
  return inbox_->wakeups.load(std::memory_order_relaxed);
}

bool RemoteHub::post(std::function<void()> fn) const {
  if (!inbox_) return false;
  return inbox_->push(new internal::PostedFunction(std::move(fn)));
}

bool RemoteHub::post(internal::Posted* item) const {
  if (!inbox_) {
    item->run_posted(item, false);
    return false;
  }
  return inbox_->push(item);
}

}  // namespace grove
