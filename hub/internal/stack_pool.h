// hub/internal/stack_pool.h — per-thread pool of fiber stacks (policy in hub/stack.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "hub/stack.h"

namespace grove::internal {

// Stack, kStackCanary and kCanaryReserve are defined in hub/stack.h (a Fiber holds a Stack).

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
