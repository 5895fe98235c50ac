// facade/greenlet.h — gevent's top-level API (gevent.Greenlet, spawn, joinall, killall, sleep,
// Timeout, ...) in C++, over grove's greenlet-actors.
//
// A thin skin: gevent::Greenlet<T> IS a grove::Greenlet<T> (an actor handle) with gevent's
// method signatures — optional timeouts in seconds (std::nullopt = wait forever) instead of
// Deadlines, `get(block, timeout)` that throws Timeout, `kill(exception, block, timeout)`.
// Nothing here re-implements scheduling, waiting or results; see actors/actor.h for the model.
//
// Differences from Python worth knowing:
//   - a Greenlet's value is typed: Greenlet<int>::get() returns int. A greenlet that was killed
//     has no value: get() returns for Greenlet<void> and throws GreenletExit otherwise
//     (Python returns the GreenletExit instance).
//   - Timeout is a scope object: constructing it starts it (as `with Timeout(...)` does).
//     The silent form `with Timeout(s, False): body` is `gevent::within(s, [&] { body })`, which
//     leaves the body when the time is up and returns false (true when the body completed).
//   - link(callback) takes a callable receiving the Greenlet; unlink takes what link returned.
//
//   auto jobs = {gevent::spawn(fetch, "a"), gevent::spawn(fetch, "b")};
//   gevent::joinall(jobs, /*timeout=*/2.0);
//   for (auto& job : jobs) if (job.successful()) use(*job.value());
#pragma once

#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "actors/actor.h"
#include "actors/iwait.h"
#include "actors/queue.h"
#include "hub/errors.h"
#include "hub/hub.h"
#include "hub/timeout.h"

namespace gevent {

using grove::ConcurrentObjectUseError;
using grove::GreenletExit;
using grove::LoopExit;
using grove::Timeout;
using grove::within;

// A timeout in seconds; std::nullopt waits forever (Python's None).
using Seconds = std::optional<double>;

inline grove::Deadline deadline_of(Seconds timeout) {
  return timeout ? grove::Deadline::after(*timeout) : grove::Deadline::never();
}

template <class T = void>
class Greenlet : public grove::Greenlet<T> {
 public:
  using Base = grove::Greenlet<T>;
  Greenlet() = default;
  Greenlet(Base g) : Base(std::move(g)) {}  // NOLINT(google-explicit-constructor)

  // Greenlet(run, args...) without starting it: call start() or start_later().
  template <class F, class... Args>
  static Greenlet create(F&& run, Args&&... args) {
    grove::ActorOptions options;
    options.start = false;
    return grove::spawn_opt(options, std::forward<F>(run), std::forward<Args>(args)...);
  }
  template <class F, class... Args>
  static Greenlet spawn(F&& run, Args&&... args) {
    return grove::spawn(std::forward<F>(run), std::forward<Args>(args)...);
  }
  template <class F, class... Args>
  static Greenlet spawn_later(double seconds, F&& run, Args&&... args) {
    Greenlet g = create(std::forward<F>(run), std::forward<Args>(args)...);
    g.start_later(seconds);
    return g;
  }

  // True if it finished before `timeout`; never throws the greenlet's error.
  bool join(Seconds timeout = std::nullopt) const { return Base::join(deadline_of(timeout)); }

  // The value, or the greenlet's exception rethrown. Not ready: block=false throws Timeout at
  // once; block=true waits up to `timeout`, then throws Timeout.
  T get(bool block = true, Seconds timeout = std::nullopt) const {
    if (!this->ready()) {
      if (!block) throw Timeout::unarmed(0.0);
      if (!join(timeout)) throw Timeout::unarmed(timeout.value_or(0.0));
    }
    return Base::get();
  }

  // Raises `exception` (default GreenletExit) in the greenlet. With `block`, waits for it to die,
  // up to `timeout`; that timeout is swallowed (as gevent does). A greenlet that has not started
  // never runs. No-op on a dead greenlet.
  void kill(std::exception_ptr exception = nullptr, bool block = true,
            Seconds timeout = std::nullopt) const {
    if (exception) {
      grove::ActorRef::kill(std::move(exception));
    } else {
      grove::ActorRef::kill();
    }
    if (block) (void)join(timeout);
  }
  template <class E>
    requires(!std::is_same_v<std::decay_t<E>, std::exception_ptr> && !std::is_null_pointer_v<E>)
  void kill(E exception, bool block = true, Seconds timeout = std::nullopt) const {
    kill(std::make_exception_ptr(std::move(exception)), block, timeout);
  }

