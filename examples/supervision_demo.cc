// supervision_demo — a small supervision tree whose workers crash on purpose; the supervisors
// restart them and print each restart as it happens. Alone, it exits by itself after about 3
// seconds.
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
//
// --- With the workers on other nodes (--cluster) ----------------------------------------------
// The same binary, started once per node, all on one NATS server (cluster/node.h):
//
//   nats-server -a 127.0.0.1 -p 4222 -js -sd /tmp/grove-js &
//   supervision_demo --cluster nats://127.0.0.1:4222 --node workers &   # hosts the workers
//   supervision_demo --cluster nats://127.0.0.1:4222 --node spare &     # a second host
//   supervision_demo --cluster nats://127.0.0.1:4222 --node boss --workers-on workers,spare
//
// A node without --workers-on hosts: it registers the worker function (Node::register_function)
// so that other nodes can start workers on it, prints each worker it starts, and waits. The
// node with --workers-on is the boss: it runs the tree above, with ticker on the boss itself and
// flaky, left and right as cluster::remote_child specs (cluster/remote_child.h) placed on the
// nodes of --workers-on. For each remote start the boss prints "flaky started on node workers
// (incarnation 2)"; the supervisors' log lines (child exited with reason ..., restarted child
// ...) are those of the single-process demo, the reasons crossing from the worker's node.
//
// What happens when a host dies (kill -9): the boss stops hearing its heartbeats, and after the
// node timeout (3 s) every child there ends with reason `noconnection`; the supervisors restart
// them as for any crash. Where the restart goes is remote_child's placement policy: each start
// goes to the FIRST node of --workers-on that is up (nodes not up are tried last, in order), and
// never to the boss itself. So with `--workers-on workers,spare` the children move to spare,
// and go back to workers at their next restart once workers is up again (a new incarnation).
// With a single host listed there is nowhere else to go: each restart waits up to the node
// timeout for the host to come back, fails if it does not, and is tried again by its supervisor
// (one try per 3 s stays within the restart budgets), so the children come back when the host is
// started again (a new incarnation). Meanwhile the supervisor retrying is busy: a SIGTERM then
// makes the remaining starts fail at once, the supervisors give up, and the boss exits 0.
//
// The nodes run until SIGINT or SIGTERM (exit 0), or for --seconds if it is given. The boss
// waits up to 30 s for a node of --workers-on to join before it starts the tree.
#include <fmt/core.h>
#include <fmt/format.h>

#include <signal.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "actors/actor.h"
#include "actors/event.h"
#include "actors/supervisor.h"
#include "cluster/node.h"
#include "cluster/remote_child.h"
#include "examples/cli.h"
#include "hub/hub.h"
#include "servers/signals.h"

namespace cluster = grove::cluster;

namespace {

double start_time = 0;
std::map<std::string, int> incarnations;

double elapsed() { return grove::Deadline::now() - start_time; }

// "flaky started (incarnation 2)"; `where` goes after "started" (" on node workers").
void announce(const std::string& who, const std::string& where = "") {
  fmt::print("{:6.2f} s  {} started{} (incarnation {})\n", elapsed(), who, where, ++incarnations[who]);
  std::fflush(stdout);
}

// The body of every worker: print, then fail after `fail_after` seconds (never if <= 0).
void work(const std::string& id, double fail_after, const std::string& where) {
  announce(id, where);
  if (fail_after <= 0) {
    for (;;) grove::sleep(1.0);
  }
  grove::sleep(fail_after);
  throw std::runtime_error(id + " crashed on purpose");
}

grove::ChildSpec worker(const std::string& id, double fail_after) {
  return grove::ChildSpec{
      .id = id,
      .start =
          [id, fail_after] {
            return grove::ActorRef(
                grove::spawn_opt({.name = id}, [id, fail_after] { work(id, fail_after, ""); }));
          },
  };
}

grove::ChildSpec ticker() {
  return grove::ChildSpec{
      .id = "ticker",
      .start =
          [] {
            return grove::ActorRef(grove::spawn_opt({.name = "ticker"}, [] {
              announce("ticker");
              for (int i = 1;; ++i) {
                grove::sleep(0.5);
                fmt::print("{:6.2f} s  tick {}\n", elapsed(), i);
                std::fflush(stdout);
              }
            }));
          },
  };
}

// The tree of the header comment; `make_worker` makes the specs of flaky, left and right.
grove::Supervisor start_tree(const std::function<grove::ChildSpec(const std::string&, double)>& make_worker) {
  grove::ChildSpec pair{
      .id = "pair",
      .start =
          [make_worker] {
            auto sup = grove::Supervisor::start(
                {.strategy = grove::Strategy::kOneForAll, .intensity = 10, .period = 5, .name = "pair"},
                {make_worker("left", 0.9), make_worker("right", 0)});
            return sup.actor();
          },
      .type = grove::ChildType::kSupervisor,
  };
  return grove::Supervisor::start(
      {.strategy = grove::Strategy::kOneForOne, .intensity = 20, .period = 5, .name = "top"},
      {ticker(), make_worker("flaky", 0.4), pair});
}

int restarts_so_far() {
  int restarts = 0;
  for (const auto& [who, n] : incarnations) restarts += n - 1;
  return restarts;
}

// --- the cluster roles ---------------------------------------------------------------------------

// What the boss asks a host to run (the arguments of the registered worker function).
struct WorkerArgs {
  std::string id;
  double fail_after = 0;
  MSGPACK_DEFINE(id, fail_after);
};
constexpr const char* kWorkerFunction = "supervision_demo.worker";

// A node name as cluster/node.h takes it: letters, digits, '-' and '_'.
CLI::Validator node_name() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        const bool ok = !text.empty() && std::all_of(text.begin(), text.end(), [](unsigned char c) {
          return std::isalnum(c) || c == '-' || c == '_';
        });
        return ok ? std::string() : fmt::format("'{}' is not a node name (letters, digits, - and _)", text);
      },
      "", "node_name");
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  for (std::size_t at = 0; at <= text.size();) {
    const std::size_t comma = std::min(text.find(',', at), text.size());
    parts.push_back(text.substr(at, comma - at));
    at = comma + 1;
  }
  return parts;
}

