// The example of every hub header, as written there, compiled (never run). The
// header_examples_test fails when a header's example is not found here line by line, so the two
// cannot drift apart. Each example sits in a function of its own, after the stubs it names.
#include <errno.h>
#include <unistd.h>

#include <cassert>
#include <cstdio>
#include <deque>
#include <optional>
#include <stdexcept>
#include <string>

#include <fmt/core.h>

#include "actors/event.h"
#include "hub/errors.h"
#include "hub/fiber.h"
#include "hub/hub.h"
#include "hub/io.h"
#include "hub/local.h"
#include "hub/monitor.h"
#include "hub/monkey.h"
#include "hub/stack.h"
#include "hub/testing.h"
#include "hub/thread_pool.h"
#include "hub/timeout.h"
#include "hub/timer.h"
#include "hub/wait.h"
#include "hub/wait_any.h"

namespace examples {

namespace errors_h {
void cleanup() {}
void example() {
  try {
    grove::sleep(10);
  } catch (const grove::GreenletExit&) {
    cleanup();
    throw;  // let the kill finish the greenlet
  }
}
}  // namespace errors_h

namespace fiber_h {
void example() {
  grove::FiberRef worker = grove::spawn_fiber([] {
    grove::sleep(0.1);
    fmt::print("done\n");
  });
  worker->join();
}
}  // namespace fiber_h

namespace hub_h {
void example() {
  grove::spawn_fiber([] { grove::sleep(0.05); std::puts("child"); });
  grove::sleep(0.1);  // the main fiber waits; the child runs
}
}  // namespace hub_h

namespace io_h {
std::runtime_error timed_out() { return std::runtime_error("timed out"); }
void example(int fd) {
  char buf[512];
  ssize_t n;
  grove::IoWatcher readable(fd, grove::kIoRead);
  while ((n = ::read(fd, buf, sizeof buf)) < 0 && errno == EAGAIN) {
    if (readable.wait(grove::Deadline::after(5.0)) == 0) throw timed_out();
  }
}
}  // namespace io_h

namespace local_h {
grove::FiberLocal<std::string> request_id;
void handle() { (void)request_id.get(); }
void example() {
  grove::spawn_fiber([&] { request_id.get() = "a"; handle(); });  // handle() reads "a"
  grove::spawn_fiber([&] { request_id.get() = "b"; handle(); });  // ... and here "b"
}
}  // namespace local_h

namespace monitor_h {
void example() {
  grove::MonitorOptions options;
  options.max_blocking_time = 0.05;
  grove::start_monitor(options);
}
}  // namespace monitor_h

namespace monkey_h {
void example() {
  grove::patch_socket();
  grove::patch_time();
  grove::spawn_fiber([] { ::sleep(1); });  // parks this greenlet only
}
}  // namespace monkey_h

namespace stack_h {
void example() {
  grove::StackPolicy policy = grove::stack_policy();
  policy.default_size = 128 * 1024;
  grove::set_stack_policy(policy);
}
}  // namespace stack_h

namespace testing_h {
void example() {
  auto outcome = grove::testing::run_in_hub([] { grove::sleep(0.01); });
  assert(outcome.ok());
}
}  // namespace testing_h

namespace thread_pool_h {
std::string read_whole_file(const std::string& path) { return path; }
void example(const std::string& path) {
  std::string text = grove::run_in_thread([&] { return read_whole_file(path); });
}
}  // namespace thread_pool_h

namespace timeout_h {
struct Conn {
  std::string read_line() { return ""; }
} conn;
struct Queue {
  int get() { return 0; }
} queue;
void log_slow_peer() {}
void log_slow() {}
void example() {
  std::string reply;
  if (!grove::within(0.5, [&] { reply = conn.read_line(); })) log_slow_peer();
  grove::Timeout t(0.5);
  try {
    auto item = queue.get();
    (void)item;
  } catch (const grove::Timeout& e) {
    if (e != t) throw;  // an outer timeout: not ours to handle
    log_slow();
  }
}
}  // namespace timeout_h

namespace timer_h {
struct Connection {
  void reconnect_soon() {}
};
void example(Connection* conn, bool connected) {
  grove::TimerHandle retry = grove::call_later(0.5, [conn] { conn->reconnect_soon(); });
  // ...
  if (connected) retry.cancel();
}
}  // namespace timer_h

namespace wait_h {
std::optional<int> example(std::deque<int>& items, int x) {
  grove::WaitList readers;
  // consumer fiber:
  while (items.empty()) {
    if (readers.wait(grove::Deadline::after(0.5), "items") == grove::WaitStatus::kTimedOut) {
      return std::nullopt;
    }
  }
  // producer:
  items.push_back(x);
  readers.wake_one();
  return x;
}
}  // namespace wait_h

namespace wait_any_h {
int timed_out() { return -1; }
int stopping() { return 1; }
void read_from(int) {}
int example(int fd) {
  grove::Event stop;
  grove::IoWatcher readable(fd, grove::kIoRead);
  auto which = grove::wait_any({readable, stop.wait_source()}, grove::Deadline::after(5.0));
  if (!which) return timed_out();
  if (*which == 1) return stopping();
  read_from(fd);
  return 0;
}
}  // namespace wait_any_h

}  // namespace examples
