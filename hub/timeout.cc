// hub/timeout.cc — Timeout scopes on libev timers.
#include "hub/timeout.h"

#include <ev.h>
#include <fmt/format.h>

#include <atomic>
#include <cmath>
#include <limits>

#include "hub/hub.h"
#include "hub/internal/loop.h"

namespace grove {
namespace {

std::atomic<std::uint64_t> next_timeout_id{1};

// Every finite value fires: a negative one at once, like 0 (gevent hands it to a libev timer,
// which fires at the next loop iteration). Only +infinity (and NaN) never fires.
bool fires(double seconds) { return std::isfinite(seconds) || seconds == -std::numeric_limits<double>::infinity(); }

}  // namespace


Timeout::Timeout(double seconds)
    : seconds_(seconds), id_(next_timeout_id.fetch_add(1, std::memory_order_relaxed)) {
  static_assert(sizeof(ev_timer) <= sizeof(timer_), "Timeout::timer_ too small for ev_timer");
  if (fires(seconds_)) arm(seconds_);
}

Timeout::Timeout(double seconds, std::exception_ptr error)
    : seconds_(seconds),
      id_(next_timeout_id.fetch_add(1, std::memory_order_relaxed)),
      error_(std::move(error)) {
  if (fires(seconds_)) arm(seconds_);
}

Timeout::Timeout(const Timeout& other)
    : seconds_(other.seconds_),
      id_(other.id_),
      error_(other.error_),
      expired_(other.expired_) {}

Timeout::Timeout(Timeout&& other) noexcept
    : seconds_(other.seconds_),
      id_(other.id_),
      error_(other.error_),
      expired_(other.expired_) {
  if (other.armed_) {  // move the timer with what is left of it
    auto* loop = internal::ev_loop_of(other.owner_->hub());
    const double left = ev_timer_remaining(loop, reinterpret_cast<ev_timer*>(other.timer_));
    other.cancel();
    owner_ = other.owner_;
    arm(left > 0 ? left : 0.0);
  }
}

Timeout::~Timeout() { cancel(); }

void Timeout::arm(double seconds) {
  Hub& hub = Hub::current();
  owner_ = &hub.current_fiber();
  auto* timer = reinterpret_cast<ev_timer*>(timer_);
  ev_init(timer, &Timeout::on_timer);
  timer->data = this;
  internal::arm_timer(hub, timer, seconds > 0 ? seconds : 0.);
  armed_ = true;
  expired_ = false;
}

void Timeout::start() {
  if (armed_ || !fires(seconds_)) return;
  if (owner_ != nullptr) cancel();  // drop a stale delivery of an earlier run
  arm(seconds_);
}

void Timeout::on_timer(struct ev_loop* loop, ev_timer* w, int) {
  internal::timer_fired(loop, w);
  static_cast<Timeout*>(w->data)->fire();
}

void Timeout::fire() noexcept {
  armed_ = false;
  expired_ = true;
  owner_->hub().interrupt(*owner_, error_ ? error_ : std::make_exception_ptr(Timeout(*this)),
                         Fiber::Pending::kTimeout, id_);
}

void Timeout::cancel() noexcept {
  if (owner_ == nullptr) return;
  if (armed_) {
    internal::disarm_timer(owner_->hub(), reinterpret_cast<ev_timer*>(timer_));
    armed_ = false;
  }
  // An expiry delivered but not yet thrown dies with the scope.
  if (owner_->pending_kind_ == Fiber::Pending::kTimeout && owner_->pending_timeout_ == id_) {
    owner_->pending_ = nullptr;
    owner_->pending_kind_ = Fiber::Pending::kNone;
    owner_->pending_timeout_ = 0;
  }
}

namespace internal {
Timeout make_within_timeout(double seconds) {
  Timeout scope(std::numeric_limits<double>::infinity());  // unarmed until it knows what to throw
  scope.error_ = std::make_exception_ptr(ScopeExpired{scope.id_});
  scope.seconds_ = seconds;
  if (fires(seconds)) scope.arm(seconds);
  return scope;
}
}  // namespace internal

bool Timeout::pending() const noexcept { return armed_; }

std::string Timeout::message() const {
  return fmt::format("Timeout after {} second{}", seconds_, seconds_ == 1.0 ? "" : "s");
}

}  // namespace grove
