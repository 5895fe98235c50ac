// dns_resolve — resolve many names at once: each lookup is its own greenlet, all in flight
// together (gevent's examples/dns_mass_resolve.py).
//
//   bazel run //examples:dns_resolve -- localhost example.org nosuch.invalid
//   printf 'a.test\nb.test\n' | bazel run //examples:dns_resolve -- --host 127.0.0.1 --port 5353
//
// Names come from the command line, or one per line on stdin. With --host/--port, queries go to
// that DNS server (c-ares; an IP address, "::1" or "127.0.0.1"); otherwise to the system's
// resolver configuration. Answers print as
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
  examples::Command cli("dns_resolve",
                        "Resolves the names (or stdin's lines) concurrently and prints the addresses.");
  std::vector<std::string> names;
  std::string server;
  std::uint16_t server_port = 53;
  double timeout = 5;
  cli.app().add_option("name", names, "names to resolve (default: one per line on stdin)");
  cli.app()
      .add_option("--host", server, "the DNS server to ask, an IPv4 or IPv6 address (default: "
                                    "/etc/resolv.conf's)")
      ->type_name("ADDRESS")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            try {
              (void)grove::net::Address::ip(text, 53);
              return {};
            } catch (const std::invalid_argument&) {
              return fmt::format("'{}' is not an IP address", text);
            }
          },
          "", "ip_address"));
  cli.app()
      .add_option("--port", server_port, "the DNS server's port")
      ->type_name("PORT")
      ->check(examples::port_number(1))
      ->capture_default_str();
  cli.app()
      .add_option("--timeout", timeout, "seconds to wait for each try")
      ->check(examples::positive_seconds())
      ->capture_default_str();
  cli.exit_code(examples::kExitOk, "every name resolved");
  cli.exit_code(examples::kExitFailed, "some name did not resolve (its line says why)");
  cli.exit_code(examples::kExitSystem, "the resolver could not start");
  cli.parse(argc, argv);

  return examples::run(cli, [&] {
    if (names.empty()) {
      for (std::string line; std::getline(std::cin, line);) {
        if (!line.empty()) names.push_back(line);
      }
    }
    grove::net::ResolverOptions options;
    options.timeout = timeout;
    if (!server.empty()) {
      options.servers = {grove::net::Address::ip(server, server_port).to_string()};  // [::1]:53
    }
    try {
      grove::net::set_resolver(
          grove::net::Resolver::create(grove::net::ResolverKind::kAres, options));
    } catch (const std::exception& e) {
      throw examples::StartupError(examples::kExitSystem,
                                   fmt::format("cannot start the resolver: {}", e.what()));
    }

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
    return failures == 0 ? examples::kExitOk : examples::kExitFailed;
  });
}
