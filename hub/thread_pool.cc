// hub/thread_pool.cc — worker threads and the hand-back to the waiting fiber's hub.
#include "hub/thread_pool.h"

#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

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
  if (const char* env = std::getenv("GROVE_THREADPOOL_SIZE")) {
    const long n = std::strtol(env, nullptr, 10);
    if (n > 0) impl_->max_workers = static_cast<std::size_t>(n);
  }
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
      impl_->workers.emplace_back([impl = impl_.get()] { impl->work(); });
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
