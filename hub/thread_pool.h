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
// Thread: call from any fiber (or a thread's main fiber). The pool starts lazily with
// `GROVE_THREADPOOL_SIZE` workers (default 10, gevent's default) and grows no further.
//
//   std::string text = grove::run_in_thread([&] { return read_whole_file(path); });
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "hub/hub.h"

namespace grove {

class ThreadPool {
 public:
  static ThreadPool& shared();
  // Thread-safe. Queues `job` for a worker.
  void submit(std::function<void()> job);
  std::size_t size() const;

 private:
  struct Impl;
  ThreadPool();
  ~ThreadPool();
  std::unique_ptr<Impl> impl_;
};

namespace internal {
struct BlockingJob {
  virtual ~BlockingJob() = default;
  virtual void run() noexcept = 0;  // on the worker
  std::exception_ptr error;
};
// Runs job->run() on the pool and parks the calling fiber until it finished.
void run_blocking(std::shared_ptr<BlockingJob> job);
}  // namespace internal

template <class F>
auto run_in_thread(F&& f) -> std::invoke_result_t<std::decay_t<F>&> {
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
  internal::run_blocking(job);
  if (job->error) std::rethrow_exception(job->error);
  if constexpr (!std::is_void_v<R>) return std::move(*job->value);
}

}  // namespace grove
