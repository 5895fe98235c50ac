// hub/local.h: one value per fiber, made on first use, destroyed when the fiber ends.
#include "hub/local.h"

#include <string>
#include <vector>

#include "hub/hub.h"
#include "tests/support/grove_test.h"

namespace {

// Counts live instances, so a test sees exactly when values are destroyed.
struct Tracked {
  static inline int alive = 0;
  std::string text;
  Tracked() { ++alive; }
  Tracked(const Tracked& o) : text(o.text) { ++alive; }
  ~Tracked() { --alive; }
};

GROVE_TEST(FiberLocal, EachFiberSeesItsOwnValue) {
  grove::FiberLocal<std::string> name;
  name.get() = "main";
  std::vector<std::string> seen;
  auto a = grove::spawn_fiber([&] {
    name.get() = "a";
    grove::sleep(0.001);  // b runs and writes its own value meanwhile
    seen.push_back(name.get());
  });
  auto b = grove::spawn_fiber([&] {
    EXPECT_EQ(name.get(), "") << "a fresh fiber starts from the default value";
    name.get() = "b";
    grove::sleep(0.001);
    seen.push_back(name.get());
  });
  (void)a->join();
  (void)b->join();
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(name.get(), "main");
}

GROVE_TEST(FiberLocal, ValueIsDestroyedWhenItsFiberEnds) {
  grove::FiberLocal<Tracked> local;
  const int before = Tracked::alive;
  bool made = false;
  bool finish = false;
  auto f = grove::spawn_fiber([&] {
    local.get().text = "x";
    made = true;
    while (!finish) grove::sleep(0.001);
  });
  while (!made) grove::sleep(0.001);
  EXPECT_EQ(Tracked::alive, before + 1);
  finish = true;
  (void)f->join();
  EXPECT_EQ(Tracked::alive, before) << "destroyed before join() returned";
}

GROVE_TEST(FiberLocal, KilledFiberDestroysItsValue) {
  grove::FiberLocal<Tracked> local;
  const int before = Tracked::alive;
  auto f = grove::spawn_fiber([&] {
    (void)local.get();
    grove::sleep(10);
  });
  grove::yield();
  EXPECT_EQ(Tracked::alive, before + 1);
  f->kill();
  (void)f->join();
  EXPECT_EQ(Tracked::alive, before);
}

GROVE_TEST(FiberLocal, FactoryRunsOncePerFiber) {
  int made = 0;
  grove::FiberLocal<int> local([&] { return ++made * 100; });
  EXPECT_EQ(local.get(), 100);
  EXPECT_EQ(local.get(), 100);
  auto f = grove::spawn_fiber([&] { EXPECT_EQ(local.get(), 200); });
  (void)f->join();
  EXPECT_EQ(made, 2);
}

GROVE_TEST(FiberLocal, ResetAndDestructionFreeTheCallersValue) {
  const int before = Tracked::alive;
  {
    grove::FiberLocal<Tracked> local;
    (void)local.get();
    EXPECT_TRUE(local.reset());
    EXPECT_EQ(Tracked::alive, before);
    EXPECT_EQ(local.get_if(), nullptr);
    (void)local.get();
    EXPECT_EQ(Tracked::alive, before + 1);
  }
  EXPECT_EQ(Tracked::alive, before) << "the main fiber's value goes with the FiberLocal";
}

GROVE_TEST(FiberLocal, TwoLocalsDoNotShareSlots) {
  grove::FiberLocal<int> x;
  grove::FiberLocal<int> y;
  x.get() = 1;
  y.get() = 2;
  EXPECT_EQ(x.get(), 1);
  EXPECT_EQ(y.get(), 2);
}

}  // namespace
