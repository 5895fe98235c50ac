// tests/servers/many_hubs_test.cc — StreamServer and HttpServer on several hubs (threads > 1):
// one SO_REUSEPORT listener per hub, each connection served on the hub that accepted it, stop()
// ending every connection and every hub thread, a failing handler on one hub leaving the rest.
// Real sockets on 127.0.0.1.
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <fmt/format.h>

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "actors/actor.h"
#include "actors/group.h"
#include "hub/hub.h"
#include "hub/runtime.h"
#include "servers/datagram_server.h"
#include "servers/http_server.h"
#include "servers/stream_server.h"
#include "tests/servers/client.h"
#include "tests/support/grove_test.h"

namespace {

using grove::servers::HttpServer;
using grove::servers::HttpServerOptions;
using grove::servers::Stream;
using grove::servers::StreamServer;
using grove::servers::StreamServerOptions;
using grove::servers::testing::connect_to;

// Enough connections that SO_REUSEPORT's hash of the client ports lands some on each of two
// hubs (all on one hub: a chance of 2^-63).
constexpr int kConnections = 64;

StreamServerOptions on_hubs(std::size_t n) {
  StreamServerOptions o;
  o.threads = n;
  return o;
}

// Threads of this process now.
std::size_t thread_count() {
  std::size_t n = 0;
  if (DIR* dir = ::opendir("/proc/self/task")) {
    while (const dirent* e = ::readdir(dir)) n += e->d_name[0] != '.' ? 1 : 0;
    ::closedir(dir);
  }
  return n;
}

// Reads exactly n bytes (or fewer when the peer closed).
std::string read_n(grove::net::Socket& s, std::size_t n) {
  std::string out;
  char buf[4096];
  while (out.size() < n) {
    std::size_t got = 0;
    try {
      got = s.recv_into(buf, std::min(sizeof buf, n - out.size()));
    } catch (const grove::net::SocketError&) {
      break;  // reset by the server: counts as closed
    }
    if (got == 0) break;
    out.append(buf, got);
  }
  return out;
}

// An echo handler that counts, per hub, the connections it served, and checks that it runs on
// one of the server's hub threads (not the caller's).
struct CountingEcho {
  std::array<std::atomic<int>, 4> served{};
  std::atomic<int> on_callers_thread{0};
  std::thread::id caller = std::this_thread::get_id();

