// hub/thread_pool.cc — worker threads and the hand-back to the waiting fiber's hub.
#include "hub/thread_pool.h"

#include <pthread.h>
#include <signal.h>

#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "hub/internal/env.h"

namespace grove {

struct ThreadPool::Impl {
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<std::function<void()>> jobs;
  std::vector<std::thread> workers;
  std::size_t max_workers = 10;
  std::size_t idle = 0;
  bool stopping = false;

  void work() {
    std::unique_lock lock(mutex);
    for (;;) {
      ++idle;
      ready.wait(lock, [&] { return stopping || !jobs.empty(); });
      --idle;
      if (jobs.empty()) return;  // stopping
      std::function<void()> job = std::move(jobs.front());
      jobs.pop_front();
      lock.unlock();
      job();
      job = nullptr;
      lock.lock();
    }
  }
};

ThreadPool::ThreadPool() : impl_(std::make_unique<Impl>()) {
  impl_->max_workers = internal::env_count("GROVE_THREADPOOL_SIZE", 1, 4096, impl_->max_workers);
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->ready.notify_all();
  for (auto& t : impl_->workers) t.join();
}

ThreadPool& ThreadPool::shared() {
  static ThreadPool pool;
  return pool;
}

std::size_t ThreadPool::size() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->workers.size();
}

void ThreadPool::submit(std::function<void()> job) {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->jobs.push_back(std::move(job));
    // Start workers lazily, one per job that finds nobody idle, up to the limit.
    if (impl_->idle < impl_->jobs.size() && impl_->workers.size() < impl_->max_workers) {
      // A worker takes no asynchronous signal: it starts with them all blocked (a thread
      // inherits its creator's mask), so a process-directed SIGINT/SIGTERM goes to a thread that
      // handles it (a servers::SignalWatch's hub thread reads it from its signalfd), never to a
      // worker started before that watch, where its default action would end the process.
      // Faults (SIGSEGV, ...) stay deliverable: they are raised on the thread that caused them.
      sigset_t blocked, previous;
      ::sigfillset(&blocked);
      for (int fault : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS}) {
        ::sigdelset(&blocked, fault);
      }
      ::pthread_sigmask(SIG_BLOCK, &blocked, &previous);
      impl_->workers.emplace_back([impl = impl_.get()] { impl->work(); });
      ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    }
  }
  impl_->ready.notify_one();
}

namespace internal {

namespace {
// What the worker and the waiting fiber share; the fiber may be gone when the job ends.
struct Handback {
  std::shared_ptr<BlockingJob> job;
  Waiter* waiter = nullptr;  // null once the fiber stopped waiting
  bool done = false;
};
}  // namespace

void run_blocking(std::shared_ptr<BlockingJob> job) {
  Hub& hub = Hub::current();
  auto handback = std::make_shared<Handback>();
  handback->job = std::move(job);
  RemoteHub remote = hub.remote();
  hub.ref_external();
  ThreadPool::shared().submit([handback, remote] {
    handback->job->run();
    remote.post([handback] {
      handback->done = true;
      Hub::current().unref_external();
      if (handback->waiter != nullptr) handback->waiter->wake();
    });
  });
  // Shielded: the job may use the caller's stack (the `[&]` idiom), so the caller must not
  // unwind before the job is done. A kill or timeout that arrives meanwhile is thrown at the
  // caller's next wait point, right after this returns.
  Waiter waiter;
  handback->waiter = &waiter;
  struct Forget {
    Handback* h;
    ~Forget() { h->waiter = nullptr; }
  } forget{handback.get()};
  while (!handback->done) waiter.wait_shielded("run_in_thread");
  Hub::current().interruption_point();
}

}  // namespace internal
}  // namespace grove
