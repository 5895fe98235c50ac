// concurrent_download — fetch several http:// URLs at once with a Pool of greenlets (gevent's
// examples/concurrent_download.py).
//
//   bazel run //examples:http_hello -- --port 8080 &
//   bazel run //examples:concurrent_download -- --pool 4 http://127.0.0.1:8080/a http://localhost:8080/b
//   bazel run //examples:concurrent_download -- --host 127.0.0.1 --port 8080 --count 20
//
// Each download is one greenlet: resolve, connect, send a GET, read until the server closes.
// The Pool keeps at most --pool of them running; the others wait for a free slot. Without URLs,
// --count copies of http://HOST:PORT/ are fetched.
#include <fmt/core.h>

#include <charconv>
#include <stdexcept>
#include <string>
#include <vector>

#include "actors/group.h"
#include "examples/cli.h"
#include "hub/hub.h"
#include "net/dns.h"

struct Url {
  std::string host;
  std::uint16_t port = 80;
  std::string path = "/";
};

// "http://host[:port][/path]"; IPv6 hosts in brackets ("http://[::1]:8080/"). Throws
// std::invalid_argument saying what is wrong.
Url parse_url(const std::string& text) {
  const std::string prefix = "http://";
  if (text.rfind(prefix, 0) != 0) throw std::invalid_argument("only http:// URLs: " + text);
  Url url;
  std::string rest = text.substr(prefix.size());
  const auto slash = rest.find('/');
  if (slash != std::string::npos) {
    url.path = rest.substr(slash);
    rest.resize(slash);
  }
  const auto colon = rest.rfind(':');
  if (colon != std::string::npos && rest.find(']', colon) == std::string::npos) {
    const std::string port = rest.substr(colon + 1);
    int value = 0;
    const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || error != std::errc() || end != port.data() + port.size() || value < 1 ||
        value > 65535) {
      throw std::invalid_argument(fmt::format("bad port '{}' in {}", port, text));
    }
    url.port = static_cast<std::uint16_t>(value);
    rest.resize(colon);
  }
  if (rest.size() > 2 && rest.front() == '[' && rest.back() == ']') rest = rest.substr(1, rest.size() - 2);
  if (rest.empty()) throw std::invalid_argument("no host in " + text);
  url.host = rest;
  return url;
}

// "200 13 bytes" — the status and the body size.
std::string download(const std::string& text) {
  const Url url = parse_url(text);
  grove::net::Socket s = grove::net::create_connection(url.host, url.port, 10.0);
  const std::string host_header =
      url.host.find(':') == std::string::npos ? url.host : fmt::format("[{}]", url.host);
  s.sendall(fmt::format("GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", url.path,
                        host_header));
  std::string reply;
  while (true) {
    std::string chunk = s.recv(64 * 1024);
    if (chunk.empty()) break;
    reply += chunk;
  }
  const auto head_end = reply.find("\r\n\r\n");
  if (reply.size() < 12 || head_end == std::string::npos) throw std::runtime_error("no HTTP answer");
  return fmt::format("{} {} bytes", reply.substr(9, 3), reply.size() - head_end - 4);
}

int main(int argc, char** argv) {
  examples::Command cli("concurrent_download",
                        "Fetches http:// URLs concurrently and prints the status and size of each.\n"
                        "Without URLs, fetches http://HOST:PORT/ --count times.");
  std::vector<std::string> urls;
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  std::size_t pool_size = 10, count = 10;
  cli.app()
      .add_option("url", urls, "http:// URLs to fetch")
      ->check(CLI::Validator(
          [](std::string& text) -> std::string {
            try {
              (void)parse_url(text);
              return {};
            } catch (const std::invalid_argument& e) {
              return e.what();
            }
          },
          "", "http_url"));
  cli.app().add_option("--host", host, "host to fetch from when no URL is given")
      ->type_name("HOST")
      ->capture_default_str();
  cli.app()
      .add_option("--port", port, "its port")
      ->type_name("PORT")
      ->check(examples::port_number(1))
      ->capture_default_str();
  cli.app()
      .add_option("--count", count, "how many times to fetch http://HOST:PORT/")
      ->check(examples::integer_in(1, 100000))
      ->capture_default_str();
  cli.app()
      .add_option("--pool", pool_size, "downloads running at once")
      ->check(examples::integer_in(1, 10000))
      ->capture_default_str();
  cli.exit_code(examples::kExitOk, "every download succeeded");
  cli.exit_code(examples::kExitFailed, "some download failed (its line says why)");
  cli.parse(argc, argv);

  return examples::run(cli, [&] {
    if (urls.empty()) {
      const std::string base = fmt::format(
          "http://{}/", grove::net::Address::try_parse(fmt::format("[{}]:{}", host, port))
                            ? fmt::format("[{}]:{}", host, port)  // an IPv6 literal
                            : fmt::format("{}:{}", host, port));
      urls.assign(count, base);
    }
    grove::Pool pool(pool_size);
    int failures = 0;
    for (const std::string& url : urls) {
      pool.spawn([&failures, url] {
        try {
          fmt::print("{}: {}\n", url, download(url));
        } catch (const std::exception& e) {
          ++failures;
          fmt::print("{}: failed: {}\n", url, e.what());
        }
        std::fflush(stdout);
      });
    }
    (void)pool.join();
    fmt::print("{} of {} downloads succeeded\n", urls.size() - failures, urls.size());
    return failures == 0 ? examples::kExitOk : examples::kExitFailed;
  });
}
