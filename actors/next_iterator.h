// actors/next_iterator.h — range-for over anything that hands out values one at a time.
//
// Model: a source has `std::optional<T> next()`, which waits for the next value and returns
// nullopt after the last one (Group::imap, gevent's iwait, a thread pool's imap). A source
// offers `begin()`/`end()` as NextIterator<Source, T>(this) and NextIterator<Source, T>(); each
// ++ calls next() once, so a failure next() throws comes out of the loop's ++ (or begin()), and
// a value is taken only as the loop asks for it. A single-pass input iterator: copies share the
// source, not the position.
//
// Thread: whatever the source's next() allows (for grove's sources: one hub's fibers).
//
//   for (int size : pool.imap(fetch_size, urls)) total += size;   // imap: a NextIterator source
#pragma once

#include <cstddef>
#include <iterator>
#include <optional>

namespace grove {

template <class Source, class T>
class NextIterator {
 public:
  using iterator_category = std::input_iterator_tag;
  using value_type = T;
  using difference_type = std::ptrdiff_t;

  NextIterator() = default;  // the end
  explicit NextIterator(Source* source) : source_(source) { ++*this; }

  T& operator*() { return *value_; }
  T* operator->() { return &*value_; }
  NextIterator& operator++() {
    value_ = source_->next();
    if (!value_) source_ = nullptr;
    return *this;
  }
  void operator++(int) { ++*this; }
  friend bool operator==(const NextIterator& a, const NextIterator& b) {
    return a.source_ == b.source_;
  }

 private:
  Source* source_ = nullptr;
  std::optional<T> value_;
};

}  // namespace grove
