// tests/integration/monkey_support.h — the servers the monkey tests drive unaware libraries
// against: kv_server started as a child process on a free port, and an HTTP server on its own
// thread and hub that answers each request only after a delay.
#pragma once

#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "hub/hub.h"
#include "hub/timeout.h"
#include "net/address.h"
#include "net/socket.h"

extern char** environ;

namespace monkey_support {

// A port nobody listens on now (bound, read back and released).
inline int free_port() {
  grove::net::Socket probe = grove::net::Socket::create();
  probe.bind(grove::net::Address::ipv4("127.0.0.1", 0));
  return probe.getsockname().port();
}

// True once something accepts TCP connections on 127.0.0.1:port (libc calls, from a thread
// without a hub: never parked).
inline bool accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const grove::net::Address address = grove::net::Address::ipv4("127.0.0.1", port);
  const bool ok = ::connect(fd, address.sockaddr_ptr(), address.length()) == 0;
  ::close(fd);
  return ok;
}

// kv_server as a child process; stopped (SIGTERM, then waited for) on destruction.
class KvServer {
 public:
  explicit KvServer(const std::string& binary) : port_(free_port()) {
    const std::string port = std::to_string(port_);
    std::vector<char*> argv = {const_cast<char*>(binary.c_str()), const_cast<char*>("--port"),
                               const_cast<char*>(port.c_str()), nullptr};
    if (::posix_spawn(&pid_, binary.c_str(), nullptr, nullptr, argv.data(), environ) != 0) {
      throw std::runtime_error("cannot start " + binary);
    }
    // Waited for on a plain thread so that this works before or after patching.
    bool up = false;
    std::thread([&] {
      for (int i = 0; i < 200 && !up; ++i) {
        up = accepts(port_);
        if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }).join();
    if (!up) throw std::runtime_error("kv_server did not start on port " + port);
  }
  ~KvServer() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  int port() const { return port_; }

 private:
  int port_;
  pid_t pid_ = -1;
};

// An HTTP/1.1 server on its own thread and hub (grove sockets, not the patched calls) that
// serves `expected` requests, each answered with its own path as the body, no sooner than
// `delay` seconds after it arrived and, when `gather` is set, not before all `expected` requests
// have arrived (or 30 s passed): with concurrent clients every request is in flight at once, so
// peak() == expected proves they were concurrent without measuring time.
class SlowHttpServer {
 public:
  SlowHttpServer(int expected, double delay, bool gather)
      : expected_(expected), delay_(delay), gather_(gather) {
    std::atomic<int> port{0};
    thread_ = std::thread([this, &port] { serve(port); });
    while (port.load() == 0) std::this_thread::yield();
    port_ = port.load();
  }
  ~SlowHttpServer() { thread_.join(); }
  int port() const { return port_; }
  int peak() const { return peak_.load(); }
  int served() const { return served_.load(); }

 private:
  void serve(std::atomic<int>& port_out) {
    grove::net::Socket listener =
        grove::net::create_server(grove::net::Address::ipv4("127.0.0.1", 0), 1024);
    port_out = listener.getsockname().port();
    std::vector<grove::FiberRef> handlers;
    listener.settimeout(60.0);
    try {
      for (int i = 0; i < expected_; ++i) {
        auto accepted = listener.accept();
        handlers.push_back(grove::spawn_fiber(
            [this, s = std::make_shared<grove::net::Socket>(std::move(accepted.socket))] {
              handle(*s);
            }));
      }
    } catch (const std::exception&) {
      // A client that never came: the test's assertions report it.
    }
    for (auto& h : handlers) (void)h->join(grove::Deadline::after(60));
    grove::Hub::destroy_current();
  }

  void handle(grove::net::Socket& s) {
    s.settimeout(30.0);
    std::string request;
    while (request.find("\r\n\r\n") == std::string::npos) {
      std::string part = s.recv(4096);
      if (part.empty()) return;
      request += part;
    }
    const double arrived = grove::Deadline::now();
    const int now = ++in_flight_;
    int seen = peak_.load();
    while (now > seen && !peak_.compare_exchange_weak(seen, now)) {
    }
    if (++arrived_ == expected_) all_arrived_.notify_all_in_hub();
    if (gather_) all_arrived_.wait_until_all(arrived_, expected_, 30.0);
    const double left = delay_ - (grove::Deadline::now() - arrived);
    if (left > 0) grove::sleep(left);
    --in_flight_;
    const std::size_t start = request.find(' ') + 1;
    const std::string path = request.substr(start, request.find(' ', start) - start);
    s.sendall("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(path.size()) +
              "\r\nConnection: close\r\n\r\n" + path);
    ++served_;
    s.close();
  }

  // Parks handlers until every request arrived (all on this server's hub).
  struct Gather {
    grove::WaitList waiting;
    void notify_all_in_hub() { (void)waiting.wake_all(); }
    void wait_until_all(const std::atomic<int>& arrived, int expected, double seconds) {
      const grove::Deadline deadline = grove::Deadline::after(seconds);
      while (arrived.load() < expected) {
        if (waiting.wait(deadline, "all requests") == grove::WaitStatus::kTimedOut) return;
      }
    }
  };

  int expected_;
  double delay_;
  bool gather_;
  int port_ = 0;
  std::atomic<int> in_flight_{0};
  std::atomic<int> peak_{0};
  std::atomic<int> arrived_{0};
  std::atomic<int> served_{0};
  Gather all_arrived_;
  std::thread thread_;
};

}  // namespace monkey_support
