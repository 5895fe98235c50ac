// hub/internal/stack_pool.h — per-thread pool of fiber stacks (policy in hub/stack.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace grove::internal {

// An arena stack has no guard page below it: an overflow would run into the stack carved below
// it. So the last word of the stack below (or of a spare page below the arena's first stack)
// holds this value, and the hub checks it every time a fiber switches out (one compare): a word
// that changed means the fiber ran past its bottom, and the process stops before the neighbour
// runs on a damaged stack. The word shares a page with the neighbour's first frames, which are
// resident anyway, so the canary costs no memory.
inline constexpr std::uint64_t kStackCanary = 0x9e3779b97f4a7c15ull;
// Guarded stacks (and a thread's own stack) point at this word instead: never overwritten.
extern const std::uint64_t kIntactCanary;
// Bytes at the top of every arena stack kept for the canary of the stack above it.
inline constexpr std::size_t kCanaryReserve = 16;

struct Stack {
  void* bottom = nullptr;  // lowest usable address
  std::size_t size = 0;    // the size class (an arena stack's fiber gets usable_size())
  bool guarded = false;
  bool from_arena = false;
  // The word below `bottom` that an overflow overwrites first (arena stacks), or kIntactCanary.
  const std::uint64_t* canary = &kIntactCanary;

  std::size_t usable_size() const noexcept { return from_arena ? size - kCanaryReserve : size; }
  bool canary_intact() const noexcept { return *canary == kStackCanary; }
};

class StackPool {
 public:
  StackPool() = default;
  StackPool(const StackPool&) = delete;
  StackPool& operator=(const StackPool&) = delete;
  ~StackPool();

  // A stack of at least `size` bytes (0 = the policy's default).
  Stack allocate(std::size_t size);
  void release(Stack stack);

  std::size_t pooled() const;

 private:
  // Freed stacks of one size: `warm` keep their memory (reused first, LIFO), `cold` gave it
  // back to the kernel (beyond the warm budget). Between the two, `releasing` collects stacks
  // beyond the warm budget until a batch is full: then adjacent ones give their memory back in
  // one madvise/munmap, since every such call costs a TLB shootdown on every core.
  struct SizeClass {
    std::size_t size;
    std::vector<Stack> warm;
    std::vector<Stack> releasing;
    std::vector<Stack> cold;
  };
  SizeClass& size_class(std::size_t size);
  Stack take(std::size_t size);  // allocate without the sanitizer bookkeeping
  Stack map_stack(std::size_t size);
  void release_batch(SizeClass& cls);

  std::vector<SizeClass> classes_;
  // Unused tail of the current arena for the default size.
  char* arena_next_ = nullptr;
  std::size_t arena_left_ = 0;
  std::size_t arena_stack_size_ = 0;
  std::vector<std::pair<void*, std::size_t>> arenas_;
};

}  // namespace grove::internal
