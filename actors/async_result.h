// actors/async_result.h — a result (a value or an exception) that greenlets wait for
// (gevent.event.AsyncResult).
//
// Model: starts empty. set(value) or set_exception(error) makes it ready and wakes every waiter,
// in the order they started waiting. Setting again REPLACES the stored outcome (gevent does the
// same; it is not a one-shot promise): later get()s see the new one, and waiters already woken
// see whichever outcome is stored when they run. T may be void (then set() takes nothing).
//
// Reading:
//   wait(deadline)   -> bool: ready or not; never throws the stored exception.
//   get(deadline)    -> T: the value, or rethrows the stored exception; throws grove::TimedOut
//                       if `deadline` passes first (use get_for/try_get when a timeout is normal).
//   get_for(d)/get_until(deadline) -> std::optional<T> (bool for void): empty on timeout;
//                       rethrows the stored exception.
//   try_get()        -> the same without waiting (gevent's get_nowait, minus the Timeout: the
//                       facade turns "not ready" into gevent.Timeout).
//   value()          -> pointer to the stored value, nullptr unless successful (gevent's .value).
//   exception()      -> the stored exception_ptr, null unless failed.
// get() copies the value: every getter receives its own copy, so T must be copyable to get().
//
// rawlink() callbacks are one-shot and run from the hub after the result becomes ready, in
// registration order (see actors/internal/links.h); linking to a ready result runs at the next
// pass.
//
// Thread: one hub's fibers (from another thread, post a set() to the hub). Cost: no allocation
// beyond T and the first rawlink(); a ready result is read without switching.
// Destruction: fibers still waiting get ObjectDestroyed (like WaitList).
//
//   grove::AsyncResult<int> answer;
//   grove::spawn_fiber([&] { answer.set(42); });
//   int v = answer.get();                                     // 42
//   if (auto r = answer.get_for(std::chrono::milliseconds(5))) use(*r);
#pragma once

#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "actors/internal/links.h"
#include "hub/wait.h"
#include "hub/wait_any.h"

namespace grove {

// Thrown by blocking getters whose deadline passed (AsyncResult::get). An ordinary error, unlike
// grove::Timeout (which belongs to Timeout scopes).
class TimedOut : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace internal {
template <class T>
struct ResultStorage {
  std::optional<T> value;
};
template <>
struct ResultStorage<void> {};
}  // namespace internal

template <class T>
class AsyncResult {
 public:
  // What get_for/try_get return: the value, or nothing when not ready (bool for void).
  using Maybe = std::conditional_t<std::is_void_v<T>, bool, std::optional<T>>;

  AsyncResult() = default;
  AsyncResult(const AsyncResult&) = delete;
  AsyncResult& operator=(const AsyncResult&) = delete;

  template <class U = T>
    requires(!std::is_void_v<U>)
  void set(U&& value) {
    storage_.value.emplace(std::forward<U>(value));
    error_ = nullptr;
    become_ready();
  }
  void set()
    requires std::is_void_v<T>
  {
    error_ = nullptr;
    become_ready();
  }
  void set_exception(std::exception_ptr error) {
    if constexpr (!std::is_void_v<T>) storage_.value.reset();
    error_ = std::move(error);
    become_ready();
  }

  bool ready() const noexcept { return ready_; }
  bool successful() const noexcept { return ready_ && !error_; }
  std::exception_ptr exception() const noexcept { return error_; }
  template <class U = T>
    requires(!std::is_void_v<U>)
  const U* value() const noexcept {
    return storage_.value ? &*storage_.value : nullptr;
  }

  // True once ready; false when `deadline` passed first. Never throws the stored exception.
  [[nodiscard]] bool wait(Deadline deadline = Deadline::never()) {
    if (ready_) return true;
    (void)waiters_.wait(deadline, "async result");
    return ready_;
  }
  template <class Rep, class Period>
  [[nodiscard]] bool wait_for(std::chrono::duration<Rep, Period> timeout) {
    return wait(Deadline::after(timeout));
  }

  // The value, or the stored exception rethrown; TimedOut when `deadline` passes first.
  T get(Deadline deadline = Deadline::never()) {
    if (!wait(deadline)) throw TimedOut("AsyncResult::get timed out");
    return take_outcome();
  }
  // Empty when not ready by `deadline`; rethrows the stored exception.
  Maybe get_until(Deadline deadline) {
    if (!wait(deadline)) return Maybe{};
    return ready_outcome();
  }
  template <class Rep, class Period>
  Maybe get_for(std::chrono::duration<Rep, Period> timeout) {
    return get_until(Deadline::after(timeout));
  }
  // Never waits: empty when not ready; rethrows the stored exception.
  Maybe try_get() {
    if (!ready_) return Maybe{};
    return ready_outcome();
  }

  // gevent's rawlink/unlink (see the header comment).
  LinkId rawlink(std::function<void()> callback) { return links_.add(std::move(callback)); }
  bool unlink(LinkId id) noexcept { return links_.remove(id); }
  std::size_t link_count() const noexcept { return links_.size(); }

  // The result as a source for wait_any (hub/wait_any.h): ready once set (value or exception).
  WaitSource wait_source() noexcept {
    return WaitSource(
        waiters_,
        [](const void* r) noexcept { return static_cast<const AsyncResult*>(r)->ready_; }, this);
  }

  // Fibers currently parked in wait()/get() (and in wait_any on this result).
  std::size_t waiting() const noexcept { return waiters_.size(); }

 private:
  void become_ready() {
    ready_ = true;
    waiters_.wake_all();
    links_.notify_if_ready();
  }
  T take_outcome() {
    if (error_) std::rethrow_exception(error_);
    if constexpr (!std::is_void_v<T>) return *storage_.value;
  }
  Maybe ready_outcome() {
    if (error_) std::rethrow_exception(error_);
    if constexpr (std::is_void_v<T>) {
      return true;
    } else {
      return Maybe(*storage_.value);
    }
  }

  bool ready_ = false;
  internal::ResultStorage<T> storage_;
  std::exception_ptr error_;
  WaitList waiters_;
  internal::LinkList links_{&ready_};
};

}  // namespace grove
