// examples/cli.cc — the examples' shared start-up (see cli.h).
#include "examples/cli.h"

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include <fmt/core.h>

#include "net/dns.h"

namespace examples {
namespace {

const char* default_meaning(int code) {
  switch (code) {
    case kExitOk: return "done";
    case kExitFailed: return "it ran, and what it did failed";
    case kExitUsage: return "bad command line (unknown option, bad or out-of-range value)";
    case kExitNoHost: return "--host does not resolve";
    case kExitCannotListen: return "cannot listen on --host/--port (in use, not local, not permitted)";
    case kExitBadFile: return "a file named on the command line cannot be used";
    case kExitSystem: return "the system or environment does not allow it";
  }
  return "";
}

// `text` as a whole decimal integer, or nothing.
std::optional<std::int64_t> whole_integer(const std::string& text) {
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [rest, error] = std::from_chars(text.data(), end, value);
  if (text.empty() || error != std::errc() || rest != end) return std::nullopt;
  return value;
}

}  // namespace

Command::Command(std::string name, std::string description)
    : name_(std::move(name)), app_(std::move(description), name_) {
  exit_codes_[kExitOk] = default_meaning(kExitOk);
  exit_codes_[kExitUsage] = default_meaning(kExitUsage);
}

const Endpoint& Command::listen_options(std::string default_host, std::uint16_t default_port) {
  endpoint_ = {std::move(default_host), default_port};
  app_.add_option("--host", endpoint_.host,
                  "address or host name to listen on (* = every IPv4 interface)")
      ->type_name("HOST")
      ->capture_default_str();
  app_.add_option("--port", endpoint_.port, "TCP port (0: any free port; the bound one is printed)")
      ->type_name("PORT")
      ->check(port_number())
      ->capture_default_str();
  exit_codes_[kExitNoHost] = default_meaning(kExitNoHost);
  exit_codes_[kExitCannotListen] = default_meaning(kExitCannotListen);
  return endpoint_;
}

const std::size_t& Command::threads_option() {
  app_.add_option("--threads", threads_, "hubs (one thread each) that accept and serve connections")
      ->type_name("N")
      ->check(integer_in(1, 1024))
      ->capture_default_str();
  return threads_;
}

void Command::exit_code(ExitCode code, std::string meaning) { exit_codes_[code] = std::move(meaning); }

void Command::parse(int argc, char** argv) {
  std::string footer = "Exit codes:";
  for (const auto& [code, meaning] : exit_codes_) footer += fmt::format("\n  {}  {}", code, meaning);
  app_.footer(footer + help_sections_);
  try {
    app_.parse(argc, argv);
  } catch (const CLI::Success& help) {  // --help: the usage on stdout
    std::exit(app_.exit(help));
  } catch (const CLI::ParseError& e) {
    std::fflush(stdout);
    fmt::print(stderr, "{}: {} (see {} --help)\n", name_, e.what(), name_);
    std::exit(kExitUsage);
  }
}

CLI::Validator port_number(int min) {
  return CLI::Validator(
      [min](std::string& text) -> std::string {
        const auto value = whole_integer(text);
        if (!value || *value < min || *value > 65535) {
          return fmt::format("'{}' is not a port number ({} to 65535)", text, min);
        }
        return {};
      },
      "", "port_number");
}

CLI::Validator integer_in(std::int64_t min, std::int64_t max) {
  return CLI::Validator(
      [min, max](std::string& text) -> std::string {
        const auto value = whole_integer(text);
        if (!value) return fmt::format("'{}' is not a whole number ({} to {})", text, min, max);
        if (*value < min || *value > max) {
          return fmt::format("{} is out of range ({} to {})", text, min, max);
        }
        return {};
      },
      "", "integer_in");
}

CLI::Validator positive_seconds() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        char* end = nullptr;
        errno = 0;
        const double value = std::strtod(text.c_str(), &end);
        if (text.empty() || *end != '\0' || errno != 0 || !(value > 0) || value > 1e9) {
          return fmt::format("'{}' is not a number of seconds greater than 0", text);
        }
        return {};
      },
      "", "positive_seconds");
}

grove::net::Socket listen(const Endpoint& at, int backlog, bool reuse_port) {
  const std::string host = at.host.empty() || at.host == "*" ? "0.0.0.0" : at.host;
  std::vector<grove::net::AddrInfo> found;
  try {
    found = grove::net::getaddrinfo(host, at.port,
                                    {.socktype = SOCK_STREAM, .flags = AI_PASSIVE});
  } catch (const grove::net::DnsError& e) {
    // what() is "getaddrinfo NAME: REASON"; the line names the host already.
    std::string why = e.what();
    if (const auto colon = why.rfind(": "); colon != std::string::npos) why.erase(0, colon + 2);
    throw StartupError(kExitNoHost,
                       fmt::format("cannot listen on {}: the host name does not resolve ({})",
                                   at.host, why));
  } catch (const std::invalid_argument& e) {  // GROVE_RESOLVER names no resolver
    throw StartupError(kExitSystem, e.what());
  }
  // Prefer IPv4 for a name that has both, as Go's net.Listen does: "localhost" then listens
  // where IPv4-first clients (redis-cli, curl) look first.
  std::stable_partition(found.begin(), found.end(),
                        [](const grove::net::AddrInfo& a) { return a.family == AF_INET; });
  std::string last_error = "no address";
  for (const grove::net::AddrInfo& candidate : found) {
    try {
      return grove::net::create_server(candidate.address, backlog, reuse_port);
    } catch (const grove::net::SocketError& e) {
      const std::string where = candidate.address.to_string();
      last_error = fmt::format("cannot listen on {}{}: {}", where,
                               host == candidate.address.host() ? ""
                                                                : fmt::format(" ({})", at.host),
                               e.code().message());
      // A port in use or a privileged one is the answer for every address of the name.
      if (e.code() == std::errc::address_in_use || e.code() == std::errc::permission_denied) break;
    }
  }
  throw StartupError(kExitCannotListen, last_error);
}

void print_listening(const Command& cli, const grove::net::Address& bound, std::string_view scheme) {
  if (scheme.empty()) {
    fmt::print("{} listening on {}\n", cli.name(), bound.to_string());
  } else {
    fmt::print("{} listening on {}://{}/\n", cli.name(), scheme, bound.to_string());
  }
  std::fflush(stdout);
}

std::string read_file(const std::string& path, std::string_view what) {
  auto fail = [&] {
    return StartupError(kExitBadFile,
                        fmt::format("cannot read {} {}: {}", what, path, std::strerror(errno)));
  };
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) throw fail();
  std::string text;
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, file.get())) text.append(buffer, n);
  if (std::ferror(file.get())) throw fail();
  return text;
}

int run(const Command& cli, const std::function<int()>& body) {
  try {
    return body();
  } catch (const StartupError& e) {
    std::fflush(stdout);
    fmt::print(stderr, "{}: {}\n", cli.name(), e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "{}: {}\n", cli.name(), e.what());
    return kExitFailed;
  }
}

}  // namespace examples
