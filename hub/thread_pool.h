// hub/thread_pool.h — run blocking functions on worker threads while the fiber waits
// cooperatively.
//
// Model: `run_in_thread(f)` hands `f` to a process-wide pool of worker threads and parks the
// calling fiber; other fibers of its hub keep running. When `f` returns, its result (or the
// exception it threw) comes back to the fiber through the hub's thread-safe inbox. While a job is
// in flight the hub counts it as something that can still wake a fiber (no LoopExit).
//
// If the waiting fiber is killed or its Timeout expires while the job runs, the fiber keeps
// waiting until the job has ended (a thread cannot be interrupted, and the job may use the
// caller's stack, as `[&]` lambdas do), then the kill or timeout is thrown and the job's result
// is dropped. So a kill can take as long as the job takes.
//
// Thread: call from any fiber (or a thread's main fiber). The shared pool starts lazily with
// up to `GROVE_THREADPOOL_SIZE` workers (default 10, gevent's default) and grows no further.
// A ThreadPool(n) of your own bounds a kind of work separately (run_in_thread(pool, f)), and
// run_detached hands a job over without waiting (the result comes back as a callback on the hub).
//
//   std::string text = grove::run_in_thread([&] { return read_whole_file(path); });
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "hub/hub.h"

namespace grove {

// While one lives, the calling thread blocks every asynchronous signal (SIGINT, SIGTERM, ...;
// faults such as SIGSEGV stay deliverable), and so does every thread created meanwhile, by grove
// or by a library, for good: a thread inherits its creator's mask. Wrap whatever starts threads
// of its own (a client library's I/O or timer threads) in one, so that a process-directed
// SIGTERM never lands on such a thread, where its default action would end the process, but on
// the thread that handles it (servers::SignalWatch reads it from a signalfd). The pool's workers
// start this way; so do cluster::Node's libnats threads.
//
//   { grove::AsyncSignalsBlocked quiet; start_library_threads(); }
class AsyncSignalsBlocked {
 public:
  AsyncSignalsBlocked() noexcept;
  ~AsyncSignalsBlocked();  // restores the caller's mask
  AsyncSignalsBlocked(const AsyncSignalsBlocked&) = delete;
  AsyncSignalsBlocked& operator=(const AsyncSignalsBlocked&) = delete;

 private:
  alignas(8) unsigned char previous_[128];  // the caller's sigset_t
};

class ThreadPool {
 public:
  // The process-wide pool run_in_thread uses (GROVE_THREADPOOL_SIZE workers, default 10).
  static ThreadPool& shared();
  // A pool of its own with at most `max_workers` threads, started lazily. Destruction drops the
  // jobs not started yet and waits for the running ones to end (it blocks the thread).
  explicit ThreadPool(std::size_t max_workers);
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;
  ~ThreadPool();

  // Thread-safe. Queues `job` for a worker. `dropped` runs instead (on the thread that drops
  // it) if the job is dropped before it starts: by cancel_queued() or the pool's destruction.
  void submit(std::function<void()> job, std::function<void()> dropped = nullptr);
  // Worker threads running now.
  std::size_t size() const;
  std::size_t max_workers() const;
  // Changes the limit. Fewer: idle workers above it exit now, busy ones after their job. 0 stops
  // every worker; queued jobs then wait until the limit is raised again.
  void set_max_workers(std::size_t n);
  // Jobs queued and not started.
  std::size_t queued() const;
  // Drops the jobs not started (calling their `dropped`); returns how many.
  std::size_t cancel_queued();

 private:
  struct Impl;
  ThreadPool();
  std::unique_ptr<Impl> impl_;
};

// What a fiber waiting on a job gets when the pool dropped the job before it started.
struct JobDropped : std::runtime_error {
  JobDropped() : std::runtime_error("the thread pool dropped the job before it started") {}
};

namespace internal {
struct BlockingJob {
  virtual ~BlockingJob() = default;
  virtual void run() noexcept = 0;  // on the worker
  std::exception_ptr error;
};
// Runs job->run() on `pool` and parks the calling fiber until it finished.
void run_blocking(std::shared_ptr<BlockingJob> job, ThreadPool& pool = ThreadPool::shared());
}  // namespace internal

// Runs `job` on a worker of `pool` without waiting, then `done` on the calling thread's hub, from
// the hub's own fiber (so `done` must not block; waking fibers and setting results is what it is
// for). Until `done` ran, the hub counts the job as something that can still wake a fiber (no
// LoopExit). If the job is dropped before it starts (cancel_queued, the pool destroyed), `done`
// still runs, with `ran` false. Hub thread only.
void run_detached(ThreadPool& pool, std::function<void()> job, std::function<void(bool ran)> done);

template <class F>
auto run_in_thread(ThreadPool& pool, F&& f) -> std::invoke_result_t<std::decay_t<F>&> {
  using Fn = std::decay_t<F>;
  using R = std::invoke_result_t<Fn&>;
  struct Job final : internal::BlockingJob {
    explicit Job(Fn fn) : fn(std::move(fn)) {}
    void run() noexcept override {
      try {
        if constexpr (std::is_void_v<R>) {
          fn();
        } else {
          value.emplace(fn());
        }
      } catch (...) {
        error = std::current_exception();
      }
    }
    Fn fn;
    std::optional<std::conditional_t<std::is_void_v<R>, char, R>> value;
  };
  auto job = std::make_shared<Job>(Fn(std::forward<F>(f)));
  internal::run_blocking(job, pool);
  if (job->error) std::rethrow_exception(job->error);
  if constexpr (!std::is_void_v<R>) return std::move(*job->value);
}

template <class F>
auto run_in_thread(F&& f) -> std::invoke_result_t<std::decay_t<F>&> {
  return run_in_thread(ThreadPool::shared(), std::forward<F>(f));
}

}  // namespace grove
