// tests/hub/env_test.cc — GROVE_* variables: a bad value is refused with a message naming it,
// and the default stays (hub/internal/env.h).
#include "hub/internal/env.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <limits>
#include <memory>
#include <sstream>

namespace {

using grove::internal::env_count;
using grove::internal::env_flag;
using grove::internal::env_seconds;
using grove::internal::parse_count;
using grove::internal::parse_flag;
using grove::internal::parse_seconds;

// Collects what spdlog's default logger writes while it lives.
class CapturedLog {
 public:
  CapturedLog() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(text_);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("captured", sink));
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  std::string text() const { return text_.str(); }

 private:
  std::ostringstream text_;
  std::shared_ptr<spdlog::logger> previous_;
};

// Sets (or, with nullptr, unsets) a variable for one test.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (value) ::setenv(name, value, 1);
    else ::unsetenv(name);
  }
  ~ScopedEnv() { ::unsetenv(name_); }

 private:
  const char* name_;
};

TEST(Env, ParseCountTakesWholeNumbersInRange) {
  EXPECT_EQ(parse_count("10", 1, 100), 10u);
  EXPECT_EQ(parse_count("1", 1, 100), 1u);
  EXPECT_EQ(parse_count("100", 1, 100), 100u);
  for (const char* bad : {"0", "101", "", "abc", "10x", "-1", " 5", "5 ", "+5", "1.5",
                          "18446744073709551616"}) {
    EXPECT_FALSE(parse_count(bad, 1, 100)) << bad;
  }
}

TEST(Env, ParseSecondsTakesPositiveFiniteNumbers) {
  EXPECT_DOUBLE_EQ(*parse_seconds("0.05", 10), 0.05);
  EXPECT_DOUBLE_EQ(*parse_seconds("2", 10), 2.0);
  EXPECT_DOUBLE_EQ(*parse_seconds("1e-3", 10), 0.001);
  for (const char* bad : {"0", "-1", "", "abc", "1s", "nan", "inf", "11", "0.5 "}) {
    EXPECT_FALSE(parse_seconds(bad, 10)) << bad;
  }
}

TEST(Env, ParseFlagTakesTheUsualSpellings) {
  for (const char* on : {"1", "true", "YES", "On"}) EXPECT_EQ(parse_flag(on), true) << on;
  for (const char* off : {"0", "false", "no", "OFF"}) EXPECT_EQ(parse_flag(off), false) << off;
  for (const char* bad : {"", "2", "maybe", "y"}) EXPECT_FALSE(parse_flag(bad)) << bad;
}

TEST(Env, UnsetOrEmptyMeansTheDefaultWithoutAMessage) {
  CapturedLog log;
  {
    ScopedEnv unset("GROVE_ENV_TEST_VALUE", nullptr);
    EXPECT_EQ(env_count("GROVE_ENV_TEST_VALUE", 1, 100, 7), 7u);
  }
  {
    ScopedEnv empty("GROVE_ENV_TEST_VALUE", "");
    EXPECT_EQ(env_count("GROVE_ENV_TEST_VALUE", 1, 100, 7), 7u);
    EXPECT_DOUBLE_EQ(env_seconds("GROVE_ENV_TEST_VALUE", 10, 0.5), 0.5);
    EXPECT_FALSE(env_flag("GROVE_ENV_TEST_VALUE", false));
  }
  EXPECT_EQ(log.text(), "");
}

TEST(Env, AValidValueIsTaken) {
  CapturedLog log;
  ScopedEnv good("GROVE_ENV_TEST_VALUE", "42");
  EXPECT_EQ(env_count("GROVE_ENV_TEST_VALUE", 1, 100, 7), 42u);
  EXPECT_DOUBLE_EQ(env_seconds("GROVE_ENV_TEST_VALUE", 100, 0.5), 42.0);
  EXPECT_EQ(log.text(), "");
}

TEST(Env, ABadValueIsRefusedWithAMessageAndTheDefaultStays) {
  CapturedLog log;
  ScopedEnv bad("GROVE_ENV_TEST_VALUE", "lots");
  EXPECT_EQ(env_count("GROVE_ENV_TEST_VALUE", 1, 100, 7), 7u);
  const std::string text = log.text();
  EXPECT_NE(text.find("GROVE_ENV_TEST_VALUE=\"lots\" is refused"), std::string::npos) << text;
  EXPECT_NE(text.find("a whole number from 1 to 100"), std::string::npos) << text;
  EXPECT_NE(text.find("using 7"), std::string::npos) << text;
  EXPECT_NE(text.find("[error]"), std::string::npos) << text;
}

TEST(Env, OutOfRangeSecondsAndFlagsAreRefusedToo) {
  CapturedLog log;
  {
    ScopedEnv bad("GROVE_ENV_TEST_VALUE", "-0.5");
    EXPECT_DOUBLE_EQ(env_seconds("GROVE_ENV_TEST_VALUE", 10, 0.01), 0.01);
  }
  {
    ScopedEnv bad("GROVE_ENV_TEST_VALUE", "maybe");
    EXPECT_TRUE(env_flag("GROVE_ENV_TEST_VALUE", true));
  }
  const std::string text = log.text();
  EXPECT_NE(text.find("GROVE_ENV_TEST_VALUE=\"-0.5\" is refused"), std::string::npos) << text;
  EXPECT_NE(text.find("GROVE_ENV_TEST_VALUE=\"maybe\" is refused"), std::string::npos) << text;
}

}  // namespace
