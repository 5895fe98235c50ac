// actors/actor.cc — actor lifecycle, the mailbox index, links, monitors, exit signals.
#include "actors/actor.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <stdexcept>
#include <vector>

#include "actors/registry.h"
#include "hub/errors.h"

namespace grove {

namespace internal {

void forget_registered(const ActorBase* actor);

// Messages in arrival order, plus one queue per message type: a selective receive looks at the
// head of each handler's type queue and takes the oldest, so skipped messages are never rescanned.
class Mailbox {
 public:
  Mailbox() = default;
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;
  ~Mailbox() {
    while (head_ != nullptr) {
      Envelope* e = head_;
      head_ = e->next_all;
      e->destroy(e);
    }
  }

  void push(Envelope* e) {
    e->seq = next_seq_++;
    e->prev_all = tail_;
    e->next_all = nullptr;
    if (tail_ != nullptr) {
      tail_->next_all = e;
    } else {
      head_ = e;
    }
    tail_ = e;
    TypeQueue& q = queue_for(e->type);
    e->prev_same = q.tail;
    e->next_same = nullptr;
    if (q.tail != nullptr) {
      q.tail->next_same = e;
    } else {
      q.head = e;
    }
    q.tail = e;
    ++size_;
    if (is_system(e)) ++system_;
    waiters_.wake_one();
  }

  void remove(Envelope* e) {
    (e->prev_all ? e->prev_all->next_all : head_) = e->next_all;
    (e->next_all ? e->next_all->prev_all : tail_) = e->prev_all;
    TypeQueue& q = queue_for(e->type);
    (e->prev_same ? e->prev_same->next_same : q.head) = e->next_same;
    (e->next_same ? e->next_same->prev_same : q.tail) = e->prev_same;
    --size_;
    if (is_system(e)) --system_;
    if (limit_.max_messages != 0 && !space_.empty() && !full()) space_.wake_one();
  }

  Envelope* first(const void* const* types, std::size_t n, std::size_t* which) {
    Envelope* best = nullptr;
    for (std::size_t i = 0; i < n; ++i) {
      Envelope* candidate;
      if (types[i] == &type_tag<AnyMessage>) {
        candidate = head_;  // the catch-all takes the oldest of all
      } else {
        const TypeQueue* q = find(types[i]);
        candidate = q != nullptr ? q->head : nullptr;
      }
      if (candidate == nullptr) continue;
      if (best == nullptr || candidate->seq < best->seq) {
        best = candidate;
        *which = i;
      }
    }
    return best;
  }

  // Bounded mailboxes (see MailboxLimit).
  const MailboxLimit& limit() const noexcept { return limit_; }
  void set_limit(const MailboxLimit& limit) noexcept { limit_ = limit; }
  // Messages that count against the limit: all but Exit and Down.
  static bool is_system(const Envelope* e) noexcept {
    return e->type == &type_tag<Exit> || e->type == &type_tag<Down>;
  }
  bool full() const noexcept {
    return limit_.max_messages != 0 && size_ - system_ >= limit_.max_messages;
  }
  // The oldest message that is not a system one (nullptr if none).
  Envelope* oldest_ordinary() const noexcept {
    for (Envelope* e = head_; e != nullptr; e = e->next_all) {
      if (!is_system(e)) return e;
    }
    return nullptr;
  }
  WaitList& space() noexcept { return space_; }
  std::uint64_t& dropped() noexcept { return dropped_; }

  // The first message of type `type` satisfying `pred`.
  template <class Pred>
  Envelope* find_if(const void* type, Pred pred) {
    const TypeQueue* q = find(type);
    for (Envelope* e = q ? q->head : nullptr; e != nullptr; e = e->next_same) {
      if (pred(e)) return e;
    }
    return nullptr;
  }

  WaitList& waiters() noexcept { return waiters_; }
  std::size_t size() const noexcept { return size_; }

 private:
  struct TypeQueue {
    const void* type;
    Envelope* head;
    Envelope* tail;
  };
  const TypeQueue* find(const void* type) const {
    for (const TypeQueue& q : queues_) {
      if (q.type == type) return &q;
    }
    return nullptr;
  }
  TypeQueue& queue_for(const void* type) {
    for (TypeQueue& q : queues_) {
      if (q.type == type) return q;
    }
    queues_.push_back(TypeQueue{type, nullptr, nullptr});
    return queues_.back();
  }