  // gevent's value: the result when it returned normally, else empty.
  auto value() const { return Base::value(); }
  // gevent's minimal_ident: a small number naming the greenlet.
  std::uint64_t minimal_ident() const { return this->id(); }
  // gevent's bool(greenlet): started and not dead.
  explicit operator bool() const { return this->get_actor() && this->started() && !this->dead(); }

  // Callbacks run after it died, in registration order. A callback may take the Greenlet
  // however it likes ([](auto& g), [](const auto& g), by value) or take nothing. An AsyncResult
  // (or anything with set/set_exception) can be the target instead, as gevent's
  // g.link(result): it receives the value, or the exception (GreenletExit for a killed
  // greenlet); it must outlive the greenlet's end.
  template <class F>
  grove::CallbackId link(F&& callback) const {
    return grove::ActorRef::link(wrap(std::forward<F>(callback)));
  }
  template <class F>
  grove::CallbackId link_value(F&& callback) const {
    return grove::ActorRef::link_value(wrap(std::forward<F>(callback)));
  }
  template <class F>
  grove::CallbackId link_exception(F&& callback) const {
    return grove::ActorRef::link_exception(wrap(std::forward<F>(callback)));
  }
  template <class F>
  grove::CallbackId rawlink(F&& callback) const {
    return grove::ActorRef::rawlink(wrap(std::forward<F>(callback)));
  }
  using grove::ActorRef::has_links;
  using grove::ActorRef::unlink;
  using grove::ActorRef::unlink_all;

  // gevent's exc_info: the exception the greenlet died of, its type and message; empty (false)
  // when it did not fail.
  struct ExcInfo {
    std::exception_ptr value;
    std::string type;
    std::string message;
    explicit operator bool() const noexcept { return static_cast<bool>(value); }
  };
  ExcInfo exc_info() const {
    ExcInfo info;
    info.value = this->exception();
    if (info.value) {
      grove::ExceptionInfo d = grove::describe_exception(info.value);
      info.type = std::move(d.type);
      info.message = std::move(d.what);
    }
    return info;
  }

 private:
  grove::ActorBase* get_actor() const { return grove::ActorRef::get(); }

  template <class R>
  static constexpr bool is_result_target =
      requires(R& r, std::exception_ptr e) { r.set_exception(e); };

