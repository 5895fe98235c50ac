// actors/group.h — Group and Pool: sets of greenlet-actors you manage together (gevent.pool).
//
// Model: a Group tracks actors; one that dies leaves the group by itself (at the hub pass after
// its death, as gevent's rawlink does). join() waits for every member and returns with the group
// empty, kill() kills them all,
// spawn() starts a member, map()/imap()/imap_unordered() run a function over inputs with one
// member per input. A Pool is a Group of bounded size: spawn() and the map family wait while it
// is full, try_add() refuses instead (false; gevent raises PoolFull). Pool(0) never has room:
// spawn() blocks forever (gevent's behaviour; a LoopExit if nothing else can run).
//
// Results: map() returns the values in input order and throws the first failure in input
// order; imap() hands them out one by one in input order (a failed item throws at its
// position); imap_unordered() in completion order.
//
// Thread: one hub's fibers. Lifetime: the group may be destroyed while members still run (they
// just stop being tracked). Cost: one rawlink callback per member.
//
//   grove::Pool pool(10);                    // at most 10 downloads at once
//   auto sizes = pool.map([](const std::string& url) { return fetch(url).size(); }, urls);
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "actors/actor.h"
#include "actors/next_iterator.h"
#include "actors/queue.h"
#include "actors/semaphore.h"

namespace grove {

class Group {
 public:
  Group() : state_(std::make_shared<State>()) {}
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;
  virtual ~Group() = default;

  // Adds a live actor (dead ones are ignored). For a Pool, this waits for room.
  virtual void add(const ActorRef& actor) { track(actor); }
  // Stops tracking `actor` (frees its Pool slot).
  void discard(const ActorRef& actor) { state_->discard(actor); }
  bool contains(const ActorRef& actor) const {
    return std::find(state_->members.begin(), state_->members.end(), actor) !=
           state_->members.end();
  }
  std::size_t size() const noexcept { return state_->members.size(); }
  const std::vector<ActorRef>& members() const noexcept { return state_->members; }
  virtual bool full() const { return false; }

  // Spawns f(args...) as a member.
  template <class F, class... Args>
  auto spawn(F&& f, Args&&... args) {
    wait_for_room(Deadline::never());
    ActorOptions options;
    options.start = false;
    auto g = spawn_opt(options, std::forward<F>(f), std::forward<Args>(args)...);
    track(g);
    g.start();
    return g;
  }

  // Waits until every member died (members added meanwhile included). False on timeout. With
  // `raise_error`, throws the first failure seen (gevent's join(raise_error=True)).
  bool join(Deadline deadline = Deadline::never(), bool raise_error = false) {
    for (;;) {
      ActorRef live;
      for (const auto& m : state_->members) {
        if (raise_error && m.dead() && m.exception()) std::rethrow_exception(m.exception());
        if (!m.dead()) {
          live = m;
          break;
        }
      }
      if (!live) {
        // Everyone is dead: leave the group now rather than at the next hub pass, so a joined
        // group is empty and a joined Pool has all its room back (as in gevent).
        std::vector<ActorRef> dead = state_->members;
        for (const auto& m : dead) state_->discard(m);
        return true;
      }
      if (!live.join(deadline)) return false;
      if (raise_error && live.exception()) std::rethrow_exception(live.exception());
    }
  }

  // Kills every member; with `block`, waits for them until `deadline` (false on timeout).
  bool kill(bool block = true, Deadline deadline = Deadline::never()) {
    std::vector<ActorRef> victims = state_->members;
    for (const auto& m : victims) m.kill();
    if (!block) return true;
    for (const auto& m : victims) {
      if (!m.join(deadline)) return false;
    }
    return true;
  }
  // Kills one member.
  bool killone(const ActorRef& actor, bool block = true, Deadline deadline = Deadline::never()) {
    actor.kill();
    return !block || actor.join(deadline);
  }

  // Runs f(item) for every item, one member each; values in input order. Throws the first
  // failure in input order (after all finished).
  template <class F, class Range>
  auto map(F f, const Range& items) {
    using Item = std::decay_t<decltype(*std::begin(items))>;
    using R = std::invoke_result_t<F&, const Item&>;
    std::vector<Greenlet<R>> running;
    for (const auto& item : items) running.push_back(spawn(f, item));
    if constexpr (std::is_void_v<R>) {
      for (auto& g : running) (void)g.join();
      for (auto& g : running) g.get();
    } else {
      std::vector<R> out;
      out.reserve(running.size());
      for (auto& g : running) (void)g.join();
      for (auto& g : running) out.push_back(g.get());
      return out;
    }
  }

