// hub/errors.h — the exceptions the hub throws at a fiber's wait point.
//
// GreenletExit (a kill) and Timeout (hub/timeout.h) do NOT derive from std::exception, so
// `catch (const std::exception&)` in user code never swallows a kill or a timeout — gevent makes
// them BaseException for the same reason. Catch them by name, or with `catch (...)` and rethrow.
//
// LoopExit is an ordinary error (std::runtime_error): the main fiber waited on something that
// nothing left in the hub can ever complete.
//
// Implemented in hub/errors.cc (names of exceptions) and hub/throw_site.cc (where one was thrown).
// Thread: any. The first lookup of a function or throw site loads debug information (slow, once
// per address, under a mutex): these are for reports, not for hot paths.
//
//   try {
//     grove::sleep(10);
//   } catch (const grove::GreenletExit&) {
//     cleanup();
//     throw;  // let the kill finish the greenlet
//   }
#pragma once

#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>

namespace grove {

// Thrown into a fiber by kill(); ends a greenlet with a non-error ("killed") reason.
class GreenletExit {
 public:
  GreenletExit() = default;
  explicit GreenletExit(std::string message) : message_(std::move(message)) {}
  const std::string& message() const noexcept { return message_; }
  const char* what() const noexcept { return message_.empty() ? "GreenletExit" : message_.c_str(); }

 private:
  std::string message_;
};

// Thrown into the main fiber when it waits and nothing can ever wake it.
class LoopExit : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Two greenlets tried to use an object that allows one waiter per direction (a socket's read
// side, for instance).
class ConcurrentObjectUseError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Thrown out of a wait whose object (a WaitList, an IoWatcher, ...) was destroyed while the
// fiber waited on it: a bug in the program, reported instead of a write into freed memory.
class ObjectDestroyed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The demangled type name and message of an exception, for reports: {"std::runtime_error",
// "boom"}. Messages of non-std exceptions come from their what() when they have one.
struct ExceptionInfo {
  std::string type;
  std::string what;
};
ExceptionInfo describe_exception(const std::exception_ptr& error);
// The demangled name of a type_info name (e.g. typeid(T).name()).
std::string demangle(const char* mangled);

// A demangled function or lambda name as a person reads it: the parameter lists of lambdas and
// of the functions that enclose them are dropped, so
//   grove::servers::StreamServer::State::launch(grove::net::Socket, grove::net::Address)::
//   {lambda(grove::net::Socket, grove::net::Address)#1}
// reads "grove::servers::StreamServer::State::launch::{lambda#1}". A plain function's own
// parameters and other types stay as they are.
std::string readable_name(std::string_view demangled);

// The function holding `address` ("kv::keyspace_main", by readable_name), read from the
// program's debug information; "" when it has none. Slow (it may load debug info): for reports.
std::string function_at(const void* address);

// Where the exception in `error` was thrown, "tests/hub/x.cc:42 in fn", or "" when unknown.
// Every `throw` on this thread records its site (one return address: no unwinding, no
// allocation); the site is turned into a file and line only here, when a report asks. The last
// 64 throws per thread are remembered; an exception made without a throw
// (std::make_exception_ptr) has no site.
std::string throw_site(const std::exception_ptr& error);

// The failure line every report uses: "WHERE failed with TYPE: WHAT", and when the throw site is
// known, a second line "  thrown at FILE:LINE in FUNCTION".
std::string describe_failure(const std::string& where, const std::exception_ptr& error);

}  // namespace grove
