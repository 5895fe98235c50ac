// actors/actor.h's receive_or / receive_or_until: an actor waits for its mailbox and another
// source at once; a trapping connection actor idle on its socket sees its supervisor's shutdown.
#include <memory>
#include <string>

#include "actors/actor.h"
#include "actors/event.h"
#include "actors/supervisor.h"
#include "hub/hub.h"
#include "hub/io.h"
#include "net/socket.h"
#include "tests/support/grove_test.h"

namespace grove {
namespace {

struct Note {
  std::string text;
};

// A TCP connection on 127.0.0.1: {client, served}.
std::pair<net::Socket, net::Socket> tcp_pair() {
  net::Socket listener = net::create_server(net::Address::ipv4("127.0.0.1", 0));
  net::Socket client = net::create_connection(listener.getsockname(), 5.0);
  net::Accepted accepted = listener.accept();
  return {std::move(client), std::move(accepted.socket)};
}

GROVE_TEST(ReceiveOr, SupervisorShutsDownATrappingConnectionActorIdleOnItsSocket) {
  auto [client, served] = tcp_pair();
  auto conn = std::make_shared<net::Socket>(std::move(served));
  bool cleaned_up = false;
  std::optional<ExitReason> saw;
  Event serving;
  ChildSpec spec;
  spec.id = "connection";
  // Long enough that a child which cannot see the shutdown is killed, and ends `killed`.
  spec.shutdown = Shutdown::timeout(30.0);
  spec.start = [&] {
    return ActorRef(spawn([&, conn] {
      struct Cleanup {
        bool& done;
        net::Socket& sock;
        ~Cleanup() {
          sock.close();
          done = true;
        }
      } cleanup{cleaned_up, *conn};
      trap_exit(true);
      for (;;) {
        // Idle on the socket, yet the supervisor's Exit{shutdown} gets through.
        const Received got = receive_or(conn->readable(), [&](const Exit& e) {
          saw = e.reason;
          throw ExitSignal{e.reason};
        });
        if (got != Received::kOther) continue;
        const std::string data = conn->recv(4096);
        if (data.empty()) return;
        conn->sendall(data);
        serving.set();
      }
    }));
  };
  Supervisor sup = Supervisor::start({}, {spec});
  ActorRef child = sup.which_children().at(0).actor;
  client.sendall("ping");
  ASSERT_EQ(client.recv(16), "ping");  // the readable() side of receive_or serves
  ASSERT_TRUE(serving.wait(Deadline::after(20.0)));
  sup.stop();  // the child is idle in receive_or on its socket
  ASSERT_TRUE(child.join(Deadline::after(20.0)));
  EXPECT_EQ(child.exit_reason(), ExitReason::shutdown()) << "it saw the shutdown, not the kill";
  EXPECT_EQ(saw, std::optional<ExitReason>(ExitReason::shutdown()));
  EXPECT_TRUE(cleaned_up);
  EXPECT_EQ(client.recv(16), "");  // the connection was closed by the cleanup
}

GROVE_TEST(ReceiveOr, AQueuedMessageGoesBeforeAReadySocket) {
  auto [client, served] = tcp_pair();
  client.sendall("x");
  std::string got;
  Received first{}, second{};
  ActorRef a(spawn([&] {
    ASSERT_TRUE(served.wait_readable(Deadline::after(20.0)));  // the socket is ready ...
    receive([](const Note&) {});                                // ... and a message arrived
    first = receive_or(served.readable(), [&](const Note& n) { got = n.text; });
    second = receive_or(served.readable(), [&](const Note& n) { got += n.text; });
  }));
  send(a, Note{"go"});
  send(a, Note{"first"});
  ASSERT_TRUE(a.join(Deadline::after(20.0)));
  EXPECT_EQ(first, Received::kMessage);
  EXPECT_EQ(got, "first");
  EXPECT_EQ(second, Received::kOther);
}

GROVE_TEST(ReceiveOr, AMessageWakesAnActorIdleOnItsSocket) {
  auto [client, served] = tcp_pair();
  std::string got;
  Received status{};
  ActorRef a(spawn([&] {
    status = receive_or_until(served.readable(), Deadline::after(30.0),
                              [&](const Note& n) { got = n.text; });
  }));
  yield();
  send(a, Note{"hello"});
  ASSERT_TRUE(a.join(Deadline::after(20.0)));
  EXPECT_EQ(status, Received::kMessage);
  EXPECT_EQ(got, "hello");
}

GROVE_TEST(ReceiveOr, AfterARecvTheSocketIsReadableOnlyWhenNewDataArrives) {
  auto [client, served] = tcp_pair();
  client.sendall("x");
  Received first{}, second{}, third{};
  std::string data;
  ActorRef a(spawn([&] {
    first = receive_or(served.readable(), [](const Note&) {});
    data = served.recv(16);
    // The poller's report was used up by the recv: no new data, no readiness.
    second = receive_or_until(served.readable(), Deadline::after(0.05), [](const Note&) {});
    client.sendall("y");
    third = receive_or_until(served.readable(), Deadline::after(20.0), [](const Note&) {});
  }));
  ASSERT_TRUE(a.join(Deadline::after(30.0)));
  EXPECT_EQ(first, Received::kOther);
  EXPECT_EQ(data, "x");
  EXPECT_EQ(second, Received::kTimedOut);
  EXPECT_EQ(third, Received::kOther);
}

GROVE_TEST(ReceiveOr, TimesOutAndLeavesTheSocketFree) {
  auto [client, served] = tcp_pair();
  Received status{};
  ActorRef a(spawn([&] {
    status = receive_or_until(served.readable(), Deadline::after(0.02), [](const Note&) {});
  }));
  ASSERT_TRUE(a.join(Deadline::after(20.0)));
  EXPECT_EQ(status, Received::kTimedOut);
  EXPECT_FALSE(served.readable().watcher()->has_waiter());
  client.sendall("after");
  EXPECT_EQ(served.recv(16), "after");  // no stale registration: recv may wait on the socket
}

GROVE_TEST(ReceiveOr, KilledWhileWaitingLeavesTheSocketAndMailbox) {
  auto [client, served] = tcp_pair();
  bool returned = false;
  ActorRef a(spawn([&] {
    (void)receive_or(served.readable(), [](const Note&) {});
    returned = true;
  }));
  yield();
  ASSERT_TRUE(served.readable().watcher()->has_waiter());
  a.kill();
  ASSERT_TRUE(a.join(Deadline::after(20.0)));
  EXPECT_FALSE(returned);
  EXPECT_EQ(a.exit_reason(), ExitReason::killed());
  EXPECT_FALSE(served.readable().watcher()->has_waiter());
  client.sendall("still");
  EXPECT_EQ(served.recv(16), "still");
}

GROVE_TEST(ReceiveOr, ClosingTheSocketUnderTheActorThrowsEbadfOutOfTheWait) {
  auto [client, served] = tcp_pair();
  bool got_ebadf = false;
  ActorRef a(spawn([&] {
    try {
      (void)receive_or(served.readable(), [](const Note&) {});
    } catch (const net::SocketError& e) {
      got_ebadf = e.code().value() == EBADF;
    }
  }));
  yield();
  served.close();
  ASSERT_TRUE(a.join(Deadline::after(20.0)));
  EXPECT_TRUE(got_ebadf);
}

}  // namespace
}  // namespace grove
