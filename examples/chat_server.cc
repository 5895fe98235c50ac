// chat_server — a line-based chat room over TCP: nicknames, broadcast, one actor per client and
// one for the room.
//
//   bazel run //examples:chat_server -- --port 7000
//   nc 127.0.0.1 7000        # in two terminals: type a nickname, then chat
//
// Actors and messages:
//   - the room: owns the member list; Join, Leave and Say arrive in its mailbox and it sends a
//     Line to every member. Sending never blocks, so a slow client cannot stall the room;
//   - per client, a reader (the connection's own actor) turns lines into Say messages, and a
//     writer (linked to it) writes the Lines it receives. A client whose writer falls more than
//     kMaxBacklog lines behind (it stopped reading) is dropped by the room: killing the writer
//     kills the linked reader, which closes the connection.
#include <fmt/core.h>

#include <csignal>
#include <map>
#include <string>

#include "actors/actor.h"
#include "examples/cli.h"
#include "hub/timeout.h"
#include "net/reader.h"
#include "servers/signals.h"
#include "servers/stream_server.h"

namespace {

constexpr std::size_t kMaxBacklog = 1000;  // lines queued for one client before it is dropped

struct Join { grove::ActorRef writer; std::string nick; };
struct Leave { grove::ActorRef writer; };
struct Say { grove::ActorRef writer; std::string text; };
struct Line { std::string text; };

void room() {
  std::map<grove::ActorRef, std::string> members;
  auto broadcast = [&](const std::string& text) {
    std::vector<grove::ActorRef> too_slow;
    for (const auto& [writer, nick] : members) {
      if (writer->mailbox_size() >= kMaxBacklog) {
        too_slow.push_back(writer);
      } else {
        grove::send(writer, Line{text});
      }
    }
    for (const auto& writer : too_slow) {
      const std::string nick = members[writer];
      members.erase(writer);
      writer.kill();  // the linked reader dies with it; the connection closes
      for (const auto& [w, n] : members) grove::send(w, Line{"* " + nick + " was dropped (not reading)\n"});
    }
  };
  for (;;) {
    grove::receive(
        [&](Join j) {
          members[j.writer] = j.nick;
          broadcast(fmt::format("* {} joined ({} here)\n", j.nick, members.size()));
        },
        [&](Leave l) {
          auto it = members.find(l.writer);
          if (it == members.end()) return;
          const std::string nick = it->second;
          members.erase(it);
          broadcast(fmt::format("* {} left\n", nick));
        },
        [&](Say s) {
          auto it = members.find(s.writer);
          if (it != members.end()) broadcast(fmt::format("<{}> {}", it->second, s.text));
        });
  }
}

void client(grove::ActorRef the_room, grove::servers::Stream& conn) {
  // The writer: everything this client is sent, in order. Five seconds to write a line.
  auto writer = grove::spawn_link([&conn] {
    for (;;) {
      grove::receive([&](Line line) {
        grove::Timeout limit(5.0);
        conn.write_all(line.text);
      });
    }
  });
  grove::net::Reader<grove::servers::Stream> lines(conn);
  conn.write_all("Welcome! Your nickname: ");
  std::string nick = lines.readline(64);
  while (!nick.empty() && (nick.back() == '\n' || nick.back() == '\r')) nick.pop_back();
  if (nick.empty()) nick = fmt::format("guest{}", writer.id());
  grove::send(the_room, Join{writer, nick});
  try {
    for (;;) {
      std::string text = lines.readline(4096);
      if (text.empty()) break;  // the client left
      if (text.back() != '\n') text += '\n';
      grove::send(the_room, Say{writer, text});
    }
  } catch (const grove::net::SocketError&) {
  }
  grove::send(the_room, Leave{writer});
  grove::unlink(writer);
  writer.kill();
}

}  // namespace

int main(int argc, char** argv) {
  examples::Cli cli(argc, argv,
                    "usage: chat_server [--host 127.0.0.1] [--port 7000]\n"
                    "A chat room for nc/telnet clients: first line is your nickname.",
                    {"--host", "--port"});
  const std::string address =
      fmt::format("{}:{}", cli.get("--host", "127.0.0.1"), cli.get_int("--port", 7000));

  auto the_room = grove::spawn(room);
  grove::servers::StreamServer server(
      address, [the_room](grove::servers::Stream& conn, const grove::net::Address&) {
        client(the_room, conn);
      });
  grove::servers::SignalWatch stop({SIGINT, SIGTERM}, [&](int) {
    server.stop(1.0);
    the_room.kill();
  });
  server.start();
  fmt::print("chat_server listening on {}\n", server.address().to_string());
  std::fflush(stdout);
  server.serve_forever();
  return 0;
}
