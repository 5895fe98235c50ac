// tests/property/otp_supervisor_model.h — OTP's supervisor rules (S1–S9) as a small sequential
// model, written from the rules and from what OTP 25's supervisor does, not from grove's code.
//
// Model: one supervisor with a strategy, an intensity (the period is long enough that every
// restart counts) and children in start order; each child spec has a restart type, a shutdown
// and a behaviour (plain; "obedient": traps exits and stops when its supervisor tells it to;
// "stubborn": traps exits and ignores them, so only the kill ends it). Every start and stop is an
// event; a child's incarnations are numbered in start order, and the model says with which
// reason each one ended.
//
// Facts taken from OTP 25 (checked with small escripts):
//   - one_for_all / rest_for_one restart every child of the range that is not running, also one
//     stopped earlier (terminate_child, a transient that ended normally); temporary children in
//     the range are stopped and forgotten, not restarted;
//   - a simple_one_for_one child that is not restarted is forgotten, whatever its restart type;
//   - a transient child that exits with {shutdown, Term} is not restarted (a permanent one is);
//   - a child stopped by its supervisor sees `shutdown`, or `killed` with brutal_kill or when it
//     ignores the shutdown until the timeout; children of a simple_one_for_one stop in no
//     particular order;
//   - intensity N allows N restarts; the next one stops every child and the supervisor exits with
//     `shutdown` (the failed child is not restarted); restart_child does not count.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

#include "tests/property/otp_reason.h"

namespace otp_model {

struct SupervisorModel {
  enum class Strategy { kOneForOne, kOneForAll, kRestForOne, kSimpleOneForOne };
  enum class Restart { kPermanent, kTransient, kTemporary };
  enum class Shutdown { kBrutalKill, kTimeout, kInfinity };
  enum class Behaviour { kPlain, kObedient, kStubborn };
  struct Spec {
    std::string id;
    Restart restart = Restart::kPermanent;
    Shutdown shutdown = Shutdown::kTimeout;
    Behaviour behaviour = Behaviour::kPlain;
  };
  struct Child {
    Spec spec;
    int running = -1;  // the incarnation, -1 when stopped
  };
  struct Event {
    bool start;
    std::string id;
    int incarnation;
    friend bool operator==(const Event& a, const Event& b) {
      return a.start == b.start && a.id == b.id && a.incarnation == b.incarnation;
    }
    friend bool operator<(const Event& a, const Event& b) { return a.incarnation < b.incarnation; }
  };

  bool alive = false;
  Reason reason;  // when dead
  Strategy strategy = Strategy::kOneForOne;
  int intensity = 1;
  int restarts = 0;
  std::vector<Child> children;  // start order
  Spec simple_template;
  int dynamic = 0;  // simple_one_for_one children started so far
  int incarnations = 0;
  std::vector<Reason> ended_with;  // by incarnation, once stopped
  std::vector<Event> events;       // this step
  bool unordered = false;          // this step's stops happen all at once (order unspecified)

  void begin_step() {
    events.clear();
    unordered = false;
  }
  int find(const std::string& id) const {
    for (std::size_t i = 0; i < children.size(); ++i) {
      if (children[i].spec.id == id) return static_cast<int>(i);
    }
    return -1;
  }

  // S1: children start in the order listed.
  void start_supervisor(Strategy s, int max_restarts, const std::vector<Spec>& specs) {
    alive = true;
    strategy = s;
    intensity = max_restarts;
    restarts = dynamic = 0;
    children.clear();
    if (s == Strategy::kSimpleOneForOne) {
      simple_template = specs.front();
      return;
    }
    for (const Spec& spec : specs) children.push_back({spec});
    for (Child& c : children) start(c);
  }

  // A running child ended by itself (or was killed from outside) with `r`: S2–S6.
  void child_exit(std::size_t i, Reason r) {
    stop(children[i], r);
    const Restart type = children[i].spec.restart;
    const bool abnormal = r.kind != Reason::kNormal && r.kind != Reason::kShutdown;
    if (type == Restart::kTemporary || (type == Restart::kTransient && !abnormal)) {
      if (type == Restart::kTemporary || strategy == Strategy::kSimpleOneForOne) forget(i);
      return;
    }
    if (++restarts > intensity) return give_up();  // S6
    switch (strategy) {
      case Strategy::kOneForOne:
      case Strategy::kSimpleOneForOne: start(children[i]); break;   // S2
      case Strategy::kOneForAll: restart_range(0, i); break;        // S3
      case Strategy::kRestForOne: restart_range(i, i); break;       // S4
    }
  }

  // S9.
  bool start_child(Spec spec) {
    if (strategy == Strategy::kSimpleOneForOne) {
      spec = simple_template;
      spec.id = simple_template.id + "-" + std::to_string(++dynamic);
    } else if (find(spec.id) >= 0) {
      return false;
    }
    children.push_back({spec});
    start(children.back());
    return true;
  }
  bool terminate_child(int i) {
    if (i < 0) return false;
    terminate(static_cast<std::size_t>(i));
    if (children[i].spec.restart == Restart::kTemporary || strategy == Strategy::kSimpleOneForOne) {
      forget(static_cast<std::size_t>(i));
    }
    return true;
  }
  bool restart_child(int i) {
    if (i < 0 || children[i].running >= 0) return false;
    start(children[i]);
    return true;
  }
  bool delete_child(int i) {
    if (i < 0 || children[i].running >= 0) return false;
    forget(static_cast<std::size_t>(i));
    return true;
  }
  void stop_supervisor() {
    terminate_all();
    die(Reason::shutdown());
  }
  // E11, S8: a killed supervisor does no orderly shutdown; its links end the children.
  void kill_supervisor() {
    for (Child& c : children) {
      if (c.running >= 0) stop(c, Reason::killed());
    }
    unordered = true;
    die(Reason::killed());
  }

 private:
  void start(Child& c) {
    c.running = incarnations++;
    ended_with.emplace_back();
    events.push_back({true, c.spec.id, c.running});
  }
  void stop(Child& c, Reason r) {
    events.push_back({false, c.spec.id, c.running});
    ended_with[c.running] = r;
    c.running = -1;
  }
  void forget(std::size_t i) { children.erase(children.begin() + static_cast<std::ptrdiff_t>(i)); }
  void die(Reason r) {
    alive = false;
    reason = r;
    children.clear();
  }
  // S7: `shutdown`, unless brutal_kill or a child that ignores it until the timeout.
  void terminate(std::size_t i) {
    Child& c = children[i];
    if (c.running < 0) return;
    const bool killed = c.spec.shutdown == Shutdown::kBrutalKill || c.spec.behaviour == Behaviour::kStubborn;
    stop(c, killed ? Reason::killed() : Reason::shutdown());
  }
  void terminate_all() {  // S7: reverse start order; a simple_one_for_one's children all at once
    unordered = strategy == Strategy::kSimpleOneForOne;
    for (std::size_t i = children.size(); i-- > 0;) terminate(i);
  }
  void give_up() {
    terminate_all();
    die(Reason::shutdown());
  }
  // Stops the running children of [first, end) but `failed` in reverse order, forgets the
  // temporary ones, and starts every child of the range that is not running, in order.
  void restart_range(std::size_t first, std::size_t failed) {
    for (std::size_t i = children.size(); i-- > first;) {
      if (i != failed) terminate(i);
    }
    for (std::size_t i = children.size(); i-- > first;) {
      if (children[i].spec.restart == Restart::kTemporary) forget(i);
    }
    for (std::size_t i = first; i < children.size(); ++i) {
      if (children[i].running < 0) start(children[i]);
    }
  }
};

}  // namespace otp_model