  // Results one at a time, in input order; spawning runs ahead of the consumer as far as the
  // group's room allows.
  template <class R>
  class IMap {
   public:
    // The next value in input order; nullopt after the last. A failed item throws here.
    std::optional<R> next() {
      auto handle = order_->get();
      if (!handle.ok()) return std::nullopt;  // shut down: no more items
      return handle.value().get();
    }
    // for (auto v : group.imap_unordered(f, items)): the values, as next() gives them.
    using iterator = NextIterator<IMap, R>;
    iterator begin() { return iterator(this); }
    iterator end() { return iterator(); }

    IMap(IMap&&) noexcept = default;
    ~IMap() {
      if (feeder_ && !feeder_.dead()) feeder_.kill();
    }

   private:
    friend class Group;
    IMap() : order_(std::make_shared<Queue<Greenlet<R>>>()) {}
    std::shared_ptr<Queue<Greenlet<R>>> order_;
    Greenlet<void> feeder_;
  };

  template <class F, class Range>
  auto imap(F f, Range items) {
    using Item = std::decay_t<decltype(*std::begin(items))>;
    using R = std::invoke_result_t<F&, const Item&>;
    IMap<R> out;
    auto order = out.order_;
    out.feeder_ = grove::spawn([this, f, items = std::move(items), order]() mutable {
      for (const auto& item : items) (void)order->put(spawn(f, item));
      order->shutdown();
    });
    return out;
  }

  // Results in completion order.
  template <class F, class Range>
  auto imap_unordered(F f, Range items) {
    using Item = std::decay_t<decltype(*std::begin(items))>;
    using R = std::invoke_result_t<F&, const Item&>;
    IMap<R> out;
    auto done = out.order_;
    out.feeder_ = grove::spawn([this, f, items = std::move(items), done]() mutable {
      std::size_t started = 0;
      auto finished = std::make_shared<std::size_t>(0);
      auto all_started = std::make_shared<bool>(false);
      auto total = std::make_shared<std::size_t>(0);
      for (const auto& item : items) {
        Greenlet<R> g = spawn(f, item);
        ++started;
        g.rawlink([done, g, finished, all_started, total](const ActorRef&) {
          (void)done->try_put(g);
          if (++*finished == *total && *all_started) done->shutdown();
        });
      }
      *total = started;
      *all_started = true;
      if (*finished == started) done->shutdown();
    });
    return out;
  }

  // gevent's apply: f(args...) in a member, waiting for the value.
  template <class F, class... Args>
  auto apply(F&& f, Args&&... args) {
    return spawn(std::forward<F>(f), std::forward<Args>(args)...).get();
  }
  // gevent's apply_async: the running member.
  template <class F, class... Args>
  auto apply_async(F&& f, Args&&... args) {
    return spawn(std::forward<F>(f), std::forward<Args>(args)...);
  }

 protected:
  struct State {
    std::vector<ActorRef> members;
    Semaphore* slots = nullptr;  // a Pool's room
    void discard(const ActorRef& actor) {
      auto it = std::find(members.begin(), members.end(), actor);
      if (it == members.end()) return;
      members.erase(it);
      if (slots != nullptr) slots->release();
    }
  };

  // Pool waits for room here; a Group has room always.
  virtual bool wait_for_room(Deadline) { return true; }

  void track(const ActorRef& actor) {
    if (!actor || actor.dead() || contains(actor)) {
      if (state_->slots != nullptr) state_->slots->release();  // the room we took goes back
      return;
    }
    state_->members.push_back(actor);
    std::weak_ptr<State> weak = state_;
    actor.rawlink([weak](const ActorRef& dead) {
      if (auto state = weak.lock()) state->discard(dead);
    });
  }

  std::shared_ptr<State> state_;
};

class Pool : public Group {
 public:
  explicit Pool(std::size_t size) : size_(size), slots_(size) { state_->slots = &slots_; }
  ~Pool() override { state_->slots = nullptr; }

  std::size_t capacity() const noexcept { return size_; }
  std::size_t free_count() const noexcept { return slots_.counter(); }
  bool full() const override { return slots_.counter() == 0; }

  // Waits for room (until `deadline`); false on timeout.
  bool wait_available(Deadline deadline = Deadline::never()) { return slots_.wait(deadline); }

  // Adds an actor, waiting for room.
  void add(const ActorRef& actor) override {
    wait_for_room(Deadline::never());
    track(actor);
  }
  // Adds an actor if there is room now; false (gevent: PoolFull) otherwise.
  bool try_add(const ActorRef& actor) {
    if (!slots_.try_acquire()) return false;
    track(actor);
    return true;
  }

 protected:
  bool wait_for_room(Deadline deadline) override { return slots_.acquire(deadline); }

 private:
  std::size_t size_;
  Semaphore slots_;
};

}  // namespace grove
