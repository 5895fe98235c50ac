// examples/kv/connection.h — the connection actor and the listener actor.
//
// Connection: one actor per client, a temporary child of the connections supervisor (a crash
// ends that client's connection and nothing else). Its loop is the whole I/O story of the
// service, and it is shaped by what system calls cost (shared/ARCHITECTURE.md):
//   1. one recv into a 16 KiB buffer (grown only for a bigger request) per readiness event;
//   2. execute every complete request in it (a pipelined batch of 100 SETs parses without
//      allocating), appending the replies to one output string;
//   3. hand the batch's AOF records to the kernel in one write, and under appendfsync=always
//      wait for the group fsync;
//   4. send all the replies in one write.
// So a request costs one recv and one send, like redis-server; with pipelining, less than one of
// each. TCP_NODELAY is on. A malformed frame gets "-ERR Protocol error: ..." and the connection
// closes, as redis-server does.
//
// Listener: accepts on the listening socket (created by main, so a restarted listener keeps the
// port) and starts a connection child for each client.
//
// Thread: the server's hub.
#pragma once

#include <functional>
#include <memory>

#include "actors/supervisor.h"
#include "examples/kv/server.h"
#include "net/socket.h"

namespace kv {

// Body of a connection actor.
void connection_main(Server& server, std::shared_ptr<grove::net::Socket> socket,
                     grove::net::Address peer);

// Body of the listener actor: accepts forever, starting each connection under the supervisor
// `connections()` returns (looked up per accept, so a restarted supervisor is picked up).
void listener_main(Server& server, grove::net::Socket& listening,
                   const std::function<grove::Supervisor()>& connections);

}  // namespace kv
