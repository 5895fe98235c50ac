// monkey_clients — gevent.monkey in C++: two blocking client libraries that know nothing of
// greenlets (hiredis' synchronous API and libcurl's easy API) run from many greenlets of one
// thread, first as they are (each call blocks the thread: the clients take turns), then after
// gevent::monkey::patch_all() (each call parks only its greenlet: the clients run together).
//
//   bazel run //examples:kv_server -- --port 6390 &
//   bazel run //examples:monkey_clients -- --port 6390
//
// The HTTP clients fetch from a server this program starts on its own thread, which answers
// every request after 200 ms: 50 clients take 50 x 0.2 = 10 s one after the other, about 0.2 s
// together. The Redis clients each do --round-trips INCRs against kv_server (or redis-server) on
// --port; without a server there, that half is skipped.
#include <curl/curl.h>
#include <fmt/core.h>
#include <hiredis/hiredis.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "examples/cli.h"
#include "facade/gevent.h"
#include "servers/http_server.h"

namespace {

// The slow server: its own thread and hub, so it answers whatever the clients' thread does.
class SlowServer {
 public:
  SlowServer() {
    thread_ = std::thread([this] {
      grove::servers::HttpServer server("127.0.0.1:0", [](auto& request, auto& response) {
        gevent::sleep(0.2);
        response.send(200, request.target());
      });
      server.start();
      port_ = server.server_port();
      while (!stop_.load()) gevent::sleep(0.05);
      server.stop();
    });
    while (port_.load() == 0) std::this_thread::yield();
  }
  ~SlowServer() {
    stop_ = true;
    thread_.join();
  }
  int port() const { return port_.load(); }

 private:
  std::thread thread_;
  std::atomic<int> port_{0};
  std::atomic<bool> stop_{false};
};

std::size_t append(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// One blocking GET with libcurl's easy API; true when the body is the path.
bool fetch(int port, const std::string& path) {
  CURL* curl = curl_easy_init();
  const std::string url = fmt::format("http://127.0.0.1:{}{}", port, path);
  std::string body;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  const bool ok = curl_easy_perform(curl) == CURLE_OK && body == path;
  curl_easy_cleanup(curl);
  return ok;
}

// `round_trips` blocking INCRs with hiredis; true when every reply counted up by one.
bool count_up(int port, const std::string& key, int round_trips) {
  redisContext* c = redisConnect("127.0.0.1", port);
  if (c == nullptr || c->err) {
    if (c != nullptr) redisFree(c);
    return false;
  }
  freeReplyObject(redisCommand(c, "DEL %s", key.c_str()));
  bool ok = true;
  for (long long i = 1; i <= round_trips; ++i) {
    auto* reply = static_cast<redisReply*>(redisCommand(c, "INCR %s", key.c_str()));
    ok = ok && reply != nullptr && reply->type == REDIS_REPLY_INTEGER && reply->integer == i;
    if (reply != nullptr) freeReplyObject(reply);
  }
  redisFree(c);
  return ok;
}

bool redis_answers(int port) {
  redisContext* c = redisConnect("127.0.0.1", port);
  const bool up = c != nullptr && c->err == 0;
  if (c != nullptr) redisFree(c);
  return up;
}

// Runs `count` greenlets of `job(i)` and prints how long they took together.
template <class Job>
bool race(const char* what, int count, Job job) {
  const double begin = grove::Deadline::now();
  std::vector<gevent::Greenlet<bool>> clients;
  for (int i = 0; i < count; ++i) clients.push_back(gevent::spawn([&job, i] { return job(i); }));
  gevent::joinall(clients);
  int ok = 0;
  for (auto& c : clients) ok += c.successful() && *c.value() ? 1 : 0;
  fmt::print("  {:<44} {:6.2f} s  ({}/{} correct)\n", what, grove::Deadline::now() - begin, ok,
             count);
  return ok == count;
}

struct Sizes {
  int http_clients;
  int redis_clients;
  int round_trips;
};

bool round(const char* title, int redis_port, bool with_redis, int http_port, const Sizes& n) {
  fmt::print("{}\n", title);
  bool ok = race(fmt::format("{} libcurl GETs (200 ms each)", n.http_clients).c_str(),
                 n.http_clients,
                 [&](int i) { return fetch(http_port, fmt::format("/item/{}", i)); });
  if (with_redis) {
    ok = race(fmt::format("{} hiredis clients x {} INCR", n.redis_clients, n.round_trips).c_str(),
              n.redis_clients,
              [&](int i) {
                return count_up(redis_port, fmt::format("monkey:{}", i), n.round_trips);
              }) &&
         ok;
  }
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  examples::Command cli("monkey_clients",
                        "Blocking hiredis and libcurl clients from many greenlets, before and after "
                        "gevent::monkey::patch_all().");
  std::uint16_t redis_port = 6390;
  int http_clients = 50, redis_clients = 100, round_trips = 1000;
  cli.app()
      .add_option("--port", redis_port, "port of kv_server (or redis-server) on 127.0.0.1")
      ->type_name("PORT")
      ->check(examples::port_number(1))
      ->capture_default_str();
  cli.app()
      .add_option("--http-clients", http_clients, "libcurl clients")
      ->check(examples::integer_in(1, 10000))
      ->capture_default_str();
  cli.app()
      .add_option("--redis-clients", redis_clients, "hiredis clients")
      ->check(examples::integer_in(1, 10000))
      ->capture_default_str();
  cli.app()
      .add_option("--round-trips", round_trips, "INCRs per hiredis client")
      ->check(examples::integer_in(1, 1000000))
      ->capture_default_str();
  cli.exit_code(examples::kExitOk, "every client got every answer right");
  cli.exit_code(examples::kExitFailed, "some client got a wrong answer or none");
  cli.parse(argc, argv);

  return examples::run(cli, [&] {
    const Sizes sizes{http_clients, redis_clients, round_trips};
    curl_global_init(CURL_GLOBAL_DEFAULT);
    SlowServer http;
    const bool with_redis = redis_answers(redis_port);
    if (!with_redis) {
      fmt::print("(nothing answers on port {}: the Redis half is skipped)\n", redis_port);
    }
    bool ok = round("Blocking calls as they are (the clients take turns):", redis_port,
                    with_redis, http.port(), sizes);
    gevent::monkey::patch_all();
    ok = round("After gevent::monkey::patch_all() (the clients run together):", redis_port,
               with_redis, http.port(), sizes) && ok;
    curl_global_cleanup();
    return ok ? examples::kExitOk : examples::kExitFailed;
  });
}
