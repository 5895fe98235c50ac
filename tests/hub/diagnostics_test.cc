// Failure reports as a person reads them (hub/errors.h): readable function names, and the file
// and line where the exception was thrown, in the hub's default report.
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "hub/errors.h"
#include "hub/fiber.h"
#include "hub/hub.h"
#include "tests/support/grove_test.h"

namespace diagnostics {

int throw_line = 0;

// Throws from a line the test knows. Not inlined, so the site is this function.
[[gnu::noinline]] void fail_here() {
  throw_line = __LINE__ + 1;
  throw std::runtime_error("the disk is full");
}

}  // namespace diagnostics

namespace grove {
namespace {

TEST(ReadableName, DropsTheParameterListsOfLambdasAndTheirEnclosingFunctions) {
  EXPECT_EQ(readable_name("grove::servers::StreamServer::State::launch(grove::net::Socket, "
                          "grove::net::Address)::{lambda(grove::net::Socket, "
                          "grove::net::Address)#1}"),
            "grove::servers::StreamServer::State::launch::{lambda#1}");
  EXPECT_EQ(readable_name("main::{lambda()#2}"), "main::{lambda#2}");
  EXPECT_EQ(readable_name("kv::Session::run() const::{lambda(int)#1}"),
            "kv::Session::run::{lambda#1}");
  // What is not a lambda or an enclosing function stays.
  EXPECT_EQ(readable_name("void (*)(kv::Server&)"), "void (*)(kv::Server&)");
  EXPECT_EQ(readable_name("kv::keyspace_main(kv::Server&)"), "kv::keyspace_main(kv::Server&)");
  EXPECT_EQ(readable_name("std::vector<int, std::allocator<int> >"),
            "std::vector<int, std::allocator<int> >");
  EXPECT_EQ(readable_name("broken(("), "broken((");
}

TEST(ThrowSite, NamesTheFileAndLineOfTheThrow) {
  std::exception_ptr error;
  try {
    diagnostics::fail_here();
  } catch (...) {
    error = std::current_exception();
  }
  EXPECT_EQ(throw_site(error),
            fmt::format("tests/hub/diagnostics_test.cc:{} in diagnostics::fail_here",
                        diagnostics::throw_line));
  // Rethrown, it is the same exception, thrown at the same place.
  std::exception_ptr again;
  try {
    std::rethrow_exception(error);
  } catch (...) {
    again = std::current_exception();
  }
  EXPECT_EQ(throw_site(again), throw_site(error));
}

TEST(ThrowSite, UnknownForAnExceptionThatWasNeverThrown) {
  EXPECT_EQ(throw_site(std::make_exception_ptr(std::runtime_error("made, not thrown"))), "");
  EXPECT_EQ(throw_site(nullptr), "");
}

TEST(ThrowSite, KeepsTheSiteWhileOtherExceptionsAreThrownAndCaught) {
  std::exception_ptr error;
  try {
    diagnostics::fail_here();
  } catch (...) {
    error = std::current_exception();
  }
  for (int i = 0; i < 40; ++i) {  // exceptions used for control flow meanwhile
    try {
      throw i;
    } catch (int) {
    }
  }
  EXPECT_NE(throw_site(error).find(fmt::format("diagnostics_test.cc:{}", diagnostics::throw_line)),
            std::string::npos);
}

// The hub's own report (no error handler installed): the failure line, then where it was thrown.
TEST(HubReport, SaysWhereTheExceptionWasThrown) {
  std::ostringstream log;
  auto previous = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>(
      "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(log));
  logger->set_pattern("%v");
  spdlog::set_default_logger(logger);
  {
    Hub::destroy_current();
    FiberRef worker = spawn_fiber([] { diagnostics::fail_here(); });
    ASSERT_TRUE(worker->join(Deadline::after(30.0)));
    Hub::destroy_current();
  }
  spdlog::set_default_logger(previous);
  const std::string text = log.str();
  EXPECT_NE(text.find("failed with std::runtime_error: the disk is full\n  thrown at "
                      "tests/hub/diagnostics_test.cc:" +
                      std::to_string(diagnostics::throw_line) + " in diagnostics::fail_here\n"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace grove
