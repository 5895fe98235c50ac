// tests/property/otp_links_model.h — OTP's rules for links, monitors and exit signals (E1–E11)
// as a small sequential model, written from the rules (and from what OTP 25 does where a rule
// leaves a detail open), not from grove's code.
//
// Model: actors 0..n-1, each alive or dead (with a reason), trapping exits or not, with a set of
// links, the monitors it made, and a mailbox of Exit/Down messages it has not handled yet. The
// test drives it in steps; a step is one action (an actor runs one command, or the driver sends
// signals) plus everything that follows from it, until nothing more happens. The model then
// says, per actor, which messages it handled during the step, whether it is alive, and why it
// died.
//
// Within a step, deaths are processed one after another; each death's signals are one "batch"
// (batch 0 is the action itself). OTP orders signals between one sender and one receiver only,
// so the expected messages are compared per sender. A receiver that a signal kills handles no
// message of that batch or of anything that follows from it (E10); a message from an unrelated
// batch of the same step is optional: whether it was handled before the signal arrived is timing.
//
// Facts taken from OTP 25 (checked with small escripts):
//   - a dying process sends its link EXITs before its DOWNs, DOWNs in monitor creation order;
//   - exit(self(), normal) ends a non-trapping process with `normal`; a trapping one gets
//     {'EXIT', self, normal};
//   - unlink leaves an EXIT already queued; turning trap_exit off leaves queued EXITs queued;
//   - demonitor(Ref, [flush, info]) of a fired monitor returns false and removes the DOWN; without
//     flush the DOWN stays;
//   - of two exit signals the first one that kills decides (kill then x: killed; x then kill: x);
//     a trapping process sent x then kill dies `killed` without handling the EXIT of x;
//   - a process with a backlog of messages dies of a killing signal without handling any of it.
#pragma once

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include "tests/property/otp_reason.h"

namespace otp_model {

inline constexpr int kDriver = -1;  // the test itself (signals from outside any actor, notes)
inline constexpr int kSelf = -2;    // an actor's own command result

// One entry of an actor's log: a message it handled, or the result of a command it ran.
struct Msg {
  enum Kind { kExit, kDown, kNote, kDemonitor };
  Kind kind;
  int from;       // sender: actor index, kDriver or kSelf
  Reason reason;  // Exit, Down
  int value = 0;  // Down: monitor index; Note: its number; Demonitor: the result (0/1)
  friend bool operator==(const Msg& a, const Msg& b) {
    return a.kind == b.kind && a.from == b.from && a.value == b.value &&
           (a.kind == kNote || a.kind == kDemonitor || a.reason == b.reason);
  }
};

struct Expected {
  Msg msg;
  bool optional;  // timing decides whether it was handled before the actor died
};

struct LinksModel {
  struct Queued {
    Msg msg;
    int batch;
  };
  struct Actor {
    bool alive = true;
    bool trap = false;
    bool hold = false;       // handles commands only; Exit/Down stay queued
    bool catch_all = false;  // catches (...) once around its receive; traps exits
    std::set<int> links;
    std::vector<int> monitors;  // indices into `monitors`, in creation order
    Reason reason;              // when dead
    std::vector<Queued> mailbox;
    bool died_now = false;  // killed during the current step
    int killed_in = -1;     // the batch whose signal killed it
    std::vector<Expected> expected;  // what it handled during the current step
  };
  struct Monitor {
    int owner, target;
    bool active;
  };
  std::vector<Actor> actors;
  std::vector<Monitor> monitors;
  std::vector<int> parent;  // batch -> the batch whose signal caused it (-1 for batch 0)
  std::vector<std::pair<int, int>> dying;  // (actor, batch that killed it), in order

  bool alive(int a) const { return a >= 0 && a < static_cast<int>(actors.size()) && actors[a].alive; }
  int batch() const { return static_cast<int>(parent.size()) - 1; }

  void begin_step() {
    for (Actor& a : actors) {
      a.expected.clear();
      a.died_now = false;
    }
    parent = {-1};
    dying.clear();
  }
  int spawn(bool hold = false) {
    actors.emplace_back();
    actors.back().hold = hold;
    return static_cast<int>(actors.size()) - 1;
  }

