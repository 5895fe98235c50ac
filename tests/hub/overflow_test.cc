// A greenlet that overflows its guarded stack is named on stderr before the process dies of the
// fault (hub/overflow.cc); an ordinary fault elsewhere is left to the previous handler. Past the
// guarded budget, stacks come from arenas, where a canary below each stack catches the overflow
// when the greenlet switches out, before the stack below it runs again.
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include <gtest/gtest.h>

#include "hub/fiber.h"
#include "hub/hub.h"
#include "hub/stack.h"

namespace {

// Recursion the compiler cannot turn into a loop: each level keeps a live 1 KiB frame.
[[gnu::noinline]] std::uint64_t recurse(std::uint64_t depth) {
  volatile char frame[1024];
  frame[0] = static_cast<char>(depth);
  if (depth == 0) return static_cast<std::uint64_t>(frame[0]);
  return recurse(depth - 1) + static_cast<std::uint64_t>(frame[0]);
}

// The same with small frames written in full, as most recursions write theirs (a frame that
// leaves part of a big array unwritten can step over an arena stack's canary: see hub/stack.h).
[[gnu::noinline]] std::uint64_t recurse_dense(std::uint64_t depth) {
  volatile std::uint64_t frame[16];
  for (auto& word : frame) word = depth;
  if (depth == 0) return frame[0];
  return recurse_dense(depth - 1) + frame[15];
}

void overflow_in_a_fiber() {
  grove::FiberRef deep = grove::spawn_fiber([] { (void)recurse(1u << 20); });
  (void)deep->join();
}

TEST(StackOverflowDeathTest, TheOverflowingGreenletIsNamed) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(overflow_in_a_fiber(), testing::KilledBySignal(SIGSEGV),
              "grove: greenlet Fiber-[0-9]+ overflowed its 64 KiB stack \\(fault at 0x[0-9a-f]+, "
              "[0-9]+ bytes below it\\)");
}

// Every stack from now on is carved from an arena (no guard page); `warm` freed stacks keep their
// memory, the others give it back to the kernel in batches.
void arena_stacks_only(std::size_t warm) {
  grove::StackPolicy policy = grove::stack_policy();
  policy.guarded_stack_limit = 0;
  policy.warm_stacks_kept = warm;
  grove::set_stack_policy(policy);
}

// A parked neighbour, then a greenlet that runs several KiB past the bottom of its 64 KiB arena
// stack (into the neighbour's), comes back and yields.
void overflow_an_arena_stack() {
  arena_stacks_only(8192);
  grove::FiberRef neighbour = grove::spawn_fiber([] { grove::sleep(3600.0); });
  grove::FiberRef deep = grove::spawn_fiber([] {
    (void)recurse_dense(480);  // about 160 bytes a level: 75 KiB
    grove::yield();
  });
  (void)deep->join();
  neighbour->kill();
  (void)neighbour->join();
  std::exit(0);  // not reached: the yield ends the process
}

#if defined(__SANITIZE_ADDRESS__)
// ASan may see the frames run into the neighbour's redzones and report that first.
constexpr const char* kArenaOverflowReport = "";
#else
constexpr const char* kArenaOverflowReport =
    "grove: greenlet Fiber-[0-9]+ overflowed its 64 KiB stack \\(an unguarded arena stack: the "
    "canary below it was overwritten";
#endif

TEST(StackOverflowDeathTest, AnArenaStackOverflowIsNamedAtTheNextSwitch) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(overflow_an_arena_stack(), kArenaOverflowReport);
}

// Arena stacks in heavy reuse: fibers die and are born while their neighbours run, freed stacks
// give their memory back in batches and are handed out again. No canary is ever found damaged
// (a batch that gave back the page holding a live neighbour's canary would abort here).
TEST(ArenaStacks, ReuseNeverTripsTheCanary) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        arena_stacks_only(0);
        for (int round = 0; round < 4; ++round) {
          std::vector<grove::FiberRef> fibers;
          for (int i = 0; i < 600; ++i) {
            fibers.push_back(grove::spawn_fiber([i] {
              for (int k = 0; k < 3 + i % 5; ++k) {
                (void)recurse(8);  // touches about 8 KiB of its stack
                grove::yield();
              }
            }));
          }
          for (auto& f : fibers) (void)f->join();
        }
        if (grove::stack_stats().arena_maps == 0) std::exit(2);  // premise: arena stacks
        std::exit(0);
      },
      testing::ExitedWithCode(0), "");
}

// Dies of the fault: SIGSEGV, or under a sanitizer, its report and a non-zero exit.
bool died_of_the_fault(int status) {
  return (WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) ||
         (WIFEXITED(status) && WEXITSTATUS(status) != 0);
}

TEST(StackOverflowDeathTest, AFaultElsewhereIsAnOrdinaryCrash) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        (void)grove::Hub::current();  // the handler is installed
        void* page = ::mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        static_cast<volatile char*>(page)[0] = 1;  // not below a fiber's stack
        std::exit(0);                              // not reached: the fault ends the process
      },
      died_of_the_fault, "");
}

}  // namespace
