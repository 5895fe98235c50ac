// Destroying a hub unwinds the fibers still parked on it.
#include <gtest/gtest.h>

#include <thread>

#include "hub/hub.h"

namespace grove {
namespace {

struct Tracker {
  int* destroyed;
  ~Tracker() { ++*destroyed; }
};

TEST(HubDestroy, UnwindsParkedAndNeverStartedFibers) {
  Hub::destroy_current();
  int destroyed = 0;
  bool never_started_ran = false;
  WaitList list;
  spawn_fiber([&] {
    Tracker t{&destroyed};
    (void)list.wait();
  });
  spawn_fiber([&] {
    Tracker t{&destroyed};
    sleep(100.0);
  });
  sleep(0.0);
  spawn_fiber([&] { never_started_ran = true; });
  Hub::destroy_current();
  EXPECT_EQ(destroyed, 2);
  EXPECT_FALSE(never_started_ran);
}

TEST(HubDestroy, ThreadExitUnwindsItsHub) {
  int destroyed = 0;
  std::thread t([&] {
    spawn_fiber([&] {
      Tracker tr{&destroyed};
      sleep(100.0);
    });
    sleep(0.0);
  });
  t.join();
  EXPECT_EQ(destroyed, 1);
}

}  // namespace
}  // namespace grove
