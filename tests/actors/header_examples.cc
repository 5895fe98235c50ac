// The example of every actors header, as written there, compiled (never run). The
// header_examples_test fails when a header's example is not found here line by line, so the two
// cannot drift apart. Each example sits in a function of its own, after the stubs it names.
// (exit_reason.h shows a table of reasons, not code.)
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "actors/actor.h"
#include "actors/async_result.h"
#include "actors/call.h"
#include "actors/event.h"
#include "actors/group.h"
#include "actors/iwait.h"
#include "actors/next_iterator.h"
#include "actors/queue.h"
#include "actors/registry.h"
#include "actors/rlock.h"
#include "actors/semaphore.h"
#include "actors/supervisor.h"
#include "actors/timers.h"

namespace examples {

namespace actor_h {
void example() {
  struct Ping { grove::ActorRef from; };
  auto pong = grove::spawn([] {
    for (;;) grove::receive([](Ping p) { grove::send(p.from, std::string("pong")); });
  });
  auto pinger = grove::spawn([pong] {
    grove::send(pong, Ping{grove::self()});
    grove::receive([](const std::string& s) { fmt::print("{}\n", s); });
  });
  pinger.join();
}
}  // namespace actor_h

namespace async_result_h {
void use(int) {}
void example() {
  grove::AsyncResult<int> answer;
  grove::spawn_fiber([&] { answer.set(42); });
  int v = answer.get();                                     // 42
  if (auto r = answer.get_for(std::chrono::milliseconds(5))) use(*r);
  use(v);
}
}  // namespace async_result_h

namespace call_h {
void example() {
  struct Get { std::string key; };
  auto kv = grove::spawn([] {
    std::map<std::string, int> data{{"a", 1}};
    grove::serve(grove::on_call<Get>([&](const Get& g) { return data[g.key]; }));
  });
  int a = grove::call<int>(kv, Get{"a"}, 1.0);
  (void)a;
}
}  // namespace call_h

namespace event_h {
void load() {}
void log_timeout() {}
void example() {
  grove::Event ready;
  grove::spawn_fiber([&] { load(); ready.set(); });
  if (!ready.wait_for(std::chrono::seconds(2))) log_timeout();
}
}  // namespace event_h

namespace group_h {
std::string fetch(const std::string& url) { return url; }
void example(const std::vector<std::string>& urls) {
  grove::Pool pool(10);                    // at most 10 downloads at once
  auto sizes = pool.map([](const std::string& url) { return fetch(url).size(); }, urls);
}
}  // namespace group_h

namespace iwait_h {
std::vector<grove::ActorRef> start_workers() { return {}; }
void report(const grove::ActorRef&) {}
void example() {
  std::vector<grove::ActorRef> workers = start_workers();
  for (auto& w : grove::iwait(workers, grove::Deadline::after(10.0))) report(w);
}
}  // namespace iwait_h

namespace next_iterator_h {
int fetch_size(const std::string& url) { return static_cast<int>(url.size()); }
void example(grove::Pool& pool, const std::vector<std::string>& urls) {
  int total = 0;
  for (int size : pool.imap(fetch_size, urls)) total += size;   // imap: a NextIterator source
}
}  // namespace next_iterator_h

namespace queue_h {
void run(const std::string&) {}
void log(const char*) {}
void example() {
  grove::Queue<std::string> jobs(100);
  grove::spawn_fiber([&] { for (auto& job : jobs) run(job); });  // until shutdown
  jobs.put("resize img.png");
  if (jobs.try_put("extra") == grove::QueueStatus::kTimedOut) log("full");
  jobs.shutdown();
}
}  // namespace queue_h

namespace registry_h {
struct Get { std::string key; };
void example(const grove::ActorRef& keyspace) {
  grove::register_name("kv", keyspace);
  grove::send(grove::whereis("kv"), Get{"x"});
}
}  // namespace registry_h

namespace rlock_h {
grove::RLock lock;
void update() {
  grove::RLock::Guard held(lock);  // re-entrant: update() may call itself
  // ...
}
}  // namespace rlock_h

namespace semaphore_h {
void download(const std::string&) {}
void example(const std::string& url) {
  grove::Semaphore slots(4);             // at most 4 downloads at once
  grove::spawn_fiber([&] {
    grove::Semaphore::Guard held(slots);  // acquire ... release at scope exit
    download(url);
  });
}
}  // namespace semaphore_h

namespace supervisor_h {
void work() {}
void example() {
  grove::ChildSpec worker{.id = "worker", .start = [] { return grove::spawn(work); }};
  auto sup = grove::Supervisor::start({.strategy = grove::Strategy::kOneForOne}, {worker});
  sup.which_children();  // [{id: "worker", actor: <Greenlet ...>}]
}
}  // namespace supervisor_h

namespace timers_h {
void example() {
  struct Tick {};
  grove::TimerHandle tick = grove::send_after(grove::self(), Tick{}, 1.0);
  // ...
  tick.cancel();  // no Tick will arrive
}
}  // namespace timers_h

}  // namespace examples
