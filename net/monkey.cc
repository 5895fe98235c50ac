// net/monkey.cc — libc's name resolution calls, routed to grove's resolver once patch_dns() ran
// (net/monkey.h). The real ones are found on first use with dlsym(RTLD_NEXT), as hub/monkey.cc
// finds its own (hub/internal/next_definition.h).
#include "net/monkey.h"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "hub/internal/next_definition.h"
#include "hub/monkey.h"
#include "net/dns.h"

namespace grove::net {

namespace {

// The next definitions (libc's), resolved on first use (hub/internal/next_definition.h).
#define NEXT(name) (::grove::net::next_##name.load(std::memory_order_relaxed))

GROVE_NEXT(getaddrinfo, int,
           (const char* node, const char* service, const addrinfo* hints, addrinfo** res),
           (node, service, hints, res))
GROVE_NEXT(gethostbyname, hostent*, (const char* name), (name))
GROVE_NEXT(gethostbyname_r, int,
           (const char* name, hostent* ret, char* buf, size_t buflen, hostent** result,
            int* h_errnop),
           (name, ret, buf, buflen, result, h_errnop))

bool routed() noexcept { return is_patched(Patch::kDns) && internal::in_greenlet(); }

int eai_of(const DnsError& e) {
  switch (e.status()) {
    case DnsStatus::kNotFound: return EAI_NONAME;
    case DnsStatus::kNoData: return EAI_NODATA;
    case DnsStatus::kTimeout: return EAI_AGAIN;
    case DnsStatus::kServerFailure: return EAI_AGAIN;
    case DnsStatus::kRefused: return EAI_FAIL;
    case DnsStatus::kBadName: return EAI_NONAME;
    case DnsStatus::kBadFamily: return EAI_FAMILY;
    case DnsStatus::kBadService: return EAI_SERVICE;
    case DnsStatus::kCancelled: return EAI_AGAIN;
    case DnsStatus::kOther: return EAI_FAIL;
  }
  return EAI_FAIL;
}

int h_errno_of(const DnsError& e) {
  switch (e.status()) {
    case DnsStatus::kNotFound:
    case DnsStatus::kBadName: return HOST_NOT_FOUND;
    case DnsStatus::kNoData: return NO_DATA;
    case DnsStatus::kTimeout:
    case DnsStatus::kServerFailure:
    case DnsStatus::kCancelled: return TRY_AGAIN;
    default: return NO_RECOVERY;
  }
}

// One result node laid out as glibc lays it (the address inside the node's own allocation, the
// canonical name a separate one), so that glibc's freeaddrinfo() frees it.
addrinfo* make_node(const AddrInfo& a) {
  const socklen_t len = a.address.length();
  auto* node = static_cast<addrinfo*>(std::calloc(1, sizeof(addrinfo) + len));
  if (node == nullptr) return nullptr;
  node->ai_family = a.family;
  node->ai_socktype = a.socktype;
  node->ai_protocol = a.protocol;
  node->ai_addrlen = len;
  node->ai_addr = reinterpret_cast<sockaddr*>(node + 1);
  std::memcpy(node->ai_addr, a.address.sockaddr_ptr(), len);
  if (!a.canonname.empty()) {
    node->ai_canonname = ::strdup(a.canonname.c_str());
    if (node->ai_canonname == nullptr) {
      std::free(node);
      return nullptr;
    }
  }
  return node;
}

int cooperative_getaddrinfo(const char* node, const char* service, const addrinfo* hints,
                            addrinfo** res) {
  AddrInfoHints h;
  if (hints != nullptr) {
    h.family = hints->ai_family;
    h.socktype = hints->ai_socktype;
    h.protocol = hints->ai_protocol;
    h.flags = hints->ai_flags;
  }
  std::vector<AddrInfo> found;
  try {
    found = resolver().getaddrinfo(node, service != nullptr ? service : "", h);
  } catch (const DnsError& e) {
    return eai_of(e);
  } catch (const std::bad_alloc&) {
    return EAI_MEMORY;
  } catch (const SocketError& e) {
    errno = e.code().value();
    return EAI_SYSTEM;
  } catch (const std::exception&) {  // a kill or Timeout is not one: it goes on up
    return EAI_FAIL;
  }
  if (found.empty()) return EAI_NONAME;
  addrinfo* head = nullptr;
  addrinfo** tail = &head;
  for (const AddrInfo& a : found) {
    addrinfo* n = make_node(a);
    if (n == nullptr) {
      ::freeaddrinfo(head);
      return EAI_MEMORY;
    }
    *tail = n;
    tail = &n->ai_next;
  }
  *res = head;
  return 0;
}

// Fills `ret` (strings and address list in `buf`) with the IPv4 addresses of `name`; 0 or an
// errno (ERANGE: `buf` too small), with *h_errnop set on a lookup failure.
int cooperative_gethostbyname(const char* name, hostent* ret, char* buf, size_t buflen,
                              hostent** result, int* h_errnop) {
  *result = nullptr;
  AddrInfoHints h;
  h.family = AF_INET;
  h.socktype = SOCK_STREAM;
  h.flags = AI_CANONNAME;
  std::vector<AddrInfo> found;
  try {
    found = resolver().getaddrinfo(name, "", h);
  } catch (const DnsError& e) {
    *h_errnop = h_errno_of(e);
    return 0;
  } catch (const std::exception&) {  // a kill or Timeout is not one: it goes on up
    *h_errnop = NO_RECOVERY;
    return 0;
  }
  if (found.empty()) {
    *h_errnop = NO_DATA;
    return 0;
  }
  const std::string canon = found.front().canonname.empty() ? name : found.front().canonname;
  // Layout in buf: the address pointers (n + 1), the aliases' terminator, the addresses, the name.
  const std::size_t n = found.size();
  const std::size_t need = (n + 2) * sizeof(char*) + n * sizeof(in_addr) + canon.size() + 1;
  if (buflen < need + alignof(char*)) return ERANGE;
  char* p = buf;
  if (const auto mis = reinterpret_cast<std::uintptr_t>(p) % alignof(char*)) {
    p += alignof(char*) - mis;
  }
  auto** addr_list = reinterpret_cast<char**>(p);
  auto** aliases = addr_list + n + 1;
  auto* addrs = reinterpret_cast<char*>(aliases + 1);
  char* text = addrs + n * sizeof(in_addr);
  for (std::size_t i = 0; i < n; ++i) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(found[i].address.sockaddr_ptr());
    std::memcpy(addrs + i * sizeof(in_addr), &sin->sin_addr, sizeof(in_addr));
    addr_list[i] = addrs + i * sizeof(in_addr);
  }
  addr_list[n] = nullptr;
  aliases[0] = nullptr;
  std::memcpy(text, canon.c_str(), canon.size() + 1);
  ret->h_name = text;
  ret->h_aliases = aliases;
  ret->h_addrtype = AF_INET;
  ret->h_length = sizeof(in_addr);
  ret->h_addr_list = addr_list;
  *result = ret;
  *h_errnop = 0;
  return 0;
}

}  // namespace

