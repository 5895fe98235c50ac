// actors/actor.h — the greenlet-actor: a fiber with a typed result, a mailbox, links, monitors
// and exit signals.
//
// Model: spawn(f, args...) starts `f(args...)` as a fiber on this thread's hub (it runs at the
// hub's next pass) and returns a Greenlet<R> handle, R being f's return type (void allowed).
// The actor ends with an ExitReason (actors/exit_reason.h): `normal` when f returns, `exception`
// when it throws, `killed` after kill(), or the reason of an exit signal it did not trap.
//
// Handles: ActorRef (untyped; what send/link/monitor take) and Greenlet<R> (adds get()/value()).
// Both are one pointer, cheap to copy, compare and hash, and stay valid after the actor died
// (they then report it dead with its reason). A dead actor's memory goes with the last handle;
// its stack goes back to the pool the moment it dies.
//
// Mailbox (OTP semantics): send(to, message) queues any movable C++ value; sending to a dead
// actor drops it silently. receive(handlers...) removes the first message, in arrival order,
// whose type is the parameter type of one of the handlers and calls that handler; messages no
// handler takes stay queued, in order, for a later receive. Matching is by exact type. The
// mailbox keeps a per-type index, so selective receive costs O(number of handlers), not a rescan
// of the messages it skips. It is allocated on first use. A handler taking AnyMessage matches
// any message (a catch-all clause for the unexpected; put it last).
//
// Bounded mailboxes: ActorOptions::mailbox limits how many messages may wait, with a policy for
// one more — drop it, drop the oldest, make a sender on the same hub wait (up to a deadline,
// then MailboxFull), or end the receiver with reason `mailbox_overflow`. Exit and Down messages
// are never dropped or counted against the limit. The length shows in Hub::run_info.
//
// Links, monitors and exit signals follow OTP's rules E1–E11 (docs/SEMANTICS.md):
// link() is two-way; when a linked actor ends with a reason other than `normal`, a non-trapping
// actor ends with the same reason, a trapping one (trap_exit(true)) receives Exit{from, reason}.
// monitor() is one-way and delivers one Down{ref, from, reason}. Links, monitors and exit
// signals work between actors of different hubs (a hub per core, hub/runtime.h) by the same
// rules: what crosses hubs travels as a message in the other hub's inbox, so a link to an actor
// that died meanwhile gives `noproc` a moment later rather than at once.
//
// gevent-style callbacks: link(callback), link_value, link_exception and rawlink run after the
// actor died, in registration order — each in a new fiber after a hub pass (rawlink: directly
// from the hub, must not block) — and fire even when registered after death.
//
// Thread: a handle may be copied and sent across threads. send, link, unlink, monitor,
// demonitor, exit, kill and join work from any hub (join also from a thread without one);
// the gevent-style callbacks, get() and value() belong to the actor's own hub (get() after a
// join is fine anywhere).
//
//   struct Ping { grove::ActorRef from; };
//   auto pong = grove::spawn([] {
//     for (;;) grove::receive([](Ping p) { grove::send(p.from, std::string("pong")); });
//   });
//   auto pinger = grove::spawn([pong] {
//     grove::send(pong, Ping{grove::self()});
//     grove::receive([](const std::string& s) { fmt::print("{}\n", s); });
//   });
//   pinger.join();
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <new>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "actors/exit_reason.h"
#include "hub/fiber.h"
#include "hub/hub.h"
#include "hub/wait.h"
#include "hub/wait_any.h"

