// Every C++ block of README.md, as written there, compiled: compiled_examples_check.sh fails when
// a README line is not found here, so the two cannot drift apart. The first program ("A first
// program") is this file's main() and is run by //tests/facade:readme_first_program_test; every
// other block sits in a function of its own (never called: servers serve for ever), after the
// stubs it names (host, port, fetch, ...).
#include <cstdint>
#include <deque>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>  // after gtest.h, which it builds on

#include "facade/gevent.h"
#include "facade/testing.h"
#include "hub/runtime.h"

namespace readme {

// "A first program": the same with actors.
namespace actors {
struct Ping { grove::ActorRef from; };
void example() {
  auto pong = grove::spawn([] {
    for (;;) grove::receive([](Ping p) { grove::send(p.from, std::string("pong")); });
  });
  auto pinger = grove::spawn([pong] {
    grove::send(pong, Ping{grove::self()});
    grove::receive([](const std::string& reply) { fmt::print("{}\n", reply); });
  });
  (void)pinger.join();
}
}  // namespace actors

// "A first program": a network client.
namespace client {
void example() {
  const std::string host = "127.0.0.1";
  const std::string path = "/";
  const std::uint16_t port = 8080;
  auto fetch = gevent::spawn([&] {
    namespace socket = gevent::socket;
    socket::socket s = socket::create_connection({host, port}, /*timeout=*/5.0);
    s.sendall("GET " + path + " HTTP/1.0\r\nHost: " + host + "\r\n\r\n");
    std::string page;
    for (std::string chunk; !(chunk = s.recv(4096)).empty();) page += chunk;
    return page;
  });
  std::cout << fetch.get();  // the hub runs other greenlets while this one waits on the socket
}
}  // namespace client

// "The gevent facade, module by module".
namespace server {
void example() {
  gevent::server::StreamServer server({"127.0.0.1", 16000}, [](auto& sock, const auto&) {
    sock.sendall("Welcome to the echo server! Type quit to exit.\r\n");
    for (std::string data; !(data = sock.recv(4096)).empty();) sock.sendall(data);
  });
  server.serve_forever();
}
}  // namespace server

// "What behaves how": a greenlet with a stack of its own size.
namespace stack_size {
void parse(const std::string&) {}
void example() {
  const std::string text;
  gevent::spawn({.name = "parser", .stack_size = 512 * 1024}, parse, text);
  gevent::spawn({.stack_size = 1024 * 1024}, [] {});
}
}  // namespace stack_size

// "A hub per core".
namespace runtime {
void example() {
  grove::Runtime rt({.threads = 2});
  grove::ActorOptions on1;
  on1.hub = &rt.hub(1);
  auto worker = grove::spawn_opt(on1, [] { grove::receive([](int n) { fmt::print("{} on hub 1\n", n); }); });
  grove::send(worker, 42);  // from any hub
  (void)worker.join();
}
}  // namespace runtime

// "Blocking libraries: gevent.monkey".
namespace monkey {
std::string fetch(int, const char*) { return {}; }
void example() {
  const int port = 8080;
  gevent::monkey::patch_all();  // once, at the start of main
  gevent::spawn([&] { return fetch(port, "/a"); });  // curl_easy_perform parks this greenlet only
}
}  // namespace monkey

// "Property tests of your own code" (registered with GoogleTest, not run: this binary's main is
// the first program).
namespace property {
RC_GTEST_PROP(MyQueue, BehavesLikeADeque, (const std::vector<int>& items)) {
  grove::testing::in_hub([&] {
    gevent::queue::Queue<int> q;
    std::deque<int> model;
    for (int v : items) { q.put(v); model.push_back(v); }
    while (!model.empty()) { RC_ASSERT(q.get() == model.front()); model.pop_front(); }
  });
}
}  // namespace property

}  // namespace readme

// "A first program".
int main() {
  auto a = gevent::spawn([] { gevent::sleep(0.2); return 1; });
  auto b = gevent::spawn([] { gevent::sleep(0.1); return 2; });
  gevent::joinall(std::vector{a, b}, /*timeout=*/1.0);
  std::cout << a.get() + b.get() << "\n";  // 3, after ~0.2 s, not 0.3
}
