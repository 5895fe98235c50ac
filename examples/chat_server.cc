// chat_server — a line-based chat room over TCP: nicknames, broadcast, one actor per client and
// one for the room.
//
//   bazel run //examples:chat_server -- --port 7000
//   nc 127.0.0.1 7000        # in two terminals: type a nickname, then chat
//   --threads 2              # clients served on two hubs (threads); the room stays on one
//
// Actors and messages:
//   - the room: owns the member list; Join and Say arrive in its mailbox and it sends a Line to
//     every member. It monitors each member's writer, so a member that leaves, fails or is
//     dropped leaves the list by the Down message, whatever ended it. Sending never blocks, so a
//     slow client cannot stall the room;
//   - per client, a reader (the connection's own actor) turns lines into Say messages, and a
//     writer (linked to it) writes the Lines it receives.
// Overload: a reader waits for the room to take each Say (Heard) before it reads the next line,
// so a client that talks faster than the room can broadcast is simply read more slowly (TCP
// pushes back on it) and the room's mailbox holds at most one Say per client. A client that
// stops reading is cut off: the room drops it when its writer falls kMaxBacklog lines behind
// (killing the writer kills the linked reader, which closes the connection), and the writer
// itself gives up on a line the client has not taken in kWriteTimeout seconds. So memory per
// client is bounded by its backlog. The room learns how far behind a writer is from the writer
// itself (Took: lines written, sent when its mailbox runs empty or every kAckEvery lines), never
// by looking into its mailbox: with --threads the writers live on other hubs (threads), and
// everything between them and the room is a message.
#include <fmt/core.h>

#include <csignal>
#include <algorithm>
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
constexpr double kWriteTimeout = 5.0;      // seconds a client may take to accept one line
constexpr std::size_t kAckEvery = 64;      // a busy writer reports progress this often

struct Join { grove::ActorRef writer; std::string nick; };
struct Say { grove::ActorRef writer; grove::ActorRef reader; std::string text; };
struct Heard {};  // the room's answer to a Say: the reader may read on
struct Line { std::string text; };
struct Took { grove::ActorRef writer; std::size_t lines; };  // a writer's progress

struct Member {
  std::string nick;
  std::size_t behind = 0;  // lines sent to its writer and not yet reported written
};

void room() {
  std::map<grove::ActorRef, Member> members;  // by writer
  auto broadcast = [&](const std::string& text) {
    std::vector<grove::ActorRef> too_slow;
    for (auto& [writer, member] : members) {
      if (member.behind >= kMaxBacklog) {
        too_slow.push_back(writer);
      } else {
        grove::send(writer, Line{text});
        ++member.behind;
      }
    }
    for (const auto& writer : too_slow) {
      const std::string nick = members[writer].nick;
      members.erase(writer);
      writer.kill();  // the linked reader dies with it; the connection closes
      for (auto& [w, m] : members) {
        grove::send(w, Line{"* " + nick + " was dropped (not reading)\n"});
        ++m.behind;
      }
    }
  };
  for (;;) {
    grove::receive(
        [&](Join j) {
          members[j.writer] = Member{j.nick};
          grove::monitor(j.writer);
          broadcast(fmt::format("* {} joined ({} here)\n", j.nick, members.size()));
        },
        [&](const grove::Down& down) {
          auto it = members.find(down.from);
          if (it == members.end()) return;  // dropped above already
          const std::string nick = it->second.nick;
          members.erase(it);
          broadcast(fmt::format("* {} left\n", nick));
        },
        [&](Say s) {
          auto it = members.find(s.writer);
          if (it != members.end()) broadcast(fmt::format("<{}> {}", it->second.nick, s.text));
          grove::send(s.reader, Heard{});
        },
        [&](const Took& t) {
          auto it = members.find(t.writer);
          if (it != members.end()) it->second.behind -= std::min(it->second.behind, t.lines);
        });
  }
}

// The writer: everything this client is sent, in order. When the connection fails or a line
// is not taken in time, it closes the connection, which ends the reader's read too.
void write_lines(grove::ActorRef the_room, grove::servers::Stream& conn) {
  bool too_slow = false;
  std::size_t written = 0;  // not yet reported to the room
  try {
    while (!too_slow) {
      grove::receive([&](Line line) {
        grove::Timeout limit(kWriteTimeout);
        try {
          conn.write_all(line.text);
        } catch (const grove::Timeout& e) {
          if (e != limit) throw;
          too_slow = true;
        }
      });
      if (++written == kAckEvery || grove::self()->mailbox_size() == 0) {
        grove::send(the_room, Took{grove::self(), written});
        written = 0;
      }
    }
  } catch (const grove::net::SocketError&) {
    // the client is gone
  }
  conn.close();
}

void read_lines(grove::ActorRef the_room, grove::ActorRef writer, grove::servers::Stream& conn) {
  grove::net::Reader<grove::servers::Stream> lines(conn);
  conn.write_all("Welcome! Your nickname: ");
  std::string nick = lines.readline(64);
  while (!nick.empty() && (nick.back() == '\n' || nick.back() == '\r')) nick.pop_back();
  if (nick.empty()) nick = fmt::format("guest{}", writer.id());
  grove::send(the_room, Join{writer, nick});
  for (;;) {
    std::string text = lines.readline(4096);  // a longer line arrives in pieces
    if (text.empty()) break;  // the client left
    if (text.back() != '\n') text += '\n';
    grove::send(the_room, Say{writer, grove::self(), text});
    grove::receive([](Heard) {});
  }
}

// Ends the writer and waits for it: it writes to the connection, which ends when client()
// returns. A destructor, so it also runs (and may wait) while a kill unwinds the reader.
struct EndWriter {
  grove::ActorRef writer;
  ~EndWriter() {
    grove::unlink(writer);
    (void)writer.kill_and_wait();
  }
};

void client(grove::ActorRef the_room, grove::servers::Stream& conn) {
  auto writer = grove::spawn_link(write_lines, the_room, std::ref(conn));
  EndWriter end_writer{writer};  // its end (the room sees it by its monitor) is our leaving
  try {
    read_lines(the_room, writer, conn);
  } catch (const grove::net::SocketError&) {
    // the client is gone (or the writer closed the connection)
  }
}

}  // namespace

int main(int argc, char** argv) {
  examples::Command cli("chat_server",
                        "A chat room for nc/telnet clients: the first line is your nickname.");
  const examples::Endpoint& at = cli.listen_options("127.0.0.1", 7000);
  const std::size_t& threads = cli.threads_option();
  cli.exit_code(examples::kExitOk, "stopped by SIGINT or SIGTERM");
  cli.parse(argc, argv);

  return examples::run(cli, [&] {
    // Before the room: a failure ends here.
    grove::net::Socket listener = examples::listen(at, 128, threads > 1);
    auto the_room = grove::spawn(room);  // on this (the main) hub; clients message it from theirs
    grove::servers::StreamServerOptions options;
    options.threads = threads;
    grove::servers::StreamServer server(
        std::move(listener),
        [the_room](grove::servers::Stream& conn, const grove::net::Address&) {
          client(the_room, conn);
        },
        options);
    grove::servers::SignalWatch stop({SIGINT, SIGTERM}, [&](int) {
      server.stop(1.0);
      the_room.kill();
    });
    server.start();
    examples::print_listening(cli, server.address());
    server.serve_forever();
    return examples::kExitOk;
  });
}
