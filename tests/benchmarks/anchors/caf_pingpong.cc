// CAF 0.17's twin of tests/benchmarks/cross_hub.cc's ping-pong: two event-based actors on a
// scheduler of two worker threads, the same `figure value unit` lines.
//
//   caf_pingpong [round_trips]
#include <caf/all.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace {

using namespace caf;

behavior pong(event_based_actor* self) {
  return {[=](int n) -> int {
    if (n < 0) self->quit();
    return n;
  }};
}

void ping(event_based_actor* self, actor buddy, int round_trips) {
  auto t0 = std::chrono::steady_clock::now();
  auto step = std::make_shared<std::function<void(int)>>();
  *step = [=](int i) {
    if (i == round_trips) {
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::printf("caf_rtt %.3f us\ncaf_msgs %.0f /s\n", s / round_trips * 1e6, 2.0 * round_trips / s);
      self->send(buddy, -1);
      self->quit();
      return;
    }
    self->request(buddy, infinite, i).then([=](int) { (*step)(i + 1); });
  };
  (*step)(0);
}

}  // namespace

int main(int argc, char** argv) {
  const int round_trips = argc > 1 ? std::atoi(argv[1]) : 200000;
  caf::actor_system_config cfg;
  cfg.set("scheduler.max-threads", 2);
  caf::actor_system system{cfg};
  auto p = system.spawn(pong);
  system.spawn(ping, p, round_trips);
}
