// tests/hub/gdb_program.cc — a process with parked greenlets for gdb_test.sh to look at.
//
// It parks: a plain fiber on an Event (in `wait_for_the_signal`), a named actor in receive (in
// `serve_orders`), a supervised child in receive (named after its ChildSpec id, in
// `keep_the_cache`), the supervisor itself, and the main fiber in a sleep; on a second thread's
// hub, a fiber in a sleep (in `nap_on_the_other_hub`). Then it prints one `ID NAME` line per
// fiber the test checks, and `ready`, and sleeps until the test kills it (or for two minutes, so
// it never outlives a failed test).
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <thread>

#include "actors/actor.h"
#include "actors/event.h"
#include "actors/supervisor.h"
#include "hub/hub.h"

namespace {

int parked = 0;
std::atomic<std::uint64_t> other_hub_fiber{0};

// noinline, and work after each wait (no tail call): the test looks for these names in
// `grove bt`, and an inlined body or a tail call would leave no frame of its own.
[[gnu::noinline]] void wait_for_the_signal(grove::Event& signal) {
  ++parked;
  const bool set = signal.wait();
  fmt::print("signalled: {}\n", set);
}

[[gnu::noinline]] void serve_orders() {
  ++parked;
  for (;;) grove::receive([](int order) { fmt::print("order {}\n", order); });
}

[[gnu::noinline]] void keep_the_cache() {
  ++parked;
  for (;;) grove::receive([](int key) { fmt::print("evict {}\n", key); });
}

[[gnu::noinline]] void nap_on_the_other_hub() {
  grove::sleep(120.0);
  fmt::print("woke up\n");
}

void other_hub() {
  grove::FiberRef napper = grove::spawn_fiber(nap_on_the_other_hub);
  grove::yield();  // it runs and parks
  other_hub_fiber = napper->id();
  grove::sleep(120.0);
}

}  // namespace

int main() {
  std::thread other(other_hub);
  grove::Event signal;
  grove::FiberRef waiter = grove::spawn_fiber([&signal] { wait_for_the_signal(signal); });
  auto orders = grove::spawn_opt({.name = "orders"}, serve_orders);
  grove::ChildSpec cache{.id = "cache", .start = [] { return grove::ActorRef(grove::spawn(keep_the_cache)); }};
  grove::Supervisor sup = grove::Supervisor::start({.name = "top"}, {cache});
  while (parked < 3) grove::yield();
  while (other_hub_fiber == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  fmt::print("{} waiter\n", waiter->id());
  fmt::print("{} orders\n", orders->id());
  for (const grove::ChildInfo& child : sup.which_children()) {
    fmt::print("{} {}\n", child.actor->id(), child.id);
  }
  fmt::print("{} main\n", grove::Hub::current().main_fiber().id());
  fmt::print("{} other\n", other_hub_fiber.load());
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // Terabytes of sanitizer shadow and allocator space: gcore would read them page by page.
  fmt::print("sanitized\n");
#endif
  fmt::print("ready\n");
  std::fflush(stdout);
  grove::sleep(120.0);
  other.join();
  return 0;
}
