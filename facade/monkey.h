// facade/monkey.h — gevent.monkey: make blocking libraries cooperative without changing them.
//
//   #include "facade/gevent.h"
//   gevent::monkey::patch_all();                          // once, at the start of main
//   gevent::spawn([] { redisCommand(ctx, "GET k"); });    // parks this greenlet, not the thread
//
// patch_all() switches on what the three selective patches do: patch_socket() (socket I/O,
// connect/accept, poll/select), patch_time() (sleep, usleep, nanosleep, clock_nanosleep) and
// patch_dns() (getaddrinfo, gethostbyname through grove's resolver). Each is process-wide,
// idempotent and permanent, as in gevent; is_patched("socket" | "time" | "dns") tells which ran
// (gevent's is_module_patched). The rules — what parks, what stays libc's (regular files, pipes
// and ttys stay blocking; threads without a hub are untouched), how timeouts, O_NONBLOCK, close
// and kills behave — are in hub/monkey.h and net/monkey.h.
#pragma once

#include <string_view>

#include "hub/monkey.h"
#include "net/monkey.h"

namespace gevent::monkey {

inline void patch_socket() { grove::patch_socket(); }
inline void patch_time() { grove::patch_time(); }
inline void patch_dns() { grove::net::patch_dns(); }

inline void patch_all() {
  patch_socket();
  patch_dns();
  patch_time();
}

// gevent's is_module_patched for the three names above; false for any other name.
inline bool is_patched(std::string_view name) {
  if (name == "socket") return grove::is_patched(grove::Patch::kSocket);
  if (name == "time") return grove::is_patched(grove::Patch::kTime);
  if (name == "dns") return grove::is_patched(grove::Patch::kDns);
  return false;
}

}  // namespace gevent::monkey
