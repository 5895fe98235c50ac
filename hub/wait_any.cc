// hub/wait_any.cc — wait_any: registrations that forward their wake to the one waiter that parks.
#include "hub/wait_any.h"

#include <memory>
#include <new>

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
  // Woken: by the first registration that fired (recorded in payload).
  return regs.index_of(parked.payload);
}

}  // namespace grove