namespace grove {

class ActorBase;
class ActorRef;

// ---------------------------------------------------------------------------------------------
// Mailbox envelopes (internal layout; see actors/actor.cc for the index)

namespace internal {

// One tag object per message type: its address identifies the type, and it can name it.
struct TypeTag {
  const char* (*name)();
};
template <class M>
const char* type_name_of() {
  return typeid(M).name();
}
template <class M>
inline constexpr TypeTag type_tag{&type_name_of<M>};

// Posted: a message to an actor of another hub travels in that hub's inbox as the envelope
// itself (no allocation beyond it); `target` holds a counted reference to the receiver meanwhile.
struct Envelope : Posted {
  ActorBase* target = nullptr;
  Envelope* prev_all = nullptr;
  Envelope* next_all = nullptr;
  Envelope* prev_same = nullptr;
  Envelope* next_same = nullptr;
  const void* type = nullptr;
  std::uint64_t seq = 0;
  void (*destroy)(Envelope*) = nullptr;
};

// Envelopes of up to kSmallEnvelope bytes are recycled through a per-thread free list: a
// message costs no malloc/free in steady state. (A block freed on another thread simply joins
// that thread's list.)
inline constexpr std::size_t kSmallEnvelope = 128;
void* allocate_small_envelope();
void free_small_envelope(void* p) noexcept;

template <class M>
struct Message final : Envelope {
  template <class... A>
  explicit Message(A&&... a) : value(std::forward<A>(a)...) {
    type = &type_tag<M>;
    destroy = [](Envelope* e) { delete static_cast<Message*>(e); };
  }
  static void* operator new(std::size_t size) {
    if constexpr (sizeof(Message) <= kSmallEnvelope && alignof(Message) <= alignof(std::max_align_t)) {
      return allocate_small_envelope();
    } else {
      return ::operator new(size);
    }
  }
  static void operator delete(void* p) noexcept {
    if constexpr (sizeof(Message) <= kSmallEnvelope && alignof(Message) <= alignof(std::max_align_t)) {
      free_small_envelope(p);
    } else {
      ::operator delete(p);
    }
  }
  M value;
};

struct ActorExtras;
class Mailbox;

// The first parameter type of a callable (its operator() when it is a class).
template <class F>
struct first_arg : first_arg<decltype(&std::decay_t<F>::operator())> {};
template <class R, class C, class A, class... Rest>
struct first_arg<R (C::*)(A, Rest...) const> {
  using type = A;
};
template <class R, class C, class A, class... Rest>
struct first_arg<R (C::*)(A, Rest...)> {
  using type = A;
};
template <class R, class A, class... Rest>
struct first_arg<R (*)(A, Rest...)> {
  using type = A;
};
template <class F>
using message_type_t = std::remove_cv_t<std::remove_reference_t<typename first_arg<F>::type>>;

}  // namespace internal

// ---------------------------------------------------------------------------------------------
// The actor object (held through handles)

struct MonitorRef {
  std::uint64_t id = 0;
  friend bool operator==(MonitorRef a, MonitorRef b) noexcept { return a.id == b.id; }
  explicit operator bool() const noexcept { return id != 0; }
};

using LinkCallback = std::function<void(const ActorRef&)>;
// Names one registered callback, for unlink().
struct CallbackId {
  std::uint64_t id = 0;
  friend bool operator==(CallbackId a, CallbackId b) noexcept { return a.id == b.id; }
};

enum class MailboxOverflow : unsigned char {
  kDropNewest,    // the message that does not fit is dropped
  kDropOldest,    // the oldest waiting message is dropped to make room
  kBlockSender,   // a sender on the receiver's hub waits for room, up to block_seconds, then
                  // gets MailboxFull; senders on other threads or in hub callbacks drop instead
  kKillReceiver,  // the receiver ends with reason `mailbox_overflow` (untrappable)
};

struct MailboxLimit {
  std::size_t max_messages = 0;  // 0: unbounded
  MailboxOverflow overflow = MailboxOverflow::kDropNewest;
  double block_seconds = 5.0;
};

// A sender waited block_seconds for room in a kBlockSender mailbox; the message was not sent.
class MailboxFull : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class ActorBase : public Fiber {
 public:
  const std::string& name() const;
  void set_name(std::string name);
  std::uint64_t minimal_ident() const noexcept { return id(); }
  const ExitReason& exit_reason() const noexcept { return reason_; }
  // gevent's successful(): dead and did not fail with an exception (a kill counts as success).
  bool successful() const noexcept { return dead() && !reason_.is_exception(); }
  std::exception_ptr exception() const noexcept {
    return reason_.is_exception() ? reason_.error() : nullptr;
  }
  // `<Greenlet "name" at 0x...: fn>`, gevent's repr. `fn` is readable: a function's own name
  // ("kv::keyspace_main"), a lambda's without parameter lists ("main::{lambda#1}").
  std::string describe() const override;
  // The actor's name ("keyspace", "Greenlet-7"), without allocating (the blocking monitor).
  void copy_name(char* out, std::size_t size) const noexcept override;
  std::string run_info_details() const override;  // "mailbox=3/100 dropped=0"
  std::size_t mailbox_size() const noexcept;
  // Messages a bounded mailbox dropped (kDropNewest, kDropOldest, remote kBlockSender).
  std::uint64_t mailbox_dropped() const noexcept;

