// facade/dns.h — gevent's resolvers (gevent.resolver.ares / gevent.resolver.thread) over
// grove::net's Resolver. GROVE_RESOLVER=ares|thread plays GEVENT_RESOLVER's part.
//
//   gevent::dns::ares_resolver({.servers = {"127.0.0.1:53"}, .timeout = 2.0})
//   gevent::dns::thread_resolver()
//   gevent::dns::get_resolver() / set_resolver(r)   the calling thread's resolver, as a shared
//                                                   handle: save it, set another, restore it
//   DNSError (gevent's gaierror) carries status(): DNSStatus::kNotFound, kNoData, kTimeout, ...
//   getaddrinfo, gethostbyname, getnameinfo          on it (as gevent.socket's)
//
//   gevent::dns::set_resolver(gevent::dns::ares_resolver({.servers = {"10.0.0.53"}}));
//   std::string ip = gevent::dns::gethostbyname("example.org");
#pragma once

#include <memory>

#include "net/dns.h"

namespace gevent::dns {

using Resolver = grove::net::Resolver;
using ResolverOptions = grove::net::ResolverOptions;
using ResolverKind = grove::net::ResolverKind;
using DNSError = grove::net::DnsError;
using DNSStatus = grove::net::DnsStatus;
using grove::net::getaddrinfo;
using grove::net::gethostbyname;
using grove::net::getnameinfo;
using grove::net::set_resolver;

inline std::shared_ptr<Resolver> ares_resolver(ResolverOptions options = {}) {
  return Resolver::create(ResolverKind::kAres, std::move(options));
}
inline std::shared_ptr<Resolver> thread_resolver(ResolverOptions options = {}) {
  return Resolver::create(ResolverKind::kThread, std::move(options));
}
inline std::shared_ptr<Resolver> get_resolver() { return grove::net::shared_resolver(); }

}  // namespace gevent::dns
