// hub/hub.cc — run queue, switching, parking, the libev loop and the cross-thread inbox.
#include "hub/hub.h"

#include <cxxabi.h>
#include <ev.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "hub/internal/switch.h"
#include "hub/io.h"
#include "hub/monitor.h"
#include "hub/timeout.h"
#include "hub/timer.h"

namespace grove {

namespace internal {

struct Loop {
  struct ev_loop* loop = nullptr;
  ev_io wake{};  // the inbox's eventfd
  std::size_t external_refs = 0;
};

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

std::atomic<std::uint64_t> next_fiber_id{1};
constexpr std::uint32_t kKillRethrowsReported = 1000;

// Every live hub's inbox, so another thread can reach a hub it only knows by pointer.
std::mutex hubs_mutex;
std::unordered_map<const Hub*, std::weak_ptr<internal::Inbox>>& live_hubs() {
  static auto* hubs = new std::unordered_map<const Hub*, std::weak_ptr<internal::Inbox>>();
  return *hubs;
}

// Runs Hub::destroy_current() when a thread that used grove exits.
struct HubReaper {
  ~HubReaper() { Hub::destroy_current(); }
};
thread_local HubReaper* tls_reaper = nullptr;

}  // namespace

// ---------------------------------------------------------------------------------------------
// Deadline

double Deadline::now() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

Deadline Deadline::after(double seconds) {
  if (std::isnan(seconds) || seconds == std::numeric_limits<double>::infinity()) return never();
  return Deadline(now() + seconds);
}

Deadline Deadline::at(std::chrono::steady_clock::time_point tp) {
  const double delta =
      std::chrono::duration<double>(tp - std::chrono::steady_clock::now()).count();
  return after(delta);
}

double Deadline::remaining() const {
  if (is_never()) return std::numeric_limits<double>::infinity();
  return at_ - now();
}

// ---------------------------------------------------------------------------------------------
// Errors

std::string demangle(const char* mangled) {
  int status = 0;
  char* name = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  if (status != 0 || name == nullptr) return mangled;
  std::string out(name);
  std::free(name);
  return out;
}

ExceptionInfo describe_exception(const std::exception_ptr& error) {
  if (!error) return {"(none)", ""};
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return {demangle(typeid(e).name()), e.what()};
  } catch (const GreenletExit& e) {
    return {"grove::GreenletExit", e.message()};
  } catch (const Timeout& e) {
    return {"grove::Timeout", e.message()};
  } catch (...) {
    const std::type_info* type = abi::__cxa_current_exception_type();
    return {type ? demangle(type->name()) : "unknown exception", ""};
  }
}

// ---------------------------------------------------------------------------------------------
// Fiber

const char* to_string(FiberState state) {
  switch (state) {
    case FiberState::kNew: return "new";
    case FiberState::kReady: return "ready";
    case FiberState::kRunning: return "running";
    case FiberState::kParked: return "parked";
    case FiberState::kDead: return "dead";
  }
  return "?";
}

Fiber::Fiber(std::size_t stack_size, Hub* hub)
    : requested_stack_(stack_size),
      hub_(hub != nullptr ? hub : &Hub::current()),
      id_(next_fiber_id.fetch_add(1, std::memory_order_relaxed)) {}

Fiber::~Fiber() { destroy_locals(); }

void* Fiber::local(std::uint64_t key) const noexcept {
  for (const LocalSlot& slot : locals_) {
    if (slot.key == key) return slot.value;
  }
  return nullptr;
}

void Fiber::set_local(std::uint64_t key, void* value, void (*destroy)(void*) noexcept) {
  for (LocalSlot& slot : locals_) {
    if (slot.key == key) {
      LocalSlot old = slot;
      slot.value = value;
      slot.destroy = destroy;
      old.destroy(old.value);
      return;
    }
  }
  locals_.push_back(LocalSlot{key, value, destroy});
}

bool Fiber::erase_local(std::uint64_t key) noexcept {
  for (auto it = locals_.begin(); it != locals_.end(); ++it) {
    if (it->key == key) {
      LocalSlot old = *it;
      locals_.erase(it);
      old.destroy(old.value);
      return true;
    }
  }
  return false;
}

