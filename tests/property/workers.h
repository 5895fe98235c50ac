// tests/property/workers.h — drive a primitive from several fibers, one command at a time, so a
// rapidcheck property can compare it with a sequential model.
//
// Model: `Workers` owns kWorkers fibers. `issue(i, job)` hands `job` to worker i and lets the
// hub run until nothing is ready: the worker runs the job; if the job parks (a blocking get,
// say), the worker stays busy until a later command wakes it. Each finished job appends its
// result string to the worker's log. A job issued with `timed = true` parks with a short
// deadline: issue() waits for it to time out (or complete) before returning, so the outcome is
// deterministic. Commands to a busy worker are skipped (the model skips them the same way).
// Destruction kills the workers (their parked waits unwind).
//
//   grove::testing::Workers workers;
//   workers.issue(0, [&] { return std::string(q.try_get().ok() ? "got" : "empty"); });
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "hub/hub.h"

namespace grove::testing {

enum class Mode { kTry, kTimed, kBlock };  // how a blocking operation is issued

inline const char* to_string(Mode m) {
  return m == Mode::kTry ? "try" : m == Mode::kTimed ? "timed" : "block";
}
// A deadline for `mode`: already passed, short, or never.
inline Deadline deadline_for(Mode m) {
  return m == Mode::kTry ? Deadline::after(0.0)
                         : m == Mode::kTimed ? Deadline::after(0.001) : Deadline::never();
}

class Workers {
 public:
  static constexpr int kWorkers = 3;

  Workers() {
    for (auto& w : workers_) {
      w.fiber = spawn_fiber([&w] {
        for (;;) {
          while (!w.job) (void)w.inbox.wait(Deadline::never(), "command");
          std::function<std::string()> job = std::move(w.job);
          w.job = nullptr;
          w.log.push_back(job());
          w.busy = false;
        }
      });
    }
    settle();
  }
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;
  ~Workers() {
    for (auto& w : workers_) w.fiber->kill();
    for (auto& w : workers_) (void)w.fiber->join();
  }

  bool busy(int i) const { return workers_[i].busy; }
  // Runs `job` on worker i (skipped, returning false, if it is busy).
  bool issue(int i, std::function<std::string()> job, bool timed) {
    Worker& w = workers_[i];
    if (w.busy) return false;
    w.busy = true;
    w.job = std::move(job);
    w.inbox.wake_all();
    settle();
    if (timed) {  // a timed wait ends by itself: wait for it (20 s is a hang guard)
      const Deadline give_up = Deadline::after(20.0);
      while (w.busy && !give_up.passed()) sleep(0.0005);
      settle();
    }
    return true;
  }

  // "w0: a, b | w1: c | w2: (busy)" — every worker's log and whether it is still parked.
  std::string summary() const {
    std::string out;
    for (int i = 0; i < kWorkers; ++i) {
      out += (i ? " | w" : "w") + std::to_string(i) + ":";
      for (const auto& r : workers_[i].log) out += " " + r;
      if (workers_[i].busy) out += " (parked)";
    }
    return out;
  }

 private:
  struct Worker {
    FiberRef fiber;
    std::function<std::string()> job;
    WaitList inbox;
    bool busy = false;
    std::vector<std::string> log;
  };
  static void settle() {
    for (int i = 0; i < 8; ++i) yield();
  }
  std::array<Worker, kWorkers> workers_;
};

// The model's side of the same bookkeeping.
struct ModelLogs {
  std::array<std::vector<std::string>, Workers::kWorkers> log;
  std::array<bool, Workers::kWorkers> busy{};
  void done(int w, std::string r) {
    log[w].push_back(std::move(r));
    busy[w] = false;
  }
  std::string summary() const {
    std::string out;
    for (int i = 0; i < Workers::kWorkers; ++i) {
      out += (i ? " | w" : "w") + std::to_string(i) + ":";
      for (const auto& r : log[i]) out += " " + r;
      if (busy[i]) out += " (parked)";
    }
    return out;
  }
};

// Issues every command the model accepts on fresh Workers, comparing the logs after each —
// and `state()`, a {real, model} pair describing what else must agree (a size, a counter) — and
// returns "" or the first difference. A parked worker issues nothing, in both. `job_for(op)`
// gives the command that runs `op` on the real primitive and returns the model's word for what
// happened. Timed and tried commands are awaited before the next one starts. The workers are
// killed on return (their parked waits unwind), so the primitive can be inspected after.
//
//   const std::string mismatch = run_against_model(ops, model, job_for, [&] {
//     return std::pair(std::to_string(q.size()), std::to_string(model.items.size()));
//   });
template <class Op, class Model, class JobFor, class State>
std::string run_against_model(const std::vector<Op>& ops, Model& model, JobFor job_for,
                              State state) {
  Workers workers;
  for (const Op& op : ops) {
    if (workers.busy(op.worker)) continue;
    model.apply(op);
    workers.issue(op.worker, job_for(op), op.mode != Mode::kBlock);
    const auto [real_state, model_state] = state();
    const std::string real = workers.summary() + " | " + real_state;
    const std::string expected = model.logs.summary() + " | " + model_state;
    if (real != expected) {
      std::ostringstream out;
      out << "after " << op << "\nreal:  " << real << "\nmodel: " << expected;
      return out.str();
    }
  }
  return "";
}

template <class Op, class Model, class JobFor>
std::string run_against_model(const std::vector<Op>& ops, Model& model, JobFor job_for) {
  return run_against_model(ops, model, job_for, [] { return std::pair<std::string, std::string>(); });
}

}  // namespace grove::testing
