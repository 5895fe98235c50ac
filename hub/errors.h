// hub/errors.h — the exceptions the hub throws at a fiber's wait point.
//
// GreenletExit (a kill) and Timeout (hub/timeout.h) do NOT derive from std::exception, so
// `catch (const std::exception&)` in user code never swallows a kill or a timeout — gevent makes
// them BaseException for the same reason. Catch them by name, or with `catch (...)` and rethrow.
//
// LoopExit is an ordinary error (std::runtime_error): the main fiber waited on something that
// nothing left in the hub can ever complete.
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

}  // namespace grove
