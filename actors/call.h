// actors/call.h — request and reply between actors (OTP's gen_server:call), and a small server
// loop built on it.
//
// Model: call<Rep>(server, request, timeout) sends `Request<Req, Rep>{request, reply_to}` to the
// server and waits until the server replies, the server dies, or the timeout passes:
//   - the reply comes back through `reply_to`, a reference unique to this call (not through the
//     caller's mailbox), so a reply that arrives after the caller gave up is dropped and can
//     never be mistaken for the answer to a later call;
//   - the server's death is watched for the duration of the call (like a monitor): a dead or
//     missing server gives CallError with kind kNoProc, one that dies before replying gives
//     kServerExited with its exit reason, and the deadline gives kTimeout;
//   - the caller need not be an actor (any fiber may call).
// A server handles a request with `receive([](Request<Get, int> r) { r.reply(42); })`; replying
// twice, or after the caller left, does nothing. A request that is dropped without a reply
// leaves the caller to its timeout, as in OTP.
//
// serve(handlers...) is the loop of a gen_server-like actor: it receives and dispatches until it
// receives StopServer, then returns (or ends the actor with the StopServer's reason if that is
// not normal). on_call<Req>(f) turns `Rep f(const Req&)` into a handler that replies with f's
// value; plain handlers take casts and other messages; an exception escaping a handler ends the
// server with it, and every caller waiting on it gets kServerExited.
//
// Thread: the server may live on any hub of the process (a Runtime's or another thread's): on
// another hub the request and the reply each travel through an inbox, and the watch on the
// server is kept on the server's hub and dropped there when the call ends, so a long-lived
// server collects nothing per call. The reply may be sent from any thread.
//
//   struct Get { std::string key; };
//   auto kv = grove::spawn([] {
//     std::map<std::string, int> data{{"a", 1}};
//     grove::serve(grove::on_call<Get>([&](const Get& g) { return data[g.key]; }));
//   });
//   int a = grove::call<int>(kv, Get{"a"}, 1.0);
#pragma once

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "actors/actor.h"

namespace grove {

class CallError : public std::runtime_error {
 public:
  enum class Kind { kNoProc, kServerExited, kTimeout };
  CallError(Kind kind, ExitReason reason, const std::string& what)
      : std::runtime_error(what), kind_(kind), reason_(std::move(reason)) {}
  Kind kind() const noexcept { return kind_; }
  // The server's exit reason for kServerExited (noproc for kNoProc).
  const ExitReason& reason() const noexcept { return reason_; }

 private:
  Kind kind_;
  ExitReason reason_;
};

namespace internal {
template <class Rep>
struct CallSlot {
  std::optional<Rep> value;
  std::optional<ExitReason> server_exit;
  bool abandoned = false;  // the caller stopped waiting: replies are dropped
  Hub* hub = nullptr;      // the caller's
  WaitList waiters;
  void deliver(Rep v) {
    if (abandoned || value) return;
    value.emplace(std::move(v));
    waiters.wake_all();
  }
};
// A call's watch on a server of another hub. The rawlink lives on the server's hub and is added
// and removed there by posted messages (in that order: one sender's posts arrive in order); its
// callback posts the exit reason back to the caller's hub. Keeps the caller's hub running while
// the answer may come from another thread.
class RemoteWatch {
 public:
  template <class OnExit>
  RemoteWatch(const ActorRef& server, Hub& caller, OnExit on_exit)
      : server_(server), caller_(caller), state_(std::make_shared<State>()) {
    caller_.ref_external();
    RemoteHub back = caller_.remote();
    const bool posted = Hub::remote_of(&server_->hub()).post(
        [server = server_, state = state_, back, on_exit]() mutable {
          if (state->cancelled) return;
          if (server.dead()) {  // died before the watch: noproc, as a monitor made now says
            (void)back.post([on_exit] { on_exit(ExitReason::noproc()); });
            return;
          }
          state->id = server.rawlink([back, on_exit](const ActorRef& dead) {
            (void)back.post([on_exit, reason = dead.exit_reason()] { on_exit(reason); });
          });
        });
    if (!posted) on_exit(ExitReason::noproc());  // its hub has ended: so has the server
  }
  ~RemoteWatch() {
    (void)Hub::remote_of(&server_->hub()).post([server = server_, state = state_] {
      state->cancelled = true;
      if (state->id.id != 0) (void)server.unlink(state->id);
    });
    caller_.unref_external();
  }
  RemoteWatch(const RemoteWatch&) = delete;
  RemoteWatch& operator=(const RemoteWatch&) = delete;

