// tests/servers/datagram_server_test.cc — DatagramServer: one handler call per datagram, answers
// with sendto, failures reported and the loop goes on.
#include "servers/datagram_server.h"

#include <algorithm>
#include <memory>
#include <string>

#include "actors/actor.h"
#include "actors/event.h"
#include "hub/hub.h"
#include "hub/testing.h"
#include "tests/support/grove_test.h"

namespace {

using grove::servers::DatagramServer;
using grove::servers::DatagramServerOptions;

void upper_echo(std::string_view data, const grove::net::Address& peer, DatagramServer& server) {
  if (data == "boom") throw std::runtime_error("bad datagram");
  std::string reply(data);
  for (char& c : reply) c = char(std::toupper(static_cast<unsigned char>(c)));
  server.sendto(reply, peer);
}

void exchange(DatagramServer& server) {
  grove::net::Socket client = grove::net::Socket::create(AF_INET, SOCK_DGRAM);
  client.settimeout(5.0);
  for (const char* m : {"one", "two", "three"}) {
    client.sendto(m, server.address());
    const auto reply = client.recvfrom(100);
    std::string want(m);
    for (char& c : want) c = char(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(reply.data, want);
    EXPECT_EQ(reply.from, server.address());
  }
}

GROVE_TEST(DatagramServer, AnswersEachDatagramWithSendto) {
  DatagramServer server("127.0.0.1:0", upper_echo);
  server.start();
  ASSERT_NE(server.server_port(), 0);
  exchange(server);
  EXPECT_EQ(server.received(), 3u);
  server.stop();
  EXPECT_FALSE(server.started());
}

GROVE_TEST(DatagramServer, SpawnPerDatagramRunsEachInItsOwnActor) {
  DatagramServerOptions o;
  o.spawn_per_datagram = true;
  DatagramServer server("127.0.0.1:0", upper_echo, o);
  server.start();
  exchange(server);
}

GROVE_TEST(DatagramServer, SpawnedHandlersAreBoundedAndEndWithTheServer) {
  // Handlers that block: a flood of datagrams runs at most max_handlers of them at once, and
  // stop() ends the ones still running (they use the server).
  int running = 0, most = 0, unwound = 0;
  grove::Event release;
  DatagramServerOptions o;
  o.spawn_per_datagram = true;
  o.max_handlers = 4;
  auto server = std::make_unique<DatagramServer>(
      "127.0.0.1:0",
      [&](std::string_view, const grove::net::Address&, DatagramServer&) {
        ++running;
        most = std::max(most, running);
        struct Leave {
          int& running;
          int& unwound;
          ~Leave() { --running, ++unwound; }
        } leave{running, unwound};
        (void)release.wait();
      },
      o);
  server->start();
  grove::net::Socket client = grove::net::Socket::create(AF_INET, SOCK_DGRAM);
  for (int i = 0; i < 20; ++i) client.sendto("x", server->address());
  const grove::Deadline until = grove::Deadline::after(5.0);
  while (running < 4 && !until.passed()) grove::sleep(0.001);
  grove::sleep(0.05);  // room for more to start, if the bound did not hold
  EXPECT_EQ(running, 4);
  EXPECT_EQ(most, 4);
  EXPECT_EQ(server->received(), 4u);  // the rest wait in the socket until there is room
  server->stop();
  EXPECT_EQ(running, 0);
  EXPECT_EQ(unwound, 4);
  server.reset();
}

GROVE_TEST(DatagramServer, FailingHandlerIsReportedAndTheLoopGoesOn) {
  grove::testing::ExpectFailures failures;
  DatagramServer server("127.0.0.1:0", upper_echo);
  server.start();
  grove::net::Socket client = grove::net::Socket::create(AF_INET, SOCK_DGRAM);
  client.sendto("boom", server.address());
  exchange(server);
  ASSERT_EQ(failures.count(), 1u);
  EXPECT_NE(failures.reports()[0].find("bad datagram"), std::string::npos);
}

}  // namespace
