// actors/internal/queue_core.h — the one queue implementation behind Queue, LifoQueue,
// PriorityQueue and Channel (actors/queue.h documents the public behaviour).
//
// Invariants (what makes FIFO fairness and direct hand-over work):
//   - a fiber parked in getters_ or peekers_ implies the buffer is empty;
//   - a fiber parked in putters_ implies the buffer is full (always, for a Channel);
// so a put first serves the longest-parked getter (moving the item into the getter's slot on
// the getter's stack, then waking it: the putter does not yield), and a get that frees space
// takes the longest-parked putter's item into the buffer (or, for a Channel, straight from the
// putter's slot). Each parked fiber has a Slot on its own stack; Waiter::payload points at it,
// and the status written there tells it, when it runs, whether it was served or shut out.
// A waiter whose wait ends any other way (deadline, kill) has already left its list.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "hub/wait.h"
#include "hub/wait_any.h"

namespace grove {

// The outcome of a queue operation. kTimedOut is also what the non-blocking forms return when
// they would have to wait (the facade maps it to Full/Empty).
enum class QueueStatus : std::uint8_t {
  kOk,
  kTimedOut,  // the deadline passed (or try_*: it would block)
  kShutDown,  // shutdown(): puts fail; gets fail once the queue is empty (at once if immediate)
};

inline const char* to_string(QueueStatus status) noexcept {
  switch (status) {
    case QueueStatus::kOk: return "ok";
    case QueueStatus::kTimedOut: return "timed out";
    case QueueStatus::kShutDown: return "shut down";
  }
  return "?";
}

// An item, or the reason there is none (get/peek).
template <class T>
class [[nodiscard]] QueueResult {
 public:
  QueueResult(QueueStatus status) noexcept : status_(status) {}  // NOLINT: implicit on purpose
  explicit QueueResult(T&& item) : status_(QueueStatus::kOk), item_(std::move(item)) {}
  explicit QueueResult(const T& item) : status_(QueueStatus::kOk), item_(item) {}

  QueueStatus status() const noexcept { return status_; }
  bool ok() const noexcept { return status_ == QueueStatus::kOk; }
  explicit operator bool() const noexcept { return ok(); }

  // The item; only when ok().
  T& value() & noexcept { return *item_; }
  const T& value() const& noexcept { return *item_; }
  T&& value() && noexcept { return std::move(*item_); }
  T& operator*() & noexcept { return *item_; }
  T&& operator*() && noexcept { return std::move(*item_); }
  T* operator->() noexcept { return &*item_; }
  // The item when ok(), `fallback` otherwise.
  T value_or(T fallback) && { return ok() ? std::move(*item_) : std::move(fallback); }

 private:
  QueueStatus status_;
  std::optional<T> item_;
};

// Thrown by task_done() called more times than items were put.
class TaskDoneError : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

namespace internal {

template <class T, class Discipline>
class QueueCore {
 public:
  using value_type = T;
  static constexpr bool kRendezvous = Discipline::kRendezvous;
  // peek() hands out copies: buffered queues of copyable items only.
  static constexpr bool kCanPeek = !kRendezvous && std::is_copy_constructible_v<T>;

  QueueCore(const QueueCore&) = delete;
  QueueCore& operator=(const QueueCore&) = delete;

  // ---- put: kOk, kTimedOut (deadline passed / try_put would block), kShutDown. On failure the
  // caller's item is left untouched (the rvalue forms move from it only on success).
  QueueStatus put(T&& item, Deadline deadline = Deadline::never()) {
    return put_impl(item, deadline, true);
  }
  QueueStatus put(const T& item, Deadline deadline = Deadline::never()) {
    T copy(item);
    return put_impl(copy, deadline, true);
  }
  template <class Rep, class Period>
  QueueStatus put_for(T&& item, std::chrono::duration<Rep, Period> timeout) {
    return put_impl(item, Deadline::after(timeout), true);
  }
  template <class Rep, class Period>
  QueueStatus put_for(const T& item, std::chrono::duration<Rep, Period> timeout) {
    T copy(item);
    return put_impl(copy, Deadline::after(timeout), true);
  }
  QueueStatus try_put(T&& item) { return put_impl(item, Deadline::never(), false); }
  QueueStatus try_put(const T& item) {
    T copy(item);
    return put_impl(copy, Deadline::never(), false);
  }

  // ---- get: the item, or kTimedOut / kShutDown.
  QueueResult<T> get(Deadline deadline = Deadline::never()) { return get_impl(deadline, true); }
  template <class Rep, class Period>
  QueueResult<T> get_for(std::chrono::duration<Rep, Period> timeout) {
    return get_impl(Deadline::after(timeout), true);
  }
  QueueResult<T> try_get() { return get_impl(Deadline::never(), false); }

