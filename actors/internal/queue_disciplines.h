// actors/internal/queue_disciplines.h — the containers behind the queues: FIFO ring buffer,
// LIFO stack, binary heap, and the empty "rendezvous" discipline of Channel.
//
// A discipline has: empty(), size(), push(T&&), pop() -> T (the next item to get), top() (the
// item pop() would return), clear(); and kRendezvous (true only for Channel: it holds nothing).
// No per-item allocation: storage grows geometrically and is reused.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <functional>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace grove::internal {

// A growable power-of-two ring of T.
template <class T>
class Ring {
 public:
  Ring() = default;
  Ring(Ring&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)),
        head_(std::exchange(o.head_, 0)),
        size_(std::exchange(o.size_, 0)),
        capacity_(std::exchange(o.capacity_, 0)) {}
  Ring& operator=(Ring&&) = delete;
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;
  ~Ring() {
    clear();
    if (data_ != nullptr) std::allocator<T>().deallocate(data_, capacity_);
  }

  bool empty() const noexcept { return size_ == 0; }
  std::size_t size() const noexcept { return size_; }

  void push_back(T&& value) {
    if (size_ == capacity_) [[unlikely]] grow();
    ::new (static_cast<void*>(data_ + ((head_ + size_) & (capacity_ - 1)))) T(std::move(value));
    ++size_;
  }
  T& front() noexcept { return data_[head_]; }
  const T& front() const noexcept { return data_[head_]; }
  T pop_front() {
    T& slot = data_[head_];
    T value(std::move(slot));
    slot.~T();
    head_ = (head_ + 1) & (capacity_ - 1);
    --size_;
    return value;
  }
  void clear() noexcept {
    while (size_ > 0) {
      data_[head_].~T();
      head_ = (head_ + 1) & (capacity_ - 1);
      --size_;
    }
    head_ = 0;
  }

 private:
  void grow() {
    const std::size_t capacity = capacity_ == 0 ? 16 : capacity_ * 2;
    T* data = std::allocator<T>().allocate(capacity);
    for (std::size_t i = 0; i < size_; ++i) {
      T& from = data_[(head_ + i) & (capacity_ - 1)];
      ::new (static_cast<void*>(data + i)) T(std::move(from));
      from.~T();
    }
    if (data_ != nullptr) std::allocator<T>().deallocate(data_, capacity_);
    data_ = data;
    capacity_ = capacity;
    head_ = 0;
  }

  T* data_ = nullptr;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

template <class T>
struct FifoDiscipline {
  static constexpr bool kRendezvous = false;
  bool empty() const noexcept { return items.empty(); }
  std::size_t size() const noexcept { return items.size(); }
  void push(T&& v) { items.push_back(std::move(v)); }
  T pop() { return items.pop_front(); }
  const T& top() const noexcept { return items.front(); }
  void clear() noexcept { items.clear(); }
  Ring<T> items;
};

template <class T>
struct LifoDiscipline {
  static constexpr bool kRendezvous = false;
  bool empty() const noexcept { return items.empty(); }
  std::size_t size() const noexcept { return items.size(); }
  void push(T&& v) { items.push_back(std::move(v)); }
  T pop() {
    T v(std::move(items.back()));
    items.pop_back();
    return v;
  }
  const T& top() const noexcept { return items.back(); }
  void clear() noexcept { items.clear(); }
  std::vector<T> items;
};

// pop() returns the least item by `Compare` (heapq's order: smallest first).
template <class T, class Compare>
struct PriorityDiscipline {
  static constexpr bool kRendezvous = false;
  PriorityDiscipline() = default;
  explicit PriorityDiscipline(Compare c) : less(std::move(c)) {}
  bool empty() const noexcept { return items.empty(); }
  std::size_t size() const noexcept { return items.size(); }
  void push(T&& v) {
    items.push_back(std::move(v));
    std::push_heap(items.begin(), items.end(), greater());
  }
  T pop() {
    std::pop_heap(items.begin(), items.end(), greater());
    T v(std::move(items.back()));
    items.pop_back();
    return v;
  }
  const T& top() const noexcept { return items.front(); }
  void clear() noexcept { items.clear(); }

  auto greater() const {
    return [this](const T& a, const T& b) { return less(b, a); };
  }
  std::vector<T> items;
  Compare less;
};

// Channel: holds nothing; every put meets a get.
template <class T>
struct RendezvousDiscipline {
  static constexpr bool kRendezvous = true;
  bool empty() const noexcept { return true; }
  std::size_t size() const noexcept { return 0; }
  void push(T&&) { std::abort(); }
  T pop() { std::abort(); }
  const T& top() const { std::abort(); }
  void clear() noexcept {}
};

}  // namespace grove::internal
