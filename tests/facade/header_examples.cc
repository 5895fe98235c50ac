// The example of every facade header, as written there, compiled (never run: several serve for
// ever). compiled_examples_check.sh fails when a header's example is not found here line by line,
// so the two cannot drift apart. Each example sits in a function of its own, after the stubs it
// names (fetch, compute, handle, ...).
#include <signal.h>

#include <iostream>
#include <mutex>
#include <string>
#include <vector>

#include "facade/gevent.h"
#include "facade/socket.h"

namespace examples {

namespace event_h {
int compute() { return 1; }
void example() {
  gevent::event::AsyncResult<int> result;
  gevent::spawn([&] { result.set(compute()); });
  int v = result.get(/*block=*/true, /*timeout=*/5.0);
  (void)v;
}
}  // namespace event_h

namespace greenlet_h {
int fetch(const char*) { return 1; }
void use(int) {}
void example() {
  auto jobs = {gevent::spawn(fetch, "a"), gevent::spawn(fetch, "b")};
  gevent::joinall(jobs, /*timeout=*/2.0);
  for (auto& job : jobs) if (job.successful()) use(*job.value());
}
}  // namespace greenlet_h

namespace hub_h {
struct Metrics {
  void failed(const grove::ErrorReport&) {}
} metrics;
std::size_t count_lines(const std::string& path) { return path.size(); }
void example(const std::string& path) {
  gevent::get_hub().set_error_handler([](const grove::ErrorReport& r) { metrics.failed(r); });
  auto n = gevent::get_hub().threadpool.apply(count_lines, path);  // on a worker thread
  gevent::print_run_info();
  (void)n;
}
}  // namespace hub_h

namespace local_h {
void handle() {}
void example() {
  struct Request { std::string id; };
  gevent::local<Request> current;
  gevent::spawn([&] { current->id = "a"; handle(); });  // handle() sees "a"
}
}  // namespace local_h

namespace lock_h {
void example() {
  gevent::lock::BoundedSemaphore slots(3);
  std::lock_guard held(slots);  // `with slots:`
}
}  // namespace lock_h

namespace pool_h {
std::string fetch(const std::string& url) { return url; }
void example(const std::vector<std::string>& urls) {
  gevent::pool::Pool pool(10);
  auto pages = pool.map([](const std::string& url) { return fetch(url); }, urls);
}
}  // namespace pool_h

namespace queue_h {
void example() {
  gevent::queue::Queue<std::string> tasks;
  tasks.put("work");
  try { auto t = tasks.get(/*block=*/true, /*timeout=*/0.5); } catch (const gevent::queue::Empty&) {}
}
}  // namespace queue_h

namespace selectors_h {
void handle(grove::net::Socket&, int) {}
void example(grove::net::Socket& listener) {
  gevent::selectors::DefaultSelector sel;
  sel.register_(listener, gevent::selectors::EVENT_READ);
  for (auto& [key, events] : sel.select(1.0)) handle(*key.socket, events);
}
}  // namespace selectors_h

namespace socket_h {
void example() {
  namespace socket = gevent::socket;
  socket::socket s(AF_INET, SOCK_STREAM);
  s.connect({"localhost", 8080});
  s.sendall("GET / HTTP/1.0\r\n\r\n");
  auto f = s.makefile("rb");
  for (const std::string& line : f) std::cout << line;
}
}  // namespace socket_h

namespace ssl_h {
void example() {
  auto ctx = gevent::ssl::create_default_context();
  auto tls = ctx.wrap_socket(gevent::socket::create_connection({"example.org", 443}, 10.0),
                             false, true, "example.org");
  tls.sendall("GET / HTTP/1.1\r\nHost: example.org\r\n\r\n");
}
}  // namespace ssl_h

namespace dns_h {
void example() {
  gevent::dns::set_resolver(gevent::dns::ares_resolver({.servers = {"10.0.0.53"}}));
  std::string ip = gevent::dns::gethostbyname("example.org");
}
}  // namespace dns_h

namespace server_h {
void example() {
  gevent::server::StreamServer server({"127.0.0.1", 16000}, [](auto& sock, const auto&) {
    sock.sendall("Welcome to the echo server! Type quit to exit.\r\n");
    for (std::string data; !(data = sock.recv(4096)).empty();) sock.sendall(data);
  });
  server.serve_forever();
}
}  // namespace server_h

namespace pywsgi_h {
void example() {
  gevent::pywsgi::WSGIServer server({"127.0.0.1", 8088}, [](auto& environ, auto& start_response) {
    start_response("200 OK", {{"Content-Type", "text/plain"}});
    return std::vector<std::string>{"Hello, ", environ["PATH_INFO"], "\n"};
  });
  server.serve_forever();
}
}  // namespace pywsgi_h

namespace threadpool_h {
std::string expensive_hash(const std::string& s) { return s; }
void example(const std::string& data) {
  gevent::threadpool::ThreadPool pool(3);
  auto r = pool.spawn(expensive_hash, data);  // runs expensive_hash(copy of data)
  std::string digest = r.get();
}
}  // namespace threadpool_h

namespace signal_h {
void reload_config() {}
void serve_until_stopped() {}
void example() {
  auto handle = gevent::signal_handler(SIGUSR1, [] { reload_config(); });
  serve_until_stopped();
  handle.cancel();  // or let it go out of scope
}
}  // namespace signal_h

}  // namespace examples