  grove::servers::StreamHandler handler() {
    return [this](Stream& conn, const grove::net::Address&) {
      if (std::this_thread::get_id() == caller) on_callers_thread.fetch_add(1);
      served.at(StreamServer::hub_index()).fetch_add(1);
      char buf[256];
      while (std::size_t n = conn.read_some(buf, sizeof buf)) {
        conn.write_all(std::string_view(buf, n));
      }
    };
  }
};

GROVE_TEST(ManyHubs, ConnectionsAreServedOnEveryHub) {
  CountingEcho echo;
  StreamServer server("127.0.0.1:0", echo.handler(), on_hubs(2));
  server.start();
  ASSERT_NE(server.server_port(), 0);
  for (int i = 0; i < kConnections; ++i) {
    grove::net::Socket s = connect_to(server.server_port());
    const std::string hello = fmt::format("hello {}", i);
    s.sendall(hello);
    ASSERT_EQ(read_n(s, hello.size()), hello);
  }
  const auto stats = server.stats();
  EXPECT_EQ(stats.accepted, std::uint64_t(kConnections));
  ASSERT_EQ(stats.accepted_by_hub.size(), 2u);
  EXPECT_GT(stats.accepted_by_hub[0], 0u);
  EXPECT_GT(stats.accepted_by_hub[1], 0u);
  EXPECT_EQ(stats.accepted_by_hub[0] + stats.accepted_by_hub[1], std::uint64_t(kConnections));
  server.stop();
  // What the handlers saw agrees with what the accept loops counted.
  EXPECT_EQ(echo.served[0].load(), int(stats.accepted_by_hub[0]));
  EXPECT_EQ(echo.served[1].load(), int(stats.accepted_by_hub[1]));
  EXPECT_EQ(echo.on_callers_thread.load(), 0);
  EXPECT_EQ(server.stats().accepted, std::uint64_t(kConnections));  // kept after stop
}

// Concurrent clients: every one gets its own bytes back, whichever hub served it.
GROVE_TEST(ManyHubs, ConcurrentClientsOnFourHubsAreByteExact) {
  CountingEcho echo;
  StreamServer server("127.0.0.1:0", echo.handler(), on_hubs(4));
  server.start();
  std::vector<grove::net::Socket> clients;
  for (int i = 0; i < kConnections * 2; ++i) clients.push_back(connect_to(server.server_port()));
  for (std::size_t i = 0; i < clients.size(); ++i) clients[i].sendall(fmt::format("<{:04}>", i));
  for (std::size_t i = 0; i < clients.size(); ++i) {
    EXPECT_EQ(read_n(clients[i], 6), fmt::format("<{:04}>", i));
  }
  int hubs_used = 0;
  for (const auto n : server.stats().accepted_by_hub) hubs_used += n > 0 ? 1 : 0;
  EXPECT_GE(hubs_used, 2);
  clients.clear();
  server.stop();
}

// stop() ends the handlers parked on every hub (their stacks unwind), closes their connections
// and the listeners, and joins the hub threads.
GROVE_TEST(ManyHubs, StopClosesEveryConnectionOnEveryHubAndEndsTheThreads) {
  const std::size_t threads_before = thread_count();
  auto entered = std::make_shared<std::array<std::atomic<int>, 2>>();
  auto unwound = std::make_shared<std::atomic<int>>(0);
  std::vector<grove::net::Socket> clients;
  std::uint16_t port = 0;
  {
    StreamServer server(
        "127.0.0.1:0",
        [entered, unwound](Stream& conn, const grove::net::Address&) {
          struct Count {
            std::shared_ptr<std::atomic<int>> n;
            ~Count() { n->fetch_add(1); }
          } count{unwound};
          char c;
          if (conn.read_some(&c, 1) != 1) return;
          (*entered)[StreamServer::hub_index()].fetch_add(1);
          grove::sleep(3600.0);
        },
        on_hubs(2));
    server.start();
    port = server.server_port();
    EXPECT_EQ(thread_count(), threads_before + 2);
    for (int i = 0; i < kConnections; ++i) {
      clients.push_back(connect_to(port));
      clients.back().sendall("x");
    }
    const grove::Deadline all_in = grove::Deadline::after(30.0);
    while ((*entered)[0].load() + (*entered)[1].load() < kConnections && !all_in.passed()) {
      grove::sleep(0.005);
    }
    ASSERT_EQ((*entered)[0].load() + (*entered)[1].load(), kConnections);
    EXPECT_GT((*entered)[0].load(), 0);
    EXPECT_GT((*entered)[1].load(), 0);
    EXPECT_EQ(server.connection_count(), std::size_t(kConnections));
    server.stop(0.1);
    EXPECT_FALSE(server.started());
    EXPECT_EQ(unwound->load(), kConnections);  // every handler unwound before stop() returned
    EXPECT_EQ(server.connection_count(), 0u);
    EXPECT_EQ(thread_count(), threads_before);  // the hub threads are gone
  }
  for (auto& c : clients) EXPECT_EQ(read_n(c, 1), "");  // closed, no answer
  EXPECT_THROW(connect_to(port), grove::net::SocketError);  // no listener left on any hub
}

// stop(timeout) gives the handlers of every hub their time to finish before it kills any.
GROVE_TEST(ManyHubs, StopLetsTheHandlersOfEveryHubFinish) {
  std::array<std::atomic<int>, 2> entered{};
  std::atomic<int> finished{0};
  StreamServer server(
      "127.0.0.1:0",
      [&](Stream& conn, const grove::net::Address&) {
        char c;
        if (conn.read_some(&c, 1) != 1) return;
        entered[StreamServer::hub_index()].fetch_add(1);
        grove::sleep(0.2);  // work in progress when stop() comes
        conn.write_all("done");
        finished.fetch_add(1);
      },
      on_hubs(2));
  server.start();
  std::vector<grove::net::Socket> clients;
  for (int i = 0; i < kConnections; ++i) {
    clients.push_back(connect_to(server.server_port()));
    clients.back().sendall("x");
  }
  const grove::Deadline all_in = grove::Deadline::after(30.0);
  while (entered[0].load() + entered[1].load() < kConnections && !all_in.passed()) {
    grove::sleep(0.002);
  }
  ASSERT_EQ(entered[0].load() + entered[1].load(), kConnections);
  EXPECT_GT(entered[0].load(), 0);
  EXPECT_GT(entered[1].load(), 0);
  server.stop(60.0);  // returns when they are done, long before the 60 s
  EXPECT_EQ(finished.load(), kConnections);
  for (auto& c : clients) EXPECT_EQ(read_n(c, 4), "done");
}

// stop_accepting() pauses every hub's accept loop (clients wait in the kernel's backlog) and
// start_accepting() resumes them all.
GROVE_TEST(ManyHubs, StopAndStartAcceptingActOnEveryHub) {
  CountingEcho echo;
  StreamServer server("127.0.0.1:0", echo.handler(), on_hubs(2));
  server.start();
  server.stop_accepting();
  EXPECT_FALSE(server.accepting());
  std::vector<grove::net::Socket> clients;
  for (int i = 0; i < 16; ++i) {
    clients.push_back(connect_to(server.server_port()));
    clients.back().sendall("w");
  }
  grove::sleep(0.2);  // a chance for a hub that was not paused to accept (it must not)
  EXPECT_EQ(server.stats().accepted, 0u);
  server.start_accepting();
  EXPECT_TRUE(server.accepting());
  for (auto& c : clients) EXPECT_EQ(read_n(c, 1), "w");
  EXPECT_EQ(server.stats().accepted, 16u);
  server.stop();
}

// A handler that throws on the second hub ends its own connection only: both hubs go on
// serving.
GROVE_TEST(ManyHubs, AHandlerThatThrowsOnTheSecondHubLeavesTheServerServing) {
  std::atomic<int> thrown{0};
  std::array<std::atomic<int>, 2> served{};
  StreamServer server(
      "127.0.0.1:0",
      [&](Stream& conn, const grove::net::Address&) {
        char c;
        if (conn.read_some(&c, 1) != 1) return;
        const std::size_t hub = StreamServer::hub_index();
        if (c == '!' && hub == 1) {
          thrown.fetch_add(1);
          throw std::runtime_error("handler exploded on hub 1");
        }
        served[hub].fetch_add(1);
        conn.write_all("ok");
      },
      on_hubs(2));
  server.start();
  // Until one '!' lands on hub 1 (each connection a fresh client port, so a fresh hash).
  for (int i = 0; i < 200 && thrown.load() == 0; ++i) {
    grove::net::Socket s = connect_to(server.server_port());
    s.sendall("!");
    const std::string answer = read_n(s, 2);
    EXPECT_TRUE(answer == "ok" || answer.empty()) << answer;
  }
  ASSERT_EQ(thrown.load(), 1);
  const int served_before = served[0].load() + served[1].load();
  const auto by_hub_before = server.stats().accepted_by_hub;
  for (int i = 0; i < kConnections; ++i) {
    grove::net::Socket s = connect_to(server.server_port());
    s.sendall("x");
    ASSERT_EQ(read_n(s, 2), "ok");
  }
  EXPECT_EQ(served[0].load() + served[1].load(), served_before + kConnections);
  const auto by_hub = server.stats().accepted_by_hub;
  EXPECT_GT(by_hub[0], by_hub_before[0]);
  EXPECT_GT(by_hub[1], by_hub_before[1]);  // the hub whose handler threw still accepts
  server.stop();
}

// A listener made with SO_REUSEPORT gets siblings on its port, one per hub.
GROVE_TEST(ManyHubs, AListeningSocketWithReusePortGetsAListenerPerHub) {
  CountingEcho echo;
  grove::net::Socket listener =
      grove::net::create_server(grove::net::Address::ipv4("127.0.0.1", 0), 128, true);
  const std::uint16_t port = listener.getsockname().port();
  StreamServer server(std::move(listener), echo.handler(), on_hubs(2));
  server.start();
  EXPECT_EQ(server.server_port(), port);
  for (int i = 0; i < kConnections; ++i) {
    grove::net::Socket s = connect_to(port);
    s.sendall("y");
    ASSERT_EQ(read_n(s, 1), "y");
  }
  EXPECT_GT(echo.served[0].load(), 0);
  EXPECT_GT(echo.served[1].load(), 0);
  server.stop();
}

// A listener without SO_REUSEPORT cannot have siblings: the hubs share it, and still serve.
GROVE_TEST(ManyHubs, AListeningSocketWithoutReusePortIsSharedByTheHubs) {
  CountingEcho echo;
  grove::net::Socket listener =
      grove::net::create_server(grove::net::Address::ipv4("127.0.0.1", 0), 128);
  const std::uint16_t port = listener.getsockname().port();
  StreamServer server(std::move(listener), echo.handler(), on_hubs(2));
  server.start();
  for (int i = 0; i < 16; ++i) {
    grove::net::Socket s = connect_to(port);
    s.sendall("z");
    ASSERT_EQ(read_n(s, 1), "z");
  }
  EXPECT_EQ(echo.served[0].load() + echo.served[1].load(), 16);
  server.stop();
  EXPECT_THROW(connect_to(port), grove::net::SocketError);
}

// The port in use fails start() with the socket's error, and leaves no hub thread behind.
GROVE_TEST(ManyHubs, AnAddressInUseFailsStartAndLeavesNoThread) {
  grove::net::Socket taken =
      grove::net::create_server(grove::net::Address::ipv4("127.0.0.1", 0), 128);
  const std::size_t threads_before = thread_count();
  StreamServer server(fmt::format("127.0.0.1:{}", taken.getsockname().port()),
                      [](Stream&, const grove::net::Address&) {}, on_hubs(2));
  EXPECT_THROW(server.start(), grove::net::SocketError);
  EXPECT_FALSE(server.started());
  EXPECT_EQ(thread_count(), threads_before);
}

// A Group belongs to one hub: refused with more than one.
GROVE_TEST(ManyHubs, AGroupPolicyIsRefused) {
  grove::Group group;
  StreamServerOptions o = on_hubs(2);
  o.spawn = grove::servers::SpawnPolicy::group(group);
  StreamServer server("127.0.0.1:0", [](Stream&, const grove::net::Address&) {}, o);
  EXPECT_THROW(server.start(), std::invalid_argument);
}

// HTTP on two hubs: requests answered on both, counters added up over the hubs, and stop()
// ends the idle keep-alive connections of every hub at once.
GROVE_TEST(ManyHubs, HttpServerAnswersOnEveryHubAndStopEndsIdleConnectionsEverywhere) {
  HttpServerOptions options;
  options.stream.threads = 2;
  HttpServer server(
      "127.0.0.1:0",
      [](grove::servers::HttpRequest&, grove::servers::HttpResponse& response) {
        response.send(200, fmt::format("hub {}", StreamServer::hub_index()), "text/plain");
      },
      options);
  server.start();
  std::vector<grove::net::Socket> clients;
  std::set<std::string> bodies;
  for (int i = 0; i < kConnections; ++i) {
    clients.push_back(connect_to(server.server_port()));
    clients.back().sendall("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    grove::servers::testing::ReplyReader reader(clients.back());
    const auto reply = reader.read();
    ASSERT_EQ(reply.status, 200);
    bodies.insert(reply.body);
  }
  EXPECT_EQ(bodies, (std::set<std::string>{"hub 0", "hub 1"}));
  EXPECT_EQ(server.stats().requests, std::uint64_t(kConnections));
  // Every client waits, idle, on its keep-alive connection: stop() closes them all, whichever
  // hub holds them, without waiting out the (long) timeout.
  server.stop(3600.0);
  for (auto& c : clients) {
    grove::servers::testing::ReplyReader reader(c);
    EXPECT_TRUE(reader.closed_within(30.0));
  }
  EXPECT_EQ(server.stats().requests, std::uint64_t(kConnections));  // read after the hubs ended
}

// UDP on two hubs: each hub has its own socket on the port, answers go out from the hub that
// received the datagram, and stop() ends both hub threads.
GROVE_TEST(ManyHubs, DatagramServerAnswersFromEveryHub) {
  const std::size_t threads_before = thread_count();
  grove::servers::DatagramServerOptions options;
  options.threads = 2;
  grove::servers::DatagramServer server(
      "127.0.0.1:0",
      [](std::string_view data, const grove::net::Address& peer, auto& server) {
        server.sendto(fmt::format("{} from hub {}", data, grove::Runtime::current_index()), peer);
      },
      options);
  server.start();
  EXPECT_EQ(thread_count(), threads_before + 2);
  std::set<std::string> hubs;
  for (int i = 0; i < kConnections; ++i) {
    grove::net::Socket client = grove::net::Socket::create(AF_INET, SOCK_DGRAM);
    client.settimeout(30.0);
    client.sendto(fmt::format("ping {}", i), server.address());
    const auto reply = client.recvfrom(100);
    const std::string expected = fmt::format("ping {} from hub ", i);
    ASSERT_EQ(reply.data.substr(0, expected.size()), expected);
    EXPECT_EQ(reply.from.port(), server.server_port());  // answered from the server's port
    hubs.insert(reply.data.substr(expected.size()));
  }
  EXPECT_EQ(hubs, (std::set<std::string>{"0", "1"}));
  EXPECT_EQ(server.received(), std::uint64_t(kConnections));
  server.stop();
  EXPECT_FALSE(server.started());
  EXPECT_EQ(server.received(), std::uint64_t(kConnections));
  EXPECT_EQ(thread_count(), threads_before);
}

// One hub: the server runs on the calling hub, as it always did.
GROVE_TEST(ManyHubs, OneHubServesOnTheCallersHub) {
  std::atomic<int> on_caller{0};
  const std::thread::id caller = std::this_thread::get_id();
  StreamServer server("127.0.0.1:0", [&](Stream& conn, const grove::net::Address&) {
    if (std::this_thread::get_id() == caller) on_caller.fetch_add(1);
    conn.write_all("1");
  });
  server.start();
  grove::net::Socket s = connect_to(server.server_port());
  EXPECT_EQ(read_n(s, 1), "1");
  EXPECT_EQ(on_caller.load(), 1);
  EXPECT_EQ(server.stats().accepted_by_hub, std::vector<std::uint64_t>{1});
  server.stop();
}

}  // namespace
