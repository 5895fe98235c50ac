// gevent.signal_handler through the facade: the behaviours gevent's test__signal.py checks —
// the handler runs as a greenlet (it may block) once per signal, with its arguments, while the
// rest of the program keeps running; cancel() stops it. Signals are sent to this thread with
// raise() (the handler blocks them for the calling thread).
#include "facade/signal.h"

#include <signal.h>

#include <vector>

#include "facade/event.h"
#include "facade/greenlet.h"
#include "hub/testing.h"
#include "tests/support/grove_test.h"

namespace {

GROVE_TEST(GeventSignal, HandlerRunsAsAGreenletOncePerSignal) {
  std::vector<int> calls;
  gevent::event::Event second;
  auto handle = gevent::signal_handler(
      SIGUSR1,
      [&](int tag) {
        gevent::sleep(0.001);  // a handler may block: it is a greenlet, not signal context
        calls.push_back(tag);
        if (calls.size() == 2) second.set();
      },
      42);
  ASSERT_EQ(::raise(SIGUSR1), 0);
  gevent::sleep(0.01);
  ASSERT_EQ(::raise(SIGUSR1), 0);
  EXPECT_TRUE(second.wait(10.0));
  EXPECT_EQ(calls, (std::vector<int>{42, 42}));
  handle.cancel();
  EXPECT_FALSE(handle.active());
}

GROVE_TEST(GeventSignal, OtherGreenletsKeepRunningAndAFailingHandlerIsReported) {
  grove::testing::ExpectFailures crashes;
  gevent::event::Event handled;
  auto handle = gevent::signal_handler(SIGUSR2, [&] {
    handled.set();
    throw std::runtime_error("handler failed");
  });
  int ticks = 0;
  auto ticker = gevent::spawn([&] {
    while (!handled.ready()) {
      ++ticks;
      gevent::sleep(0.001);
    }
  });
  gevent::sleep(0.005);
  ASSERT_EQ(::raise(SIGUSR2), 0);
  EXPECT_TRUE(handled.wait(10.0));
  ticker.join();
  EXPECT_GT(ticks, 0);
  gevent::sleep(0.001);
  EXPECT_EQ(crashes.count(), 1u);
}

GROVE_TEST(GeventSignal, CancelRestoresTheMask) {
  sigset_t before;
  pthread_sigmask(SIG_SETMASK, nullptr, &before);
  {
    auto handle = gevent::signal_handler(SIGUSR1, [] {});
    sigset_t during;
    pthread_sigmask(SIG_SETMASK, nullptr, &during);
    EXPECT_TRUE(sigismember(&during, SIGUSR1));
  }
  sigset_t after;
  pthread_sigmask(SIG_SETMASK, nullptr, &after);
  EXPECT_EQ(sigismember(&after, SIGUSR1), sigismember(&before, SIGUSR1));
}

}  // namespace
