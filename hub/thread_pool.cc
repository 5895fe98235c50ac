// hub/thread_pool.cc — worker threads and the hand-back to the waiting fiber's hub.
#include "hub/thread_pool.h"

#include <pthread.h>
#include <signal.h>

#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

#include "hub/internal/env.h"

namespace grove {

static_assert(sizeof(sigset_t) <= sizeof(AsyncSignalsBlocked), "AsyncSignalsBlocked holds a sigset_t");

AsyncSignalsBlocked::AsyncSignalsBlocked() noexcept {
  sigset_t blocked;
  ::sigfillset(&blocked);
  // Faults stay deliverable: they are raised on the thread that caused them.
  for (int fault : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS}) ::sigdelset(&blocked, fault);
  ::pthread_sigmask(SIG_BLOCK, &blocked, reinterpret_cast<sigset_t*>(previous_));
}

AsyncSignalsBlocked::~AsyncSignalsBlocked() {
  ::pthread_sigmask(SIG_SETMASK, reinterpret_cast<const sigset_t*>(previous_), nullptr);
}

struct ThreadPool::Impl {
  struct Entry {
    std::function<void()> job;
    std::function<void()> dropped;
  };
  struct Worker {
    std::thread thread;
    bool exited = false;
  };

  mutable std::mutex mutex;
  std::condition_variable ready;
  std::deque<Entry> jobs;
  std::list<Worker> workers;  // stable addresses: a worker marks its own entry exited
  std::size_t running = 0;    // workers not exited
  std::size_t max_workers = 10;
  std::size_t idle = 0;
  bool stopping = false;

  void work(Worker* self) {
    std::unique_lock lock(mutex);
    for (;;) {
      ++idle;
      ready.wait(lock, [&] { return stopping || running > max_workers || !jobs.empty(); });
      --idle;
      if (stopping || running > max_workers) break;
      Entry entry = std::move(jobs.front());
      jobs.pop_front();
      lock.unlock();
      entry.job();
      entry = {};
      lock.lock();
    }
    --running;
    self->exited = true;
  }

  // Joins the workers that exited (their join returns at once). Called with the lock held.
  void reap() {
    for (auto it = workers.begin(); it != workers.end();) {
      if (it->exited) {
        it->thread.join();
        it = workers.erase(it);
      } else {
        ++it;
      }
    }
  }

  // Starts a worker when a queued job finds nobody idle, up to the limit. Lock held.
  void grow() {
    reap();
    while (idle < jobs.size() && running < max_workers) {
      Worker& w = workers.emplace_back();
      ++running;
      ++idle;  // counted as idle until it takes a job, so one job starts one worker
      // A worker takes no asynchronous signal (see AsyncSignalsBlocked), even when it starts
      // before the process's SignalWatch does.
      AsyncSignalsBlocked quiet;
      w.thread = std::thread([this, &w] {
        {
          std::lock_guard lock(mutex);
          --idle;
        }
        work(&w);
      });
    }
  }

  std::deque<Entry> take_jobs() {
    std::lock_guard lock(mutex);
    return std::exchange(jobs, {});
  }
};

ThreadPool::ThreadPool() : impl_(std::make_unique<Impl>()) {
  impl_->max_workers = internal::env_count("GROVE_THREADPOOL_SIZE", 1, 4096, impl_->max_workers);
}

ThreadPool::ThreadPool(std::size_t max_workers) : impl_(std::make_unique<Impl>()) {
  impl_->max_workers = max_workers;
}

ThreadPool::~ThreadPool() {
  for (auto& entry : impl_->take_jobs()) {
    if (entry.dropped) entry.dropped();
  }
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->ready.notify_all();
  for (auto& w : impl_->workers) w.thread.join();
}

ThreadPool& ThreadPool::shared() {
  static ThreadPool pool;
  return pool;
}

std::size_t ThreadPool::size() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->running;
}

std::size_t ThreadPool::max_workers() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->max_workers;
}

std::size_t ThreadPool::queued() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->jobs.size();
}

void ThreadPool::set_max_workers(std::size_t n) {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->max_workers = n;
    impl_->grow();
  }
  impl_->ready.notify_all();
}

void ThreadPool::submit(std::function<void()> job, std::function<void()> dropped) {
  {
    std::lock_guard lock(impl_->mutex);
    impl_->jobs.push_back(Impl::Entry{std::move(job), std::move(dropped)});
    impl_->grow();
  }
  impl_->ready.notify_one();
}

std::size_t ThreadPool::cancel_queued() {
  auto jobs = impl_->take_jobs();
  for (auto& entry : jobs) {
    if (entry.dropped) entry.dropped();
  }
  return jobs.size();
}

void run_detached(ThreadPool& pool, std::function<void()> job,
                  std::function<void(bool ran)> done) {
  Hub& hub = Hub::current();
  RemoteHub remote = hub.remote();
  hub.ref_external();
  // `done` (and what it owns) must end on the hub: the worker hands it over instead of keeping a
  // copy, or the last reference to a pool could be dropped on one of the pool's own threads.
  auto cell = std::make_shared<std::function<void(bool)>>(std::move(done));
  auto post = [remote, cell](bool ran) {
    remote.post([finish = std::move(*cell), ran]() mutable {
      Hub::current().unref_external();
      finish(ran);
      finish = nullptr;
    });
  };
  pool.submit(
      [job = std::move(job), post] {
        job();
        post(true);
      },
      [post] { post(false); });
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

void run_blocking(std::shared_ptr<BlockingJob> job, ThreadPool& pool) {
  auto handback = std::make_shared<Handback>();
  handback->job = std::move(job);
  run_detached(
      pool, [handback] { handback->job->run(); },
      [handback](bool ran) {
        if (!ran) handback->job->error = std::make_exception_ptr(JobDropped());
        handback->done = true;
        if (handback->waiter != nullptr) handback->waiter->wake();
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
