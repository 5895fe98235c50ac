// examples/kv/packed_list.h — the list value of the Store: elements packed into chunks of
// contiguous bytes, the way redis-server's quicklist packs them into listpacks.
//
// Model: a sequence of byte strings. The elements live in chunks of at most kChunkBytes (8 KiB,
// redis's list-max-listpack-size -2); a chunk is one malloc'd buffer of entries, each entry the
// element's length, its bytes, and the length again (so a chunk reads from either end). A length
// under 128 takes one byte on each side, a longer one five. An element of `element-123` costs
// 13 bytes instead of the 32 of a std::string in a std::deque; an element larger than a chunk
// gets a chunk of its own. Each chunk keeps free room at both ends, so pushing and popping at
// either end of the list moves no other element, and a chunk that fills up is trimmed to its
// size when the next one starts.
//
// Costs: push and pop at either end are O(1) amortized; reaching index i walks the chunks from
// the nearer end, then the entries of one chunk (O(n / entries per chunk + entries per chunk),
// as in redis); visiting a range costs that once, then O(1) per element. Insert, set and erase
// in the middle move the bytes of one chunk. Element views (std::string_view) stay valid until
// the next change to the list.
//
// Thread: the server's hub; nothing here blocks.
//
//   kv::PackedList list;
//   list.push_back("b");
//   list.push_front("a");
//   list.visit(0, list.size(), [](std::string_view e) { use(e); });  // a, b
//   std::string first = list.pop_front();
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kv {

class PackedList {
 public:
  static constexpr std::size_t kChunkBytes = 8 * 1024;

  PackedList() = default;
  PackedList(const PackedList& other);
  PackedList& operator=(const PackedList&) = delete;
  PackedList(PackedList&& other) noexcept;
  PackedList& operator=(PackedList&& other) noexcept;
  ~PackedList();

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  void push_front(std::string_view element);
  void push_back(std::string_view element);
  // The first / last element (the list must not be empty).
  std::string_view front() const;
  std::string_view back() const;
  // Removes the first / last element (the list must not be empty).
  void pop_front();
  void pop_back();

  // The element at `index` (< size()).
  std::string_view at(std::size_t index) const;
  // Replaces the element at `index` (< size()).
  void set(std::size_t index, std::string_view element);
  // Inserts before the element at `index` (index == size() appends).
  void insert(std::size_t index, std::string_view element);
  // Removes the elements [first, last).
  void erase(std::size_t first, std::size_t last);
  void clear();
  // Removes up to `limit` elements equal to `value`, from the head (or from the tail when
  // `from_tail`); returns how many.
  std::size_t remove(std::string_view value, std::uint64_t limit, bool from_tail);

  // Calls f(element) for `count` elements from `first` on, in order (first + count <= size()).
  template <class F>
  void visit(std::size_t first, std::size_t count, F&& f) const {
    if (count == 0) return;
    Position p = locate(first);
    for (;;) {
      const Chunk& c = chunks_[p.chunk];
      while (p.offset < c.tail) {
        const Entry e = read_forward(c.data, p.offset);
        f(std::string_view(c.data + e.start, e.length));
        if (--count == 0) return;
        p.offset = e.next;
      }
      ++p.chunk;
      p.offset = chunks_[p.chunk].head;
    }
  }
  // Calls f(index, element) from the element at `first` to the last, while f returns true.
  template <class F>
  void visit_forward(std::size_t first, F&& f) const {
    if (first >= size_) return;
    Position p = locate(first);
    std::size_t index = first;
    for (; p.chunk < chunks_.size(); ++p.chunk) {
      const Chunk& c = chunks_[p.chunk];
      if (index != first) p.offset = c.head;
      while (p.offset < c.tail) {
        const Entry e = read_forward(c.data, p.offset);
        if (!f(index, std::string_view(c.data + e.start, e.length))) return;
        ++index;
        p.offset = e.next;
      }
    }
  }
  // Calls f(index, element) from the element at `last` back to the first, while f returns true.
  template <class F>
  void visit_backward(std::size_t last, F&& f) const {
    if (last >= size_) return;
    Position p = locate(last);
    std::size_t index = last;
    // p.offset is where element `last` starts; walk back using the trailing lengths.
    std::uint32_t end = next_offset(chunks_[p.chunk].data, p.offset);
    for (std::size_t ci = p.chunk + 1; ci-- > 0;) {
      const Chunk& c = chunks_[ci];
      if (ci != p.chunk) end = c.tail;
      while (end > c.head) {
        const Entry e = read_backward(c.data, end);
        if (!f(index, std::string_view(c.data + e.start, e.length))) return;
        if (index-- == 0) return;
        end = e.begin;
      }
    }
  }

  // Bytes held by the chunks' buffers (for tests and OBJECT-style reports).
  std::size_t allocated_bytes() const;
  std::size_t chunk_count() const { return chunks_.size(); }

 private:
  struct Chunk {
    char* data = nullptr;        // malloc'd, `capacity` bytes
    std::uint32_t capacity = 0;
    std::uint32_t head = 0;      // entries occupy [head, tail)
    std::uint32_t tail = 0;
    std::uint32_t count = 0;     // entries in the chunk
    std::uint32_t used() const { return tail - head; }
  };
  struct Entry {
    std::uint32_t begin;   // where the entry (its header) starts
    std::uint32_t start;   // where the element's bytes start
    std::uint32_t length;  // the element's length
    std::uint32_t next;    // one past the entry (its trailer)
  };
  struct Position {
    std::size_t chunk;
    std::uint32_t offset;  // where the entry starts in that chunk
  };

  static std::size_t encoded_size(std::size_t length) {
    return length < 128 ? length + 2 : length + 10;
  }
  // Writes the entry of `element` at `to` (encoded_size bytes).
  static void encode(char* to, std::string_view element);
  static Entry read_forward(const char* data, std::uint32_t offset);
  static Entry read_backward(const char* data, std::uint32_t end);
  static std::uint32_t next_offset(const char* data, std::uint32_t offset) {
    return read_forward(data, offset).next;
  }

  // Where element `index` starts.
  Position locate(std::size_t index) const;
  // Room for `bytes` more at the front (or back) of chunk `c`, moving it to a larger buffer.
  static void reserve(Chunk& c, std::size_t bytes, bool at_front);
  // Shrinks a chunk's buffer to its entries (a chunk the list has moved past).
  static void trim(Chunk& c);
  // Replaces bytes [from, to) of chunk `c` by `bytes`.
  static void splice(Chunk& c, std::uint32_t from, std::uint32_t to, std::string_view bytes);
  static void release(Chunk& c);
  void erase_chunk(std::size_t index);

  std::vector<Chunk> chunks_;
  std::size_t size_ = 0;
};

}  // namespace kv
