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
// Thread: the server must live on the caller's hub (calls across hubs arrive with a hub per
// core); the reply may be sent from any thread.
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
  if (&server->hub() != &hub) {
    throw std::logic_error("call: the server lives on another thread's hub");
  }
  auto slot = std::make_shared<internal::CallSlot<Rep>>();
  slot->hub = &hub;
  // Watch the server for the length of the call, like a monitor.
  const CallbackId watch = server.rawlink([slot](const ActorRef& dead) {
    if (slot->abandoned) return;
    slot->server_exit = dead.exit_reason();
    slot->waiters.wake_all();
  });
  struct Leave {
    const ActorRef& server;
    CallbackId watch;
    internal::CallSlot<Rep>& slot;
    ~Leave() {
      slot.abandoned = true;  // late replies are dropped from now on
      (void)server.unlink(watch);
    }
  } leave{server, watch, *slot};
  send(server, Request<R, Rep>{std::move(request), ReplyTo<Rep>(slot)});
  const Deadline deadline = Deadline::after(timeout_seconds);
  while (!slot->value && !slot->server_exit) {
    if (slot->waiters.wait(deadline, "call") == WaitStatus::kTimedOut) break;
  }
  if (slot->value) return std::move(*slot->value);
  if (slot->server_exit) {
    const ExitReason reason = *slot->server_exit;
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
