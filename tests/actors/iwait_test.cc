// actors/iwait.h (and hub/wait_any.h's WaitSet under it): greenlets, Events and AsyncResults
// handed out in the order they become ready.
#include "actors/iwait.h"

#include <string>
#include <vector>

#include "actors/actor.h"
#include "actors/async_result.h"
#include "actors/event.h"
#include "hub/hub.h"
#include "hub/timeout.h"
#include "tests/support/grove_test.h"

namespace grove {
namespace {

GROVE_TEST(IWait, GreenletsComeOutInTheOrderTheyEnd) {
  Event go2, go0, go1;
  std::vector<ActorRef> gs = {ActorRef(spawn([&] { (void)go0.wait(); })),
                              ActorRef(spawn([&] { (void)go1.wait(); })),
                              ActorRef(spawn([&] { (void)go2.wait(); }))};
  yield();
  go2.set();
  sleep(0.0);
  go0.set();
  go1.set();  // 0 and 1 end in the same pass, in that order
  std::vector<ActorRef> order;
  for (auto& g : iwait(gs, Deadline::after(20.0))) order.push_back(g);
  ASSERT_EQ(order.size(), 3u);
  EXPECT_EQ(order[0], gs[2]);
  EXPECT_EQ(order[1], gs[0]);
  EXPECT_EQ(order[2], gs[1]);
}

GROVE_TEST(IWait, ReadyObjectsComeFirstInTheOrderGiven) {
  Event a, b, c;
  c.set();
  a.set();
  std::vector<Event*> events = {&a, &b, &c};
  IWait<Event*> it(events, Deadline::after(0.05));
  EXPECT_EQ(it.next(), std::optional<Event*>(&a));
  EXPECT_EQ(it.next(), std::optional<Event*>(&c));
  EXPECT_EQ(it.next(), std::nullopt);  // b never: the deadline
  EXPECT_EQ(b.waiting(), 1u) << "still registered while the IWait lives";
}

GROVE_TEST(IWait, CountStopsEarlyAndTheRestAreUnregistered) {
  Event a, b;
  AsyncResult<int> r;
  {
    spawn_fiber([&] { r.set(1); });
    std::vector<AsyncResult<int>*> results = {&r};
    EXPECT_EQ(grove::wait(results, Deadline::after(20.0), 1).size(), 1u);
    std::vector<Event*> events = {&a, &b};
    IWait<Event*> it(events, Deadline::after(20.0), 1);
    b.set();
    EXPECT_EQ(it.next(), std::optional<Event*>(&b));
    EXPECT_EQ(it.next(), std::nullopt);
    EXPECT_EQ(a.waiting(), 1u);
  }
  EXPECT_EQ(a.waiting(), 0u);
}

GROVE_TEST(IWait, KilledInNextLeavesEveryObject) {
  Event a, b;
  bool exited = false;
  FiberRef f = spawn_fiber([&] {
    std::vector<Event*> events = {&a, &b};
    IWait<Event*> it(events);
    try {
      (void)it.next();
    } catch (const GreenletExit&) {
      exited = true;
      throw;
    }
  });
  yield();
  ASSERT_EQ(a.waiting(), 1u);
  ASSERT_EQ(b.waiting(), 1u);
  f->kill();
  ASSERT_TRUE(f->join(Deadline::after(20.0)));
  EXPECT_TRUE(exited);
  EXPECT_EQ(a.waiting(), 0u);
  EXPECT_EQ(b.waiting(), 0u);
}

GROVE_TEST(IWait, AnObjectDestroyedWhileNextParksThrowsObjectDestroyed) {
  Event a;
  auto b = std::make_unique<Event>();
  bool destroyed = false;
  FiberRef f = spawn_fiber([&] {
    std::vector<Event*> events = {&a, b.get()};
    IWait<Event*> it(events, Deadline::after(30.0));
    try {
      (void)it.next();
    } catch (const ObjectDestroyed&) {
      destroyed = true;
    }
  });
  yield();
  b.reset();
  ASSERT_TRUE(f->join(Deadline::after(20.0)));
  EXPECT_TRUE(destroyed);
  EXPECT_EQ(a.waiting(), 0u);
}

GROVE_TEST(IWait, ManyGreenletsDrainInOrder) {
  constexpr int kCount = 2000;
  std::vector<ActorRef> gs;
  for (int i = 0; i < kCount; ++i) gs.emplace_back(spawn([i] { sleep(0.001 * (i % 3)); }));
  int n = 0;
  for (auto& g : iwait(gs, Deadline::after(60.0))) {
    EXPECT_TRUE(g.dead());
    ++n;
  }
  EXPECT_EQ(n, kCount);
}

}  // namespace
}  // namespace grove
