// supervision_demo — a small supervision tree whose workers crash on purpose; the supervisors
// restart them and print each restart as it happens. Exits by itself after about 3 seconds.
//
//   bazel run //examples:supervision_demo [-- --seconds 5]
//
// The tree:
//   top (one_for_one, up to 20 restarts in 5 s)
//   ├── ticker      permanent: prints a tick every 0.5 s, never fails
//   ├── flaky       permanent: fails with an exception every 0.4 s → restarted alone
//   └── pair (one_for_all)
//       ├── left    permanent: fails every 0.9 s → left AND right are restarted
//       └── right   permanent: just works (and is restarted with left)
// Each worker prints when it starts; the supervisors log every failure and restart (spdlog).
#include <fmt/core.h>

#include <map>
#include <stdexcept>
#include <string>

#include "actors/actor.h"
#include "actors/supervisor.h"
#include "examples/cli.h"
#include "hub/hub.h"

namespace {

double start_time = 0;
std::map<std::string, int> incarnations;

void announce(const std::string& who) {
  fmt::print("{:6.2f} s  {} started (incarnation {})\n", grove::Deadline::now() - start_time, who,
             ++incarnations[who]);
  std::fflush(stdout);
}

grove::ChildSpec worker(const std::string& id, double fail_after) {
  return grove::ChildSpec{
      .id = id,
      .start =
          [id, fail_after] {
            return grove::ActorRef(grove::spawn_opt({.name = id}, [id, fail_after] {
              announce(id);
              if (fail_after <= 0) {
                for (;;) grove::sleep(1.0);
              }
              grove::sleep(fail_after);
              throw std::runtime_error(id + " crashed on purpose");
            }));
          },
  };
}

}  // namespace

int main(int argc, char** argv) {
  examples::Command cli("supervision_demo",
                        "Runs a supervision tree with crashing workers and prints the restarts.");
  double seconds = 3;
  cli.app()
      .add_option("--seconds", seconds, "how long to let the tree run")
      ->check(examples::positive_seconds())
      ->capture_default_str();
  cli.exit_code(examples::kExitFailed, "no worker was restarted (the supervisors did nothing)");
  cli.parse(argc, argv);
  start_time = grove::Deadline::now();

  grove::ChildSpec ticker{
      .id = "ticker",
      .start =
          [] {
            return grove::ActorRef(grove::spawn_opt({.name = "ticker"}, [] {
              announce("ticker");
              for (int i = 1;; ++i) {
                grove::sleep(0.5);
                fmt::print("{:6.2f} s  tick {}\n", grove::Deadline::now() - start_time, i);
              }
            }));
          },
  };
  grove::ChildSpec pair{
      .id = "pair",
      .start =
          [] {
            auto sup = grove::Supervisor::start(
                {.strategy = grove::Strategy::kOneForAll, .intensity = 10, .period = 5, .name = "pair"},
                {worker("left", 0.9), worker("right", 0)});
            return sup.actor();
          },
      .type = grove::ChildType::kSupervisor,
  };
  auto top = grove::Supervisor::start(
      {.strategy = grove::Strategy::kOneForOne, .intensity = 20, .period = 5, .name = "top"},
      {ticker, worker("flaky", 0.4), pair});

  grove::sleep(seconds);
  fmt::print("{:6.2f} s  stopping the tree\n", grove::Deadline::now() - start_time);
  top.stop();
  int restarts = 0;
  for (const auto& [who, n] : incarnations) restarts += n - 1;
  fmt::print("done: {} restarts\n", restarts);
  return restarts > 0 ? 0 : 1;
}
