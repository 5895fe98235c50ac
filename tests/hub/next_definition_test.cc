// tests/hub/next_definition_test.cc — hub/internal/next_definition.h, the lookup both monkey.cc
// files forward through: a GROVE_NEXT pointer starts at its stub, resolves libc's definition on
// the first call and keeps it; a symbol libc lacks ends the process with a line naming it.
#include "hub/internal/next_definition.h"

#include <gtest/gtest.h>
#include <sys/types.h>
#include <unistd.h>

#include <atomic>

namespace {

GROVE_NEXT(getpid, pid_t, (), ())
GROVE_NEXT(getppid, pid_t, (), ())

TEST(NextDefinition, FindsLibcsDefinition) {
  auto fn = grove::internal::next_definition<pid_t (*)()>("getpid");
  ASSERT_NE(fn, nullptr);
  EXPECT_EQ(fn(), ::getpid());
}

TEST(NextDefinition, TheFirstCallResolvesAndLaterCallsGoStraightToLibc) {
  EXPECT_EQ(next_getppid.load(), &first_getppid) << "nothing resolved before the first call";
  EXPECT_EQ(next_getppid.load()(), ::getppid()) << "the stub calls the real definition";
  auto resolved = next_getppid.load();
  EXPECT_NE(resolved, &first_getppid) << "the stub replaced itself";
  EXPECT_EQ(resolved, grove::internal::next_definition<pid_t (*)()>("getppid"));
  EXPECT_EQ(next_getppid.load()(), ::getppid());
  EXPECT_EQ(next_getppid.load(), resolved) << "resolved once";
  EXPECT_EQ(next_getpid.load()(), ::getpid());
}

TEST(NextDefinition, AMissingSymbolEndsTheProcessNamingIt) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH((void)grove::internal::next_definition<void (*)()>("grove_no_such_libc_call"),
               "grove: monkey: libc has no grove_no_such_libc_call");
}

}  // namespace
