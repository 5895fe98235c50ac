// dns_resolve — resolve many names at once: each lookup is its own greenlet, all in flight
// together (gevent's examples/dns_mass_resolve.py).
//
//   bazel run //examples:dns_resolve -- localhost example.org nosuch.invalid
//   printf 'a.test\nb.test\n' | bazel run //examples:dns_resolve -- --host 127.0.0.1 --port 5353
//
// Names come from the command line, or one per line on stdin. With --host/--port, queries go to
// that DNS server (c-ares); otherwise to the system's resolver configuration. Answers print as
// they arrive, so the order shows which lookups finished first.
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <iostream>
#include <set>
#include <string>
#include <vector>

#include "actors/group.h"
#include "examples/cli.h"
#include "hub/hub.h"
#include "net/dns.h"

int main(int argc, char** argv) {
  examples::Cli cli(argc, argv,
                    "usage: dns_resolve [--host DNS_SERVER --port 53] [--timeout 5] [name...]\n"
                    "Resolves the names (or stdin's lines) concurrently and prints the addresses.",
                    {"--host", "--port", "--timeout"});
  std::vector<std::string> names = cli.positional();
  if (names.empty()) {
    for (std::string line; std::getline(std::cin, line);) {
      if (!line.empty()) names.push_back(line);
    }
  }
  grove::net::ResolverOptions options;
  options.timeout = std::atof(cli.get("--timeout", "5").c_str());
  if (cli.has("--host")) {
    options.servers = {fmt::format("{}:{}", cli.get("--host", ""), cli.get_int("--port", 53))};
  }
  grove::net::set_resolver(grove::net::Resolver::create(grove::net::ResolverKind::kAres, options));

  int failures = 0;
  grove::Group lookups;
  for (const std::string& name : names) {
    lookups.spawn([&failures, name] {
      try {
        std::set<std::string> addresses;  // one line per address, not per socket type
        for (const auto& info : grove::net::getaddrinfo(name, "")) {
          addresses.insert(info.address.host());
        }
        fmt::print("{}: {}\n", name, fmt::join(addresses, " "));
      } catch (const grove::net::DnsError& e) {
        ++failures;
        fmt::print("{}: error: {}\n", name, e.what());
      }
      std::fflush(stdout);
    });
  }
  (void)lookups.join();
  return failures == 0 ? 0 : 1;
}
