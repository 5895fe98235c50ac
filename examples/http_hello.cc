// http_hello — the smallest useful HTTP server: every request gets `200 Hello, World!`.
//
//   bazel run //examples:http_hello -- --port 8080
//   curl -v http://127.0.0.1:8080/         # or: wrk -t1 -c50 -d5s http://127.0.0.1:8080/
//   --access-log on                        # one log line per request (off: benchmarks)
//   --threads 2                            # serve on two hubs (threads), SO_REUSEPORT
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
  examples::Command cli("http_hello",
                        "Answers every HTTP request with 200 'Hello, World!'; stop with Ctrl-C.");
  const examples::Endpoint& at = cli.listen_options("127.0.0.1", 8080);
  const std::size_t& threads = cli.threads_option();
  std::string access_log = "off";
  cli.app()
      .add_option("--access-log", access_log, "one log line per request (off for benchmarks)")
      ->check(CLI::IsMember({"on", "off"}))
      ->capture_default_str();
  cli.exit_code(examples::kExitOk, "stopped by SIGINT or SIGTERM");
  cli.parse(argc, argv);

  return examples::run(cli, [&] {
    grove::servers::HttpServerOptions options;
    options.access_log = access_log == "on";
    options.stream.threads = threads;
    grove::servers::HttpServer server(
        examples::listen(at, 128, threads > 1),
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
    examples::print_listening(cli, server.address(), "http");
    server.serve_forever();
    return examples::kExitOk;
  });
}
