// http_hello — the smallest useful HTTP server: every request gets `200 Hello, World!`.
//
//   bazel run //examples:http_hello -- --port 8080
//   curl -v http://127.0.0.1:8080/         # or: wrk -t1 -c50 -d5s http://127.0.0.1:8080/
//   --access-log on                        # one log line per request (off: benchmarks)
//
// This is the server compared with nginx in tests/benchmarks/compare.sh. Keep-alive,
// pipelining, HEAD and the limits come from grove::servers::HttpServer; each keep-alive request
// costs one read and one write.
#include <fmt/core.h>

#include <csignal>

#include "examples/cli.h"
#include "servers/http_server.h"
#include "servers/signals.h"

int main(int argc, char** argv) {
  examples::Cli cli(argc, argv,
                    "usage: http_hello [--host 127.0.0.1] [--port 8080] [--access-log on]\n"
                    "Answers every HTTP request with 200 'Hello, World!'; stop with Ctrl-C.",
                    {"--host", "--port", "--access-log"});
  const std::string address =
      fmt::format("{}:{}", cli.get("--host", "127.0.0.1"), cli.get_int("--port", 8080));

  grove::servers::HttpServerOptions options;
  options.access_log = cli.get("--access-log", "off") == "on";
  grove::servers::HttpServer server(
      address,
      [](grove::servers::HttpRequest& request, grove::servers::HttpResponse& response) {
        // An uploaded body is read (and dropped) first: that read is what answers an
        // `Expect: 100-continue`. A GET has none and costs nothing here.
        if (request.content_length().value_or(0) > 0 || request.chunked()) {
          char sink[4096];
          while (request.read(sink, sizeof sink) > 0) {
          }
        }
        response.send(200, "Hello, World!", "text/plain");
      },
      options);
  grove::servers::SignalWatch stop({SIGINT, SIGTERM}, [&](int) { server.stop(1.0); });
  server.start();
  fmt::print("http_hello listening on http://{}/\n", server.address().to_string());
  std::fflush(stdout);
  server.serve_forever();
  return 0;
}
