// hub/wait_any.cc — wait_any: registrations that forward their wake to the one waiter that parks.
#include "hub/wait_any.h"

#include <algorithm>
#include <memory>
#include <new>
#include <stdexcept>
#include <utility>

#include "hub/hub.h"
#include "hub/io.h"

namespace grove {

namespace internal {

// What wait_any needs from the private side of Waiter and IoWatcher.
struct WaitAnyAccess {
  static void forward_to(Waiter& registration, Waiter& parked) noexcept {
    registration.forward_ = &parked;
  }
  static WaitList* list(const WaitSource& s) noexcept { return s.list_; }
  // Registers `w` as the watcher's waiting fiber and makes sure the poller watches it.
  static void attach(IoWatcher& io, Waiter& w, bool* gone) { io.attach(w, gone); }
  static void detach(IoWatcher& io) noexcept { io.detach(); }
};

}  // namespace internal

namespace {

using internal::WaitAnyAccess;

// One source's registration, on the waiting fiber's stack.
struct Registration {
  Waiter waiter;             // linked on the source's list, or the watcher's waiting fiber
  IoWatcher* io = nullptr;   // the watcher, for an I/O source
  bool gone = false;         // set by that watcher's destructor if it runs meanwhile
};

// Registrations for up to kInlineSources sources inline, more on the heap; unregisters all of
// them when the wait ends, however it ends.
class Registrations {
 public:
  explicit Registrations(std::size_t count) {
    if (count > kInlineSources) {
      heap_.reset(static_cast<Registration*>(::operator new(count * sizeof(Registration))));
      regs_ = heap_.get();
    } else {
      regs_ = reinterpret_cast<Registration*>(inline_);
    }
  }
  Registrations(const Registrations&) = delete;
  Registrations& operator=(const Registrations&) = delete;
  ~Registrations() {
    for (std::size_t i = 0; i < armed_; ++i) {
      Registration& r = regs_[i];
      if (r.io != nullptr && !r.gone) WaitAnyAccess::detach(*r.io);
      r.~Registration();  // unlinks from the source's list
    }
  }

  // Registers on `source`; may throw (then what was armed so far is undone by the destructor).
  void arm(const WaitSource& source, Waiter& parked) {
    Registration* r = new (&regs_[armed_]) Registration();
    WaitAnyAccess::forward_to(r->waiter, parked);
    ++armed_;
    if (IoWatcher* io = source.watcher()) {
      WaitAnyAccess::attach(*io, r->waiter, &r->gone);  // may throw: r->io stays null
      r->io = io;
    } else if (WaitList* list = WaitAnyAccess::list(source)) {
      list->push_back(r->waiter);
    }
  }

  // The index of the registration `w` points at.
  std::optional<std::size_t> index_of(const void* w) const noexcept {
    for (std::size_t i = 0; i < armed_; ++i) {
      if (&regs_[i].waiter == w) return i;
    }
    return std::nullopt;
  }

 private:
  alignas(Registration) unsigned char inline_[kInlineSources * sizeof(Registration)];
  struct Free {
    void operator()(Registration* p) const noexcept { ::operator delete(p); }
  };
  std::unique_ptr<Registration, Free> heap_;
  Registration* regs_;
  std::size_t armed_ = 0;
};

}  // namespace

bool WaitSource::ready() const noexcept {
  if (io_ != nullptr && io_->ready() != 0) return true;
  return ready_ != nullptr && ready_(object_);
}

std::optional<std::size_t> wait_any(std::span<const WaitSource> sources, Deadline deadline,
                                    const char* what) {
  Hub& hub = Hub::current();
  hub.interruption_point();  // always a wait point, even when something is ready
  for (std::size_t i = 0; i < sources.size(); ++i) {
    if (sources[i].ready()) return i;
  }
  Waiter parked;
  if (deadline.passed()) {
    (void)parked.wait(deadline, what);  // an interruption point; never parks
    return std::nullopt;
  }
  Registrations regs(sources.size());  // destroyed (unregistered) before `parked`
  for (const WaitSource& s : sources) regs.arm(s, parked);
  if (parked.wait(deadline, what) == WaitStatus::kTimedOut) return std::nullopt;
  // Woken by the registrations that fired, chained newest first: the oldest is the answer.
  auto* first = static_cast<Waiter*>(parked.payload);
  while (first->payload != nullptr) first = static_cast<Waiter*>(first->payload);
  return regs.index_of(first);
}

namespace {
std::size_t list_sources_only(std::span<const WaitSource> sources) {
  for (const WaitSource& s : sources) {
    if (s.watcher() != nullptr) {
      throw std::invalid_argument("WaitSet takes WaitList sources only (use wait_any for I/O)");
    }
  }
  return sources.size();
}
}  // namespace

WaitSet::WaitSet(std::span<const WaitSource> sources)
    : count_(list_sources_only(sources)),
      registrations_(new Waiter[sources.size()]),
      parked_(new Waiter()),
      ready_(new std::size_t[sources.size()]) {
  for (std::size_t i = 0; i < count_; ++i) {
    const WaitSource& s = sources[i];
    if (s.ready()) {
      ready_[ready_tail_++] = i;
      continue;
    }
    WaitAnyAccess::forward_to(registrations_[i], *parked_);
    if (WaitList* list = WaitAnyAccess::list(s)) list->push_back(registrations_[i]);
  }
}

WaitSet::WaitSet(WaitSet&& o) noexcept
    : count_(std::exchange(o.count_, 0)),
      handed_out_(std::exchange(o.handed_out_, 0)),
      registrations_(std::exchange(o.registrations_, nullptr)),
      parked_(std::exchange(o.parked_, nullptr)),
      ready_(std::exchange(o.ready_, nullptr)),
      ready_head_(std::exchange(o.ready_head_, 0)),
      ready_tail_(std::exchange(o.ready_tail_, 0)) {}

WaitSet::~WaitSet() {
  delete[] registrations_;  // each unlinks from its source
  registrations_ = nullptr;
  delete parked_;
  parked_ = nullptr;
  delete[] ready_;
  ready_ = nullptr;
}

void WaitSet::harvest() {
  // The registrations that fired since the last look, chained newest first.
  auto* chain = static_cast<Waiter*>(std::exchange(parked_->payload, nullptr));
  const std::size_t end = ready_tail_;
  for (Waiter* w = chain; w != nullptr; w = static_cast<Waiter*>(w->payload)) {
    ready_[ready_tail_++] = static_cast<std::size_t>(w - registrations_);
  }
  std::reverse(ready_ + end, ready_ + ready_tail_);  // oldest first
}

std::optional<std::size_t> WaitSet::next(Deadline deadline, const char* what) {
  Hub::current().interruption_point();
  if (handed_out_ == count_) return std::nullopt;
  harvest();
  while (ready_head_ == ready_tail_) {
    // (A wake that was harvested already may still be pending on parked_: then this wait
    // returns at once, finds nothing, and parks for real.)
    if (parked_->wait(deadline, what) == WaitStatus::kTimedOut) return std::nullopt;
    harvest();
  }
  ++handed_out_;
  return ready_[ready_head_++];
}

}  // namespace grove
