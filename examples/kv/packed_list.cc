// examples/kv/packed_list.cc — the packed list (see packed_list.h).
#include "examples/kv/packed_list.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

namespace kv {
namespace {

constexpr std::uint8_t kLongLength = 0x80;  // marks a five-byte length (a byte, then u32)
constexpr std::uint32_t kMinCapacity = 32;

char* allocate(std::size_t bytes) {
  void* p = std::malloc(bytes);
  if (p == nullptr) throw std::bad_alloc();
  return static_cast<char*>(p);
}

std::uint32_t load_u32(const char* from) {
  std::uint32_t v;
  std::memcpy(&v, from, sizeof v);
  return v;
}

}  // namespace

PackedList::PackedList(const PackedList& other) : size_(other.size_) {
  chunks_.reserve(other.chunks_.size());
  for (const Chunk& from : other.chunks_) {
    Chunk c;
    c.capacity = std::max(from.used(), kMinCapacity);
    c.data = allocate(c.capacity);
    std::memcpy(c.data, from.data + from.head, from.used());
    c.tail = from.used();
    c.count = from.count;
    chunks_.push_back(c);
  }
}

PackedList::PackedList(PackedList&& other) noexcept
    : chunks_(std::move(other.chunks_)), size_(std::exchange(other.size_, 0)) {
  other.chunks_.clear();
}

PackedList& PackedList::operator=(PackedList&& other) noexcept {
  if (this != &other) {
    clear();
    chunks_ = std::move(other.chunks_);
    other.chunks_.clear();
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

PackedList::~PackedList() { clear(); }

void PackedList::clear() {
  for (Chunk& c : chunks_) release(c);
  chunks_.clear();
  size_ = 0;
}

void PackedList::release(Chunk& c) {
  std::free(c.data);
  c.data = nullptr;
}

void PackedList::encode(char* to, std::string_view element) {
  const auto length = static_cast<std::uint32_t>(element.size());
  if (length < 128) {
    to[0] = static_cast<char>(length);
    std::memcpy(to + 1, element.data(), length);
    to[1 + length] = static_cast<char>(length);
    return;
  }
  to[0] = static_cast<char>(kLongLength);
  std::memcpy(to + 1, &length, 4);
  std::memcpy(to + 5, element.data(), length);
  std::memcpy(to + 5 + length, &length, 4);
  to[9 + length] = static_cast<char>(kLongLength);
}

PackedList::Entry PackedList::read_forward(const char* data, std::uint32_t offset) {
  const auto first = static_cast<std::uint8_t>(data[offset]);
  if (first < 128) return {offset, offset + 1, first, offset + 2 + first};
  const std::uint32_t length = load_u32(data + offset + 1);
  return {offset, offset + 5, length, offset + 10 + length};
}

PackedList::Entry PackedList::read_backward(const char* data, std::uint32_t end) {
  const auto last = static_cast<std::uint8_t>(data[end - 1]);
  if (last < 128) return {end - 2 - last, end - 1 - last, last, end};
  const std::uint32_t length = load_u32(data + end - 5);
  return {end - 10 - length, end - 5 - length, length, end};
}

std::size_t PackedList::allocated_bytes() const {
  std::size_t total = 0;
  for (const Chunk& c : chunks_) total += c.capacity;
  return total;
}

void PackedList::reserve(Chunk& c, std::size_t bytes, bool at_front) {
  const std::size_t room = at_front ? c.head : c.capacity - c.tail;
  if (room >= bytes) return;
  const std::size_t used = c.used();
  const std::size_t other_room = at_front ? c.capacity - c.tail : c.head;
  if (other_room >= bytes && c.capacity >= kChunkBytes / 2) {
    // A full-size buffer with room on the other side: slide the entries over.
    const std::size_t to = at_front ? c.capacity - used : 0;
    std::memmove(c.data + to, c.data + c.head, used);
    c.head = static_cast<std::uint32_t>(to);
    c.tail = static_cast<std::uint32_t>(to + used);
    return;
  }
  // Grow by half again (at least what is asked), capped near the chunk size unless one element
  // needs more; the free room goes on the side that is growing.
  std::size_t capacity = std::max<std::size_t>(used + bytes, (used + bytes) * 3 / 2);
  capacity = std::max<std::size_t>(capacity, kMinCapacity);
  if (capacity > kChunkBytes) capacity = std::max(kChunkBytes, used + bytes);
  char* data = allocate(capacity);
  const std::size_t to = at_front ? capacity - used : 0;
  if (used > 0) std::memcpy(data + to, c.data + c.head, used);
  std::free(c.data);
  c.data = data;
  c.capacity = static_cast<std::uint32_t>(capacity);
  c.head = static_cast<std::uint32_t>(to);
  c.tail = static_cast<std::uint32_t>(to + used);
}

void PackedList::trim(Chunk& c) {
  const std::uint32_t used = c.used();
  if (c.capacity - used < 64) return;
  char* data = allocate(std::max(used, kMinCapacity));
  std::memcpy(data, c.data + c.head, used);
  std::free(c.data);
  c.data = data;
  c.capacity = std::max(used, kMinCapacity);
  c.head = 0;
  c.tail = used;
}

void PackedList::push_front(std::string_view element) {
  const std::size_t bytes = encoded_size(element.size());
  if (chunks_.empty() || chunks_.front().used() + bytes > kChunkBytes) {
    if (!chunks_.empty()) trim(chunks_.front());
    chunks_.insert(chunks_.begin(), Chunk{});
  }
  Chunk& c = chunks_.front();
  reserve(c, bytes, true);
  c.head -= static_cast<std::uint32_t>(bytes);
  encode(c.data + c.head, element);
  ++c.count;
  ++size_;
}

void PackedList::push_back(std::string_view element) {
  const std::size_t bytes = encoded_size(element.size());
  if (chunks_.empty() || chunks_.back().used() + bytes > kChunkBytes) {
    if (!chunks_.empty()) trim(chunks_.back());
    chunks_.push_back(Chunk{});
  }
  Chunk& c = chunks_.back();
  reserve(c, bytes, false);
  encode(c.data + c.tail, element);
  c.tail += static_cast<std::uint32_t>(bytes);
  ++c.count;
  ++size_;
}

std::string_view PackedList::front() const {
  const Chunk& c = chunks_.front();
  const Entry e = read_forward(c.data, c.head);
  return {c.data + e.start, e.length};
}

std::string_view PackedList::back() const {
  const Chunk& c = chunks_.back();
  const Entry e = read_backward(c.data, c.tail);
  return {c.data + e.start, e.length};
}

void PackedList::erase_chunk(std::size_t index) {
  release(chunks_[index]);
  chunks_.erase(chunks_.begin() + static_cast<std::ptrdiff_t>(index));
}

void PackedList::pop_front() {
  Chunk& c = chunks_.front();
  c.head = read_forward(c.data, c.head).next;
  --size_;
  if (--c.count == 0) erase_chunk(0);
}

void PackedList::pop_back() {
  Chunk& c = chunks_.back();
  c.tail = read_backward(c.data, c.tail).begin;
  --size_;
  if (--c.count == 0) erase_chunk(chunks_.size() - 1);
}

PackedList::Position PackedList::locate(std::size_t index) const {
  std::size_t ci = 0;
  std::size_t local = index;
  if (index < size_ / 2) {
    while (local >= chunks_[ci].count) local -= chunks_[ci++].count;
  } else {
    ci = chunks_.size() - 1;
    std::size_t from_end = size_ - 1 - index;  // position counted from the last element
    while (from_end >= chunks_[ci].count) from_end -= chunks_[ci--].count;
    local = chunks_[ci].count - 1 - from_end;
  }
  const Chunk& c = chunks_[ci];
  if (local <= c.count / 2) {
    std::uint32_t offset = c.head;
    for (std::size_t i = 0; i < local; ++i) offset = next_offset(c.data, offset);
    return {ci, offset};
  }
  std::uint32_t end = c.tail;
  for (std::size_t i = c.count; i > local; --i) end = read_backward(c.data, end).begin;
  return {ci, end};
}

std::string_view PackedList::at(std::size_t index) const {
  const Position p = locate(index);
  const Entry e = read_forward(chunks_[p.chunk].data, p.offset);
  return {chunks_[p.chunk].data + e.start, e.length};
}

void PackedList::splice(Chunk& c, std::uint32_t from, std::uint32_t to, std::string_view bytes) {
  const std::size_t removed = to - from;
  if (bytes.size() > removed) {
    const std::size_t extra = bytes.size() - removed;
    if (c.capacity - c.tail < extra) {
      const std::uint32_t head = c.head;
      reserve(c, extra, false);  // moves the entries to offset 0 of a new buffer
      from = from - head + c.head;
      to = to - head + c.head;
    }
  }
  std::memmove(c.data + from + bytes.size(), c.data + to, c.tail - to);
  if (!bytes.empty()) std::memcpy(c.data + from, bytes.data(), bytes.size());
  c.tail = static_cast<std::uint32_t>(c.tail - removed + bytes.size());
}

void PackedList::set(std::size_t index, std::string_view element) {
  const Position p = locate(index);
  Chunk& c = chunks_[p.chunk];
  const Entry e = read_forward(c.data, p.offset);
  std::string bytes(encoded_size(element.size()), '\0');
  encode(bytes.data(), element);
  splice(c, e.begin, e.next, bytes);
}

void PackedList::insert(std::size_t index, std::string_view element) {
  if (index == 0) return push_front(element);
  if (index == size_) return push_back(element);
  const Position p = locate(index);
  std::string bytes(encoded_size(element.size()), '\0');
  encode(bytes.data(), element);
  Chunk& c = chunks_[p.chunk];
  if (c.used() + bytes.size() > kChunkBytes) {
    // Split the chunk at the insertion point: [index...] moves to a new chunk after it.
    Chunk rest;
    std::uint32_t moved = 0;
    for (std::uint32_t o = p.offset; o < c.tail; o = next_offset(c.data, o)) ++moved;
    const std::uint32_t rest_bytes = c.tail - p.offset;
    rest.capacity = std::max(rest_bytes, kMinCapacity);
    rest.data = allocate(rest.capacity);
    std::memcpy(rest.data, c.data + p.offset, rest_bytes);
    rest.tail = rest_bytes;
    rest.count = moved;
    c.tail = p.offset;
    c.count -= moved;
    chunks_.insert(chunks_.begin() + static_cast<std::ptrdiff_t>(p.chunk) + 1, rest);
    Chunk& before = chunks_[p.chunk];
    reserve(before, bytes.size(), false);
    std::memcpy(before.data + before.tail, bytes.data(), bytes.size());
    before.tail += static_cast<std::uint32_t>(bytes.size());
    ++before.count;
  } else {
    splice(c, p.offset, p.offset, bytes);
    ++c.count;
  }
  ++size_;
}

void PackedList::erase(std::size_t first, std::size_t last) {
  last = std::min(last, size_);
  while (first < last) {
    const Position p = locate(first);
    Chunk& c = chunks_[p.chunk];
    std::uint32_t end = p.offset;
    std::uint32_t removed = 0;
    while (end < c.tail && first + removed < last) {
      end = next_offset(c.data, end);
      ++removed;
    }
    size_ -= removed;
    last -= removed;
    if (removed == c.count) {
      erase_chunk(p.chunk);
      continue;
    }
    if (p.offset == c.head) {
      c.head = end;  // from the front: nothing moves
    } else {
      splice(c, p.offset, end, {});
    }
    c.count -= removed;
  }
}

std::size_t PackedList::remove(std::string_view value, std::uint64_t limit, bool from_tail) {
  // The indexes to remove, then one pass that rebuilds the list without them.
  std::vector<std::size_t> doomed;
  if (from_tail) {
    visit_backward(size_ == 0 ? 0 : size_ - 1, [&](std::size_t i, std::string_view e) {
      if (e == value) doomed.push_back(i);
      return doomed.size() < limit;
    });
    std::reverse(doomed.begin(), doomed.end());
  } else {
    std::size_t i = 0;
    if (size_ > 0) {
      visit(0, size_, [&](std::string_view e) {
        if (doomed.size() < limit && e == value) doomed.push_back(i);
        ++i;
      });
    }
  }
  if (doomed.empty()) return 0;
  PackedList kept;
  std::size_t i = 0, next = 0;
  visit(0, size_, [&](std::string_view e) {
    if (next < doomed.size() && doomed[next] == i) {
      ++next;
    } else {
      kept.push_back(e);
    }
    ++i;
  });
  *this = std::move(kept);
  return doomed.size();
}

}  // namespace kv
