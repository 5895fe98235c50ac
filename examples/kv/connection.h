// examples/kv/connection.h — the connection actor and the listener actor.
//
// Connection: one actor per client, a temporary child of the connections supervisor (a crash
// ends that client's connection and nothing else). Its loop is the whole I/O story of the
// service, and it is shaped by what system calls cost (README, "The I/O path, in system calls"):
//   1. one recv per readiness event, into the client's query buffer (16 KiB to start with);
//   2. execute every complete request in it (a pipelined batch of 100 SETs parses without
//      allocating), appending the replies to one output string;
//   3. hand the batch's AOF records to the kernel in one write, and under appendfsync=always
//      wait for the group fsync;
//   4. send all the replies in one write.
// So a request costs one recv and one send, like redis-server; with pipelining, less than one of
// each. TCP_NODELAY is on. A malformed frame gets "-ERR Protocol error: ..." and the connection
// closes, as redis-server does.
//
// Overload: memory per client stays bounded whatever the client does.
//   - Over maxclients, a new client gets "-ERR max number of clients reached" and is closed.
//   - The query buffer grows only as bytes arrive (a request that announces 512 MiB reserves
//     nothing) and shrinks back once drained; the parser resumes where it stopped, so a request
//     trickled in small pieces costs what it costs in one. A client holding more than
//     client-query-buffer-limit bytes of an unfinished request is closed, as redis-server does.
//   - Replies are written before the next requests are read, and a batch's replies are sent
//     whenever they pass 64 KiB: a client that sends without reading is not read any more, and
//     the kernel's flow control stops it.
//   - Pushes to a subscriber that does not read count against its output buffer limit
//     (kv/client_output.h).
//
// Listener: a servers::StreamServer over the listening socket (created by main, so a restarted
// listener keeps the port) that starts each client as a child of the connections supervisor;
// it pauses accepting while the process is out of descriptors.
//
// Thread: the server's hub.
#pragma once

#include <functional>

#include "actors/supervisor.h"
#include "examples/kv/server.h"
#include "net/address.h"
#include "net/socket.h"

namespace kv {

// Body of a connection actor: serves the client on `socket` (taking it over) until it leaves.
void connection_main(Server& server, grove::net::Socket& socket, const grove::net::Address& peer);

// Body of the listener actor: serves `listening` until the actor gets an exit signal (it traps
// them), starting each connection under the supervisor `connections()` returns — asked per
// connection, so a restarted supervisor is picked up.
void listener_main(Server& server, grove::net::Socket& listening,
                   std::function<grove::Supervisor()> connections);

}  // namespace kv
