// gevent.monkey with real, unaware libraries: hiredis' synchronous API against kv_server, and
// libcurl's easy API against a server that delays every answer, each from many greenlets of one
// thread. Concurrency is shown by overlap (every client inside a blocking call at once), not by
// timing; the times are recorded as test properties.
#include <curl/curl.h>
#include <hiredis/hiredis.h>

#include <memory>
#include <string>
#include <vector>

#include "facade/gevent.h"
#include "hub/hub.h"
#include "tests/integration/monkey_support.h"
#include "tests/support/grove_test.h"

namespace {

std::string g_kv_server;  // from argv

struct RedisFree {
  void operator()(redisContext* c) const { redisFree(c); }
};
struct ReplyFree {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyFree>;

Reply command(redisContext* c, const char* format, const std::string& key) {
  return Reply(static_cast<redisReply*>(redisCommand(c, format, key.c_str())));
}

}  // namespace

GROVE_TEST(MonkeyClients, HiredisRoundTripsFromAHundredGreenletsRunTogether) {
  gevent::monkey::patch_all();
  monkey_support::KvServer kv(g_kv_server);
  constexpr int kClients = 100;
  constexpr int kRoundTrips = 1000;
  int inside = 0;
  int peak = 0;
  int wrong = 0;
  std::vector<std::string> errors;
  const double begin = grove::Deadline::now();
  std::vector<grove::FiberRef> clients;
  for (int g = 0; g < kClients; ++g) {
    clients.push_back(grove::spawn_fiber([&, g] {
      std::unique_ptr<redisContext, RedisFree> c(redisConnect("127.0.0.1", kv.port()));
      if (!c || c->err) {
        errors.push_back(c ? c->errstr : "redisConnect failed");
        return;
      }
      const std::string key = "monkey:" + std::to_string(g);
      Reply del = command(c.get(), "DEL %s", key);
      for (long long i = 1; i <= kRoundTrips; ++i) {
        peak = std::max(peak, ++inside);
        Reply r = command(c.get(), "INCR %s", key);
        --inside;
        if (!r || r->type != REDIS_REPLY_INTEGER || r->integer != i) ++wrong;
      }
      Reply last = command(c.get(), "GET %s", key);
      if (!last || last->type != REDIS_REPLY_STRING || std::string(last->str) != "1000") ++wrong;
    }));
  }
  for (auto& c : clients) ASSERT_TRUE(c->join(grove::Deadline::after(600)));
  EXPECT_TRUE(errors.empty()) << errors.front();
  EXPECT_EQ(wrong, 0);
  // Every client was inside a blocking redisCommand at the same time (unpatched: never two).
  EXPECT_EQ(peak, kClients);
  ::testing::Test::RecordProperty("hiredis_100x1000_seconds",
                                  std::to_string(grove::Deadline::now() - begin));
}

namespace {
std::size_t append(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}
}  // namespace

GROVE_TEST(MonkeyClients, CurlEasyFetchesFromFiftyGreenletsAreInFlightTogether) {
  gevent::monkey::patch_all();
  constexpr int kClients = 50;
  monkey_support::SlowHttpServer server(kClients, 0.2, /*gather=*/true);
  int ok = 0;
  std::vector<std::string> problems;
  const double begin = grove::Deadline::now();
  std::vector<grove::FiberRef> clients;
  for (int g = 0; g < kClients; ++g) {
    clients.push_back(grove::spawn_fiber([&, g] {
      CURL* curl = curl_easy_init();
      const std::string path = "/item/" + std::to_string(g);
      const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + path;
      std::string body;
      curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
      curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
      curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
      curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &append);
      curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
      const CURLcode rc = curl_easy_perform(curl);
      long status = 0;
      curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
      curl_easy_cleanup(curl);
      if (rc == CURLE_OK && status == 200 && body == path) {
        ++ok;
      } else {
        problems.push_back(path + ": " + curl_easy_strerror(rc) + " status " +
                           std::to_string(status) + " body \"" + body + "\"");
      }
    }));
  }
  for (auto& c : clients) ASSERT_TRUE(c->join(grove::Deadline::after(120)));
  EXPECT_EQ(ok, kClients) << (problems.empty() ? "" : problems.front());
  EXPECT_EQ(server.peak(), kClients);  // all 50 requests were waiting for an answer at once
  ::testing::Test::RecordProperty("curl_50x200ms_seconds",
                                  std::to_string(grove::Deadline::now() - begin));
}

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc < 2) {
    std::fprintf(stderr, "usage: monkey_clients_test <kv_server binary>\n");
    return 2;
  }
  g_kv_server = argv[1];
  curl_global_init(CURL_GLOBAL_DEFAULT);
  const int rc = RUN_ALL_TESTS();
  curl_global_cleanup();
  return rc;
}
