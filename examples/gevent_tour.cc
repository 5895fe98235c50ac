// gevent_tour — the gevent manual's examples, written in C++ through grove's gevent facade.
//
//   bazel run //examples:gevent_tour
//
// Each section is one idea from the manual: spawn/joinall, failures reported (not raised),
// kill, Timeout, Event/AsyncResult, a Queue of work, and Pool.map. Read it next to the manual.
#include <fmt/core.h>
#include <fmt/format.h>

#include <string>
#include <vector>

#include "examples/cli.h"
#include "facade/gevent.h"

namespace {

// Stands in for a network call: takes `seconds`, returns a result.
std::string fetch(const std::string& name, double seconds) {
  gevent::sleep(seconds);
  return fmt::format("<page of {}>", name);
}

}  // namespace

int main(int argc, char** argv) {
  examples::Command cli("gevent_tour",
                        "The gevent manual's examples through the gevent:: facade, one section "
                        "after the other (about 1 s).");
  cli.parse(argc, argv);

  // 1. Run tasks concurrently; joinall waits for them, no longer than the timeout.
  //    >>> jobs = [gevent.spawn(fetch, url) for url in urls]
  //    >>> gevent.joinall(jobs, timeout=2)
  std::vector<gevent::Greenlet<std::string>> jobs;
  for (const char* url : {"www.example.com", "www.python.org", "slow.example"}) {
    const double delay = std::string(url) == "slow.example" ? 5.0 : 0.05;
    jobs.push_back(gevent::spawn(fetch, std::string(url), delay));
  }
  gevent::joinall(jobs, /*timeout=*/0.5);
  for (auto& job : jobs) {
    fmt::print("{:<20} value={}\n", job.name(), job.value() ? *job.value() : "(not ready)");
  }
  gevent::killall(jobs);

  // 2. An error does not escape the greenlet: it is reported once, and kept.
  //    >>> gevent.spawn(lambda : 1/0)
  auto failing = gevent::spawn([]() -> int { throw std::domain_error("integer division by zero"); });
  failing.join();
  fmt::print("failed greenlet: successful={} (the report above came from the hub)\n",
             failing.successful());

  // 3. kill() resumes a sleeping greenlet with GreenletExit; that is not an error.
  auto sleeper = gevent::spawn([] { gevent::sleep(4); });
  gevent::sleep(0.01);
  sleeper.kill();
  fmt::print("killed: dead={} successful={}\n", sleeper.dead(), sleeper.successful());

  // 4. Timeout bounds a block of yielding code.
  //    with gevent.Timeout(0.1): gevent.sleep(10)
  try {
    gevent::Timeout timeout(0.1);
    gevent::sleep(10);
  } catch (const gevent::Timeout& t) {
    fmt::print("{}\n", t.message());
  }
  fmt::print("with_timeout_value: {}\n",
             gevent::with_timeout_value(0.05, std::string("gave up"),
                                        [] { return fetch("slow", 1.0); }));

  // 5. Event wakes every waiter; AsyncResult carries one value (or exception) to its readers.
  gevent::event::Event ready;
  gevent::event::AsyncResult<int> answer;
  std::vector<gevent::Greenlet<void>> waiters;
  for (int i = 0; i < 3; ++i) {
    waiters.push_back(gevent::spawn([&, i] {
      ready.wait();
      fmt::print("waiter {} saw the event; answer = {}\n", i, answer.get());
    }));
  }
  gevent::sleep(0.01);
  answer.set(42);
  ready.set();
  gevent::joinall(waiters);

  // 6. A producer and two consumers share a Queue; join() waits until every task is done.
  gevent::queue::JoinableQueue<int> tasks;
  auto worker = [&](const char* who) {
    for (;;) {
      const int n = tasks.get();
      fmt::print("{} squares {} -> {}\n", who, n, n * n);
      gevent::sleep(0.005);
      tasks.task_done();
    }
  };
  auto w1 = gevent::spawn(worker, "worker-1");
  auto w2 = gevent::spawn(worker, "worker-2");
  for (int n = 1; n <= 6; ++n) tasks.put(n);
  tasks.join();
  gevent::killall(std::vector{w1, w2});

  // 7. Pool.map: at most 2 at a time, results in input order.
  gevent::pool::Pool pool(2);
  auto pages = pool.map([](const std::string& name) { return fetch(name, 0.02); },
                        std::vector<std::string>{"a", "b", "c", "d"});
  fmt::print("pool.map: {}\n", fmt::join(pages, ", "));
  return 0;
}