 protected:
  ActorBase(std::size_t stack_size, const char* function_name, Hub* hub);
  ~ActorBase() override;
  // The function the actor runs, when it is a plain function (describe() names it).
  void set_function_address(const void* address) noexcept { function_address_ = address; }
  // Runs the callable and keeps its value.
  virtual void invoke() = 0;
  // Destroys the callable and its arguments (what they captured goes with them). Called when
  // the actor ends, so a dead actor holds no handles to others: long chains of actors that
  // capture each other never unwind recursively when the last handle goes.
  virtual void drop_callable() noexcept = 0;

 private:
  friend class ActorRef;
  friend struct ActorAccess;
  void run() final;
  void finish_unstarted(std::exception_ptr reason) noexcept final;
  void on_finished() noexcept final;
  ExitReason reason_from(std::exception_ptr error) const;
  internal::ActorExtras& extras();

  ExitReason reason_;
  RemoteHub home_;  // the inbox of the actor's hub: how other hubs reach it
  std::atomic<bool> registered_{false};  // has a name in the registry (actors/registry.h)
  const char* function_name_;
  const void* function_address_ = nullptr;
  // The linked actor whose exit signal is pending here (delivered, not acted on yet): unlinking
  // it withdraws the signal, as in OTP. Compared, never dereferenced.
  const ActorBase* pending_link_signal_ = nullptr;
  bool kill_requested_ = false;
  bool trap_exit_ = false;
  std::unique_ptr<internal::ActorExtras> extras_;  // name, mailbox, links, monitors, callbacks
};

template <class T>
class TypedActor : public ActorBase {
 public:
  using ActorBase::ActorBase;
  // The value (present when the body returned normally).
  std::optional<T>& value() noexcept { return value_; }

 protected:
  std::optional<T> value_;
};

template <>
class TypedActor<void> : public ActorBase {
 public:
  using ActorBase::ActorBase;
  bool value() const noexcept { return returned_; }

 protected:
  bool returned_ = false;
};

namespace internal {
template <class R, class F, class Args>
class ActorImpl final : public TypedActor<R> {
 public:
  ActorImpl(std::size_t stack, Hub* hub, F f, Args args)
      : TypedActor<R>(stack, typeid(F).name(), hub), call_(std::in_place, std::move(f), std::move(args)) {
    if constexpr (std::is_pointer_v<F> && std::is_function_v<std::remove_pointer_t<F>>) {
      this->set_function_address(reinterpret_cast<const void*>(call_->first));
    }
  }

 private:
  void invoke() override {
    auto& [f, args] = *call_;
    if constexpr (std::is_void_v<R>) {
      std::apply(f, std::move(args));
      this->returned_ = true;
    } else {
      this->value_.emplace(std::apply(f, std::move(args)));
    }
  }
  void drop_callable() noexcept override { call_.reset(); }
  std::optional<std::pair<F, Args>> call_;
};
}  // namespace internal

// ---------------------------------------------------------------------------------------------
// Handles

class ActorRef {
 public:
  ActorRef() noexcept = default;
  explicit ActorRef(ActorBase* actor) noexcept : actor_(actor) {}

  explicit operator bool() const noexcept { return static_cast<bool>(actor_); }
  ActorBase* get() const noexcept { return actor_.get(); }
  ActorBase* operator->() const noexcept { return actor_.get(); }

  std::uint64_t id() const noexcept { return actor_ ? actor_->id() : 0; }
  const std::string& name() const { return actor_->name(); }
  bool started() const noexcept { return actor_->started(); }
  bool dead() const noexcept { return actor_->dead(); }
  bool ready() const noexcept { return actor_->dead(); }
  bool successful() const noexcept { return actor_->successful(); }
  std::exception_ptr exception() const noexcept { return actor_->exception(); }
  const ExitReason& exit_reason() const noexcept { return actor_->exit_reason(); }

  // Schedules a created-but-not-started actor; start_later after `seconds`.
  void start() const { actor_->start(); }
  void start_later(double seconds) const;

