// hub/internal/stack_pool.cc — mmap'd stacks: guarded while the map budget lasts, then arenas.
#include "hub/internal/stack_pool.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <new>
#include <string>

#include "hub/internal/env.h"
#include "hub/stack.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

namespace grove {
namespace {

constexpr std::size_t kStacksPerArena = 256;
constexpr std::size_t kReleaseBatch = 128;

std::mutex policy_mutex;
StackPolicy& policy_storage() {
  static StackPolicy policy = [] {
    StackPolicy p;
    p.guarded_stack_limit =
        internal::env_count("GROVE_GUARDED_STACKS", 0, 1u << 30, p.guarded_stack_limit);
    return p;
  }();
  return policy;
}

std::atomic<std::size_t> guarded_in_use{0};
// Mirrors of the policy read on the spawn path, so it takes no lock.
std::atomic<std::size_t> default_size_now{StackPolicy{}.default_size};
std::atomic<std::size_t> warm_kept_now{StackPolicy{}.warm_stacks_kept};
std::atomic<std::size_t> arena_maps{0};

std::size_t page_size() {
  static const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  return page;
}

std::size_t round_to_pages(std::size_t n) {
  const std::size_t page = page_size();
  return (n + page - 1) / page * page;
}

}  // namespace

StackPolicy stack_policy() {
  std::lock_guard lock(policy_mutex);
  return policy_storage();
}

void set_stack_policy(const StackPolicy& policy) {
  std::lock_guard lock(policy_mutex);
  StackPolicy p = policy;
  p.default_size = std::max<std::size_t>(round_to_pages(p.default_size), 4 * page_size());
  policy_storage() = p;
  default_size_now.store(p.default_size, std::memory_order_relaxed);
  warm_kept_now.store(p.warm_stacks_kept, std::memory_order_relaxed);
}

StackStats stack_stats() { return StackStats{guarded_in_use.load(), arena_maps.load()}; }

namespace internal {

const std::uint64_t kIntactCanary = kStackCanary;

StackPool::~StackPool() {
  for (auto& cls : classes_) {
    for (auto* list : {&cls.warm, &cls.releasing, &cls.cold}) {
      for (Stack& s : *list) {
        if (!s.from_arena) {
          ::munmap(static_cast<char*>(s.bottom) - page_size(), s.size + page_size());
          guarded_in_use.fetch_sub(1);
        }
      }
    }
  }
  for (auto& [base, size] : arenas_) ::munmap(base, size);
}

StackPool::SizeClass& StackPool::size_class(std::size_t size) {
  for (auto& cls : classes_) {
    if (cls.size == size) return cls;
  }
  classes_.push_back(SizeClass{size, {}, {}, {}});
  return classes_.back();
}

std::size_t StackPool::pooled() const {
  std::size_t n = 0;
  for (const auto& cls : classes_) n += cls.warm.size() + cls.releasing.size() + cls.cold.size();
  return n;
}

Stack StackPool::allocate(std::size_t size) {
  Stack s = take(size);
  // Arena stacks: (re)arm the canary below the bottom; its memory was given back to the
  // kernel, or overwritten, since the last fiber used it.
  if (s.from_arena) *const_cast<std::uint64_t*>(s.canary) = kStackCanary;
#if defined(__SANITIZE_ADDRESS__)
  // A stack starts with a clean shadow. The frames a fiber leaves when it switches away for the
  // last time (or when its hub goes away while it is parked) never return, so their redzones
  // stay poisoned: on this memory reused, or mapped again at the same address, the next fiber
  // would trip over them wherever a prologue does not rewrite every shadow byte (uninstrumented
  // libraries above all).
  ASAN_UNPOISON_MEMORY_REGION(s.bottom, s.size);
#endif
  return s;
}

Stack StackPool::take(std::size_t size) {
  size = size == 0 ? default_size_now.load(std::memory_order_relaxed) : std::max(round_to_pages(size), 4 * page_size());
  SizeClass& cls = size_class(size);
  for (auto* list : {&cls.warm, &cls.releasing, &cls.cold}) {
    if (!list->empty()) {
      Stack s = list->back();
      list->pop_back();
      return s;
    }
  }
  return map_stack(size);
}

Stack StackPool::map_stack(std::size_t size) {
  const StackPolicy policy = stack_policy();
  const std::size_t page = page_size();
  // Guarded while the process-wide budget lasts.
  if (guarded_in_use.fetch_add(1) < policy.guarded_stack_limit) {
    void* base = ::mmap(nullptr, size + page, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) {
      guarded_in_use.fetch_sub(1);
      throw std::bad_alloc();
    }
    if (::mprotect(base, page, PROT_NONE) == 0) {
      ::madvise(static_cast<char*>(base) + page, size, MADV_NOHUGEPAGE);
      return Stack{static_cast<char*>(base) + page, size, true, false};
    }
    // No kernel map left to split off a guard page (vm.max_map_count): carve from an arena.
    ::munmap(base, size + page);
  }
  guarded_in_use.fetch_sub(1);
  // Carved from an arena: stacks of one size class share one map. Each stack's canary is the last
  // word of the stack below it (kCanaryReserve); the first stack's is in a spare page below.
  if (arena_left_ == 0 || arena_stack_size_ != size) {
    if (size > (std::numeric_limits<std::size_t>::max() - page) / kStacksPerArena) {
      throw std::bad_alloc();
    }
    const std::size_t bytes = page + size * kStacksPerArena;
    void* base = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED) throw std::bad_alloc();
    ::madvise(base, bytes, MADV_NOHUGEPAGE);
    arenas_.emplace_back(base, bytes);
    arena_maps.fetch_add(1);
    arena_next_ = static_cast<char*>(base) + page;
    arena_left_ = kStacksPerArena;
    arena_stack_size_ = size;
  }
  Stack s{arena_next_, size, false, true};
  s.canary = reinterpret_cast<const std::uint64_t*>(arena_next_) - 1;
  arena_next_ += size;
  --arena_left_;
  return s;
}

void StackPool::release(Stack stack) {
  SizeClass& cls = size_class(stack.size);
  if (cls.warm.size() < warm_kept_now.load(std::memory_order_relaxed)) {
    cls.warm.push_back(stack);
    return;
  }
  // Beyond the warm budget: guarded stacks go back to the kernel; arena stacks stay mapped but
  // drop their memory, and are reused only after every warm one. In batches (see the header).
  cls.releasing.push_back(stack);
  if (cls.releasing.size() >= kReleaseBatch) release_batch(cls);
}

void StackPool::release_batch(SizeClass& cls) {
  const std::size_t page = page_size();
  std::vector<Stack>& batch = cls.releasing;
  std::sort(batch.begin(), batch.end(),
            [](const Stack& a, const Stack& b) { return a.bottom < b.bottom; });
  // Walks runs of stacks that sit back to back in memory (a guarded stack's run includes the
  // guard page below each stack).
  std::size_t i = 0;
  while (i < batch.size()) {
    const bool arena = batch[i].from_arena;
    const std::size_t below = arena ? 0 : page;
    char* start = static_cast<char*>(batch[i].bottom) - below;
    char* end = static_cast<char*>(batch[i].bottom) + batch[i].size;
    std::size_t j = i + 1;
    while (j < batch.size() && batch[j].from_arena == arena &&
           static_cast<char*>(batch[j].bottom) - below == end) {
      end = static_cast<char*>(batch[j].bottom) + batch[j].size;
      ++j;
    }
    if (arena) {
      // The run's last page keeps its memory: it holds the canary of the stack above the run,
      // which may be in use.
      if (end - start > static_cast<std::ptrdiff_t>(page)) {
        ::madvise(start, static_cast<std::size_t>(end - start) - page, MADV_DONTNEED);
      }
      for (std::size_t k = i; k < j; ++k) cls.cold.push_back(batch[k]);
    } else {
      ::munmap(start, static_cast<std::size_t>(end - start));
      guarded_in_use.fetch_sub(j - i);
    }
    i = j;
  }
  batch.clear();
}

}  // namespace internal
}  // namespace grove
