// actors/internal/links.h — gevent's rawlink protocol for Event and AsyncResult.
//
// Model: one-shot callbacks registered on an object that can become "ready". When it becomes
// ready (or a callback is added while it is ready) a single notifier is queued with
// Hub::run_callback; it runs from the hub's own fiber after the current pass and calls, in
// registration order, every callback registered at the moment it started, removing each before
// calling it (modern gevent's AbstractLinkable with _notify_all: a set-then-clear still notifies
// everyone registered at the set). Callbacks added by a callback wait for the next notifier;
// afterwards, if the object is still ready and callbacks remain, another notifier is queued.
// A callback that throws is reported through Hub::report_error; the others still run.
//
// Callbacks run on the hub's fiber and must not block. Cost: a shared state is allocated on the
// first add(); the notifier is one std::function on the hub's callback list per notification.
// Destruction: pending notifications are dropped (the queued notifier sees the owner is gone).
//
// Internal to actors/: Event and AsyncResult expose it as rawlink()/unlink().
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "hub/hub.h"

namespace grove {

// Names a callback registered with rawlink(), to unlink it.
enum class LinkId : std::uint64_t {};

namespace internal {

class LinkList {
 public:
  using Callback = std::function<void()>;

  // `ready` is the owner's "ready" flag, read when deciding to (re)notify.
  explicit LinkList(const bool* ready) noexcept : ready_(ready) {}
  LinkList(const LinkList&) = delete;
  LinkList& operator=(const LinkList&) = delete;
  ~LinkList() {
    if (state_) {
      state_->alive = false;
      state_->links.clear();
    }
  }

  LinkId add(Callback callback) {
    if (!state_) state_ = std::make_shared<State>(ready_);
    const LinkId id{state_->next_id++};
    state_->links.push_back({id, std::move(callback)});
    notify_if_ready();
    return id;
  }

  // False if `id` is not (or no longer) registered.
  bool remove(LinkId id) noexcept {
    if (!state_) return false;
    auto& links = state_->links;
    for (auto it = links.begin(); it != links.end(); ++it) {
      if (it->id == id) {
        links.erase(it);
        return true;
      }
    }
    return false;
  }

  std::size_t size() const noexcept { return state_ ? state_->links.size() : 0; }

  // Call when the owner became ready.
  void notify_if_ready() {
    if (state_ && *ready_ && !state_->links.empty() && !state_->scheduled) schedule(state_);
  }

 private:
  struct Link {
    LinkId id;
    Callback callback;
  };
  struct State {
    explicit State(const bool* r) : ready(r) {}
    const bool* ready;
    std::vector<Link> links;
    std::uint64_t next_id = 1;
    bool scheduled = false;
    bool alive = true;
  };

  static void schedule(const std::shared_ptr<State>& state) {
    state->scheduled = true;
    Hub::current().run_callback([state] { run(state); });
  }

  static void run(const std::shared_ptr<State>& state) {
    State& s = *state;
    if (!s.alive || s.links.empty()) {
      s.scheduled = false;
      return;
    }
    const LinkId final_id = s.links.back().id;
    while (s.alive && !s.links.empty()) {
      Link link = std::move(s.links.front());
      s.links.erase(s.links.begin());
      try {
        link.callback();
      } catch (...) {
        Hub::current().report_error("<rawlink callback>", std::current_exception());
      }
      if (link.id == final_id) break;
    }
    s.scheduled = false;
    if (s.alive && *s.ready && !s.links.empty()) {
      // Callbacks linked while we ran, and the object is (still or again) ready.
      schedule(state);
    }
  }

  const bool* ready_;
  std::shared_ptr<State> state_;
};

}  // namespace internal
}  // namespace grove
