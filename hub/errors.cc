// hub/errors.cc — names of exceptions for reports (hub/errors.h); where they were thrown is
// hub/throw_site.cc.
#include "hub/errors.h"

#include <cxxabi.h>

#include <cstdlib>
#include <exception>
#include <string>
#include <typeinfo>

#include "hub/timeout.h"

namespace grove {


std::string demangle(const char* mangled) {
  int status = 0;
  char* name = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  if (status != 0 || name == nullptr) return mangled;
  std::string out(name);
  std::free(name);
  return out;
}

ExceptionInfo describe_exception(const std::exception_ptr& error) {
  if (!error) return {"(none)", ""};
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return {demangle(typeid(e).name()), e.what()};
  } catch (const GreenletExit& e) {
    return {"grove::GreenletExit", e.message()};
  } catch (const Timeout& e) {
    return {"grove::Timeout", e.message()};
  } catch (...) {
    const std::type_info* type = abi::__cxa_current_exception_type();
    return {type ? demangle(type->name()) : "unknown exception", ""};
  }
}
}  // namespace grove
