// hub/runtime.cc — the hub threads of a Runtime: start, pin, stop.
#include "hub/runtime.h"

#include <pthread.h>
#include <sched.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>

#include <fmt/format.h>

namespace grove {

namespace {
thread_local Runtime* tls_runtime = nullptr;
thread_local std::size_t tls_index = 0;

std::vector<int> allowed_cpus() {
  std::vector<int> cpus;
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c) {
      if (CPU_ISSET(c, &set)) cpus.push_back(c);
    }
  }
  return cpus;
}
}  // namespace

struct Runtime::Slot {
  std::thread thread;
  Hub* hub = nullptr;
  RemoteHub remote;
  // Hub thread only: the main fiber waits here until stop() posts the request.
  bool stopping = false;
  WaitList* stop_waiters = nullptr;
};

Runtime::Runtime(RuntimeOptions options) {
  const std::vector<int> cpus = allowed_cpus();
  std::size_t n = options.threads;
  if (n == 0) n = cpus.empty() ? 1 : cpus.size();
  std::mutex mutex;
  std::condition_variable cv;
  std::size_t ready = 0;
  hubs_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) hubs_.push_back(std::make_unique<Slot>());
  for (std::size_t i = 0; i < n; ++i) {
    Slot& slot = *hubs_[i];
    const int cpu = options.pin && !cpus.empty() ? cpus[i % cpus.size()] : -1;
    slot.thread = std::thread([this, &slot, i, cpu, &mutex, &cv, &ready] {
      if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        if (int err = ::pthread_setaffinity_np(::pthread_self(), sizeof set, &set); err != 0) {
          spdlog::warn("grove: cannot pin hub {} to CPU {}: {}", i, cpu, std::strerror(err));
        }
      }
      tls_runtime = this;
      tls_index = i;
      Hub& hub = Hub::current();
      WaitList stop_waiters;
      slot.hub = &hub;
      slot.remote = hub.remote();
      slot.stop_waiters = &stop_waiters;
      {
        // Notified under the lock: the constructor's cv and mutex go away once it sees `ready`.
        std::lock_guard lock(mutex);
        ++ready;
        cv.notify_all();
      }
      run_hub(slot, i);
      slot.stop_waiters = nullptr;
      Hub::destroy_current();
      tls_runtime = nullptr;
    });
  }
  std::unique_lock lock(mutex);
  cv.wait(lock, [&] { return ready == n; });
}

void Runtime::run_hub(Slot& slot, std::size_t index) {
  Hub& hub = *slot.hub;
  hub.ref_external();  // the stop request comes from outside
  while (!slot.stopping) {
    try {
      (void)slot.stop_waiters->wait(Deadline::never(), "runtime stop");
    } catch (...) {
      hub.report_error(fmt::format("<hub {} main fiber>", index), std::current_exception());
    }
  }
  hub.unref_external();
}

Runtime::~Runtime() { stop(); }

void Runtime::stop() {
  if (stopped_) return;
  if (tls_runtime == this) {
    throw std::logic_error("grove: Runtime::stop() called from one of its own hubs");
  }
  stopped_ = true;
  for (auto& s : hubs_) {
    Slot* slot = s.get();
    slot->remote.post([slot] {
      slot->stopping = true;
      slot->stop_waiters->wake_all();
    });
  }
  for (auto& s : hubs_) s->thread.join();
}

Hub& Runtime::hub(std::size_t i) const {
  if (i >= hubs_.size()) {
    throw std::out_of_range(fmt::format("grove: Runtime has {} hubs, no hub {}", hubs_.size(), i));
  }
  return *hubs_[i]->hub;
}

RemoteHub Runtime::remote(std::size_t i) const {
  (void)hub(i);  // range check
  return hubs_[i]->remote;
}

std::optional<std::size_t> Runtime::index_of(const Hub& hub) const noexcept {
  for (std::size_t i = 0; i < hubs_.size(); ++i) {
    if (hubs_[i]->hub == &hub) return i;
  }
  return std::nullopt;
}

std::size_t Runtime::least_loaded() const noexcept {
  // Ties go round: a burst of placements sees loads that have not moved yet (a fiber counts once
  // it starts on its hub), and should not all land on one hub.
  const std::size_t n = hubs_.size();
  const std::size_t first = cursor_.fetch_add(1, std::memory_order_relaxed) % n;
  std::size_t best = first;
  std::size_t best_load = static_cast<std::size_t>(-1);
  for (std::size_t k = 0; k < n; ++k) {
    const std::size_t i = (first + k) % n;
    const std::size_t load = hubs_[i]->hub->load();
    if (load < best_load) {
      best = i;
      best_load = load;
    }
  }
  return best;
}

bool Runtime::post(std::size_t i, std::function<void()> fn) const {
  return remote(i).post(std::move(fn));
}

Runtime* Runtime::current() noexcept { return tls_runtime; }
std::size_t Runtime::current_index() noexcept { return tls_index; }

namespace internal {
void post_or_throw(const RemoteHub& to, std::function<void()> fn) {
  if (!to.post(std::move(fn))) {
    throw std::runtime_error("grove: the target hub has stopped");
  }
}
}  // namespace internal

}  // namespace grove
