// gevent.wait() without objects and get_hub().join(), on the thread's main greenlet (plain
// TESTs: GROVE_TEST bodies are not the main greenlet): they return once nothing is left that
// could ever run, and report a timeout with false.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "facade/greenlet.h"
#include "hub/hub.h"

namespace {

TEST(GeventWait, WithoutObjectsRunsUntilNoGreenletIsLeft) {
  std::vector<int> done;
  for (int i = 0; i < 3; ++i) {
    gevent::spawn([&done, i] {
      gevent::sleep(0.001 * (3 - i));
      done.push_back(i);
    });
  }
  EXPECT_TRUE(gevent::wait());
  std::sort(done.begin(), done.end());
  EXPECT_EQ(done, (std::vector<int>{0, 1, 2})) << "every greenlet ran to its end first";
  grove::Hub::destroy_current();
}

TEST(GeventWait, HubJoinIsTheSameAndTimesOut) {
  auto forever = gevent::spawn([] { gevent::sleep(60); });
  EXPECT_FALSE(gevent::get_hub().join(0.01)) << "a timer is still pending";
  forever.kill();
  EXPECT_TRUE(gevent::get_hub().join());
  grove::Hub::destroy_current();
}

TEST(GeventWait, FromAnotherGreenletIsAnError) {
  auto g = gevent::spawn([] { return gevent::wait(0.01); });
  g.join();
  EXPECT_TRUE(g.exception());
  grove::Hub::destroy_current();
}

}  // namespace
