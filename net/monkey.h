// net/monkey.h — cooperative name resolution for libraries that call libc's getaddrinfo(3),
// gethostbyname(3) and gethostbyname_r(3) (gevent.monkey's patch_dns).
//
// Model: a program linked with //net:monkey defines those three functions; they forward to libc
// until patch_dns() runs. After it, a call made from a greenlet resolves through the thread's
// grove resolver (net/dns.h: c-ares on the loop by default, GROVE_RESOLVER=thread for
// getaddrinfo on the thread pool), parking only the calling greenlet; its result is built the
// way libc builds it, so the caller frees it with libc's freeaddrinfo(). Errors come back as
// libc's codes (EAI_NONAME, EAI_AGAIN, ...; h_errno for gethostbyname). Calls outside a
// greenlet (other threads, the hub's loop, the thread-pool resolver itself) go to libc. A call
// without a host name, or with AI_NUMERICHOST, never waits and goes to libc as well.
//
// Thread: patch_dns() from any thread; process-wide and idempotent, like the socket and time
// patches (hub/monkey.h). gethostbyname's result lives in a per-thread buffer, as libc's does.
//
//   grove::net::patch_dns();
//   grove::spawn_fiber([] { addrinfo* ai = nullptr; ::getaddrinfo("example.org", "80", nullptr, &ai); });
#pragma once

namespace grove::net {

// Switches getaddrinfo/gethostbyname/gethostbyname_r to grove's resolver (process-wide).
void patch_dns();

}  // namespace grove::net