  // E1: one two-way link; linking to oneself does nothing. E7: a dead peer answers noproc.
  void link(int by, int to) {
    if (by == to) return;
    if (!actors[to].alive) return signal(to, by, Reason::noproc());
    actors[by].links.insert(to);
    actors[to].links.insert(by);
  }
  void unlink(int by, int to) {
    actors[by].links.erase(to);
    actors[to].links.erase(by);
  }
  // `by` links to a new actor that never runs, kills it, and (if `then_unlink`) unlinks it before
  // its next wait: the link's signal arrived but was not acted on yet, so unlink withdraws it
  // (E1, as OTP documents for unlink/1); an Exit message a trapping actor got stays queued.
  int link_to_doomed(int by, bool then_unlink) {
    const int doomed = spawn();
    actors[doomed].alive = false;
    actors[doomed].reason = Reason::killed();
    if (actors[by].trap) {
      deliver(by, {Msg::kExit, doomed, Reason::killed()});
    } else if (!then_unlink) {
      kill(by, Reason::killed());
    }
    return doomed;
  }
  // E8: a new reference each time; a dead target answers Down{noproc} at once.
  void monitor(int by, int to) {
    const int ref = static_cast<int>(monitors.size());
    monitors.push_back({by, to, actors[to].alive});
    actors[by].monitors.push_back(ref);
    if (!actors[to].alive) deliver(by, {Msg::kDown, to, Reason::noproc(), ref});
  }
  void demonitor(int by, int ref, bool flush) {
    const bool was_active = std::exchange(monitors[ref].active, false);
    auto& box = actors[by].mailbox;
    if (flush) {
      std::erase_if(box, [&](const Queued& q) { return q.msg.kind == Msg::kDown && q.msg.value == ref; });
    }
    actors[by].expected.push_back({{Msg::kDemonitor, kSelf, {}, was_active ? 1 : 0}, false});
  }

  // An exit signal `r` from `from` (an actor or kDriver) reaches `to`: E3–E6, E9, E11.
  void signal(int from, int to, Reason r) {
    Actor& t = actors[to];
    if (!t.alive) {  // the first signal that killed it decides (E10)
      if (t.died_now && t.trap && r.kind != Reason::kKill) deliver(to, {Msg::kExit, from, r});
      return;
    }
    if (r.kind == Reason::kKill) return kill(to, Reason::killed());  // E6, E11 (even catch_all)
    if (t.trap) return deliver(to, {Msg::kExit, from, r});           // E5
    if (r.kind == Reason::kNormal && from != to) return;             // E3; E9 for oneself
    kill(to, r);                                                     // E4
  }
  // The actor ends with `r` (its own end, or a signal it did not trap).
  void kill(int who, Reason r) {
    Actor& a = actors[who];
    if (!a.alive) return;
    a.alive = false;
    a.reason = r;
    a.died_now = true;
    a.killed_in = batch();
    dying.emplace_back(who, batch());
  }
  void deliver(int to, Msg m) {
    Actor& t = actors[to];
    if (t.alive || t.died_now) t.mailbox.push_back({m, batch()});
  }

  // Runs the consequences of the step's action, then lets every actor handle its mailbox.
  void end_step() {
    for (std::size_t i = 0; i < dying.size(); ++i) {
      const auto [who, cause] = dying[i];
      parent.push_back(cause);
      announce_death(who);
    }
    for (Actor& a : actors) {
      std::vector<Queued> keep;
      for (const Queued& q : a.mailbox) {
        const bool command = q.msg.kind == Msg::kNote;  // commands are handled even in hold
        if (a.alive && (command || !a.hold)) {
          a.expected.push_back({q.msg, false});
        } else if (a.alive) {
          keep.push_back(q);
        } else if (a.died_now && (command || !a.hold) && !descends(q.batch, a.killed_in)) {
          a.expected.push_back({q.msg, true});
        }
      }
      a.mailbox = std::move(keep);
    }
  }

 private:
  // E2 (links first, then monitors in creation order, as OTP sends them), E8.
  void announce_death(int who) {
    Actor& a = actors[who];
    const std::set<int> peers = std::exchange(a.links, {});
    for (int p : peers) actors[p].links.erase(who);
    for (int p : peers) signal(who, p, a.reason);
    for (std::size_t ref = 0; ref < monitors.size(); ++ref) {
      Monitor& m = monitors[ref];
      if (!m.active) continue;
      if (m.target == who) deliver(m.owner, {Msg::kDown, who, a.reason, static_cast<int>(ref)});
      if (m.target == who || m.owner == who) m.active = false;
    }
  }
  bool descends(int b, int ancestor) const {
    for (; b != -1; b = parent[b]) {
      if (b == ancestor) return true;
    }
    return false;
  }
};

}  // namespace otp_model