  template <class F>
  static grove::LinkCallback wrap(F&& callback) {
    using Fn = std::remove_cvref_t<F>;
    if constexpr (is_result_target<Fn> && !std::is_invocable_v<Fn&, Greenlet&>) {
      static_assert(std::is_lvalue_reference_v<F>, "link(result): the result must be an lvalue");
      Fn* target = &callback;  // referenced, not copied
      return [target](const grove::ActorRef& a) {
        Greenlet g(Base(static_cast<grove::TypedActor<T>*>(a.get())));
        if (auto e = g.exception()) {
          target->set_exception(e);
        } else if (!g.value()) {
          target->set_exception(std::make_exception_ptr(GreenletExit(g.exit_reason().to_string())));
        } else if constexpr (std::is_void_v<T>) {
          target->set();
        } else {
          target->set(*g.value());
        }
      };
    } else {
      return [callback = Fn(std::forward<F>(callback))](const grove::ActorRef& a) mutable {
        Greenlet g(Base(static_cast<grove::TypedActor<T>*>(a.get())));
        if constexpr (std::is_invocable_v<Fn&, Greenlet&>) {
          callback(g);
        } else {
          static_assert(std::is_invocable_v<Fn&>,
                        "a link callback takes the Greenlet (any way) or nothing");
          callback();
        }
      };
    }
  }
};

// What spawn(options, run, args...) takes: name, stack_size (bytes; 0 = default), and the
// core's other spawn options.
using SpawnOptions = grove::ActorOptions;

// spawn(run, args...): create and schedule a greenlet.
template <class F, class... Args>
  requires(!std::is_same_v<std::decay_t<F>, SpawnOptions>)
auto spawn(F&& run, Args&&... args) {
  auto g = grove::spawn(std::forward<F>(run), std::forward<Args>(args)...);
  return Greenlet<typename decltype(g)::result_type>(std::move(g));
}

// spawn(options, run, args...): with a name and a stack size, e.g.
// gevent::spawn({.name = "worker", .stack_size = 256 * 1024}, work).
template <class F, class... Args>
auto spawn(SpawnOptions options, F&& run, Args&&... args) {
  auto g = grove::spawn_opt(std::move(options), std::forward<F>(run), std::forward<Args>(args)...);
  return Greenlet<typename decltype(g)::result_type>(std::move(g));
}

// kill(greenlet, exception, block, timeout): Greenlet::kill as a function (gevent.kill).
template <class G>
void kill(const G& greenlet, std::exception_ptr exception = nullptr, bool block = true,
          Seconds timeout = std::nullopt) {
  Greenlet<typename G::result_type>(greenlet).kill(std::move(exception), block, timeout);
}

// spawn_later(seconds, run, args...): create now, start after `seconds`.
template <class F, class... Args>
auto spawn_later(double seconds, F&& run, Args&&... args) {
  grove::ActorOptions options;
  options.start = false;
  auto g = grove::spawn_opt(options, std::forward<F>(run), std::forward<Args>(args)...);
  g.start_later(seconds);
  return Greenlet<typename decltype(g)::result_type>(std::move(g));
}

// spawn_raw(run, args...): a bare fiber with no result, links or mailbox — the cheapest way to
// run something concurrently.
template <class F, class... Args>
grove::FiberRef spawn_raw(F&& run, Args&&... args) {
  return grove::spawn_fiber(
      [run = std::forward<F>(run), tup = std::make_tuple(std::forward<Args>(args)...)]() mutable {
        std::apply(run, std::move(tup));
      });
}

// sleep(seconds): 0 lets every other ready greenlet run once.
inline void sleep(double seconds = 0) { grove::sleep(seconds); }

// idle(): waits until the hub has nothing else ready to run.
inline void idle() {
  grove::Hub& hub = grove::Hub::current();
  do {
    grove::yield();
  } while (hub.stats().ready > 0);
}

// The running fiber (a greenlet-actor, a raw fiber, or the thread's main fiber).
inline grove::Fiber& getcurrent() { return grove::Hub::current().current_fiber(); }

// wait() with no objects: runs the hub until nothing is left that could ever wake the caller —
// no greenlet ready, no timer, no I/O watcher, no thread job — and returns true then; false when
// `timeout` passed first (gevent.wait() / get_hub().join()). Call from the thread's main
// greenlet: from another greenlet it would wait for itself (std::logic_error).
inline bool wait(Seconds timeout = std::nullopt) {
  grove::Hub& hub = grove::Hub::current();
  if (!hub.in_main_fiber()) {
    throw std::logic_error("gevent::wait() without objects: only from the main greenlet");
  }
  grove::Waiter waiter;
  try {
    (void)waiter.wait(deadline_of(timeout), "gevent.wait()");  // nobody wakes it
    return false;
  } catch (const LoopExit&) {
    return true;
  }
}

namespace threadpool {
class ThreadPool;
ThreadPool& hub_threadpool();  // facade/threadpool.h
}  // namespace threadpool

// The hub, as gevent's get_hub() shows it: join() (the same as wait() without objects), the
// attribute `threadpool` (this thread's gevent::threadpool::ThreadPool, as
// threadpool::hub_threadpool() gives it: include facade/threadpool.h to call it), and the core
// hub's own calls through -> (stats, set_error_handler, run_info, ...).
class HubHandle {
 public:
  explicit HubHandle(grove::Hub& hub)
      : threadpool(::gevent::threadpool::hub_threadpool()), hub_(&hub) {}

  // gevent's hub.threadpool. Binding it makes the pool (no thread starts until a job is given).
  ::gevent::threadpool::ThreadPool& threadpool;

  bool join(Seconds timeout = std::nullopt) const { return gevent::wait(timeout); }
  grove::Hub* operator->() const noexcept { return hub_; }
  operator grove::Hub&() const noexcept { return *hub_; }  // NOLINT
  grove::HubStats stats() const { return hub_->stats(); }
  void set_error_handler(grove::ErrorHandler handler) const {
    hub_->set_error_handler(std::move(handler));
  }
  std::string run_info() const { return hub_->run_info(); }

