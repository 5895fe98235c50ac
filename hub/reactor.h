// hub/reactor.h — the half of a Hub that waits for the outside world: the libev loop (timers and
// I/O watchers) and the inbox other threads post to.
//
// Model: the reactor never decides which fiber runs; its handlers only make fibers ready (through
// Waiter::wake and friends) or run short callbacks. The hub's loop fiber asks it either to `poll`
// without blocking (between passes of the ready queue) or to `sleep` in the poller until an event
// arrives (when nothing is ready); a fiber that parks with nothing ready may run that first poll
// itself, on its own stack (`poll_in_place`, see Hub::poll_in_place). Work posted from other
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
  void poll_in_place();
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
  std::uint64_t timers_started() const noexcept { return timers_started_; }
  void count_timer() noexcept { ++timers_started_; }
  std::uint64_t inbox_items() const noexcept;
  std::uint64_t inbox_wakeups() const noexcept;

 private:
  friend class IoWatcher;
  friend struct internal::LoopAccess;
  static void on_inbox(struct ev_loop* loop, struct ev_io* w, int events);
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
  std::uint64_t timers_started_ = 0;
  // The IoWatchers registered with the loop, by fd: the heads of intrusive lists kept by
  // hub/io.cc (for IoWatcher::closing, and so that the reactor's end stops them all).
  std::vector<IoWatcher*> io_by_fd_;
};

}  // namespace grove
