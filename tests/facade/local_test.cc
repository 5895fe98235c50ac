// gevent.local through the facade: the behaviours gevent's test__local.py checks — each
// greenlet sees its own value, a fresh greenlet starts from the initial value (the "__init__"
// runs per greenlet), values die with their greenlet, the main greenlet has its own.
#include "facade/local.h"

#include <string>
#include <vector>

#include "facade/greenlet.h"
#include "tests/support/grove_test.h"

namespace {

struct Attributes {
  std::string name = "initial";
  int hits = 0;
};

struct Counted {
  static inline int alive = 0;
  Counted() { ++alive; }
  Counted(const Counted&) { ++alive; }
  ~Counted() { --alive; }
};

GROVE_TEST(GeventLocal, EachGreenletHasItsOwnAttributes) {
  gevent::local<Attributes> l;
  l->name = "main";
  auto a = gevent::spawn([&] {
    EXPECT_EQ(l->name, "initial") << "a greenlet starts from the initial value";
    l->name = "a";
    gevent::sleep(0.001);
    return l->name;
  });
  auto b = gevent::spawn([&] {
    l->name = "b";
    gevent::sleep(0.001);
    return l->name;
  });
  EXPECT_EQ(a.get(), "a");
  EXPECT_EQ(b.get(), "b");
  EXPECT_EQ(l->name, "main");
}

GROVE_TEST(GeventLocal, InitRunsOncePerGreenletWithTheSameArguments) {
  int inits = 0;
  gevent::local<Attributes> l([&] {
    ++inits;
    return Attributes{"from init", 7};
  });
  std::vector<gevent::Greenlet<int>> gs;
  for (int i = 0; i < 3; ++i) {
    gs.push_back(gevent::spawn([&] {
      l->hits += 1;
      l->hits += 1;
      EXPECT_EQ(l->name, "from init");
      return l->hits;
    }));
  }
  for (auto& g : gs) EXPECT_EQ(g.get(), 9);
  EXPECT_EQ(inits, 3);
}

GROVE_TEST(GeventLocal, ValuesDieWithTheirGreenlet) {
  gevent::local<Counted> l;
  const int before = Counted::alive;
  std::vector<gevent::Greenlet<void>> gs;
  for (int i = 0; i < 5; ++i) gs.push_back(gevent::spawn([&] { (void)*l; gevent::sleep(0.01); }));
  gevent::sleep(0);
  EXPECT_EQ(Counted::alive, before + 5);
  gs[0].kill();
  EXPECT_EQ(Counted::alive, before + 4) << "a killed greenlet's value is gone when kill returns";
  gevent::joinall(gs);
  EXPECT_EQ(Counted::alive, before);
}

GROVE_TEST(GeventLocal, SetAndResetActOnTheCallerOnly) {
  gevent::local<int> l;
  l.set(5);
  auto g = gevent::spawn([&] {
    l.set(9);
    EXPECT_TRUE(l.reset());
    return l.get();
  });
  EXPECT_EQ(g.get(), 0);
  EXPECT_EQ(l.get(), 5);
}

}  // namespace