 private:
  grove::Hub* hub_;
};
inline HubHandle get_hub() { return HubHandle(grove::Hub::current()); }

// ---- waiting on many things -----------------------------------------------------------------

// iwait(objects, timeout, count): hands out the objects (greenlets, or pointers to Events and
// AsyncResults) as they become ready, in the order they do; next() returns nullopt after `count`
// objects (default all) or when `timeout` passed. The core's grove::IWait (actors/iwait.h).
template <class W>
using IWait = grove::IWait<W>;

template <class W>
IWait<W> iwait(std::vector<W> objects, Seconds timeout = std::nullopt,
               std::optional<std::size_t> count = std::nullopt) {
  return IWait<W>(std::move(objects), deadline_of(timeout), count);
}
// Any other range (std::array, std::list, a span, ...) and braced lists: iwait({a, b}).
template <class Range>
  requires(requires(const Range& r) { std::begin(r); std::end(r); })
auto iwait(const Range& objects, Seconds timeout = std::nullopt,
           std::optional<std::size_t> count = std::nullopt) {
  using W = std::decay_t<decltype(*std::begin(objects))>;
  return IWait<W>(std::vector<W>(std::begin(objects), std::end(objects)), deadline_of(timeout),
                  count);
}
template <class W>
IWait<W> iwait(std::initializer_list<W> objects, Seconds timeout = std::nullopt,
               std::optional<std::size_t> count = std::nullopt) {
  return IWait<W>(std::vector<W>(objects), deadline_of(timeout), count);
}
// Greenlets of different result types: iwait({int_greenlet, string_greenlet}) hands out
// grove::ActorRef handles.
inline IWait<grove::ActorRef> iwait(std::initializer_list<grove::ActorRef> objects,
                                    Seconds timeout = std::nullopt,
                                    std::optional<std::size_t> count = std::nullopt) {
  return IWait<grove::ActorRef>(std::vector<grove::ActorRef>(objects), deadline_of(timeout),
                                count);
}

// wait(objects, timeout, count): the objects that became ready (at most `count`) before
// `timeout`, in the order they did.
template <class W>
std::vector<W> wait(std::vector<W> objects, Seconds timeout = std::nullopt,
                    std::optional<std::size_t> count = std::nullopt) {
  return grove::wait(std::move(objects), deadline_of(timeout), count);
}

// joinall(greenlets, timeout, raise_error, count): waits for them; returns the finished ones.
// With raise_error, the first failure is rethrown (after it finished).
namespace internal {
template <class G>
std::vector<G> join_each(IWait<G> it, bool raise_error) {
  std::vector<G> done;
  while (auto g = it.next()) {
    if (raise_error && g->exception()) std::rethrow_exception(g->exception());
    done.push_back(std::move(*g));
  }
  return done;
}
}  // namespace internal

// Any range of greenlets: a vector, an array, a list, ...
template <class Range>
  requires(requires(const Range& r) { std::begin(r); std::end(r); })
auto joinall(const Range& greenlets, Seconds timeout = std::nullopt, bool raise_error = false,
             std::optional<std::size_t> count = std::nullopt) {
  return internal::join_each(iwait(greenlets, timeout, count), raise_error);
}
// joinall({a, b}): greenlets of one type...
template <class G>
std::vector<G> joinall(std::initializer_list<G> greenlets, Seconds timeout = std::nullopt,
                       bool raise_error = false, std::optional<std::size_t> count = std::nullopt) {
  return internal::join_each(iwait(greenlets, timeout, count), raise_error);
}
// ... or of different result types (then the finished ones come back as grove::ActorRef).
inline std::vector<grove::ActorRef> joinall(std::initializer_list<grove::ActorRef> greenlets,
                                            Seconds timeout = std::nullopt,
                                            bool raise_error = false,
                                            std::optional<std::size_t> count = std::nullopt) {
  return internal::join_each(iwait(greenlets, timeout, count), raise_error);
}

// killall(greenlets, exception, block, timeout): kills them all; with block, waits, and throws
// Timeout if `timeout` passes first (unlike Greenlet::kill, which swallows it).
template <class Range>
void killall(const Range& greenlets, std::exception_ptr exception = nullptr,
             bool block = true, Seconds timeout = std::nullopt) {
  for (const auto& g : greenlets) {
    if (exception) {
      g.grove::ActorRef::kill(exception);
    } else {
      g.grove::ActorRef::kill();
    }
  }
  if (!block) return;
  const grove::Deadline deadline = deadline_of(timeout);
  for (const auto& g : greenlets) {
    if (!g.grove::ActorRef::join(deadline)) throw Timeout::unarmed(timeout.value_or(0.0));
  }
}

// with_timeout(seconds, run, args...): run(args...) in the calling greenlet under a Timeout.
template <class F, class... Args>
auto with_timeout(double seconds, F&& run, Args&&... args) {
  Timeout t(seconds);
  return std::invoke(std::forward<F>(run), std::forward<Args>(args)...);
}

// with_timeout_value(seconds, timeout_value, run, args...): returns `timeout_value` instead of
// throwing when the timeout expires (gevent's with_timeout(..., timeout_value=...)).
template <class R, class F, class... Args>
R with_timeout_value(double seconds, R timeout_value, F&& run, Args&&... args) {
  Timeout t(seconds);
  try {
    return std::invoke(std::forward<F>(run), std::forward<Args>(args)...);
  } catch (const Timeout& e) {
    if (!(e == t)) throw;
    return timeout_value;
  }
}

}  // namespace gevent