  // Waits for the actor to die; false on timeout. Never throws the actor's error. From
  // another hub the wait is a message each way. join() without a deadline returns once the
  // actor is dead (true), so its result may be ignored.
  [[nodiscard]] bool join(Deadline deadline) const;
  bool join() const { return join(Deadline::never()); }
  template <class Rep, class Period>
  [[nodiscard]] bool join_for(std::chrono::duration<Rep, Period> d) const {
    return join(Deadline::after(d));
  }
  // The actor's end as a source for wait_any (hub/wait_any.h): ready once it is dead.
  WaitSource wait_source() const noexcept { return actor_->wait_source(); }

  // Ends the actor with `killed` (GreenletExit at its wait point; an actor that never ran never
  // will). The kill is final (E11): every later wait point of the actor throws it again, so the
  // actor ends whatever it catches, and a later kill or exit signal does not change its reason.
  // No-op on a dead actor; never throws. kill_and_wait also waits for it (false on timeout).
  void kill() const;
  // Throws a chosen exception at the actor's wait point once (gevent's kill(exception), i.e.
  // greenlet.throw): if the actor does not catch it, it ends with that error; if it does, it
  // goes on.
  void kill(std::exception_ptr error) const;
  [[nodiscard]] bool kill_and_wait(Deadline deadline = Deadline::never()) const;

  // gevent-style callbacks (see the header comment). They receive this handle.
  CallbackId link(LinkCallback callback) const;
  CallbackId link_value(LinkCallback callback) const;
  CallbackId link_exception(LinkCallback callback) const;
  CallbackId rawlink(LinkCallback callback) const;
  bool unlink(CallbackId id) const;
  // Whether callbacks are registered that have not run yet (gevent's has_links), and removing
  // them all (unlink_all). Links to other actors (link(), spawn_link) are not callbacks.
  bool has_links() const noexcept;
  void unlink_all() const noexcept;

  friend bool operator==(const ActorRef& a, const ActorRef& b) noexcept {
    return a.actor_.get() == b.actor_.get();
  }
  friend bool operator<(const ActorRef& a, const ActorRef& b) noexcept {
    return a.actor_.get() < b.actor_.get();
  }

 protected:
  Ref<ActorBase> actor_;
};

template <class T>
class Greenlet : public ActorRef {
 public:
  using result_type = T;
  Greenlet() noexcept = default;
  explicit Greenlet(TypedActor<T>* actor) noexcept : ActorRef(actor) {}

  // Waits for the actor, then returns its value or rethrows its exception. An actor that was
  // killed or ended by an exit signal has no value: get() returns for Greenlet<void> and throws
  // GreenletExit (naming the reason) otherwise. Bound the wait with join(deadline) first.
  T get() const {
    (void)join();
    return take();
  }
  // The value if the actor returned normally (gevent's `value`), else empty.
  auto value() const { return static_cast<TypedActor<T>*>(actor_.get())->value(); }

 private:
  T take() const {
    auto* typed = static_cast<TypedActor<T>*>(actor_.get());
    if (auto e = typed->exception()) std::rethrow_exception(e);
    if constexpr (std::is_void_v<T>) {
      if (!typed->value()) throw GreenletExit(typed->exit_reason().to_string());
    } else {
      if (!typed->value()) throw GreenletExit(typed->exit_reason().to_string());
      return *typed->value();
    }
  }
};

}  // namespace grove

template <>
struct std::hash<grove::ActorRef> {
  std::size_t operator()(const grove::ActorRef& a) const noexcept {
    return std::hash<const void*>()(a.get());
  }
};

namespace grove {

// ---------------------------------------------------------------------------------------------
// Spawning

struct ActorOptions {
  std::string name;              // default "Greenlet-<id>" (or register_as)
  std::size_t stack_size = 0;    // 0 = the stack policy's default
  bool link = false;             // link to the calling actor (spawn_link)
  bool start = true;             // false: create only; call start() later
  // Registers the actor under this name before it starts (actors/registry.h): if the name is
  // taken, spawn throws std::invalid_argument and nothing runs.
  std::string register_as;
  MailboxLimit mailbox;          // unbounded by default
  // The hub to run on (hub/runtime.h: Runtime::hub(i)); null = this thread's hub, or the one a
  // PlaceOn scope names. The actor is created here and starts on that hub; with `link`, the
  // link exists before it can run.
  Hub* hub = nullptr;
};

// While it lives, spawns made by the calling fiber that name no hub go to `hub` (null: this
// hub). The first such spawn is also linked to `link_to` before it can run, and named `name`
// if it was given no name: how a supervisor places a child through its start function. Other
// fibers of the thread are not affected, even if the calling fiber waits meanwhile.
class PlaceOn {
 public:
  explicit PlaceOn(Hub* hub, ActorRef link_to = ActorRef(), std::string name = {});
  ~PlaceOn();
  PlaceOn(const PlaceOn&) = delete;
  PlaceOn& operator=(const PlaceOn&) = delete;