  Envelope* head_ = nullptr;
  Envelope* tail_ = nullptr;
  std::size_t size_ = 0;
  std::uint64_t next_seq_ = 0;
  std::vector<TypeQueue> queues_;
  WaitList waiters_;
  MailboxLimit limit_;
  std::size_t system_ = 0;  // Exit and Down messages among size_
  std::uint64_t dropped_ = 0;
  WaitList space_;  // kBlockSender senders waiting for room
};

// Links and monitors hold counted references: an actor that was linked or monitored and then
// released by everyone else stays valid until the link or monitor goes (at the latest when the
// running side dies), so no peer is left with a dangling pointer.
struct MonitorEntry {
  std::uint64_t ref;
  Ref<ActorBase> other;  // the watcher (in monitored_by) or the target (in monitoring)
};

enum class CallbackKind : unsigned char { kAny, kValue, kException };

struct Callback {
  std::uint64_t id;
  CallbackKind kind;
  bool raw;
  LinkCallback fn;
};

struct ActorExtras {
  std::string name;
  std::unique_ptr<Mailbox> mailbox;
  std::vector<Ref<ActorBase>> links;
  std::vector<MonitorEntry> monitored_by;
  std::vector<MonitorEntry> monitoring;
  std::vector<Callback> callbacks;
};

}  // namespace internal

// Private access for the free functions of this file.
struct ActorAccess {
  static internal::ActorExtras& extras(ActorBase& a) { return a.extras(); }
  static internal::ActorExtras* extras_if(ActorBase& a) { return a.extras_.get(); }
  static bool& trap(ActorBase& a) { return a.trap_exit_; }
  static bool& kill_requested(ActorBase& a) { return a.kill_requested_; }
  static const ActorBase*& pending_link_signal(ActorBase& a) { return a.pending_link_signal_; }
  static const RemoteHub& home(const ActorBase& a) { return a.home_; }
  static std::atomic<bool>& registered(ActorBase& a) { return a.registered_; }
};

namespace {

std::atomic<std::uint64_t> next_monitor_ref{1};
std::atomic<std::uint64_t> next_callback_id{1};

ActorBase& current_actor() {
  Hub* hub = Hub::current_if_exists();
  if (hub == nullptr || !hub->current_fiber().is_actor()) {
    throw std::logic_error("grove: this call must be made from inside an actor (spawn one)");
  }
  return static_cast<ActorBase&>(hub->current_fiber());
}

// True when `a` lives on another hub than the caller's: what concerns it travels as a posted
// message to its hub and is done there.
bool elsewhere(const ActorBase& a) noexcept { return &a.hub() != Hub::current_if_exists(); }

// Runs `fn` on `a`'s hub (dropped if that hub has ended, as a message to a dead actor is).
template <class F>
void on_hub_of(const ActorBase& a, F fn) {
  (void)ActorAccess::home(a).post(std::function<void()>(std::move(fn)));
}

bool has_link(ActorBase& a, const ActorBase* other) {
  auto* x = ActorAccess::extras_if(a);
  if (x == nullptr) return false;
  for (const auto& l : x->links) {
    if (l.get() == other) return true;
  }
  return false;
}

void erase_link(ActorBase& from, const ActorBase* other) {
  if (auto* x = ActorAccess::extras_if(from)) {
    std::erase_if(x->links, [&](const Ref<ActorBase>& l) { return l.get() == other; });
  }
}

enum class Via : unsigned char { kSignal, kLink };

// Delivers the exit signal `reason` from `from` to `target` (rules E2–E6, E9–E11). A signal
// that kills is a final kill of the target's fiber: the first one decides the reason.
void deliver_exit_signal(ActorBase& target, const ActorRef& from, const ExitReason& reason,
                         Via via = Via::kSignal) {
  if (target.dead()) return;
  if (reason.kind() == ExitReason::Kind::kKill) {  // E6: untrappable
    if (target.Fiber::kill(std::make_exception_ptr(ExitSignal{ExitReason::killed()}))) {
      ActorAccess::pending_link_signal(target) = nullptr;
    }
    return;
  }
  if (ActorAccess::trap(target)) {  // E5
    send(ActorRef(&target), Exit{from, reason});
    return;
  }
  // E3, and E9's exception: exit(self(), normal) ends a non-trapping caller.
  if (reason.is_normal() && from.get() != &target) return;
  if (target.Fiber::kill(std::make_exception_ptr(ExitSignal{reason}))) {  // E4
    ActorAccess::pending_link_signal(target) = via == Via::kLink ? from.get() : nullptr;
  }
}

// An exit signal through the link between `target` and `from` that crossed hubs: acted on only
// if the link still exists on arrival (an unlink made meanwhile drops it, E1), and the link goes.
void deliver_link_exit(const ActorRef& target, const ActorRef& from, const ExitReason& reason) {
  if (!has_link(*target.get(), from.get())) return;
  erase_link(*target.get(), from.get());
  deliver_exit_signal(*target.get(), from, reason, Via::kLink);
}

// A Down that crossed hubs: delivered only if the watcher still holds the monitor (a demonitor
// made meanwhile drops it, E8), and the monitor goes.
void deliver_down(const ActorRef& watcher, MonitorRef ref, const ActorRef& from,
                  const ExitReason& reason) {
  auto* x = ActorAccess::extras_if(*watcher.get());
  if (x == nullptr) return;
  if (std::erase_if(x->monitoring, [&](const auto& e) { return e.ref == ref.id; }) == 0) return;
  send(watcher, Down{ref, from, reason});
}

void run_callbacks(const ActorRef& actor, std::vector<internal::Callback> callbacks) {
  actor->hub().run_callback([actor, callbacks = std::move(callbacks)] {
    for (const auto& cb : callbacks) {
      if (cb.kind == internal::CallbackKind::kValue && !actor.successful()) continue;
      if (cb.kind == internal::CallbackKind::kException && actor.successful()) continue;
      if (cb.raw) {
        try {
          cb.fn(actor);
        } catch (...) {
          actor->hub().report_error(fmt::format("rawlink callback of {}", actor->describe()),
                                    std::current_exception());
        }
      } else {
        spawn_fiber([fn = cb.fn, actor] { fn(actor); });
      }
    }
  });
}

CallbackId add_callback(const ActorRef& actor, internal::CallbackKind kind, bool raw,
                        LinkCallback fn) {
  const CallbackId id{next_callback_id.fetch_add(1, std::memory_order_relaxed)};
  internal::Callback cb{id.id, kind, raw, std::move(fn)};
  if (actor.dead()) {  // fires even when linked after death
    std::vector<internal::Callback> one;
    one.push_back(std::move(cb));
    run_callbacks(actor, std::move(one));
  } else {
    ActorAccess::extras(*actor.get()).callbacks.push_back(std::move(cb));
  }
  return id;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// ActorBase

ActorBase::ActorBase(std::size_t stack_size, const char* function_name, Hub* hub)
    : Fiber(stack_size, hub),
      home_(hub == nullptr || hub == Hub::current_if_exists() ? this->hub().remote()
                                                              : Hub::remote_of(hub)),
      function_name_(function_name) {
  is_actor_ = true;
}

ActorBase::~ActorBase() = default;

internal::ActorExtras& ActorBase::extras() {
  if (!extras_) extras_ = std::make_unique<internal::ActorExtras>();
  return *extras_;
}

const std::string& ActorBase::name() const {
  if (extras_ && !extras_->name.empty()) return extras_->name;
  auto* self = const_cast<ActorBase*>(this);
  self->extras().name = fmt::format("Greenlet-{}", id());
  self->set_debug_name(extras_->name.c_str());
  return extras_->name;
}

void ActorBase::set_name(std::string name) {
  internal::ActorExtras& e = extras();
  e.name = std::move(name);
  set_debug_name(e.name.c_str());  // what hub/debug/grove-gdb.py shows
}

std::size_t ActorBase::mailbox_size() const noexcept {
  return extras_ && extras_->mailbox ? extras_->mailbox->size() : 0;
}

std::uint64_t ActorBase::mailbox_dropped() const noexcept {
  return extras_ && extras_->mailbox ? extras_->mailbox->dropped() : 0;
}

std::string ActorBase::run_info_details() const {
  const internal::Mailbox* box = extras_ ? extras_->mailbox.get() : nullptr;
  if (box == nullptr) return "mailbox=0";
  const MailboxLimit& limit = box->limit();
  if (limit.max_messages == 0) return fmt::format("mailbox={}", box->size());
  return fmt::format("mailbox={}/{} dropped={}", box->size(), limit.max_messages,
                     const_cast<internal::Mailbox*>(box)->dropped());
}

std::string AnyMessage::type_name() const {
  return demangle(static_cast<const internal::TypeTag*>(e_->type)->name());
}

std::string ActorBase::describe() const {
  std::string fn = function_at(function_address_);
  if (fn.empty()) fn = readable_name(demangle(function_name_));
  return fmt::format("<Greenlet \"{}\" at {}: {}>", name(), static_cast<const void*>(this), fn);
}

void ActorBase::copy_name(char* out, std::size_t size) const noexcept {
  if (size == 0) return;
  std::size_t n = 0;
  auto put = [&](char c) {
    if (n + 1 < size) out[n++] = c;
  };
  if (extras_ != nullptr && !extras_->name.empty()) {
    for (const char c : extras_->name) put(c);
  } else {  // the name name() would make, "Greenlet-7", without making it
    for (const char c : std::string_view("Greenlet-")) put(c);
    char digits[24];
    int d = 0;
    std::uint64_t v = id();
    do {
      digits[d++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0 && d < 24);
    while (d > 0) put(digits[--d]);
  }
  out[n] = '\0';
}

ExitReason ActorBase::reason_from(std::exception_ptr error) const {
  try {
    std::rethrow_exception(error);
  } catch (const ExitSignal& s) {
    return s.reason;
  } catch (const GreenletExit&) {
    return kill_requested_ ? ExitReason::killed() : ExitReason::normal();
  } catch (...) {
    return ExitReason::exception(std::current_exception());
  }
}

void ActorBase::run() {
  struct Drop {
    ActorBase* self;
    ~Drop() { self->drop_callable(); }
  } drop{this};
  std::exception_ptr escaped;
  try {
    invoke();
  } catch (...) {
    escaped = std::current_exception();
  }
  // A final kill decides the reason, whatever the body made of it (E11): caught and returned
  // normally, or turned into another error.
  if (const std::exception_ptr& kill = final_kill()) {
    reason_ = reason_from(kill);
  } else if (escaped) {
    reason_ = reason_from(escaped);
    if (reason_.is_exception()) hub().report_error(describe(), reason_.error());  // once
  } else {
    reason_ = ExitReason::normal();
  }
}

void ActorBase::finish_unstarted(std::exception_ptr reason) noexcept {
  drop_callable();
  reason_ = reason_from(std::move(reason));
  on_finished();
}

void ActorBase::on_finished() noexcept {
  if (registered_.load(std::memory_order_acquire)) internal::forget_registered(this);
  if (!extras_) return;
  internal::ActorExtras& x = *extras_;
  const ActorRef me(this);
  // Links (E2): each linked actor gets the exit signal; on another hub, as a message.
  std::vector<Ref<ActorBase>> links = std::move(x.links);
  x.links.clear();
  for (const Ref<ActorBase>& other : links) {
    if (elsewhere(*other.get())) {
      on_hub_of(*other.get(), [other = ActorRef(other.get()), me, reason = reason_] {
        deliver_link_exit(other, me, reason);
      });
      continue;
    }
    erase_link(*other, this);
    deliver_exit_signal(*other, me, reason_, Via::kLink);
  }
  // Monitors of me (E8): one Down each.
  std::vector<internal::MonitorEntry> watchers = std::move(x.monitored_by);
  x.monitored_by.clear();
  for (const auto& m : watchers) {
    if (elsewhere(*m.other)) {
      on_hub_of(*m.other, [watcher = ActorRef(m.other.get()), ref = MonitorRef{m.ref}, me,
                           reason = reason_] { deliver_down(watcher, ref, me, reason); });
      continue;
    }
    if (auto* wx = ActorAccess::extras_if(*m.other)) {
      std::erase_if(wx->monitoring, [&](const auto& e) { return e.ref == m.ref; });
    }
    send(ActorRef(m.other.get()), Down{MonitorRef{m.ref}, me, reason_});
  }
  // My monitors of others die with me.
  for (const auto& m : x.monitoring) {
    if (elsewhere(*m.other)) {
      on_hub_of(*m.other, [target = ActorRef(m.other.get()), ref = m.ref] {
        if (auto* tx = ActorAccess::extras_if(*target.get())) {
          std::erase_if(tx->monitored_by, [&](const auto& e) { return e.ref == ref; });
        }
      });
      continue;
    }
    if (auto* tx = ActorAccess::extras_if(*m.other)) {
      std::erase_if(tx->monitored_by, [&](const auto& e) { return e.ref == m.ref; });
    }
  }
  x.monitoring.clear();
  if (!x.callbacks.empty()) run_callbacks(me, std::move(x.callbacks));
  x.callbacks.clear();
  // Senders waiting for room see the actor dead and drop their message.
  if (x.mailbox) x.mailbox->space().wake_all();
  x.mailbox.reset();  // undelivered messages die with the actor
}

// ---------------------------------------------------------------------------------------------
// ActorRef

void ActorRef::start_later(double seconds) const {
  ActorRef me = *this;
  spawn_fiber([me, seconds] {
    sleep(seconds);
    me->start();
  });
}

void ActorRef::kill() const {
  if (!actor_ || actor_->dead()) return;
  if (elsewhere(*actor_)) {
    on_hub_of(*actor_, [me = *this] { me.kill(); });
    return;
  }
  // Set first: an actor that never ran computes its reason inside Fiber::kill.
  ActorAccess::kill_requested(*actor_.get()) = true;
  if (actor_->Fiber::kill(std::make_exception_ptr(GreenletExit()))) {
    ActorAccess::pending_link_signal(*actor_.get()) = nullptr;
  }
}

void ActorRef::kill(std::exception_ptr error) const {
  if (!actor_ || actor_->dead()) return;
  if (elsewhere(*actor_)) {
    on_hub_of(*actor_, [me = *this, error] { me.kill(error); });
    return;
  }
  ActorAccess::kill_requested(*actor_.get()) = true;
  (void)actor_->Fiber::kill(std::move(error), KillMode::kOnce);
}

bool ActorRef::join(Deadline deadline) const {
  if (!elsewhere(*actor_)) return actor_->join(deadline);
  if (actor_->dead()) return true;
  // Across hubs: the actor's hub tells this one when it died (a rawlink there, a post back).
  struct JoinState {
    bool done = false;
    WaitList waiters;
  };
  auto state = std::make_shared<JoinState>();
  Hub& here = Hub::current();
  RemoteHub back = here.remote();
  on_hub_of(*actor_, [me = *this, state, back] {
    auto notify = [state, back](const ActorRef&) {
      back.post([state] {
        state->done = true;
        state->waiters.wake_all();
      });
    };
    if (me.dead()) {
      notify(me);
    } else {
      (void)me.rawlink(notify);
    }
  });
  here.ref_external();  // the answer comes from another thread
  struct Unref {
    Hub& hub;
    ~Unref() { hub.unref_external(); }
  } unref{here};
  while (!state->done && !actor_->dead()) {
    if (state->waiters.wait(deadline, "join") == WaitStatus::kTimedOut) return actor_->dead();
  }
  return true;
}

bool ActorRef::kill_and_wait(Deadline deadline) const {
  kill();
  return join(deadline);
}

CallbackId ActorRef::link(LinkCallback callback) const {
  return add_callback(*this, internal::CallbackKind::kAny, false, std::move(callback));
}
CallbackId ActorRef::link_value(LinkCallback callback) const {
  return add_callback(*this, internal::CallbackKind::kValue, false, std::move(callback));
}
CallbackId ActorRef::link_exception(LinkCallback callback) const {
  return add_callback(*this, internal::CallbackKind::kException, false, std::move(callback));
}
CallbackId ActorRef::rawlink(LinkCallback callback) const {
  return add_callback(*this, internal::CallbackKind::kAny, true, std::move(callback));
}

bool ActorRef::unlink(CallbackId id) const {
  auto* x = ActorAccess::extras_if(*actor_.get());
  if (x == nullptr) return false;
  return std::erase_if(x->callbacks, [&](const auto& cb) { return cb.id == id.id; }) > 0;
}

bool ActorRef::has_links() const noexcept {
  auto* x = ActorAccess::extras_if(*actor_.get());
  return x != nullptr && !x->callbacks.empty();
}

void ActorRef::unlink_all() const noexcept {
  if (auto* x = ActorAccess::extras_if(*actor_.get())) x->callbacks.clear();
}

// ---------------------------------------------------------------------------------------------
// Inside an actor

ActorRef self() { return ActorRef(&current_actor()); }

bool in_actor() noexcept {
  Hub* hub = Hub::current_if_exists();
  return hub != nullptr && hub->current_fiber().is_actor();
}

bool trap_exit(bool on) { return std::exchange(ActorAccess::trap(current_actor()), on); }

bool traps_exit(const ActorRef& actor) noexcept {
  return actor && !actor.dead() && ActorAccess::trap(*actor.get());
}

void link(const ActorRef& other) {
  ActorBase& me = current_actor();
  if (!other || other.get() == &me) return;
  if (other.dead()) {  // E7: an exit signal with noproc, at once
    deliver_exit_signal(me, other, ExitReason::noproc(), Via::kLink);
    Hub::current().interruption_point();
    return;
  }
  auto& mine = ActorAccess::extras(me).links;
  for (const auto& l : mine) {
    if (l.get() == other.get()) return;  // E1: one link
  }
  mine.emplace_back(other.get());
  if (elsewhere(*other.get())) {
    // The other half is made on its hub; if it died meanwhile, the link gives noproc (E7).
    on_hub_of(*other.get(), [other, me = ActorRef(&me)] {
      if (other.dead()) {
        on_hub_of(*me.get(), [me, other] { deliver_link_exit(me, other, ExitReason::noproc()); });
        return;
      }
      if (!has_link(*other.get(), me.get())) {
        ActorAccess::extras(*other.get()).links.emplace_back(me.get());
      }
    });
    return;
  }
  ActorAccess::extras(*other.get()).links.emplace_back(&me);
}

void unlink(const ActorRef& other) {
  ActorBase& me = current_actor();
  if (!other) return;
  erase_link(me, other.get());
  if (elsewhere(*other.get())) {
    on_hub_of(*other.get(), [other, me = ActorRef(&me)] { erase_link(*other.get(), me.get()); });
  } else {
    erase_link(*other.get(), &me);
  }
  // The link's exit signal already delivered but not acted on is dropped with the link (OTP).
  // A trapping actor may still find the Exit message in its mailbox, as in OTP.
  if (ActorAccess::pending_link_signal(me) == other.get()) {
    ActorAccess::pending_link_signal(me) = nullptr;
    (void)me.withdraw_pending_kill();
  }
}

MonitorRef monitor(const ActorRef& target) {
  ActorBase& me = current_actor();
  const MonitorRef ref{next_monitor_ref.fetch_add(1, std::memory_order_relaxed)};
  if (!target || target.dead()) {  // E8: at once, with noproc
    send(ActorRef(&me), Down{ref, target, ExitReason::noproc()});
    return ref;
  }
  ActorAccess::extras(me).monitoring.push_back({ref.id, Ref<ActorBase>(target.get())});
  if (elsewhere(*target.get())) {
    on_hub_of(*target.get(), [target, me = ActorRef(&me), ref] {
      if (target.dead()) {
        on_hub_of(*me.get(), [me, ref, target] {
          deliver_down(me, ref, target, ExitReason::noproc());
        });
        return;
      }
      ActorAccess::extras(*target.get()).monitored_by.push_back({ref.id, Ref<ActorBase>(me.get())});
    });
    return ref;
  }
  ActorAccess::extras(*target.get()).monitored_by.push_back({ref.id, Ref<ActorBase>(&me)});
  return ref;
}

bool demonitor(MonitorRef ref, bool flush) {
  ActorBase& me = current_actor();
  internal::ActorExtras& x = ActorAccess::extras(me);
  bool active = false;
  for (auto it = x.monitoring.begin(); it != x.monitoring.end(); ++it) {
    if (it->ref != ref.id) continue;
    if (elsewhere(*it->other)) {
      on_hub_of(*it->other, [target = ActorRef(it->other.get()), id = ref.id] {
        if (auto* tx = ActorAccess::extras_if(*target.get())) {
          std::erase_if(tx->monitored_by, [&](const auto& e) { return e.ref == id; });
        }
      });
    } else if (auto* tx = ActorAccess::extras_if(*it->other)) {
      std::erase_if(tx->monitored_by, [&](const auto& e) { return e.ref == ref.id; });
    }
    x.monitoring.erase(it);
    active = true;
    break;
  }
  if (flush && x.mailbox) {
    if (internal::Envelope* e = x.mailbox->find_if(&internal::type_tag<Down>, [&](auto* env) {
          return static_cast<internal::Message<Down>*>(env)->value.ref == ref;
        })) {
      x.mailbox->remove(e);
      e->destroy(e);
    }
  }
  return active;
}

void exit(const ActorRef& target, ExitReason reason) {
  if (!target) return;
  ActorRef from = in_actor() ? self() : ActorRef();
  if (elsewhere(*target.get())) {
    on_hub_of(*target.get(), [target, from, reason = std::move(reason)] {
      deliver_exit_signal(*target.get(), from, reason);
    });
    return;
  }
  deliver_exit_signal(*target.get(), from, reason);
  // A signal to oneself is acted on at once (exit(self(), kill) does not return).
  if (from == target) Hub::current().interruption_point();
}

// ---------------------------------------------------------------------------------------------
// Mailbox plumbing used by the templates in actor.h

namespace internal {

namespace {
struct FreeBlock {
  FreeBlock* next;
};
// Per-thread cache of small envelope blocks, capped so a burst does not pin memory forever.
struct EnvelopeCache {
  FreeBlock* head = nullptr;
  std::size_t count = 0;
  static constexpr std::size_t kMax = 4096;
  ~EnvelopeCache() {
    while (head != nullptr) {
      FreeBlock* b = head;
      head = b->next;
      ::operator delete(b);
    }
  }
};
[[gnu::tls_model("initial-exec")]] thread_local EnvelopeCache envelope_cache;
}  // namespace

void* allocate_small_envelope() {
  EnvelopeCache& cache = envelope_cache;
  if (FreeBlock* b = cache.head) {
    cache.head = b->next;
    --cache.count;
    return b;
  }
  return ::operator new(kSmallEnvelope);
}

void free_small_envelope(void* p) noexcept {
  EnvelopeCache& cache = envelope_cache;
  if (cache.count >= EnvelopeCache::kMax) {
    ::operator delete(p);
    return;
  }
  auto* b = static_cast<FreeBlock*>(p);
  b->next = cache.head;
  cache.head = b;
  ++cache.count;
}

void set_mailbox_limit(ActorBase& actor, const MailboxLimit& limit) {
  internal::ActorExtras& x = ActorAccess::extras(actor);
  if (!x.mailbox) x.mailbox = std::make_unique<Mailbox>();
  x.mailbox->set_limit(limit);
}

namespace {

void drop(Mailbox& box, Envelope* e) noexcept {
  ++box.dropped();
  e->destroy(e);
}

// A sender that may park: a fiber of the receiver's hub other than the hub's own and the
// receiver itself.
bool sender_can_wait(const ActorBase& to) {
  Hub* hub = Hub::current_if_exists();
  return hub == &to.hub() && hub->can_wait() && &hub->current_fiber() != &to;
}

}  // namespace

void deliver(ActorBase& to, Envelope* message) {
  internal::ActorExtras& x = ActorAccess::extras(to);
  if (!x.mailbox) x.mailbox = std::make_unique<Mailbox>();
  Mailbox* box = x.mailbox.get();
  if (!box->full() || Mailbox::is_system(message)) {
    box->push(message);
    return;
  }
  switch (box->limit().overflow) {
    case MailboxOverflow::kDropNewest:
      drop(*box, message);
      return;
    case MailboxOverflow::kDropOldest:
      if (Envelope* oldest = box->oldest_ordinary()) {
        box->remove(oldest);
        drop(*box, oldest);
      }
      box->push(message);
      return;
    case MailboxOverflow::kKillReceiver:
      message->destroy(message);
      // Untrappable, like kill, but with its own reason.
      (void)to.Fiber::kill(
          std::make_exception_ptr(ExitSignal{ExitReason::user("mailbox_overflow")}));
      return;
    case MailboxOverflow::kBlockSender: {
      if (!sender_can_wait(to)) {
        drop(*box, message);
        return;
      }
      struct Owned {
        Envelope* e;
        ~Owned() {
          if (e != nullptr) e->destroy(e);
        }
      } owned{message};
      const ActorRef keep(&to);  // the actor outlives this wait; its mailbox may not
      const Deadline deadline = Deadline::after(box->limit().block_seconds);
      while (box->full()) {
        if (box->space().wait(deadline, "mailbox full") == WaitStatus::kTimedOut) {
          throw MailboxFull(fmt::format("send: the mailbox of {} stayed full for {} s",
                                        to.describe(), box->limit().block_seconds));
        }
        if (to.dead()) return;  // its mailbox is gone; the message is dropped
        box = x.mailbox.get();
      }
      box->push(std::exchange(owned.e, nullptr));
      return;
    }
  }
}

void deliver_remote(const ActorRef& to, Envelope* message) {
  to->add_ref();  // released once delivered or dropped
  message->target = to.get();
  message->run_posted = [](Posted* item, bool deliver_it) {
    auto* e = static_cast<Envelope*>(item);
    ActorBase* target = std::exchange(e->target, nullptr);
    if (deliver_it && !target->dead()) {
      internal::deliver(*target, e);
    } else {
      e->destroy(e);  // dropped silently, as for any dead actor
    }
    target->release();
  };
  (void)ActorAccess::home(*to.get()).post(message);
}

}  // namespace internal

// The innermost PlaceOn of a fiber, kept fiber-local (hub/local.h's mechanism).
struct PlaceOn::Scope {
  Scope* outer;
  Hub* hub;
  ActorRef link_to;
  std::string name;
};

namespace internal {
namespace {
const char place_on_key_anchor = 0;
const std::uint64_t kPlaceOnKey = reinterpret_cast<std::uintptr_t>(&place_on_key_anchor);
void keep_scope(void*) noexcept {}  // owned by the PlaceOn object

PlaceOn::Scope* placed_here() noexcept {
  Hub* hub = Hub::current_if_exists();
  if (hub == nullptr) return nullptr;
  return static_cast<PlaceOn::Scope*>(hub->current_fiber().local(kPlaceOnKey));
}
}  // namespace

Hub* placement(Hub* requested) noexcept {
  if (requested != nullptr) return requested;
  PlaceOn::Scope* s = placed_here();
  return s != nullptr ? s->hub : nullptr;
}

std::string take_placed_name() {
  PlaceOn::Scope* s = placed_here();
  return s != nullptr ? std::exchange(s->name, std::string()) : std::string();
}

void link_at_birth(ActorBase& child, bool link_caller) {
  ActorBase* parent = link_caller ? &current_actor() : nullptr;
  if (PlaceOn::Scope* s = placed_here(); s != nullptr && s->link_to) {
    if (parent == nullptr) parent = s->link_to.get();
    s->link_to = ActorRef();  // the first spawn only
  }
  if (parent == nullptr) return;
  // Nobody else knows the child yet: both halves can be made here, before it runs.
  ActorAccess::extras(*parent).links.emplace_back(&child);
  ActorAccess::extras(child).links.emplace_back(parent);
}

void start_elsewhere(ActorBase& child) {
  on_hub_of(child, [child = ActorRef(&child)] {
    try {
      child->start();
    } catch (...) {
      // No stack for it: it ends with that error, as if it had thrown it.
      (void)child->Fiber::kill(std::current_exception());
    }
  });
}

Mailbox& own_mailbox() {
  internal::ActorExtras& x = ActorAccess::extras(current_actor());
  if (!x.mailbox) x.mailbox = std::make_unique<Mailbox>();
  return *x.mailbox;
}

Envelope* mailbox_first(Mailbox& box, const void* const* types, std::size_t n,
                        std::size_t* which) {
  return box.first(types, n, which);
}

void mailbox_remove(Mailbox& box, Envelope* e) { box.remove(e); }

WaitList& mailbox_waiters(Mailbox& box) { return box.waiters(); }

}  // namespace internal

WaitSource mailbox_source() {
  internal::Mailbox& box = internal::own_mailbox();
  return WaitSource(
      box.waiters(),
      [](const void* b) noexcept { return static_cast<const internal::Mailbox*>(b)->size() != 0; },
      &box);
}

PlaceOn::PlaceOn(Hub* hub, ActorRef link_to, std::string name)
    : scope_(std::make_unique<Scope>(
          Scope{internal::placed_here(), hub, std::move(link_to), std::move(name)})) {
  Hub::current().current_fiber().set_local(internal::kPlaceOnKey, scope_.get(),
                                           &internal::keep_scope);
}

PlaceOn::~PlaceOn() {
  Fiber& fiber = Hub::current().current_fiber();
  if (scope_->outer != nullptr) {
    fiber.set_local(internal::kPlaceOnKey, scope_->outer, &internal::keep_scope);
  } else {
    (void)fiber.erase_local(internal::kPlaceOnKey);
  }
}

// Registry bookkeeping: whether the actor has a name (so that its death looks it up).
namespace internal {
void set_registered(ActorBase& a, bool on) {
  ActorAccess::registered(a).store(on, std::memory_order_release);
}
}  // namespace internal

}  // namespace grove
