// hub/reactor.h — the half of a Hub that waits for the outside world: the libev loop (timers and
// I/O watchers) and the inbox other threads post to.
//
// Model: the reactor never decides which fiber runs; its handlers only make fibers ready (through
// Waiter::wake and friends) or run short callbacks. The hub's loop fiber asks it either to `poll`
// without blocking (between passes of the ready queue) or to `sleep` in the poller until an event
// arrives (when nothing is ready); a fiber that parks with nothing ready may run that first poll
// itself, on its own stack (`poll_in_place`, see Hub::poll_in_place), and while libev has nothing
// of its own to do that poll reads libev's epoll set directly (the fast poll, below). libev
// keeps every registration and every dispatch either way. Work posted from other
// threads lands in a lock-free multi-producer inbox; the reactor drains it on every loop-fiber
// pass (never during a poll in place), and a poster writes the inbox's eventfd only when the hub
// sleeps in the poller and nobody has woken it yet, so a burst costs one syscall and a busy hub
// none. A hub that just received work spins for
// kInboxSpinSeconds before it sleeps: the answer to what it sent often comes within microseconds.
//
// The libev loop itself is internal to hub/: code of hub/ that owns watchers reaches it through
// hub/internal/loop.h (`internal::ev_loop_of(hub)`); layers above use IoWatcher, Timeout,
// call_later and RemoteHub.
//
// Thread: the hub's own thread only, except the inbox's posting side (RemoteHub, any thread) and
// `idle_in_poll()`, read by the blocking monitor's thread. Lifetime: a member of its Hub; when it
// goes, the inbox is closed (later posts are dropped) and watchers still registered are stopped.
//
//   grove::RemoteHub remote = grove::Hub::current().remote();  // the reactor's inbox
//   std::thread([remote] { remote.post([] { std::puts("on the hub's thread"); }); }).join();
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

struct ev_loop;
struct ev_io;

namespace grove {

class Hub;
class IoWatcher;

namespace internal {
struct Loop;
struct LoopAccess;
struct Inbox;
struct Posted;
}  // namespace internal

class Reactor {
 public:
  // How long a reactor that just received work from another thread polls its inbox before it
  // sleeps in the poller.
  static constexpr double kInboxSpinSeconds = 20e-6;

  // Creates the libev loop and the inbox; errors (e.g. no eventfd) are reported through
  // `owner`'s error handler when they come from posted work, and thrown here otherwise.
  explicit Reactor(Hub& owner);
  ~Reactor();  // closes the inbox, stops the watchers still registered, destroys the loop
  Reactor(const Reactor&) = delete;
  Reactor& operator=(const Reactor&) = delete;

  // Runs what libev has ready, without blocking.
  void poll();
  // The same from a parking fiber's stack (Hub::poll_in_place): an inbox wake-up it meets only
  // resets the eventfd and leaves the posted work to the loop fiber's drain, and a call_later
  // callback that fires is queued for the loop fiber (Hub::run_callback) instead of run.
  //
  // The fast poll. A poll in place comes once per request of a request/response exchange, and a
  // whole ev_run costs about as much again as grove's own wait and wake: two clock reads, a
  // memory fence, and its timers, fd changes and pending queue looked at twice. So when libev
  // has nothing of its own to do — no timer due, no watcher started or stopped since its last
  // iteration, no registration to tidy — the poll in place reads libev's epoll set itself
  // (epoll_wait, timeout 0) and hands what it reports back to libev through its public
  // ev_feed_fd_event and ev_invoke_pending: libev still dispatches, to the same callbacks.
  // Otherwise the poll is a whole ev_run, and so is every kFastPollsInARow-th one, which bounds
  // how long anything libev keeps to itself (an fd the kernel cannot poll, which libev reports
  // as always ready) waits for it.
  //
  // Timers: with none armed a fast poll reads no clock. With some armed it reads one, and polls
  // fast only before `timers_checked_until_`: kTimerSlackSeconds after the last ev_run (which
  // fired what was due), or earlier if a timer armed since then expires earlier. So a timer
  // armed before the last ev_run may fire up to kTimerSlackSeconds late, while fibers keep the
  // hub busy; one armed after it fires as it did before.
  void poll_in_place();
  static constexpr int kFastPollsInARow = 32;
  static constexpr double kTimerSlackSeconds = 250e-6;
  bool polling_in_place() const noexcept { return in_place_; }
  // Blocks in the poller until an event or a post arrives (it may first spin on the inbox a
  // moment, see kInboxSpinSeconds). Returns kPosted when it ran posted work and did not sleep,
  // otherwise the number of active (referenced) watchers left: with none, nothing can ever
  // wake the hub again.
  static constexpr int kPosted = -1;
  int sleep();

