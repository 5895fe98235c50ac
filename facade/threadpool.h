// facade/threadpool.h — gevent.threadpool: ThreadPool and ThreadPoolExecutor, over
// hub/thread_pool.h.
//
//   ThreadPool pool(maxsize)  at most `maxsize` worker threads, started as jobs need them.
//   spawn(f, args...)         queues f(args...) and returns at once a ThreadResult<R> (gevent's
//                             AsyncResult): get(block, timeout), wait(timeout), ready(),
//                             successful(), exception(), rawlink(); result(timeout)/done() as a
//                             concurrent.futures Future.
//   apply(f, args...)         runs it and waits for the value (rethrows its exception).
//   map(f, items)             the results in input order; imap(f, items) yields them in input
//                             order, imap_unordered(f, items) as they finish (range-for both).
//   join(timeout)             waits until no job is queued or running.
//   kill()                    drops the queued jobs (their results fail with grove::JobDropped)
//                             and lets each worker exit after its current job.
//   size() / maxsize() / set_maxsize(n)   workers now; the limit (0 stops them all).
//   submit(f, args...)        ThreadPoolExecutor's name for spawn.
//   hub_threadpool()          this thread's pool, 10 workers: gevent's get_hub().threadpool,
//                             which grove spells the same (a reference member of get_hub()).
//
// The calling greenlet waits cooperatively: the hub keeps running its other greenlets. A job
// owns copies of f and its arguments, so a caller killed while its job runs leaves it harmless:
// the job finishes and its result is dropped. apply() is the exception: it waits for its job
// even through a kill (the job may use the caller's stack), then the kill goes on.
// Thread: create and call from one hub's greenlets; the jobs run on the pool's threads and
// must not touch greenlet objects. Destruction drops the queued jobs; running ones finish on
// their threads (the threads end with the last job's result delivered).
//
//   gevent::threadpool::ThreadPool pool(3);
//   auto r = pool.spawn(expensive_hash, data);  // runs expensive_hash(copy of data)
//   std::string digest = r.get();
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "actors/event.h"
#include "actors/next_iterator.h"
#include "actors/queue.h"
#include "facade/event.h"
#include "facade/greenlet.h"
#include "hub/thread_pool.h"

namespace gevent::threadpool {

using grove::JobDropped;

// A job's outcome (gevent: the AsyncResult ThreadPool.spawn returns). Copies share one result.
template <class R>
class ThreadResult {
 public:
  ThreadResult() : state_(std::make_shared<event::AsyncResult<R>>()) {}

  R get(bool block = true, Seconds timeout = std::nullopt) const { return state_->get(block, timeout); }
  auto wait(Seconds timeout = std::nullopt) const { return state_->wait(timeout); }
  bool ready() const noexcept { return state_->ready(); }
  bool successful() const noexcept { return state_->successful(); }
  std::exception_ptr exception() const noexcept { return state_->exception(); }
  template <class F>
  grove::LinkId rawlink(F callback) const {
    return state_->rawlink([callback = std::move(callback), self = *this]() mutable { callback(self); });
  }
  // concurrent.futures.Future's names.
  R result(Seconds timeout = std::nullopt) const { return get(true, timeout); }
  bool done() const noexcept { return ready(); }

  event::AsyncResult<R>& async_result() const noexcept { return *state_; }

 private:
  std::shared_ptr<event::AsyncResult<R>> state_;
};

class ThreadPool {
 public:
  explicit ThreadPool(std::size_t maxsize = 10) : state_(std::make_shared<State>(maxsize)) {}
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  // Drops the queued jobs (their results fail with JobDropped); running jobs finish on their
  // threads and their results are delivered to whoever still holds them.
  ~ThreadPool() { (void)state_->pool.cancel_queued(); }

  template <class F, class... Args>
  auto spawn(F&& f, Args&&... args) {
    using R = std::invoke_result_t<std::decay_t<F>&, std::decay_t<Args>&...>;
    ThreadResult<R> result;
    struct Outcome {
      std::optional<std::conditional_t<std::is_void_v<R>, char, R>> value;
      std::exception_ptr error;
    };
    auto outcome = std::make_shared<Outcome>();
    auto job = [fn = std::forward<F>(f), tup = std::make_tuple(std::forward<Args>(args)...),
                outcome]() mutable {
      try {
        if constexpr (std::is_void_v<R>) {
          std::apply(fn, tup);
          outcome->value.emplace('\0');
        } else {
          outcome->value.emplace(std::apply(fn, tup));
        }
      } catch (...) {
        outcome->error = std::current_exception();
      }
    };
    ++state_->outstanding;
    state_->idle.clear();
    grove::run_detached(
        state_->pool, std::move(job), [state = state_, result, outcome](bool ran) {
          auto& r = result.async_result();
          if (!ran) {
            r.set_exception(std::make_exception_ptr(JobDropped()));
          } else if (outcome->error) {
            r.set_exception(outcome->error);
          } else if constexpr (std::is_void_v<R>) {
            r.set();
          } else {
            r.set(std::move(*outcome->value));
          }
          if (--state->outstanding == 0) state->idle.set();
        });
    return result;
  }
  template <class F, class... Args>
  auto submit(F&& f, Args&&... args) {
    return spawn(std::forward<F>(f), std::forward<Args>(args)...);
  }

