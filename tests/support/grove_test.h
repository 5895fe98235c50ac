// tests/support/grove_test.h — GROVE_TEST: a GoogleTest test whose body runs as a fiber on a
// fresh hub, with a deadline, failing on anything the hub reported.
//
//   GROVE_TEST(Event, SetWakesEveryWaiter) {
//     grove::Event e;
//     ...
//     EXPECT_TRUE(e.wait_for(1s));
//   }
//
// The body may use ASSERT_* (it returns from the body). The deadline is
// grove::testing::default_deadline() (hub/testing.h: scales with the target's Bazel timeout); a
// body that outlives it fails with a dump of every fiber.
#pragma once

#include <gtest/gtest.h>

#include "hub/testing.h"

namespace grove::testing {

inline void run_gtest_body(void (*body)()) {
  const Outcome outcome = run_in_hub(body);
  if (!outcome.ok()) ADD_FAILURE() << outcome.describe();
}

}  // namespace grove::testing

#define GROVE_TEST(suite, name)                                                 \
  static void grove_test_body_##suite##_##name();                              \
  TEST(suite, name) { ::grove::testing::run_gtest_body(&grove_test_body_##suite##_##name); } \
  static void grove_test_body_##suite##_##name()
