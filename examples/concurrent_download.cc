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
  if (colon != std::string::npos) {
    url.port = static_cast<std::uint16_t>(std::stoi(rest.substr(colon + 1)));
    rest.resize(colon);
  }
  url.host = rest;
  return url;
}

// "200 13 bytes" — the status and the body size.
std::string download(const std::string& text) {
  const Url url = parse_url(text);
  grove::net::Socket s = grove::net::create_connection(url.host, url.port, 10.0);
  s.sendall(fmt::format("GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", url.path,
                        url.host));
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
  examples::Cli cli(argc, argv,
                    "usage: concurrent_download [--pool 10] [URL...]\n"
                    "       concurrent_download --host 127.0.0.1 --port 8080 [--count 10]\n"
                    "Fetches http:// URLs concurrently and prints status and size of each.",
                    {"--host", "--port", "--pool", "--count"});
  std::vector<std::string> urls = cli.positional();
  if (urls.empty()) {
    const std::string base = fmt::format("http://{}:{}/", cli.get("--host", "127.0.0.1"),
                                         cli.get_int("--port", 8080));
    urls.assign(static_cast<std::size_t>(cli.get_int("--count", 10)), base);
  }
  grove::Pool pool(static_cast<std::size_t>(cli.get_int("--pool", 10)));
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
  return failures == 0 ? 0 : 1;
}