  template <class F, class... Args>
  auto apply(F&& f, Args&&... args) {
    auto bound = [&] { return std::invoke(f, args...); };
    ++state_->outstanding;
    state_->idle.clear();
    struct Done {
      State* s;
      ~Done() {
        if (--s->outstanding == 0) s->idle.set();
      }
    } done{state_.get()};
    return grove::run_in_thread(state_->pool, bound);
  }

  template <class F, class Range>
  auto map(F f, const Range& items) {
    using R = std::invoke_result_t<F&, const typename Range::value_type&>;
    std::vector<R> out;
    for (auto& r : spawn_all(f, items)) out.push_back(r.get());
    return out;
  }

  // Results in input order, each as soon as it and those before it are done.
  template <class R>
  class IMap {
   public:
    explicit IMap(std::vector<ThreadResult<R>> results) : results_(std::move(results)) {}
    std::optional<R> next() {
      if (next_ == results_.size()) return std::nullopt;
      return results_[next_++].get();
    }
    using iterator = grove::NextIterator<IMap, R>;
    iterator begin() { return iterator(this); }
    iterator end() { return iterator(); }

   private:
    std::vector<ThreadResult<R>> results_;
    std::size_t next_ = 0;
  };

  // Results as the jobs finish.
  template <class R>
  class IMapUnordered {
   public:
    explicit IMapUnordered(std::vector<ThreadResult<R>> results)
        : results_(std::move(results)), done_(std::make_shared<grove::Queue<std::size_t>>()) {
      for (std::size_t i = 0; i < results_.size(); ++i) {
        results_[i].async_result().rawlink([q = done_, i] { (void)q->try_put(i); });
      }
    }
    std::optional<R> next() {
      if (taken_ == results_.size()) return std::nullopt;
      auto i = done_->get();
      ++taken_;
      return results_[*i].get();
    }
    using iterator = grove::NextIterator<IMapUnordered, R>;
    iterator begin() { return iterator(this); }
    iterator end() { return iterator(); }

   private:
    std::vector<ThreadResult<R>> results_;
    std::shared_ptr<grove::Queue<std::size_t>> done_;
    std::size_t taken_ = 0;
  };

  template <class F, class Range>
  auto imap(F f, const Range& items) {
    using R = std::invoke_result_t<F&, const typename Range::value_type&>;
    return IMap<R>(spawn_all(f, items));
  }
  template <class F, class Range>
  auto imap_unordered(F f, const Range& items) {
    using R = std::invoke_result_t<F&, const typename Range::value_type&>;
    return IMapUnordered<R>(spawn_all(f, items));
  }

  // True once nothing is queued or running (false if `timeout` passed first).
  bool join(Seconds timeout = std::nullopt) {
    return state_->outstanding == 0 || state_->idle.wait(deadline_of(timeout));
  }
  // Drops the queued jobs; every worker exits after its current job. set_maxsize() revives.
  void kill() {
    state_->pool.set_max_workers(0);
    (void)state_->pool.cancel_queued();
  }
  std::size_t size() const { return state_->pool.size(); }
  std::size_t maxsize() const { return state_->pool.max_workers(); }
  void set_maxsize(std::size_t n) { state_->pool.set_max_workers(n); }
  // Jobs queued or running.
  std::size_t task_count() const noexcept { return state_->outstanding; }

 private:
  struct State {
    explicit State(std::size_t n) : pool(n) { idle.set(); }
    grove::ThreadPool pool;
    std::size_t outstanding = 0;
    grove::Event idle;
  };

  template <class F, class Range>
  auto spawn_all(F& f, const Range& items) {
    using R = std::invoke_result_t<F&, const typename Range::value_type&>;
    std::vector<ThreadResult<R>> results;
    for (const auto& item : items) results.push_back(spawn(f, item));
    return results;
  }

  std::shared_ptr<State> state_;
};

// ThreadPoolExecutor: the same pool under concurrent.futures' names (submit, shutdown).
class ThreadPoolExecutor : public ThreadPool {
 public:
  explicit ThreadPoolExecutor(std::size_t max_workers = 10) : ThreadPool(max_workers) {}
  void shutdown(bool wait = true) {
    if (wait) (void)join();
    kill();
  }
};

// This thread's pool, 10 workers started as jobs need them; also get_hub().threadpool
// (facade/threadpool.cc).
ThreadPool& hub_threadpool();

}  // namespace gevent::threadpool
