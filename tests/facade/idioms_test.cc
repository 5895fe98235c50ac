// gevent's idioms as a C++ programmer writes them, through the facade: link callbacks however
// declared, an AsyncResult as a link target, range-for over iwait and imap_unordered (the
// behaviours of gevent's test__iwait.py), joinall over braced lists, ranges and mixed types,
// spawn with options, kill(), exc_info, has_links/unlink_all, rawlink receiving the object,
// Semaphore.wait returning the counter, Channel's gevent answers, and a negative timeout
// firing at once on every kind of wait.
#include <array>
#include <list>
#include <stdexcept>
#include <string>
#include <vector>

#include "facade/event.h"
#include "facade/greenlet.h"
#include "facade/lock.h"
#include "facade/pool.h"
#include "facade/queue.h"
#include "facade/socket.h"
#include "hub/testing.h"
#include "tests/support/grove_test.h"

namespace {

using gevent::Greenlet;
using grove::testing::ExpectFailures;

GROVE_TEST(GeventIdioms, LinkCallbacksTakeTheGreenletHoweverDeclared) {
  auto g = gevent::spawn([] { return 5; });
  std::vector<std::string> calls;
  g.link([&](auto& x) { calls.push_back("auto& " + std::to_string(x.get())); });
  g.link([&](const auto& x) { calls.push_back("const auto& " + std::to_string(x.get())); });
  g.link([&](Greenlet<int> x) { calls.push_back("value " + std::to_string(x.get())); });
  g.link([&] { calls.push_back("none"); });
  g.link_value([&](auto& x) { calls.push_back("link_value " + std::to_string(*x.value())); });
  g.join();
  gevent::sleep(0.001);
  EXPECT_EQ(calls, (std::vector<std::string>{"auto& 5", "const auto& 5", "value 5", "none",
                                             "link_value 5"}));
}

GROVE_TEST(GeventIdioms, AsyncResultAsALinkTarget) {
  ExpectFailures crashes;
  gevent::AsyncResult<int> ok;
  gevent::spawn([] { return 7; }).link(ok);
  EXPECT_EQ(ok.get(true, 10.0), 7);

  gevent::AsyncResult<int> failed;
  gevent::spawn([]() -> int { throw std::domain_error("x"); }).link(failed);
  EXPECT_THROW(failed.get(true, 10.0), std::domain_error);

  gevent::AsyncResult<int> killed;
  auto sleeper = gevent::spawn([] {
    gevent::sleep(60);
    return 1;
  });
  sleeper.link(killed);
  sleeper.kill();
  EXPECT_THROW(killed.get(true, 10.0), gevent::GreenletExit);

  gevent::AsyncResult<void> done;
  gevent::spawn([] {}).link(done);
  EXPECT_NO_THROW(done.get(true, 10.0));
}

GROVE_TEST(GeventIdioms, RangeForOverIwaitGivesCompletionOrder) {
  std::vector<Greenlet<int>> gs;
  for (int ms : {30, 10, 20}) {
    gs.push_back(gevent::spawn([ms] {
      gevent::sleep(ms / 1000.0);
      return ms;
    }));
  }
  std::vector<int> order;
  for (auto& g : gevent::iwait(gs)) order.push_back(g.get());
  EXPECT_EQ(order, (std::vector<int>{10, 20, 30}));
}

GROVE_TEST(GeventIdioms, IwaitCountAndTimeoutAndEvents) {
  // test__iwait: count stops early; a timeout ends the iteration without an error.
  auto fast = gevent::spawn([] { return 1; });
  auto slow = gevent::spawn([] {
    gevent::sleep(60);
    return 2;
  });
  int seen = 0;
  for (auto& g : gevent::iwait({fast, slow}, std::nullopt, 1)) {
    EXPECT_EQ(g.get(), 1);
    ++seen;
  }
  EXPECT_EQ(seen, 1);
  seen = 0;
  for (auto& g : gevent::iwait({slow}, 0.01)) {
    (void)g;
    ++seen;
  }
  EXPECT_EQ(seen, 0) << "nothing became ready before the timeout";
  slow.kill();

  gevent::Event a;
  gevent::Event b;
  gevent::spawn([&] { b.set(); });
  std::vector<gevent::Event*> events = {&a, &b};
  for (gevent::Event* e : gevent::iwait(events, std::nullopt, 1)) EXPECT_EQ(e, &b);
}

GROVE_TEST(GeventIdioms, RangeForOverPoolImapUnordered) {
  gevent::pool::Pool pool(3);
  std::vector<int> got;
  auto it = pool.imap_unordered(
      [](int ms) {
        gevent::sleep(ms / 1000.0);
        return ms;
      },
      std::vector<int>{30, 5, 15});
  for (int v : it) got.push_back(v);
  EXPECT_EQ(got, (std::vector<int>{5, 15, 30}));
  std::vector<int> ordered;
  for (int v : pool.imap([](int x) { return x * 2; }, std::vector<int>{1, 2, 3})) {
    ordered.push_back(v);
  }
  EXPECT_EQ(ordered, (std::vector<int>{2, 4, 6}));
}

GROVE_TEST(GeventIdioms, JoinallOverBracedListsRangesAndMixedTypes) {
  auto a = gevent::spawn([] { return 1; });
  auto b = gevent::spawn([] { return 2; });
  EXPECT_EQ(gevent::joinall({a, b}).size(), 2u);
  auto text = gevent::spawn([] { return std::string("t"); });
  auto nothing = gevent::spawn([] {});
  auto mixed = gevent::joinall({a, text, nothing});
  EXPECT_EQ(mixed.size(), 3u);
  EXPECT_TRUE(text.dead());
  std::list<Greenlet<int>> list = {gevent::spawn([] { return 3; })};
  EXPECT_EQ(gevent::joinall(list).front().get(), 3);
  std::array<Greenlet<int>, 2> array = {gevent::spawn([] { return 4; }),
                                        gevent::spawn([] { return 5; })};
  EXPECT_EQ(gevent::joinall(array, 10.0).size(), 2u);
  auto jobs = {gevent::spawn([] { return 6; }), gevent::spawn([] { return 7; })};
  EXPECT_EQ(gevent::joinall(jobs, /*timeout=*/2.0).size(), 2u);
}

GROVE_TEST(GeventIdioms, SpawnWithOptionsKillAndExcInfo) {
  ExpectFailures crashes;
  auto named = gevent::spawn({.name = "worker", .stack_size = 256 * 1024}, [] { return 1; });
  EXPECT_EQ(named.name(), "worker");
  EXPECT_EQ(named.get(), 1);

  auto sleeper = gevent::spawn([] { gevent::sleep(60); });
  gevent::kill(sleeper);
  EXPECT_TRUE(sleeper.dead()) << "kill(g) blocks until it died, by default";
  EXPECT_FALSE(sleeper.exc_info()) << "a kill is not a failure";

  auto bad = gevent::spawn([] { throw std::invalid_argument("bad input"); });
  bad.join();
  auto info = bad.exc_info();
  ASSERT_TRUE(info);
  EXPECT_EQ(info.type, "std::invalid_argument");
  EXPECT_EQ(info.message, "bad input");
}

GROVE_TEST(GeventIdioms, HasLinksAndUnlinkAll) {
  auto g = gevent::spawn([] { gevent::sleep(0.01); });
  EXPECT_FALSE(g.has_links());
  int calls = 0;
  g.link([&] { ++calls; });
  g.rawlink([&] { ++calls; });
  EXPECT_TRUE(g.has_links());
  g.unlink_all();
  EXPECT_FALSE(g.has_links());
  g.join();
  gevent::sleep(0.001);
  EXPECT_EQ(calls, 0);
}

GROVE_TEST(GeventIdioms, RawlinkOnEventAndAsyncResultReceivesTheObject) {
  gevent::Event e;
  gevent::Event* seen_event = nullptr;
  e.rawlink([&](gevent::Event& source) { seen_event = &source; });
  gevent::AsyncResult<int> r;
  int seen_value = 0;
  r.rawlink([&](gevent::AsyncResult<int>& source) { seen_value = source.get(); });
  bool plain = false;
  r.rawlink([&] { plain = true; });
  e.set();
  r.set(11);
  gevent::sleep(0.001);
  EXPECT_EQ(seen_event, &e);
  EXPECT_EQ(seen_value, 11);
  EXPECT_TRUE(plain);
}

GROVE_TEST(GeventIdioms, SemaphoreWaitReturnsTheCounter) {
  gevent::lock::Semaphore s(2);
  EXPECT_EQ(s.wait(), 2u);
  s.acquire();
  s.acquire();
  EXPECT_EQ(s.wait(0.01), 0u) << "timed out: the counter, 0";
  gevent::spawn([&] { s.release(); });
  EXPECT_EQ(s.wait(10.0), 1u);
}

GROVE_TEST(GeventIdioms, ChannelAnswersAsGeventDoes) {
  gevent::queue::Channel<int> ch;
  EXPECT_TRUE(ch.full());
  EXPECT_TRUE(ch.empty());
  EXPECT_EQ(ch.qsize(), 0u);
  auto getter = gevent::spawn([&] { return ch.get(); });
  gevent::sleep(0);
  EXPECT_EQ(ch.balance(), -1) << "one getter waits";
  EXPECT_TRUE(ch.full()) << "gevent's Channel.full() is always true";
  ch.put(3);
  EXPECT_EQ(getter.get(), 3);
}

GROVE_TEST(GeventIdioms, NegativeTimeoutFiresAtOnceEverywhere) {
  gevent::Event e;
  EXPECT_FALSE(e.wait(-1.0));
  gevent::AsyncResult<int> r;
  EXPECT_THROW(r.get(true, -1.0), gevent::Timeout);
  gevent::queue::Queue<int> q;
  EXPECT_THROW(q.get(true, -1.0), gevent::queue::Empty);
  gevent::lock::Semaphore s(0);
  EXPECT_FALSE(s.acquire(true, -1.0));
  auto g = gevent::spawn([] { gevent::sleep(60); });
  EXPECT_FALSE(g.join(-1.0));
  g.kill();
  auto [x, y] = gevent::socket::socketpair();
  EXPECT_THROW((void)gevent::socket::wait_read(x.fileno(), -1.0), gevent::socket::timeout);
  gevent::Timeout t = gevent::Timeout::start_new(-1.0);
  EXPECT_THROW(gevent::sleep(60), gevent::Timeout);
}

}  // namespace
