// hello_fibers — fibers, sleeps, timeouts and cancellation on grove's hub, in one page.
//
//   bazel run //examples:hello_fibers
//
// Every fiber below runs on this thread's hub. They take turns: a fiber runs until it waits
// (sleep, join, a Timeout), then the hub switches to the next ready one.
#include <fmt/core.h>

#include "examples/cli.h"
#include "hub/hub.h"
#include "hub/thread_pool.h"
#include "hub/timeout.h"

int main(int argc, char** argv) {
  examples::Command cli("hello_fibers",
                        "Fibers, sleeps, timeouts, kill, a worker thread and LoopExit, printed as "
                        "they happen (about 2 s).");
  cli.parse(argc, argv);

  using grove::FiberRef;
  const double start = grove::Deadline::now();
  auto stamp = [&] { return fmt::format("{:5.0f} ms", (grove::Deadline::now() - start) * 1000); };

  // 1. Three fibers sleeping different times finish in order of their sleeps, not their spawns.
  FiberRef slow = grove::spawn_fiber([&] { grove::sleep(0.03); fmt::print("{}  slow done\n", stamp()); });
  FiberRef fast = grove::spawn_fiber([&] { grove::sleep(0.01); fmt::print("{}  fast done\n", stamp()); });
  FiberRef mid = grove::spawn_fiber([&] { grove::sleep(0.02); fmt::print("{}  mid done\n", stamp()); });
  (void)slow->join();  // the main fiber waits; the others run meanwhile
  (void)fast->join();
  (void)mid->join();

  // 2. sleep(0) hands the hub to every other ready fiber once: two fibers interleave.
  for (char name : {'a', 'b'}) {
    grove::spawn_fiber([name] {
      for (int i = 0; i < 3; ++i) {
        fmt::print("{}{} ", name, i);
        grove::yield();
      }
    });
  }
  grove::sleep(0.001);
  fmt::print("\n");

  // 3. A Timeout bounds a whole block: it is thrown at the wait point that outlives it.
  try {
    grove::Timeout deadline(0.05);
    grove::sleep(10);
  } catch (const grove::Timeout& t) {
    fmt::print("{}  {}\n", stamp(), t.message());
  }

  // 4. Silent form: within() leaves the block when time runs out and says so.
  grove::WaitList nobody_will_wake_us;
  if (!grove::within(0.01, [&] { (void)nobody_will_wake_us.wait(); })) {
    fmt::print("{}  silent timeout: within() left the block and returned false\n", stamp());
  }

  // 5. kill() throws GreenletExit at the victim's wait point; its destructors run.
  FiberRef victim = grove::spawn_fiber([&] {
    struct Cleanup {
      ~Cleanup() { fmt::print("        victim's destructors ran\n"); }
    } cleanup;
    grove::sleep(3600);
  });
  grove::sleep(0.01);
  victim->kill();
  (void)victim->join();
  fmt::print("{}  victim killed: dead={}\n", stamp(), victim->dead());

  // 6. Blocking work goes to a thread; the hub keeps running fibers meanwhile.
  FiberRef ticker = grove::spawn_fiber([&] {
    for (int i = 0; i < 3; ++i) {
      grove::sleep(0.01);
      fmt::print("{}  tick while the thread works\n", stamp());
    }
  });
  const long sum = grove::run_in_thread([] {
    long s = 0;
    for (long i = 0; i < 300'000'000; ++i) s += i % 7;
    return s;
  });
  (void)ticker->join();
  fmt::print("{}  thread result {}\n", stamp(), sum);

  // 7. The main fiber waiting on something nothing can complete is a LoopExit, not a hang.
  try {
    grove::WaitList forever;
    (void)forever.wait(grove::Deadline::never(), "a reply nobody will send");
  } catch (const grove::LoopExit& e) {
    fmt::print("LoopExit: {}\n", e.what());
  }
  return 0;
}