void patch_dns() { internal::mark_patched(Patch::kDns); }

}  // namespace grove::net

extern "C" {

int getaddrinfo(const char* node, const char* service, const addrinfo* hints, addrinfo** res) {
  if (node == nullptr || res == nullptr ||
      (hints != nullptr && (hints->ai_flags & AI_NUMERICHOST) != 0) || !grove::net::routed())
      [[likely]] {
    return NEXT(getaddrinfo)(node, service, hints, res);
  }
  return grove::net::cooperative_getaddrinfo(node, service, hints, res);
}

int gethostbyname_r(const char* name, hostent* ret, char* buf, size_t buflen, hostent** result,
                    int* h_errnop) {
  if (name == nullptr || !grove::net::routed()) [[likely]] {
    return NEXT(gethostbyname_r)(name, ret, buf, buflen, result, h_errnop);
  }
  return grove::net::cooperative_gethostbyname(name, ret, buf, buflen, result, h_errnop);
}

hostent* gethostbyname(const char* name) {
  if (name == nullptr || !grove::net::routed()) [[likely]] return NEXT(gethostbyname)(name);
  thread_local hostent entry;
  thread_local std::vector<char> buffer(1024);
  hostent* result = nullptr;
  int error = 0;
  for (;;) {
    const int r = grove::net::cooperative_gethostbyname(name, &entry, buffer.data(),
                                                        buffer.size(), &result, &error);
    if (r != ERANGE) break;
    buffer.resize(buffer.size() * 2);
  }
  if (result == nullptr) h_errno = error;
  return result;
}

}  // extern "C"
