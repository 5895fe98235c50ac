// hub/throw_site.cc — where exceptions were thrown, and names as a person reads them (errors.h).
//
// Every `throw` calls the C++ runtime's __cxa_throw. The program's own __cxa_throw (below) comes
// first in symbol lookup, records the exception object's address, its type and its caller (the
// throw site) in a per-thread ring, and hands over to the next __cxa_throw (libstdc++'s, or a
// sanitizer's, which calls libstdc++'s). Recording is three stores; nothing is unwound or
// symbolized until a report asks for the site.
#include <dlfcn.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <typeinfo>
#include <unordered_map>

#include <backward.hpp>
#include <fmt/format.h>

#include "hub/errors.h"

namespace grove {
namespace {

struct Thrown {
  const void* object = nullptr;
  const std::type_info* type = nullptr;
  const void* site = nullptr;
};

constexpr std::size_t kRemembered = 64;
struct Ring {
  std::array<Thrown, kRemembered> entries{};
  std::size_t next = 0;
};
thread_local Ring ring;

using CxaThrow = void (*)(void*, void*, void (*)(void*));
using CxaAllocate = void* (*)(std::size_t);

CxaThrow next_cxa_throw() {
  static const CxaThrow next = reinterpret_cast<CxaThrow>(::dlsym(RTLD_NEXT, "__cxa_throw"));
  return next;
}

CxaAllocate next_cxa_allocate_exception() {
  static const CxaAllocate next =
      reinterpret_cast<CxaAllocate>(::dlsym(RTLD_NEXT, "__cxa_allocate_exception"));
  return next;
}

// The thrown object an exception_ptr holds: libstdc++'s exception_ptr is that one pointer.
const void* object_of(const std::exception_ptr& error) {
  static_assert(sizeof(std::exception_ptr) == sizeof(void*));
  const void* object = nullptr;
  std::memcpy(&object, static_cast<const void*>(&error), sizeof object);
  return object;
}

// The type of the exception in `error` (its most derived type, as the throw recorded it).
const std::type_info* type_of(const std::exception_ptr& error) {
  return error.__cxa_exception_type();
}

// One resolver for the process (it keeps the debug information it loaded), and what it said
// per address: reports name the same functions and sites again and again.
struct Symbols {
  std::mutex mutex;
  backward::TraceResolver resolver;
  std::unordered_map<const void*, backward::ResolvedTrace> known;

  backward::ResolvedTrace resolve(const void* address) {
    std::lock_guard lock(mutex);
    if (const auto it = known.find(address); it != known.end()) return it->second;
    // libdw reads line tables with deep recursion and large frames: more than a greenlet's
    // stack holds. It runs on a thread of its own (the caller waits; reports are rare and each
    // address is resolved once).
    backward::ResolvedTrace trace{backward::Trace(const_cast<void*>(address), 0)};
    try {
      std::thread([&] {
        void* frames[1] = {const_cast<void*>(address)};
        resolver.load_addresses(frames, 1);
        trace = resolver.resolve(trace);
      }).join();
    } catch (const std::system_error&) {
      return trace;  // no thread to be had: the report goes without the name
    }
    known.emplace(address, trace);
    return trace;
  }
};

Symbols& symbols() {
  static auto* s = new Symbols();  // never destroyed: reports may come from static destructors
  return *s;
}

}  // namespace

std::string readable_name(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name[i] != '(') {
      out += name[i];
      continue;
    }
    // Find the matching ')'.
    std::size_t depth = 0;
    std::size_t close = i;
    for (; close < name.size(); ++close) {
      if (name[close] == '(') ++depth;
      if (name[close] == ')' && --depth == 0) break;
    }
    if (close >= name.size()) {  // unbalanced: leave the rest as it is
      out.append(name.substr(i));
      break;
    }
    const std::string_view after = name.substr(close + 1);
    const bool lambda = out.ends_with("{lambda");
    const bool encloses = after.starts_with("::");
    const bool encloses_const = after.starts_with(" const::");
    if (lambda || encloses) {
      i = close;  // drop "(...)"
    } else if (encloses_const) {
      i = close + std::string_view(" const").size();  // drop "(...) const"
    } else {
      out.append(name.substr(i, close + 1 - i));
      i = close;
    }
  }
  return out;
}

std::string function_at(const void* address) {
  if (address == nullptr) return {};
  const backward::ResolvedTrace trace = symbols().resolve(address);
  // The symbol table's name is qualified ("kv::keyspace_main(kv::Server&)"); the debug info's is
  // not ("keyspace_main").
  const std::string& fn =
      trace.object_function.empty() ? trace.source.function : trace.object_function;
  // A plain function's name without its parameters: "kv::keyspace_main".
  std::string name = readable_name(fn);
  if (const auto paren = name.rfind('('); paren != std::string::npos && name.ends_with(')')) {
    name.erase(paren);
  }
  return name;
}

std::string throw_site(const std::exception_ptr& error) {
  if (!error) return {};
  const void* object = object_of(error);
  const std::type_info* type = type_of(error);
  const Ring& r = ring;
  const void* site = nullptr;
  for (std::size_t k = 1; k <= kRemembered && site == nullptr; ++k) {
    const Thrown& t = r.entries[(r.next + kRemembered - k) % kRemembered];
    if (t.object == object && t.type != nullptr && type != nullptr && *t.type == *type) {
      site = t.site;
    }
  }
  if (site == nullptr) return {};
  // The return address is just past the call: step back into the throwing instruction's line.
  const backward::ResolvedTrace trace = symbols().resolve(static_cast<const char*>(site) - 1);
  if (trace.source.filename.empty()) return {};
  std::string where = fmt::format("{}:{}", trace.source.filename, trace.source.line);
  std::string fn = readable_name(
      trace.object_function.empty() ? trace.source.function : trace.object_function);
  if (const auto paren = fn.rfind('('); paren != std::string::npos && fn.ends_with(')')) {
    fn.erase(paren);
  }
  if (!fn.empty()) where += " in " + fn;
  return where;
}

std::string describe_failure(const std::string& where, const std::exception_ptr& error) {
  const ExceptionInfo info = describe_exception(error);
  std::string line = info.what.empty()
                         ? fmt::format("{} failed with {}", where, info.type)
                         : fmt::format("{} failed with {}: {}", where, info.type, info.what);
  const std::string site = throw_site(error);
  if (!site.empty()) line += "\n  thrown at " + site;
  return line;
}

}  // namespace grove

// Every exception object is allocated here, thrown or not (std::make_exception_ptr): a new
// object at the address of an old one must not inherit the old one's site.
extern "C" void* __cxa_allocate_exception(std::size_t size) noexcept {
  void* object = grove::next_cxa_allocate_exception()(size);
  for (grove::Thrown& t : grove::ring.entries) {
    if (t.object == object) t = {};
  }
  return object;
}

// The program's __cxa_throw: records the site, then throws with the runtime's own.
// (libstdc++'s own headers declare it with `void*` for the type_info.)
extern "C" [[noreturn]] void __cxa_throw(void* object, void* type, void (*destroy)(void*)) {
  grove::Ring& r = grove::ring;
  r.entries[r.next] = {object, static_cast<const std::type_info*>(type),
                       __builtin_return_address(0)};
  r.next = (r.next + 1) % grove::kRemembered;
  grove::next_cxa_throw()(object, type, destroy);
  __builtin_unreachable();
}