  struct Scope;  // internal (actors/actor.cc)

 private:
  std::unique_ptr<Scope> scope_;
};

void register_name(const std::string& name, const ActorRef& actor);  // actors/registry.h
ActorRef whereis(const std::string& name);
namespace internal {
void set_mailbox_limit(ActorBase& actor, const MailboxLimit& limit);
// The hub a spawn goes to (options, else a PlaceOn scope), null for this thread's.
Hub* placement(Hub* requested) noexcept;
// The PlaceOn name for the first spawn of the scope (empty once taken, or without a scope).
std::string take_placed_name();
// Links a new actor on another hub to the calling actor, or to the PlaceOn scope's actor,
// before it runs (both halves at once); then posts its start to its hub.
void link_at_birth(ActorBase& child, bool link_caller);
void start_elsewhere(ActorBase& child);
}  // namespace internal

template <class F, class... Args>
auto spawn_opt(ActorOptions options, F&& f, Args&&... args) {
  using Fn = std::decay_t<F>;
  using Tuple = std::tuple<std::decay_t<Args>...>;
  using R = std::invoke_result_t<Fn&, std::decay_t<Args>&&...>;
  Hub* hub = internal::placement(options.hub);
  auto* actor = new internal::ActorImpl<R, Fn, Tuple>(
      options.stack_size, hub, Fn(std::forward<F>(f)), Tuple(std::forward<Args>(args)...));
  Greenlet<R> handle(actor);
  if (!options.name.empty()) {
    actor->set_name(std::move(options.name));
  } else if (!options.register_as.empty()) {
    actor->set_name(options.register_as);
  } else if (std::string placed = internal::take_placed_name(); !placed.empty()) {
    actor->set_name(std::move(placed));
  }
  if (options.mailbox.max_messages != 0) internal::set_mailbox_limit(*actor, options.mailbox);
  // Everything that can fail comes before the actor may run: the name, then the stack.
  if (!options.register_as.empty()) register_name(options.register_as, handle);
  if (hub != nullptr && hub != Hub::current_if_exists()) {
    internal::link_at_birth(*actor, options.link);
    if (options.start) internal::start_elsewhere(*actor);
    return handle;
  }
  internal::link_at_birth(*actor, false);  // a PlaceOn scope's link, if any
  if (options.start) actor->start();
  if (options.link) link(handle);
  return handle;
}

// Spawns f(args...) as an actor that runs at the hub's next pass.
template <class F, class... Args>
auto spawn(F&& f, Args&&... args) {
  return spawn_opt(ActorOptions{}, std::forward<F>(f), std::forward<Args>(args)...);
}

// Spawns and links to the calling actor in one step (no window in which the child can die
// unnoticed).
template <class F, class... Args>
auto spawn_link(F&& f, Args&&... args) {
  ActorOptions options;
  options.link = true;
  return spawn_opt(std::move(options), std::forward<F>(f), std::forward<Args>(args)...);
}

// ---------------------------------------------------------------------------------------------
// Inside an actor

// The calling actor. Throws std::logic_error outside an actor.
ActorRef self();
// True when the calling fiber is an actor.
bool in_actor() noexcept;

// Delivers Exit/Down messages instead of dying from linked actors' exits. Returns the old value.
bool trap_exit(bool on);
// Whether `actor` is alive and traps exits now (what an exit signal arriving from outside the
// hub, such as another node's, would become: an Exit message or the end of the actor). Hub of
// the actor only.
bool traps_exit(const ActorRef& actor) noexcept;

// Two-way link with `other` (E1). Linking to a dead actor delivers an exit signal with `noproc`
// at once (E7). Idempotent.
void link(const ActorRef& other);
void unlink(const ActorRef& other);

// One-way monitor of `target` (E8): exactly one Down message; each call is a new reference.
MonitorRef monitor(const ActorRef& target);
// Removes the monitor; with `flush`, also a Down of it already in the mailbox. False if it had
// already fired (or was unknown).
bool demonitor(MonitorRef ref, bool flush = false);

// Sends the exit signal `reason` to `target` without a link (E9). ExitReason::kill() cannot be
// trapped (E6).
void exit(const ActorRef& target, ExitReason reason);

// The two system messages.
struct Exit {
  ActorRef from;
  ExitReason reason;
};
struct Down {
  MonitorRef ref;
  ActorRef from;
  ExitReason reason;
};

namespace internal {
void deliver(ActorBase& to, Envelope* message);          // same hub
void deliver_remote(const ActorRef& to, Envelope* message);  // another thread
Mailbox& own_mailbox();                                     // of the calling actor
Envelope* mailbox_first(Mailbox& box, const void* const* types, std::size_t n, std::size_t* which);
void mailbox_remove(Mailbox& box, Envelope* e);
WaitList& mailbox_waiters(Mailbox& box);
}  // namespace internal

// Queues `message` in `to`'s mailbox; dropped silently if `to` is dead. Any thread. A bounded
// mailbox applies its overflow policy (see ActorOptions::mailbox). To another hub, the envelope
// itself goes through that hub's lock-free inbox: messages from one thread arrive in order.
template <class M>
void send(const ActorRef& to, M&& message) {
  if (!to) return;
  if (Hub::current_if_exists() == &to->hub()) [[likely]] {
    if (to.dead()) return;
    internal::deliver(*to.get(),
                      new internal::Message<std::decay_t<M>>(std::forward<M>(message)));
  } else {
    internal::deliver_remote(to,
                             new internal::Message<std::decay_t<M>>(std::forward<M>(message)));
  }
}

// Sends to the actor registered as `name` (actors/registry.h), on any hub. Unlike send() to a
// handle, an unknown name is an error: std::invalid_argument (OTP's badarg).
template <class M>
void send(const std::string& name, M&& message) {
  ActorRef to = whereis(name);
  if (!to) {
    throw std::invalid_argument("send: no actor is registered as \"" + name + "\"");
  }
  send(to, std::forward<M>(message));
}
template <class M>
void send(const char* name, M&& message) {
  send(std::string(name), std::forward<M>(message));
}

// The catch-all receive clause: a handler taking AnyMessage takes whatever message is oldest.
// It owns the message (destroyed with it) and can name its type.
class AnyMessage {
 public:
  explicit AnyMessage(internal::Envelope* e) noexcept : e_(e) {}
  AnyMessage(AnyMessage&& o) noexcept : e_(std::exchange(o.e_, nullptr)) {}
  AnyMessage& operator=(AnyMessage&&) = delete;
  ~AnyMessage() {
    if (e_ != nullptr) e_->destroy(e_);
  }
  // The demangled C++ type of the message, e.g. "Ping".
  std::string type_name() const;
  // The message if it is an M, else nullptr.
  template <class M>
  const M* get_if() const noexcept {
    if (e_->type != &internal::type_tag<M>) return nullptr;
    return &static_cast<const internal::Message<M>*>(e_)->value;
  }