  // ---- peek: a copy of the item get() would return next, without removing it. A peeker
  // parked on an empty queue receives a copy of the next item put (every parked peeker does,
  // even if a parked getter takes the item itself).
  QueueResult<T> peek(Deadline deadline = Deadline::never())
    requires kCanPeek
  {
    return peek_impl(deadline, true);
  }
  template <class Rep, class Period>
  QueueResult<T> peek_for(std::chrono::duration<Rep, Period> timeout)
    requires kCanPeek
  {
    return peek_impl(Deadline::after(timeout), true);
  }
  QueueResult<T> try_peek()
    requires kCanPeek
  {
    return peek_impl(Deadline::never(), false);
  }

  // ---- joinable (every successful put adds an unfinished task).
  // Marks one item as processed; throws TaskDoneError when called more times than items put.
  void task_done() {
    if (unfinished_ == 0) throw TaskDoneError("task_done() called too many times");
    if (--unfinished_ == 0) joiners_.wake_all();
  }
  // Waits until every item put has been marked task_done(); false when `deadline` passed.
  [[nodiscard]] bool join(Deadline deadline = Deadline::never()) {
    while (unfinished_ != 0) {
      if (joiners_.wait(deadline, "queue join") == WaitStatus::kTimedOut) return unfinished_ == 0;
    }
    return true;
  }
  template <class Rep, class Period>
  [[nodiscard]] bool join_for(std::chrono::duration<Rep, Period> timeout) {
    return join(Deadline::after(timeout));
  }
  std::size_t unfinished_tasks() const noexcept { return unfinished_; }

  // After shutdown every put fails with kShutDown (parked putters at once), and gets fail with
  // kShutDown once the queue is empty. `immediate` also discards the buffered items (each counts
  // as done for join()), so gets fail at once. Idempotent; a later immediate=true still drains.
  void shutdown(bool immediate = false) {
    shutdown_ = true;
    if (immediate) {
      const std::size_t drained = items_.size();
      items_.clear();
      unfinished_ -= std::min(drained, unfinished_);
      if (unfinished_ == 0) joiners_.wake_all();
    }
    fail_all<GetSlot>(getters_);
    fail_all<GetSlot>(peekers_);
    fail_all<PutSlot>(putters_);
    watchers_.wake_all();
  }
  bool is_shutdown() const noexcept { return shutdown_; }

  // ---- state
  std::size_t size() const noexcept { return items_.size(); }  // gevent's qsize()
  bool empty() const noexcept { return items_.empty(); }
  // True when a put would have to wait (for a Channel: when no getter is parked).
  bool full() const noexcept {
    if constexpr (kRendezvous) {
      return getters_.empty();
    } else {
      return maxsize_ != 0 && items_.size() >= maxsize_;
    }
  }
  std::size_t maxsize() const noexcept { return maxsize_; }  // 0 = unbounded
  std::size_t getters_waiting() const noexcept { return getters_.size() + peekers_.size(); }
  std::size_t putters_waiting() const noexcept { return putters_.size(); }
  std::size_t joiners_waiting() const noexcept { return joiners_.size(); }
  // Registrations of wait_any on wait_source().
  std::size_t watchers_waiting() const noexcept { return watchers_.size(); }

  // The queue as a source for wait_any (hub/wait_any.h): ready when a get would not wait — an
  // item is buffered, a putter is parked (a Channel's, or a full queue's), or the queue is shut
  // down (the get then says so). It takes nothing: get (or try_get) after it fired. A put that
  // finds a getter parked in get() hands the item to it, so a source can fire and then find the
  // queue empty again, as after select(2) with several readers: try_get, and wait again.
  WaitSource wait_source() noexcept {
    return WaitSource(
        watchers_,
        [](const void* q) noexcept {
          const auto* self = static_cast<const QueueCore*>(q);
          return !self->items_.empty() || !self->putters_.empty() || self->shutdown_;
        },
        this);
  }

  // ---- iteration: `for (auto& item : queue)` gets items until the queue is shut down and
  // empty. Each step is a blocking get().
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    iterator() = default;
    explicit iterator(QueueCore* q) : q_(q) { advance(); }
    T& operator*() noexcept { return *item_; }
    iterator& operator++() {
      advance();
      return *this;
    }
    void operator++(int) { advance(); }
    friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.q_ == b.q_; }

   private:
    void advance() {
      QueueResult<T> r = q_->get();
      if (r.ok()) {
        item_.emplace(std::move(r).value());
      } else {
        item_.reset();
        q_ = nullptr;
      }
    }
    QueueCore* q_ = nullptr;
    std::optional<T> item_;
  };
  iterator begin() { return iterator(this); }
  iterator end() noexcept { return iterator(); }

