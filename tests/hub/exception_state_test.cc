// The C++ runtime's per-thread exception state follows each fiber across switches.
#include <exception>
#include <stdexcept>
#include <string>

#include "hub/hub.h"
#include "tests/support/grove_test.h"

namespace grove {
namespace {

std::string current_message() {
  try {
    if (auto e = std::current_exception()) std::rethrow_exception(e);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

GROVE_TEST(ExceptionState, CurrentExceptionSurvivesSwitchesInsideCatch) {
  std::string seen_a, seen_b;
  FiberRef a = spawn_fiber([&] {
    try {
      throw std::runtime_error("a");
    } catch (const std::exception&) {
      yield();
      yield();
      seen_a = current_message();
    }
    EXPECT_FALSE(std::current_exception());
  });
  FiberRef b = spawn_fiber([&] {
    EXPECT_FALSE(std::current_exception()) << "b must not see a's caught exception";
    try {
      throw std::runtime_error("b");
    } catch (const std::exception&) {
      yield();
      seen_b = current_message();
    }
  });
  EXPECT_TRUE(a->join());
  EXPECT_TRUE(b->join());
  EXPECT_EQ(seen_a, "a");
  EXPECT_EQ(seen_b, "b");
}

GROVE_TEST(ExceptionState, RethrowAfterASwitchRethrowsTheRightException) {
  std::string rethrown;
  FiberRef other = spawn_fiber([] {
    try {
      throw std::logic_error("other");
    } catch (...) {
      yield();
    }
  });
  try {
    try {
      throw std::runtime_error("mine");
    } catch (...) {
      yield();
      throw;
    }
  } catch (const std::exception& e) {
    rethrown = e.what();
  }
  EXPECT_EQ(rethrown, "mine");
  EXPECT_TRUE(other->join());
}

struct SwitchesInDestructor {
  int* uncaught_seen;
  ~SwitchesInDestructor() {
    yield();
    *uncaught_seen = std::uncaught_exceptions();
  }
};

GROVE_TEST(ExceptionState, UncaughtCountIsPerFiberDuringUnwinding) {
  int in_a = -1;
  int in_b = -1;
  FiberRef a = spawn_fiber([&] {
    try {
      SwitchesInDestructor s{&in_a};
      throw std::runtime_error("unwinding a");
    } catch (const std::exception&) {
    }
  });
  FiberRef b = spawn_fiber([&] {
    in_b = std::uncaught_exceptions();  // runs while a is mid-unwind, parked in a destructor
    yield();
  });
  EXPECT_TRUE(a->join());
  EXPECT_TRUE(b->join());
  EXPECT_EQ(in_a, 1) << "a is unwinding one exception";
  EXPECT_EQ(in_b, 0) << "b is not unwinding anything";
}

GROVE_TEST(ExceptionState, MainFiberKeepsItsOwnState) {
  FiberRef f = spawn_fiber([] {
    try {
      throw 1;
    } catch (int) {
      yield();
    }
  });
  try {
    throw std::runtime_error("test body");
  } catch (...) {
    yield();
    yield();
    EXPECT_EQ(current_message(), "test body");
  }
  EXPECT_TRUE(f->join());
}

}  // namespace
}  // namespace grove
