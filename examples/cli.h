// examples/cli.h — what every example does the same way when it starts: its command line (on
// CLI11), its exit codes, the listening socket it makes from --host and --port, and how it tells
// a start-up failure: one line on stderr, "NAME: what, where: why", and an exit code that says
// which kind of failure it was.
//
// Exit codes (each example's --help lists the ones it can end with):
//   0  done (a server: stopped by SIGINT or SIGTERM)
//   1  it ran, and what it did failed (a lookup, a download, the supervision tree gave up)
//   2  the command line is wrong: an unknown option, a missing value, a value of the wrong type
//      or out of range
//   3  a host name does not resolve
//   4  cannot listen on the address: in use, not an address of this machine, not permitted
//   5  a file named on the command line cannot be used: missing, unreadable, not what it should be
//   6  the system or the environment does not allow it: descriptor limit too low, no `openssl`
//      tool, a GROVE_* variable with a bad value
//
// Model: a Command owns a CLI::App; the example adds its own options to app() (CLI11's API) and
// calls parse(), which prints --help and exits 0, or prints the error and exits 2. The rest of
// main runs inside run(), which turns a StartupError (or any other std::exception) into its line
// on stderr and its exit code, instead of `terminate called after throwing` and 134.
//
// Thread: main's. listen() resolves names on the calling thread's hub (it may park the main
// fiber while c-ares answers).
//
//   int main(int argc, char** argv) {
//     examples::Command cli("echo_server", "Echoes every byte back to its sender.");
//     const examples::Endpoint& at = cli.listen_options("127.0.0.1", 6000);
//     cli.parse(argc, argv);
//     return examples::run(cli, [&] {
//       grove::servers::StreamServer server(examples::listen(at), echo);
//       examples::print_listening(cli, server.address());
//       server.serve_forever();
//       return examples::kExitOk;
//     });
//   }
#pragma once

#include <CLI/CLI.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

#include "net/address.h"
#include "net/socket.h"

namespace examples {

enum ExitCode : int {
  kExitOk = 0,
  kExitFailed = 1,
  kExitUsage = 2,
  kExitNoHost = 3,
  kExitCannotListen = 4,
  kExitBadFile = 5,
  kExitSystem = 6,
};

// A failure before the example could do its work: what() is the line to print (without the
// program's name), exit_code() the code to end with.
class StartupError : public std::runtime_error {
 public:
  StartupError(ExitCode exit_code, const std::string& message)
      : std::runtime_error(message), exit_code_(exit_code) {}
  ExitCode exit_code() const noexcept { return exit_code_; }

 private:
  ExitCode exit_code_;
};

// Where a server listens: --host (a literal IPv4/IPv6 address, a host name, or "*" for every
// IPv4 interface) and --port (0: a free port the kernel picks).
struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
};

class Command {
 public:
  Command(std::string name, std::string description);

  // The CLI11 application, to add the example's own options and positionals.
  CLI::App& app() noexcept { return app_; }
  const std::string& name() const noexcept { return name_; }

  // Adds --host and --port (validated: 0 to 65535) with these defaults, and exit codes 3 and 4
  // to --help. The Endpoint lives as long as the Command.
  const Endpoint& listen_options(std::string default_host, std::uint16_t default_port);

  // Adds --threads N (1 to 1024, default 1): how many hubs, each a thread, accept and serve
  // connections (servers/stream_server.h, "Many hubs"). The value lives as long as the Command.
  const std::size_t& threads_option();

  // Lists `code` in --help with this meaning (replacing the default text for that code).
  void exit_code(ExitCode code, std::string meaning);
  // Text --help prints after the exit codes.
  void help_section(std::string text) { help_sections_ += text; }

  // Parses the command line. --help (-h) prints the usage and the exit codes and exits 0; a bad
  // command line prints one line ("NAME: --port: 'abc' is not a port number ...") and exits 2.
  void parse(int argc, char** argv);

 private:
  std::string name_;
  CLI::App app_;
  Endpoint endpoint_;
  std::size_t threads_ = 1;
  std::map<int, std::string> exit_codes_;
  std::string help_sections_;
};

// Validators with one-line messages, for app().add_option(...)->check(...).
// A decimal port number from `min` to 65535.
CLI::Validator port_number(int min = 0);
// A decimal integer from `min` to `max`.
CLI::Validator integer_in(std::int64_t min, std::int64_t max);
// A number greater than 0 (seconds, fractions allowed).
CLI::Validator positive_seconds();

// Resolves `at.host` and returns a TCP socket listening on its first address that can be bound
// (IPv4 addresses first, as Go's net.Listen does for a name). StartupError: kExitNoHost when
// the name does not resolve, kExitCannotListen when no address can be bound (the port in use
// stops the search at once), kExitSystem when GROVE_RESOLVER is not a resolver. `reuse_port`:
// SO_REUSEPORT, so that a server on several hubs can bind a listener per hub beside it.
grove::net::Socket listen(const Endpoint& at, int backlog = 128, bool reuse_port = false);

// "NAME listening on 127.0.0.1:6000" ("[::1]:6000" for IPv6), with the port actually bound, on
// stdout, flushed (tests and scripts wait for this line).
void print_listening(const Command& cli, const grove::net::Address& bound,
                     std::string_view scheme = {});

// The whole file; StartupError(kExitBadFile) naming `what` ("--cert"), the path and the reason.
std::string read_file(const std::string& path, std::string_view what);

// Runs the body of main and returns its exit code. A StartupError prints "NAME: what()" on stderr
// and returns its code; any other std::exception prints "NAME: what()" and returns kExitFailed.
int run(const Command& cli, const std::function<int()>& body);

}  // namespace examples
