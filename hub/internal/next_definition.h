// hub/internal/next_definition.h — the definitions a monkey-patched call forwards to: libc's (or
// a sanitizer's interceptor in front of it), found with dlsym(RTLD_NEXT) on first use.
//
// Model: GROVE_NEXT(name, ret, params, args) at namespace scope defines `next_<name>`, an atomic
// pointer that starts at a stub. The first call through it looks the real `name` up, stores it
// and calls it; later calls go straight to it. So the fast path has no "resolved yet?" branch,
// and a call made before any constructor ran (another library's initializer) still works.
// A symbol the C library lacks ends the process with one line on stderr (`grove: monkey: libc
// has no <name>`), written with raw write(2): this may run before anything is initialised,
// inside a signal handler or with the allocator's lock held, so no stdio and no allocation.
//
// Thread: any; resolution may race, and every racer stores the same pointer.
//
//   GROVE_NEXT(read, ssize_t, (int fd, void* buf, size_t n), (fd, buf, n))
//   ...
//   ssize_t r = next_read.load(std::memory_order_relaxed)(fd, buf, n);
//
// Internal to hub/ and net/ (their monkey.cc files).
#pragma once

#include <dlfcn.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace grove::internal {

[[noreturn]] inline void missing_next_definition(const char* name) noexcept {
  const char prefix[] = "grove: monkey: libc has no ";
  ::syscall(SYS_write, 2, prefix, sizeof prefix - 1);
  ::syscall(SYS_write, 2, name, std::strlen(name));
  ::syscall(SYS_write, 2, "\n", 1);
  std::abort();
}

// The definition of `name` after the program's own, as a `Fn` pointer; ends the process if
// there is none.
template <class Fn>
Fn next_definition(const char* name) noexcept {
  void* p = ::dlsym(RTLD_NEXT, name);
  if (p == nullptr) missing_next_definition(name);
  return reinterpret_cast<Fn>(p);
}

}  // namespace grove::internal

#define GROVE_NEXT(name, ret, params, args)                                            \
  ret first_##name params;                                                             \
  std::atomic<ret(*) params> next_##name{&first_##name};                               \
  ret first_##name params {                                                            \
    auto fn = ::grove::internal::next_definition<ret(*) params>(#name);                \
    next_##name.store(fn, std::memory_order_relaxed);                                  \
    return fn args;                                                                    \
  }