void Fiber::destroy_locals() noexcept {
  // Newest first; a destructor that stores a new local is served in the next round.
  while (!locals_.empty()) {
    LocalSlot slot = locals_.back();
    locals_.pop_back();
    slot.destroy(slot.value);
  }
}

std::string Fiber::describe() const {
  if (state_ == FiberState::kParked) return fmt::format("<Fiber {} parked on \"{}\">", id_, what_);
  return fmt::format("<Fiber {} {}>", id_, to_string(state_));
}

void Fiber::copy_name(char* out, std::size_t size) const noexcept {
  if (size == 0) return;
  const char prefix[] = "Fiber-";
  std::size_t n = 0;
  for (const char* p = prefix; *p != '\0' && n + 1 < size; ++p) out[n++] = *p;
  char digits[24];
  int d = 0;
  std::uint64_t v = id_;
  do {
    digits[d++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0 && d < 24);
  while (d > 0 && n + 1 < size) out[n++] = digits[--d];
  out[n] = '\0';
}

std::size_t Fiber::overflow_depth(const void* address) const noexcept {
  if (!stack_.guarded || stack_.bottom == nullptr) return 0;
  const auto at = reinterpret_cast<std::uintptr_t>(address);
  const auto bottom = reinterpret_cast<std::uintptr_t>(stack_.bottom);
  constexpr std::uintptr_t kReach = 64 * 1024;  // a large frame can skip past the guard page
  if (at >= bottom || bottom - at > kReach) return 0;
  return bottom - at;
}

std::size_t Fiber::stack_high_water() const noexcept {
  if (stack_.bottom == nullptr) return 0;
  // The deepest resident page of the stack tells how far it has grown.
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  const std::size_t pages = stack_.size / page;
  std::vector<unsigned char> resident(pages);
  if (::mincore(stack_.bottom, stack_.size, resident.data()) != 0) return 0;
  for (std::size_t i = 0; i < pages; ++i) {
    if (resident[i] & 1) return (pages - i) * page;
  }
  return 0;
}

void Fiber::start() {
  if (state_ != FiberState::kNew || scheduled_once_) return;
  // The stack first: if it cannot be had, the spawner gets the error and nothing changed.
  stack_ = hub_->take_stack(requested_stack_);
  internal::make_context(ctx_, stack_.bottom, stack_.usable_size(), &Fiber::entry, this);
  scheduled_once_ = true;
  add_ref();  // the hub's reference, dropped when the fiber dies
  hub_->add_live(*this);
  ++hub_->stats_.fibers_spawned;
  hub_->schedule(*this);
}

void Fiber::kill() { kill(std::make_exception_ptr(GreenletExit())); }

bool Fiber::kill(std::exception_ptr error, KillMode mode) noexcept {
  if (state_ == FiberState::kDead) return false;
  if (!ran_ && !is_main_) {
    // It never ran: it never will. (If it sits in the run queue, the queue skips it.)
    const bool started = scheduled_once_;
    state_ = FiberState::kDead;
    scheduled_once_ = true;
    FiberRef keep(this);
    if (started) {  // give the stack back now
      internal::destroy_context(ctx_);
      hub_->stacks_.release(stack_);
      stack_ = {};
    }
    finish_unstarted(std::move(error));
    dead_.store(true, std::memory_order_release);
    joiners_.wake_all();
    if (started) {
      hub_->remove_live(*this);
      // The run-queue entry keeps the hub's reference until it is popped.
    }
    return true;
  }
  return hub_->interrupt(*this, std::move(error),
                         mode == KillMode::kFinal ? Pending::kFinal : Pending::kOnce, 0);
}

bool Fiber::withdraw_pending_kill() noexcept {
  if (pending_kind_ != Pending::kFinal) return false;
  pending_ = nullptr;
  pending_kind_ = Pending::kNone;
  return true;
}

bool Fiber::join(Deadline deadline) {
  while (!dead()) {
    if (joiners_.wait(deadline, "join") == WaitStatus::kTimedOut) return dead();
  }
  return true;
}

void Fiber::entry(internal::MachineContext* from, void* self) {
  auto* fiber = static_cast<Fiber*>(self);
  Hub& hub = *fiber->hub_;
  hub.after_switch(from);
  try {
    fiber->run();
  } catch (const GreenletExit&) {
    // A kill is a normal end.
  } catch (...) {
    hub.report_error(fiber->describe(), std::current_exception());
  }
  fiber->destroy_locals();  // on its own stack, before joiners learn it ended
  fiber->on_finished();
  hub.on_fiber_dead(*fiber);
  hub.switch_out(/*finishing=*/true);
  std::abort();  // a dead fiber is never resumed
}

// ---------------------------------------------------------------------------------------------
// Waiter and WaitList

namespace {

struct DeadlineTimer {
  ev_timer timer;
  Waiter* waiter;
};

}  // namespace

void Waiter::on_deadline(struct ev_loop*, ev_timer* w, int) {
  Waiter* waiter = reinterpret_cast<DeadlineTimer*>(w)->waiter;
  if (waiter->state_ != State::kParked) return;
  if (waiter->list_ != nullptr) waiter->list_->remove(*waiter);
  waiter->state_ = State::kTimedOut;
  waiter->fiber_->hub().schedule(*waiter->fiber_);
}

Waiter::Waiter() noexcept : fiber_(&Hub::current().current_fiber()) {}

bool Waiter::wake() noexcept {
  switch (state_) {
    case State::kParked:
      if (list_ != nullptr) list_->remove(*this);
      state_ = State::kWoken;
      fiber_->hub().schedule(*fiber_);
      return true;
    case State::kIdle:
      if (list_ != nullptr) list_->remove(*this);
      state_ = State::kWoken;  // woken before it parked: wait() returns at once
      if (forward_ != nullptr) [[unlikely]] {
        // A registration of a wait_any or WaitSet: it joins the chain of registrations that
        // fired (newest first, through their payloads) and wakes the waiter that parks.
        payload = forward_->payload;
        forward_->payload = this;
        (void)forward_->wake();
      }
      return true;
    default:
      return false;
  }
}

bool Waiter::interrupt(std::exception_ptr error) noexcept {
  if (state_ != State::kParked) [[unlikely]] {
    if (forward_ == nullptr || state_ != State::kIdle) return false;
    // A registration of a wait_any (its source was destroyed or cancelled): leave the source
    // and interrupt the waiter that parks.
    if (list_ != nullptr) list_->remove(*this);
    return forward_->interrupt(std::move(error));
  }
  if (list_ != nullptr) list_->remove(*this);
  Fiber& f = *fiber_;
  // Parked means nothing final is pending (it would have woken the fiber); a pending timeout
  // or one-shot kill is replaced by this more specific error, which is thrown first.
  f.pending_ = std::move(error);
  f.pending_kind_ = Fiber::Pending::kOnce;
  f.pending_timeout_ = 0;
  state_ = State::kInterrupted;
  f.hub().schedule(f);
  return true;
}

void Hub::throw_interruption(Fiber& self) {
  if (self.pending_) {
    const Fiber::Pending kind = std::exchange(self.pending_kind_, Fiber::Pending::kNone);
    std::exception_ptr error = std::exchange(self.pending_, nullptr);
    self.pending_timeout_ = 0;
    if (kind == Fiber::Pending::kFinal) self.final_ = error;
    std::rethrow_exception(error);
  }
  // A final kill is thrown again at every wait point, but never out of a destructor that waits
  // while the stack unwinds (that would terminate the program).
  if (self.final_ && std::uncaught_exceptions() == 0) {
    // The fiber caught its kill and went on to wait again. Let the others run first, so a loop
    // that keeps catching the kill cannot stall the hub, and say so once.
    if (++self.kill_rethrows_ == kKillRethrowsReported) {
      spdlog::error("grove: {} caught its kill {} times and keeps waiting; it cannot end until "
                    "it lets the kill propagate",
                    self.describe(), kKillRethrowsReported);
    }
    schedule(self);
    switch_out();
    std::rethrow_exception(self.final_);
  }
}

[[gnu::always_inline]] inline WaitStatus Waiter::wait_inline(Deadline deadline, const char* what) {
  Fiber& self = *fiber_;
  Hub& hub = self.hub();
  // A wait point: what was delivered while the fiber was running is thrown now.
  if ((self.pending_ || self.final_) && !shielded_) [[unlikely]] {
    // A final kill is not thrown out of a destructor that waits while the stack unwinds: that
    // wait stays on its list and parks as any other (leaving the list there parked it for good).
    if (self.pending_ || std::uncaught_exceptions() == 0) {
      if (list_ != nullptr) list_->remove(*this);
      hub.throw_interruption(self);  // throws
    }
  }
  if (state_ == State::kWoken) {  // woken before it parked
    state_ = State::kIdle;
    return WaitStatus::kWoken;
  }
  DeadlineTimer timer;
  bool timed = false;
  if (!deadline.is_never()) {
    const double left = deadline.remaining();
    if (left <= 0) {
      if (list_ != nullptr) list_->remove(*this);
      return WaitStatus::kTimedOut;
    }
    auto* loop = static_cast<struct ev_loop*>(hub.ev_loop());
    timer.waiter = this;
    ev_timer_init(&timer.timer, &on_deadline, left, 0.);
    ev_now_update(loop);
    ev_timer_start(loop, &timer.timer);
    ++hub.stats_.timers_started;
    timed = true;
  }
  state_ = State::kParked;
  struct StopTimer {
    DeadlineTimer* timer;
    bool active;
    Hub& hub;
    ~StopTimer() {
      if (active) ev_timer_stop(static_cast<struct ev_loop*>(hub.ev_loop()), &timer->timer);
    }
  } stop{&timer, timed, hub};
  hub.park(*this, what);
  return finish_wait();
}

[[gnu::always_inline]] inline WaitStatus Waiter::finish_wait() {
  switch (state_) {
    case State::kWoken:
      state_ = State::kIdle;
      return WaitStatus::kWoken;
    case State::kTimedOut:
      state_ = State::kIdle;
      return WaitStatus::kTimedOut;
    case State::kInterrupted:
      state_ = State::kIdle;
      fiber_->hub().throw_interruption(*fiber_);
      std::abort();  // interrupted with nothing to throw: a scheduling bug
    default:
      std::abort();  // resumed while still parked: a scheduling bug
  }
}

WaitStatus Waiter::wait(Deadline deadline, const char* what) { return wait_inline(deadline, what); }

void Waiter::wait_shielded(const char* what) {
  shielded_ = true;
  struct Unshield {
    bool& flag;
    ~Unshield() { flag = false; }
  } unshield{shielded_};
  (void)wait_inline(Deadline::never(), what);
}

WaitList::~WaitList() {
  // Fibers still parked here would be woken later through freed memory: interrupt them now.
  if (head_ == nullptr) return;
  spdlog::error("grove: a WaitList was destroyed while {} fiber(s) waited on it; they get "
                "ObjectDestroyed",
                size_);
  while (head_ != nullptr) {
    Waiter* w = head_;
    const char* what = w->fiber_->what_;
    if (!w->interrupt(std::make_exception_ptr(ObjectDestroyed(fmt::format(
            "grove: the object this fiber waited on (\"{}\") was destroyed", what))))) {
      remove(*w);  // not parked (woken meanwhile): just unlink it
    }
  }
}

Waiter* WaitList::wake_one() noexcept {
  Waiter* w = head_;
  if (w == nullptr) return nullptr;
  w->wake();  // unlinks
  return w;
}

std::size_t WaitList::wake_all() noexcept {
  std::size_t n = 0;
  while (head_ != nullptr) {
    head_->wake();
    ++n;
  }
  return n;
}

WaitStatus WaitList::wait(Deadline deadline, const char* what) {
  Waiter w;
  push_back(w);
  return w.wait_inline(deadline, what);
}

// ---------------------------------------------------------------------------------------------
// Hub

class Hub::MainFiber final : public Fiber {
 public:
  MainFiber() : Fiber(0) { set_debug_name("main"); }
  std::string describe() const override { return "<main fiber>"; }

 private:
  void run() override {}
};

class Hub::LoopFiber final : public Fiber {
 public:
  LoopFiber() : Fiber(0) { set_debug_name("hub"); }
  std::string describe() const override { return "<hub>"; }

 private:
  void run() override {}
};

Hub& Hub::create_current() {
  new Hub();  // registers itself as current_hub_
  internal::watch_from_environment();
  if (tls_reaper == nullptr) {
    thread_local HubReaper reaper;
    tls_reaper = &reaper;
  }
  return *current_hub_;
}

void Hub::on_inbox(struct ev_loop* loop, ev_io* w, int) {
  auto* hub = static_cast<Hub*>(ev_userdata(loop));
  std::uint64_t count;
  [[maybe_unused]] const ssize_t n = ::read(w->fd, &count, sizeof count);  // resets the eventfd
  hub->drain_inbox();
}

bool Hub::spin_for_inbox() {
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

bool Hub::drain_inbox() {
  internal::Inbox& inbox = *inbox_;
  bool ran = false;
  while (internal::Posted* item = inbox.pop()) {
    ran = true;
    ++inbox.items;
    try {
      item->run_posted(item, true);
    } catch (...) {
      report_error("<posted callback>", std::current_exception());
    }
  }
  if (ran) inbox_active_ = true;
  return ran;
}

Hub::Hub() : loop_(std::make_unique<internal::Loop>()), inbox_(std::make_shared<internal::Inbox>()) {
  current_hub_ = this;  // fibers below look the hub up while being constructed
  internal::catch_stack_overflows();
  eh_ = internal::current_eh_globals();
  loop_->loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOENV);
  if (loop_->loop == nullptr) throw std::runtime_error("grove: cannot create the libev loop");
  ev_set_userdata(loop_->loop, this);

  ev_io_init(&loop_->wake, &Hub::on_inbox, inbox_->fd, EV_READ);
  ev_io_start(loop_->loop, &loop_->wake);
  ev_unref(loop_->loop);  // the inbox alone does not keep the loop alive (see LoopExit)
  {
    std::lock_guard lock(hubs_mutex);
    live_hubs()[this] = inbox_;
  }

  auto* main = new MainFiber();
  main->add_ref();
  main->is_main_ = true;
  main->state_ = FiberState::kRunning;
  main->scheduled_once_ = true;
  internal::adopt_thread_context(main->ctx_);
  main_ = main;
  current_ = main;

  auto* loop_fiber = new LoopFiber();
  loop_fiber->add_ref();
  loop_fiber->scheduled_once_ = true;
  loop_fiber->stack_ = stacks_.allocate(0);
  internal::make_context(
      loop_fiber->ctx_, loop_fiber->stack_.bottom, loop_fiber->stack_.usable_size(),
      [](internal::MachineContext* from, void* arg) {
        auto* hub = static_cast<Hub*>(arg);
        hub->after_switch(from);
        hub->loop_run();
      },
      this);
  loop_fiber_ = loop_fiber;
  internal::register_for_debuggers(*this);
}

Hub::~Hub() {
  internal::unregister_for_debuggers(*this);
  if (watch_) internal::unwatch(this);
  internal::drop_timers(*this);
  {
    std::lock_guard lock(hubs_mutex);
    live_hubs().erase(this);
  }
  inbox_->close();
  // Watchers still registered (a socket that outlives its hub) leave the loop before it goes.
  IoWatcher::hub_ending(*this);
  ev_ref(loop_->loop);
  ev_io_stop(loop_->loop, &loop_->wake);
  ev_loop_destroy(loop_->loop);
  internal::destroy_context(loop_fiber_->ctx_);
  stacks_.release(loop_fiber_->stack_);
  loop_fiber_->stack_ = {};
  loop_fiber_->state_ = FiberState::kDead;
  loop_fiber_->release();
  main_->state_ = FiberState::kDead;
  main_->release();
}

void Hub::destroy_current() {
  Hub* hub = current_hub_;
  if (hub == nullptr) return;
  if (hub->current_ != hub->main_) {
    spdlog::error("grove: Hub::destroy_current() called from a fiber; the hub is leaked");
    return;
  }
  hub->destroying_ = true;
  // Kill every fiber still alive and let it unwind; fibers that catch the kill and wait again are
  // killed again, a bounded number of times.
  for (int round = 0; round < 100 && hub->live_count_ > 0; ++round) {
    std::vector<FiberRef> alive;
    for (Fiber* f = hub->live_head_; f != nullptr; f = f->next_live_) alive.emplace_back(f);
    for (auto& f : alive) f->kill();
    for (int spin = 0; spin < 1000 && hub->live_count_ > 0; ++spin) {
      try {
        hub->yield();
      } catch (...) {
        // A kill or LoopExit aimed at main while tearing down: ignore.
      }
      if (hub->ready_count_ == 0) break;  // the rest are parked: kill them again
    }
    if (hub->live_count_ > 0 && hub->ready_count_ == 0) {
      // Parked where a kill waits its turn (a shielded wait for a thread-pool job): give the
      // loop a moment to deliver what they wait for.
      try {
        hub->sleep(0.01);
      } catch (...) {
      }
    }
  }
  if (hub->live_count_ > 0) {
    spdlog::error("grove: {} fiber(s) refused to die while the hub was destroyed; leaked",
                  hub->live_count_);
  }
  current_hub_ = nullptr;
  delete hub;
}

void* Hub::ev_loop() const noexcept { return loop_->loop; }

RemoteHub Hub::remote() const { return RemoteHub(inbox_); }

RemoteHub Hub::remote_of(const Hub* hub) {
  std::lock_guard lock(hubs_mutex);
  auto it = live_hubs().find(hub);
  if (it == live_hubs().end()) return RemoteHub();
  return RemoteHub(it->second.lock());
}

void Hub::run_callback(std::function<void()> fn) {
  callbacks_.push_back(std::move(fn));
  pass_budget_ = 0;  // the hub's fiber runs at the next switch
}

void Hub::run_callbacks() {
  // Callbacks queued by these callbacks run at the next pass, not in this one.
  std::vector<std::function<void()>> batch;
  batch.swap(callbacks_);
  for (auto& fn : batch) {
    try {
      fn();
    } catch (...) {
      report_error("<hub callback>", std::current_exception());
    }
  }
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

void Hub::ref_external() noexcept {
  ++loop_->external_refs;
  ev_ref(loop_->loop);
}

void Hub::unref_external() noexcept {
  --loop_->external_refs;
  ev_unref(loop_->loop);
}

void Hub::set_error_handler(ErrorHandler handler) { error_handler_ = std::move(handler); }

void Hub::report_error(std::string where, std::exception_ptr error) {
  if (error_handler_) {
    error_handler_(ErrorReport{std::move(where), std::move(error)});
    return;
  }
  spdlog::error("{}", describe_failure(where, error));
}

HubStats Hub::stats() const {
  HubStats s = stats_;
  s.fibers_alive = live_count_;
  s.ready = ready_count_;
  s.stacks_pooled = stacks_.pooled();
  s.inbox_items = inbox_->items;
  s.inbox_wakeups = inbox_->wakeups.load(std::memory_order_relaxed);
  return s;
}

std::string Hub::run_info() const {
  std::string out;
  for (Fiber* f = live_head_; f != nullptr; f = f->next_live_) {
    const std::string details = f->run_info_details();
    fmt::format_to(std::back_inserter(out),
                   "{} state={} waiting_on=\"{}\" stack_high_water={}{}{}\n", f->describe(),
                   to_string(f->state_), f->waiting_on(), f->stack_high_water(),
                   details.empty() ? "" : " ", details);
  }
  const HubStats s = stats();
  fmt::format_to(std::back_inserter(out),
                 "hub: fibers_alive={} ready={} switches={} wakeups={} polls={} timers={} "
                 "spawned={} stacks_pooled={}\n",
                 s.fibers_alive, s.ready, s.switches, s.wakeups, s.polls, s.timers_started,
                 s.fibers_spawned, s.stacks_pooled);
  return out;
}

void Hub::add_live(Fiber& f) noexcept {
  f.prev_live_ = nullptr;
  f.next_live_ = live_head_;
  if (live_head_ != nullptr) live_head_->prev_live_ = &f;
  live_head_ = &f;
  ++live_count_;
  load_.store(live_count_, std::memory_order_relaxed);
}

void Hub::remove_live(Fiber& f) noexcept {
  if (f.prev_live_ != nullptr) {
    f.prev_live_->next_live_ = f.next_live_;
  } else if (live_head_ == &f) {
    live_head_ = f.next_live_;
  } else {
    return;  // not linked
  }
  if (f.next_live_ != nullptr) f.next_live_->prev_live_ = f.prev_live_;
  f.prev_live_ = f.next_live_ = nullptr;
  --live_count_;
  load_.store(live_count_, std::memory_order_relaxed);
}

[[gnu::always_inline]] inline void Hub::switch_to(Fiber& next, bool finishing) {
  Fiber& prev = *current_;
  if (!prev.stack_.canary_intact()) [[unlikely]] internal::stack_canary_overwritten(prev);
  next.ran_ = true;
  current_ = &next;
  next.state_ = FiberState::kRunning;
  ++stats_.switches;
  switch_epoch_.store(switch_epoch_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  internal::MachineContext* from = internal::switch_context(eh_, prev.ctx_, next.ctx_, finishing);
  if (dying_ != nullptr) [[unlikely]] {
    after_switch(from);
  }
}

void Hub::schedule(Fiber& f) noexcept {
  f.state_ = FiberState::kReady;
  f.next_ready_ = nullptr;
  if (ready_tail_ != nullptr) {
    ready_tail_->next_ready_ = &f;
  } else {
    ready_head_ = &f;
  }
  ready_tail_ = &f;
  ++ready_count_;
  ++stats_.wakeups;
}

[[gnu::always_inline]] inline void Hub::switch_out(bool finishing) {
  Fiber* next = loop_fiber_;
  while (pass_budget_ > 0 && ready_head_ != nullptr) {
    Fiber* f = ready_head_;
    ready_head_ = f->next_ready_;
    if (ready_head_ == nullptr) ready_tail_ = nullptr;
    --ready_count_;
    if (f->state_ == FiberState::kDead) {  // killed before it ever ran
      f->release();
      continue;
    }
    if ((--pass_budget_ & 63) == 0 && pass_budget_ > 0 &&
        Deadline::now() - last_poll_ > kMaxPollIntervalSeconds) [[unlikely]] {
      pass_budget_ = 0;  // long pass: poll after this switch
    }
    next = f;
    break;
  }
  if (next == current_) {  // yielded with nobody else ready
    if (!current_->stack_.canary_intact()) [[unlikely]] {
      internal::stack_canary_overwritten(*current_);
    }
    current_->state_ = FiberState::kRunning;
    // Still a yield point: the blocking monitor must not take a polite fiber for a stuck one.
    switch_epoch_.store(switch_epoch_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    return;
  }
  switch_to(*next, finishing);
}

void Hub::yield() {
  interruption_point();
  Fiber& self = *current_;
  schedule(self);
  switch_out();
  interruption_point();
}

void Hub::sleep(double seconds) {
  if (!(seconds > 0)) {
    yield();
    return;
  }
  Waiter w;
  (void)w.wait(Deadline::after(seconds), "sleep");
}

void sleep(double seconds) { Hub::current().sleep(seconds); }

[[gnu::always_inline]] inline void Hub::park(Waiter& w, const char* what) {
  Fiber& self = *current_;
  self.state_ = FiberState::kParked;
  self.waiter_ = &w;
  self.what_ = what;
  switch_out();
  self.waiter_ = nullptr;
}

internal::Stack Hub::take_stack(std::size_t size) { return stacks_.allocate(size); }

void Hub::after_switch(internal::MachineContext* /*from*/) noexcept {
  if (Fiber* dead = std::exchange(dying_, nullptr)) {
    internal::destroy_context(dead->ctx_);
    stacks_.release(dead->stack_);
    dead->stack_ = {};
    dead->release();  // the hub's reference
  }
}

void Hub::on_fiber_dead(Fiber& f) noexcept {
  f.state_ = FiberState::kDead;
  f.dead_.store(true, std::memory_order_release);
  f.pending_ = nullptr;
  f.pending_kind_ = Fiber::Pending::kNone;
  f.final_ = nullptr;
  remove_live(f);
  f.joiners_.wake_all();
  dying_ = &f;
}

bool Hub::interrupt(Fiber& f, std::exception_ptr error, Fiber::Pending kind,
                    std::uint64_t timeout_id) noexcept {
  using P = Fiber::Pending;
  if (f.state_ == FiberState::kDead) return false;
  // A final kill, thrown or pending, is never replaced (OTP: the first signal that kills
  // decides the reason); a timeout never replaces a pending kill.
  if (f.final_ || f.pending_kind_ == P::kFinal) return false;
  if (kind == P::kTimeout && f.pending_kind_ == P::kOnce) return false;
  f.pending_ = std::move(error);
  f.pending_kind_ = kind;
  f.pending_timeout_ = timeout_id;
  if (f.state_ == FiberState::kParked && f.waiter_ != nullptr && !f.waiter_->shielded_) {
    Waiter& w = *f.waiter_;
    if (w.list_ != nullptr) w.list_->remove(w);
    w.state_ = Waiter::State::kInterrupted;
    schedule(f);
  }
  // Otherwise (running, ready, or in a shielded wait) it is thrown at the next wait point.
  return true;
}

void Hub::deliver_loop_exit() {
  std::string others;
  std::size_t parked = 0;
  for (Fiber* f = live_head_; f != nullptr; f = f->next_live_) {
    if (f->state_ != FiberState::kParked) continue;
    if (++parked <= 5) others += fmt::format("{}{}", others.empty() ? "" : ", ", f->describe());
  }
  std::string message = fmt::format(
      "This operation would block forever: the main fiber waits on \"{}\" and nothing can wake "
      "it (no ready fiber, no active timer or I/O watcher, no pending thread job)",
      main_->what_);
  if (parked > 0) {
    message += fmt::format("; {} other fiber(s) parked: {}{}", parked, others,
                           parked > 5 ? ", ..." : "");
  }
  interrupt(*main_, std::make_exception_ptr(LoopExit(message)), Fiber::Pending::kOnce, 0);
}

void Hub::loop_run() {
  internal::Inbox& inbox = *inbox_;
  for (;;) {
    drain_inbox();
    if (!callbacks_.empty()) run_callbacks();
    if (ready_head_ != nullptr || !callbacks_.empty()) {
      ev_run(loop_->loop, EVRUN_NOWAIT);
      ++stats_.polls;
    } else {
      // Nothing ready: block in the loop until an event makes a fiber ready. ev_run returns
      // the number of active (referenced) watchers; with none, nothing can ever wake main.
      while (ready_head_ == nullptr) {
        // A hub that just got work from another hub spins a moment before it sleeps: the answer
        // to what it sent often comes within microseconds, and sleeping costs the poster an
        // eventfd write and this hub a poller wake-up (a few syscalls per message).
        if (std::exchange(inbox_active_, false) && spin_for_inbox()) {
          drain_inbox();
          if (!callbacks_.empty()) run_callbacks();
          if (ready_head_ != nullptr || !callbacks_.empty()) break;
          continue;
        }
        // Asleep from here on for posters; one more look at the inbox closes the race with a
        // poster that linked its item before it could see the flag.
        inbox.signaled.store(false, std::memory_order_relaxed);
        inbox.sleeping.store(true, std::memory_order_seq_cst);
        if (drain_inbox()) {
          inbox.sleeping.store(false, std::memory_order_relaxed);
          if (!callbacks_.empty()) run_callbacks();
          if (ready_head_ != nullptr || !callbacks_.empty()) break;
          continue;
        }
        idle_in_poll_.store(true, std::memory_order_relaxed);
        const int active = ev_run(loop_->loop, EVRUN_ONCE);
        idle_in_poll_.store(false, std::memory_order_relaxed);
        inbox.sleeping.store(false, std::memory_order_relaxed);
        switch_epoch_.store(switch_epoch_.load(std::memory_order_relaxed) + 1,
                            std::memory_order_relaxed);
        ++stats_.polls;
        if (!callbacks_.empty()) run_callbacks();
        if (ready_head_ != nullptr) break;
        if (active == 0 && callbacks_.empty()) {
          if (main_->state_ != FiberState::kParked) std::abort();  // hub runs only when main waits
          deliver_loop_exit();
        }
      }
    }
    pass_budget_ = std::max<int>(static_cast<int>(ready_count_), kMinSwitchesPerPoll);
    last_poll_ = Deadline::now();
    switch_out();
  }
}

}  // namespace grove