 protected:
  explicit QueueCore(std::size_t maxsize, Discipline items = Discipline())
      : items_(std::move(items)), maxsize_(maxsize) {}
  ~QueueCore() = default;  // the WaitLists abort if anyone still waits

 private:
  struct GetSlot {
    Waiter waiter;
    QueueStatus status = QueueStatus::kTimedOut;
    std::optional<T> item;
    GetSlot() noexcept { waiter.payload = this; }
  };
  struct PutSlot {
    Waiter waiter;
    QueueStatus status = QueueStatus::kTimedOut;
    T* item;
    explicit PutSlot(T* i) noexcept : item(i) { waiter.payload = this; }
  };

  bool has_room() const noexcept {
    if constexpr (kRendezvous) {
      return false;
    } else {
      return maxsize_ == 0 || items_.size() < maxsize_;
    }
  }

  QueueStatus put_impl(T& item, Deadline deadline, bool block) {
    if (shutdown_) [[unlikely]] return QueueStatus::kShutDown;
    if constexpr (kCanPeek) {
      if (!peekers_.empty()) [[unlikely]] serve_peekers(item);
    }
    if (Waiter* w = getters_.front()) {  // the buffer is empty: hand over, do not yield
      auto* slot = static_cast<GetSlot*>(w->payload);
      slot->item.emplace(std::move(item));
      slot->status = QueueStatus::kOk;
      w->wake();
      ++unfinished_;
      return QueueStatus::kOk;
    }
    if (has_room()) {
      items_.push(std::move(item));
      ++unfinished_;
      if (!watchers_.empty()) [[unlikely]] watchers_.wake_all();
      return QueueStatus::kOk;
    }
    if (!block) return QueueStatus::kTimedOut;
    PutSlot slot(&item);
    putters_.push_back(slot.waiter);
    if (!watchers_.empty()) [[unlikely]] watchers_.wake_all();  // a get can take from it now
    if (slot.waiter.wait(deadline, "queue put") == WaitStatus::kWoken) return slot.status;
    return QueueStatus::kTimedOut;
  }

  QueueResult<T> get_impl(Deadline deadline, bool block) {
    if constexpr (!kRendezvous) {
      if (!items_.empty()) {
        QueueResult<T> result(items_.pop());
        if (Waiter* w = putters_.front()) [[unlikely]] {  // space freed: the longest putter's turn
          auto* slot = static_cast<PutSlot*>(w->payload);
          items_.push(std::move(*slot->item));
          slot->status = QueueStatus::kOk;
          w->wake();
          ++unfinished_;
        }
        return result;
      }
    }
    if (Waiter* w = putters_.front()) {  // a Channel: take straight from the putter
      auto* slot = static_cast<PutSlot*>(w->payload);
      QueueResult<T> result(std::move(*slot->item));
      slot->status = QueueStatus::kOk;
      w->wake();
      ++unfinished_;
      return result;
    }
    if (shutdown_) [[unlikely]] return QueueStatus::kShutDown;
    if (!block) return QueueStatus::kTimedOut;
    GetSlot slot;
    getters_.push_back(slot.waiter);
    if (slot.waiter.wait(deadline, "queue get") == WaitStatus::kWoken) {
      if (slot.status == QueueStatus::kOk) return QueueResult<T>(std::move(*slot.item));
      return slot.status;
    }
    return QueueStatus::kTimedOut;
  }

  QueueResult<T> peek_impl(Deadline deadline, bool block) {
    if (!items_.empty()) return QueueResult<T>(items_.top());
    if (shutdown_) return QueueStatus::kShutDown;
    if (!block) return QueueStatus::kTimedOut;
    GetSlot slot;
    peekers_.push_back(slot.waiter);
    if (slot.waiter.wait(deadline, "queue peek") == WaitStatus::kWoken) {
      if (slot.status == QueueStatus::kOk) return QueueResult<T>(std::move(*slot.item));
      return slot.status;
    }
    return QueueStatus::kTimedOut;
  }

  void serve_peekers(const T& item) {
    while (Waiter* w = peekers_.front()) {
      auto* slot = static_cast<GetSlot*>(w->payload);
      slot->item.emplace(item);
      slot->status = QueueStatus::kOk;
      w->wake();
    }
  }

  template <class Slot>
  static void fail_all(WaitList& list) noexcept {
    while (Waiter* w = list.front()) {
      static_cast<Slot*>(w->payload)->status = QueueStatus::kShutDown;
      w->wake();
    }
  }

  Discipline items_;
  std::size_t maxsize_;
  std::size_t unfinished_ = 0;
  bool shutdown_ = false;
  WaitList getters_;
  WaitList peekers_;
  WaitList putters_;
  WaitList joiners_;
  WaitList watchers_;  // wait_any on wait_source(): woken (all) when a get may not have to wait
};

}  // namespace internal
}  // namespace grove
