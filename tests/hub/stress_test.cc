// Many fibers: created, parked, killed, with nothing leaked (run under asan for LSan), and the
// stack pool reused.
#include <vector>

#include "hub/hub.h"
#include "hub/stack.h"
#include "tests/support/grove_test.h"

namespace grove {
namespace {

struct Counted {
  static inline int alive = 0;
  Counted() { ++alive; }
  ~Counted() { --alive; }
};

GROVE_TEST(Stress, HundredThousandFibersParkedThenKilledLeaveNothing) {
#if defined(__SANITIZE_THREAD__)
  constexpr int kFibers = 1000;  // ThreadSanitizer maps a 1 MiB trace per live fiber
#else
  constexpr int kFibers = 100000;
#endif
  const std::size_t alive_before = Hub::current().stats().fibers_alive;  // the test body itself
  std::vector<FiberRef> fibers;
  fibers.reserve(kFibers);
  for (int i = 0; i < kFibers; ++i) {
    fibers.push_back(spawn_fiber([] {
      auto held = std::make_unique<Counted>();  // must be freed by the kill's unwinding
      sleep(60.0);
    }));
  }
  sleep(0.0);
  while (Hub::current().stats().ready > 0) sleep(0.0);
  EXPECT_EQ(Counted::alive, kFibers);
  EXPECT_EQ(Hub::current().stats().fibers_alive, alive_before + kFibers);
  for (auto& f : fibers) f->kill();
  for (auto& f : fibers) ASSERT_TRUE(f->join());
  EXPECT_EQ(Counted::alive, 0);
  EXPECT_EQ(Hub::current().stats().fibers_alive, alive_before);
}

GROVE_TEST(Stress, StacksAreReusedAcrossSpawns) {
  for (int i = 0; i < 100; ++i) {
    FiberRef f = spawn_fiber([] {});
    ASSERT_TRUE(f->join());
  }
  const StackStats before = stack_stats();
  const std::size_t pooled_before = Hub::current().stats().stacks_pooled;
#if defined(__SANITIZE_THREAD__)
  constexpr int kCycles = 500;  // creating a TSan fiber context costs milliseconds
#else
  constexpr int kCycles = 10000;
#endif
  for (int i = 0; i < kCycles; ++i) {
    FiberRef f = spawn_fiber([] {});
    ASSERT_TRUE(f->join());
  }
  const StackStats after = stack_stats();
  EXPECT_EQ(after.guarded_in_use, before.guarded_in_use) << "no new stack was mapped";
  EXPECT_EQ(after.arena_maps, before.arena_maps);
  EXPECT_EQ(Hub::current().stats().stacks_pooled, pooled_before);
}

GROVE_TEST(Stress, CustomStackSizeIsHonoured) {
  std::size_t size = 0;
  FiberRef f = spawn_fiber([&] { size = Hub::current().current_fiber().stack_size(); },
                           SpawnOptions{256 * 1024});
  ASSERT_TRUE(f->join());
  EXPECT_EQ(size, 256u * 1024u);
  FiberRef g = spawn_fiber([&] { size = Hub::current().current_fiber().stack_size(); });
  ASSERT_TRUE(g->join());
  EXPECT_EQ(size, stack_policy().default_size);
}

GROVE_TEST(Stress, DeepButBoundedRecursionFitsTheDefaultStack) {
  struct Recurse {
    static int go(int n) {
      volatile char pad[256];
      pad[0] = static_cast<char>(n);
      return n == 0 ? pad[0] : go(n - 1) + 1;
    }
  };
  int result = 0;
  FiberRef f = spawn_fiber([&] { result = Recurse::go(100); });
  ASSERT_TRUE(f->join());
  EXPECT_EQ(result, 100);
}

}  // namespace
}  // namespace grove