struct ClusterConfig {
  std::string urls;                     // --cluster
  std::string node;                     // --node
  std::vector<std::string> workers_on;  // --workers-on; empty: this node hosts workers
};

// Why a node stops. Shared with the callbacks that set it (the tree's end may be reported after
// run_node has returned).
struct Stop {
  grove::Event event;
  bool signalled = false;  // SIGINT or SIGTERM
  bool gave_up = false;    // the boss's tree ended by itself
};

// Runs this process as node config.node until SIGINT or SIGTERM (or `seconds`, if given; for a
// boss, also until its tree gives up); returns the exit code.
int run_node(const ClusterConfig& config, std::optional<double> seconds) {
  // Before the node: the NATS client starts threads of its own, which must inherit the mask
  // that keeps SIGINT and SIGTERM for the watch (else one of them takes the signal and dies).
  const auto stop = std::make_shared<Stop>();
  grove::servers::SignalWatch signals({SIGINT, SIGTERM}, [stop](int signo) {
    fmt::print("{:6.2f} s  {} received, stopping\n", elapsed(), strsignal(signo));
    std::fflush(stdout);
    stop->signalled = true;
    stop->event.set();
  });

  cluster::NodeOptions options;
  options.name = config.node;
  options.servers = split_commas(config.urls);
  std::unique_ptr<cluster::Node> node;
  try {
    node = std::make_unique<cluster::Node>(options);
  } catch (const std::exception& e) {
    throw examples::StartupError(examples::kExitFailed,
                                 fmt::format("cannot join --cluster {}: {}", config.urls, e.what()));
  }

  const grove::Deadline until = seconds ? grove::Deadline::after(*seconds) : grove::Deadline::never();

  if (config.workers_on.empty()) {  // a host
    const std::string where = " on node " + config.node;
    node->register_function<WorkerArgs>(kWorkerFunction, [where](WorkerArgs args) {
      work(args.id, args.fail_after, where);
    });
    fmt::print("node {}: hosting workers (function \"{}\"); waiting for a boss\n", config.node,
               kWorkerFunction);
    std::fflush(stdout);
    (void)stop->event.wait(until);
    fmt::print("node {}: done, {} workers started here\n", config.node, [] {
      int n = 0;
      for (const auto& [who, count] : incarnations) n += count;
      return n;
    }());
    std::fflush(stdout);
    return examples::kExitOk;
  }

  // The boss. Wait for a host to join: a first start on no node would fail the whole tree.
  fmt::print("node {}: waiting for a node of --workers-on ({}) to join\n", config.node,
             fmt::join(config.workers_on, ","));
  std::fflush(stdout);
  const grove::Deadline join_by = grove::Deadline::after(30.0);
  for (;;) {
    const bool any_up = std::any_of(config.workers_on.begin(), config.workers_on.end(),
                                    [&](const std::string& n) { return node->is_up(n); });
    if (any_up) break;
    if (stop->event.is_set()) return examples::kExitOk;
    if (join_by.passed()) {
      throw examples::StartupError(
          examples::kExitFailed,
          fmt::format("no node of --workers-on ({}) joined --cluster {} within 30 s",
                      fmt::join(config.workers_on, ","), config.urls));
    }
    (void)stop->event.wait(grove::Deadline::after(0.1));
  }

  // Once stopping, a restart does not wait for a host that is down: it fails at once, so that
  // a supervisor retrying a start cannot hold the shutdown up.
  bool stopping = false;
  cluster::Node& n = *node;
  auto remote_worker = [&n, &config, &stopping](const std::string& id, double fail_after) {
    return cluster::remote_child(
        n, {.id = id,
            .nodes = config.workers_on,
            .spawn = [&n, &stopping, id, fail_after](const std::string& at) {
              if (stopping) throw cluster::ClusterError("the boss is stopping");
              const cluster::Pid pid = n.spawn(at, kWorkerFunction, WorkerArgs{id, fail_after});
              fmt::print("{:6.2f} s  {} started on node {} (incarnation {})\n", elapsed(), id, at,
                         ++incarnations[id]);
              std::fflush(stdout);
              return pid;
            }});
  };
  grove::Supervisor top = start_tree(remote_worker);
  top.actor().rawlink([stop](const grove::ActorRef&) {
    if (!stop->event.is_set()) {
      stop->gave_up = true;
      stop->event.set();
    }
  });
  (void)stop->event.wait(until);
  stop->event.set();  // (when --seconds ran out) the tree's end from here on is ours, not a give-up
  stopping = true;
  fmt::print("{:6.2f} s  stopping the tree\n", elapsed());
  std::fflush(stdout);
  if (!top.actor().dead()) {
    try {
      top.stop();
    } catch (const grove::SupervisorError& e) {  // it gave up while we asked
      fmt::print("{:6.2f} s  {}\n", elapsed(), e.what());
    }
  }
  const bool gave_up = stop->gave_up || top.gave_up();
  const bool signalled = stop->signalled;
  // A tree that gave up after SIGTERM did so because its starts failed fast while stopping.
  const char* how = !gave_up ? "" : signalled ? " (the last starts were given up: no host was up)"
                                              : ", the supervision tree gave up";
  fmt::print("done: {} restarts{}\n", restarts_so_far(), how);
  std::fflush(stdout);
  if (gave_up && !signalled) return examples::kExitFailed;
  return examples::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  examples::Command cli("supervision_demo",
                        "Runs a supervision tree with crashing workers and prints the restarts; "
                        "with --cluster, the workers run on other nodes.");
  double seconds = 3;
  ClusterConfig config;
  std::string workers_on;
  auto* seconds_option = cli.app()
                             .add_option("--seconds", seconds,
                                         "how long to let the tree run (with --cluster: until "
                                         "SIGINT/SIGTERM unless given)")
                             ->check(examples::positive_seconds())
                             ->capture_default_str();
  auto* cluster_option =
      cli.app()
          .add_option("--cluster", config.urls,
                      "NATS server URL(s), comma-separated: run as a node of the cluster there")
          ->type_name("URL");
  auto* node_option = cli.app()
                          .add_option("--node", config.node, "this node's name (with --cluster)")
                          ->type_name("NAME")
                          ->check(node_name());
  auto* workers_option =
      cli.app()
          .add_option("--workers-on", workers_on,
                      "comma-separated nodes to run the workers on, preferred first: this node "
                      "is the boss (without it, the node hosts workers)")
          ->type_name("NODES");
  // (Checked here rather than with CLI11's needs(), which would clutter --help.)
  cli.app().callback([&] {
    if (node_option->count() > 0 && cluster_option->count() == 0) throw CLI::RequiresError("--node", "--cluster");
    if (cluster_option->count() > 0 && node_option->count() == 0) throw CLI::RequiresError("--cluster", "--node");
    if (workers_option->count() > 0 && node_option->count() == 0) throw CLI::RequiresError("--workers-on", "--node");
    if (workers_option->count() == 0) return;
    config.workers_on = split_commas(workers_on);
    for (std::string& name : config.workers_on) {
      std::string checked = name;
      if (const std::string error = node_name()(checked); !error.empty()) {
        throw CLI::ValidationError("--workers-on", error);
      }
      if (name == config.node) {
        throw CLI::ValidationError("--workers-on",
                                   fmt::format("'{}' is this node (--node): the workers run on "
                                               "other nodes",
                                               name));
      }
    }
  });
  cli.exit_code(examples::kExitOk, "done (with --cluster: stopped by SIGINT or SIGTERM)");
  cli.exit_code(examples::kExitFailed,
                "no worker was restarted (the supervisors did nothing); with --cluster: no NATS "
                "server reachable, no node of --workers-on joined, or the tree gave up");
  cli.parse(argc, argv);
  start_time = grove::Deadline::now();

  if (!config.urls.empty()) {
    std::optional<double> limit;
    if (seconds_option->count() > 0) limit = seconds;
    return examples::run(cli, [&] { return run_node(config, limit); });
  }

  grove::Supervisor top = start_tree(worker);
  grove::sleep(seconds);
  fmt::print("{:6.2f} s  stopping the tree\n", elapsed());
  top.stop();
  const int restarts = restarts_so_far();
  fmt::print("done: {} restarts\n", restarts);
  return restarts > 0 ? 0 : 1;
}
