// net/internal/resolvers.h — the two Resolver backends behind Resolver::create, and helpers they
// share. Not part of the public API.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "net/dns.h"

namespace grove::net::internal {

std::shared_ptr<Resolver> make_ares_resolver(ResolverOptions options);
std::shared_ptr<Resolver> make_thread_resolver(ResolverOptions options);

// glibc's answer shape: for hints.socktype == 0, each address once per STREAM, DGRAM and RAW;
// otherwise as given. Appends to `out`.
void append_addrinfo(std::vector<AddrInfo>& out, const Address& address, int socktype,
                     int protocol, const AddrInfoHints& hints);

// "getaddrinfo alpha.test" — the context of a DnsError.
std::string lookup_context(const char* op, const std::string& name);

}  // namespace grove::net::internal
