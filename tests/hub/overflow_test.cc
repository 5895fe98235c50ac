// A greenlet that overflows its guarded stack is named on stderr before the process dies of the
// fault (hub/overflow.cc); an ordinary fault elsewhere is left to the previous handler.
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include <gtest/gtest.h>

#include "hub/fiber.h"
#include "hub/hub.h"

namespace {

// Recursion the compiler cannot turn into a loop: each level keeps a live 1 KiB frame.
[[gnu::noinline]] std::uint64_t recurse(std::uint64_t depth) {
  volatile char frame[1024];
  frame[0] = static_cast<char>(depth);
  if (depth == 0) return static_cast<std::uint64_t>(frame[0]);
  return recurse(depth - 1) + static_cast<std::uint64_t>(frame[0]);
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