 private:
  struct State {  // touched only on the server's hub
    CallbackId id{};
    bool cancelled = false;
  };
  ActorRef server_;
  Hub& caller_;
  std::shared_ptr<State> state_;
};
}  // namespace internal

// Where a server sends its reply. Copyable; the first reply wins.
template <class Rep>
class ReplyTo {
 public:
  ReplyTo() = default;
  explicit ReplyTo(std::shared_ptr<internal::CallSlot<Rep>> slot) : slot_(std::move(slot)) {}
  void reply(Rep value) const {
    if (!slot_) return;
    if (Hub::current_if_exists() == slot_->hub) {
      slot_->deliver(std::move(value));
      return;
    }
    // From another thread: hand it to the caller's hub.
    RemoteHub remote = Hub::remote_of(slot_->hub);
    remote.post([slot = slot_, v = std::make_shared<Rep>(std::move(value))] {
      slot->deliver(std::move(*v));
    });
  }

 private:
  std::shared_ptr<internal::CallSlot<Rep>> slot_;
};

template <class Req, class Rep>
struct Request {
  Req body;
  ReplyTo<Rep> reply_to;
  void reply(Rep value) const { reply_to.reply(std::move(value)); }
};

template <class Rep, class Req>
Rep call(const ActorRef& server, Req request, double timeout_seconds = 5.0) {
  using R = std::decay_t<Req>;
  if (!server || server.dead()) {
    throw CallError(CallError::Kind::kNoProc, ExitReason::noproc(),
                    "call: the server is not running (noproc)");
  }
  Hub& hub = Hub::current();
  auto slot = std::make_shared<internal::CallSlot<Rep>>();
  slot->hub = &hub;
  // Watch the server for the length of the call, like a monitor; on another hub the watch is
  // registered, and dropped, by messages to that hub (internal::RemoteWatch).
  auto on_exit = [slot](const ExitReason& reason) {
    if (slot->abandoned) return;
    slot->server_exit = reason;
    slot->waiters.wake_all();
  };
  std::optional<internal::RemoteWatch> remote_watch;
  CallbackId local_watch{};
  if (&server->hub() == &hub) {
    local_watch = server.rawlink([on_exit](const ActorRef& dead) { on_exit(dead.exit_reason()); });
  } else {
    remote_watch.emplace(server, hub, on_exit);
  }
  struct Leave {
    const ActorRef& server;
    CallbackId local_watch;
    internal::CallSlot<Rep>& slot;
    ~Leave() {
      slot.abandoned = true;  // late replies are dropped from now on
      if (local_watch.id != 0) (void)server.unlink(local_watch);
    }
  } leave{server, local_watch, *slot};
  send(server, Request<R, Rep>{std::move(request), ReplyTo<Rep>(slot)});
  const Deadline deadline = Deadline::after(timeout_seconds);
  while (!slot->value && !slot->server_exit) {
    if (slot->waiters.wait(deadline, "call") == WaitStatus::kTimedOut) break;
  }
  if (slot->value) return std::move(*slot->value);
  if (slot->server_exit) {
    const ExitReason reason = *slot->server_exit;
    if (reason.kind() == ExitReason::Kind::kNoProc) {
      throw CallError(CallError::Kind::kNoProc, reason, "call: the server is not running (noproc)");
    }
    throw CallError(CallError::Kind::kServerExited, reason,
                    "call: the server exited before replying: " + reason.to_string());
  }
  throw CallError(CallError::Kind::kTimeout, ExitReason::normal(),
                  "call: no reply within " + std::to_string(timeout_seconds) + " s");
}

// Ask a server running serve() to stop (with `reason`; normal by default).
struct StopServer {
  ExitReason reason;
};

// A handler for requests of type Req answered with f's value: f(const Req&) -> Rep.
template <class Req, class F>
auto on_call(F f) {
  using Rep = std::invoke_result_t<F&, const Req&>;
  return [f = std::move(f)](Request<Req, Rep> r) mutable { r.reply(f(r.body)); };
}

// The loop of a gen_server-like actor (see the header comment).
template <class... H>
void serve(H... handlers) {
  bool stopping = false;
  ExitReason reason;
  while (!stopping) {
    receive(handlers..., [&](StopServer s) {
      stopping = true;
      reason = std::move(s.reason);
    });
  }
  if (!reason.is_normal()) throw ExitSignal{reason};
}

}  // namespace grove