 private:
  internal::Envelope* e_;
};

namespace internal {
template <class H, class... Hs>
bool dispatch(std::size_t which, Envelope* e, H& handler, Hs&... rest) {
  if (which == 0) {
    using M = message_type_t<H>;
    if constexpr (std::is_same_v<M, AnyMessage>) {
      handler(AnyMessage(e));
    } else {
      std::unique_ptr<Message<M>, void (*)(Message<M>*)> owned(
          static_cast<Message<M>*>(e), [](Message<M>* m) { m->destroy(m); });
      handler(std::move(owned->value));
    }
    return true;
  }
  if constexpr (sizeof...(Hs) > 0) {
    return dispatch(which - 1, e, rest...);
  } else {
    return false;
  }
}
}  // namespace internal

// Removes and handles the first message (in arrival order) that one of `handlers` takes; waits
// until `deadline` for one to arrive. False if none did. Calling actor only.
//
// Every receive is a wait point, even when a message is already queued: an exit signal (or a
// kill, or an expired Timeout) that reached the actor is acted on before any further message
// (OTP's rule E10), so an overloaded actor does not drain its backlog before it dies.
template <class... H>
bool receive_until(Deadline deadline, H&&... handlers) {
  static_assert(sizeof...(H) > 0, "receive needs at least one handler");
  static const void* const types[] = {&internal::type_tag<internal::message_type_t<H>>...};
  internal::Mailbox& box = internal::own_mailbox();
  Hub& hub = Hub::current();
  for (;;) {
    hub.interruption_point();
    std::size_t which = 0;
    if (internal::Envelope* e = internal::mailbox_first(box, types, sizeof...(H), &which)) {
      internal::mailbox_remove(box, e);
      return internal::dispatch(which, e, handlers...);
    }
    if (internal::mailbox_waiters(box).wait(deadline, "receive") == WaitStatus::kTimedOut) {
      hub.interruption_point();
      // One last look: a message may have arrived with the deadline.
      if (internal::Envelope* e2 = internal::mailbox_first(box, types, sizeof...(H), &which)) {
        internal::mailbox_remove(box, e2);
        return internal::dispatch(which, e2, handlers...);
      }
      return false;
    }
  }
}

template <class... H>
void receive(H&&... handlers) {
  (void)receive_until(Deadline::never(), std::forward<H>(handlers)...);
}

// What receive_or ended with.
enum class [[nodiscard]] Received : std::uint8_t {
  kMessage,   // a handler took a message
  kOther,     // the other source was ready first (nothing was taken from the mailbox)
  kTimedOut,  // the deadline passed
};

// receive_until with one more source to wait for (hub/wait_any.h): an actor waits for its
// mailbox and, say, its socket at once —
//
//   switch (grove::receive_or_until(socket.readable(), idle_deadline,
//                                   [&](const grove::Exit& e) { stop(e.reason); })) {
//     case grove::Received::kOther: serve_one_request(socket); break;
//     ...
//   }
//
// so a trapping connection actor idle on its socket still sees Exit{shutdown} from its
// supervisor. A matching message goes first (rule E10 holds: exit signals are acted on before
// anything else), then `other` if ready, else the actor parks on both. Calling actor only.
template <class... H>
Received receive_or_until(const WaitSource& other, Deadline deadline, H&&... handlers) {
  static_assert(sizeof...(H) > 0, "receive needs at least one handler");
  static const void* const types[] = {&internal::type_tag<internal::message_type_t<H>>...};
  internal::Mailbox& box = internal::own_mailbox();
  Hub& hub = Hub::current();
  const auto take = [&]() -> bool {
    std::size_t which = 0;
    if (internal::Envelope* e = internal::mailbox_first(box, types, sizeof...(H), &which)) {
      internal::mailbox_remove(box, e);
      (void)internal::dispatch(which, e, handlers...);
      return true;
    }
    return false;
  };
  for (;;) {
    hub.interruption_point();
    if (take()) return Received::kMessage;
    if (other.ready()) return Received::kOther;
    // The mailbox fires on every delivery; whether a handler takes it is checked above.
    const WaitSource sources[] = {
        WaitSource(internal::mailbox_waiters(box), nullptr, nullptr), other};
    const auto fired = wait_any(sources, deadline, "receive");
    if (!fired) {
      hub.interruption_point();
      return take() ? Received::kMessage : Received::kTimedOut;  // one last look
    }
    if (*fired == 1) return Received::kOther;
  }
}

// The calling actor's mailbox as a source for wait_any (hub/wait_any.h): ready while a message
// of any type is queued. It takes nothing: receive after it fired (a message no handler of that
// receive takes stays queued, and keeps the source ready). receive_or is the usual way to wait
// for the mailbox and one more source; this is for more. Calling actor only (std::logic_error
// elsewhere); valid while the actor lives.
WaitSource mailbox_source();

template <class... H>
Received receive_or(const WaitSource& other, H&&... handlers) {
  return receive_or_until(other, Deadline::never(), std::forward<H>(handlers)...);
}

template <class Rep, class Period, class... H>
bool receive_for(std::chrono::duration<Rep, Period> timeout, H&&... handlers) {
  return receive_until(Deadline::after(timeout), std::forward<H>(handlers)...);
}

}  // namespace grove