  // Runs what other threads posted; true if it ran anything. Inline when nothing was posted:
  // the loop fiber asks on every pass.
  bool drain_inbox() { return inbox_posted_to() && drain_inbox_items(); }
  // A look at the inbox that reads only the hub's own cache line: false when nothing was posted
  // since the last drain (a post still being linked may read as nothing; sleep() closes that
  // race with the full look, drain_inbox_items()).
  bool inbox_posted_to() const noexcept {
    return *inbox_head_ != inbox_stub_ || inbox_first_->load(std::memory_order_acquire) != nullptr;
  }
  // The inbox had work since the reactor last slept (the next sleep spins on it first).
  bool inbox_active() const noexcept { return inbox_active_; }

  // Keeps the loop "alive" while something outside (a thread, another hub) may still post work
  // that wakes a fiber. Balanced calls.
  void ref_external() noexcept;
  void unref_external() noexcept;

  const std::shared_ptr<internal::Inbox>& inbox() const noexcept { return inbox_; }

  // The blocking monitor's view (any thread): true while the hub sleeps in the poller.
  bool idle_in_poll() const noexcept { return idle_in_poll_.load(std::memory_order_relaxed); }

  // Counters for HubStats.
  std::uint64_t polls() const noexcept { return polls_; }
  // Of those, the fast polls (see poll_in_place).
  std::uint64_t fast_polls() const noexcept { return fast_polls_; }
  // libev's epoll set, or -1 when the fast poll is off (another backend, or it could not be
  // confirmed: see learn_epoll_fd in reactor.cc).
  int epoll_fd() const noexcept { return epoll_fd_; }
  std::uint64_t timers_started() const noexcept { return timers_started_; }
  void count_timer() noexcept { ++timers_started_; }
  std::uint64_t inbox_items() const noexcept;
  std::uint64_t inbox_wakeups() const noexcept;

  // Every libev timer of the hub is armed and stopped through these (hub/internal/loop.h:
  // arm_timer, disarm_timer, timer_fired), so that a fast poll knows when one may be due.
  // `after`: seconds from now; counted from the last clock the reactor read, which is earlier
  // than now, so the fast polls stop early rather than late.
  void timer_armed(double after) noexcept {
    ++armed_timers_;
    if (clock_seen_ + after < timers_checked_until_) timers_checked_until_ = clock_seen_ + after;
  }
  void timer_disarmed() noexcept { --armed_timers_; }

 private:
  friend class IoWatcher;
  friend struct internal::LoopAccess;
  // IoWatcher: an ev_io of this loop was started or stopped. libev applies that in its next
  // iteration, so the next poll must be one.
  void io_changed() noexcept { libev_due_ = true; }
  static void on_inbox(struct ev_loop* loop, struct ev_io* w, int events);
  // Whether the next poll in place may be a fast one, and that poll.
  bool fast_poll_allowed() noexcept;
  void fast_poll();
  // Runs libev's loop once (`flags`: EVRUN_NOWAIT or EVRUN_ONCE); returns what ev_run does.
  int libev_run(int flags);
  // The directions libev's watchers want on `fd` in this loop (the IoWatchers registered on it,
  // or the inbox's eventfd).
  int wanted_on(int fd) const noexcept;
  // Waits up to kInboxSpinSeconds, without a syscall, for something to be posted.
  bool spin_for_inbox();
  bool drain_inbox_items();

  Hub& owner_;
  std::unique_ptr<internal::Loop> loop_;
  std::shared_ptr<internal::Inbox> inbox_;
  // Where inbox_posted_to() looks: the inbox's head, its stub node and the stub's link.
  internal::Posted* const* inbox_head_;
  const internal::Posted* inbox_stub_;
  const std::atomic<internal::Posted*>* inbox_first_;
  bool inbox_active_ = false;  // the inbox had work since the reactor last slept
  bool in_place_ = false;      // poll_in_place is running
  std::atomic<bool> idle_in_poll_{false};
  std::uint64_t polls_ = 0;
  std::uint64_t fast_polls_ = 0;
  std::uint64_t timers_started_ = 0;
  int epoll_fd_ = -1;        // libev's epoll set (learn_epoll_fd), -1: no fast polls
  bool libev_due_ = true;    // the next poll must be an ev_run (io_changed, a tidy-up)
  int armed_timers_ = 0;     // libev timers armed on this loop
  int fast_in_a_row_ = 0;    // fast polls since the last ev_run
  double clock_seen_ = 0;    // the last Deadline::now() the reactor read
  double timers_checked_until_ = 0;  // no timer is due before then (see poll_in_place)
  // The IoWatchers registered with the loop, by fd: the heads of intrusive lists kept by
  // hub/io.cc (for IoWatcher::closing, and so that the reactor's end stops them all).
  std::vector<IoWatcher*> io_by_fd_;
};

}  // namespace grove
