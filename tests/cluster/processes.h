// tests/cluster/processes.h — the real processes a cluster test runs beside itself: a
// nats-server on an ephemeral port (JetStream in a temporary directory) and node processes.
// Waits go through grove::sleep, so the test's hub keeps running while it polls.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "hub/hub.h"

extern char** environ;

namespace grove::cluster::testing {

// A child process, killed (SIGKILL) and reaped when the handle goes.
class Process {
 public:
  Process() = default;
  explicit Process(std::vector<std::string> argv) {
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    if (const int e = ::posix_spawn(&pid_, args[0], nullptr, nullptr, args.data(), environ); e != 0) {
      throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(e));
    }
  }
  Process(Process&& o) noexcept : pid_(std::exchange(o.pid_, -1)) {}
  Process& operator=(Process&& o) noexcept {
    std::swap(pid_, o.pid_);
    return *this;
  }
  ~Process() { signal(SIGKILL); }

  // Sends `sig` and reaps the process; returns its wait status (-1 if it was reaped before).
  int signal(int sig) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

inline std::filesystem::path make_temp_dir(const std::string& stem) {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/" + stem + "-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return pattern;
}

inline bool port_accepts(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// Debian installs nats-server in /usr/sbin (off the tests' PATH).
inline std::string nats_server_program() {
  for (const char* p : {"/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"}) {
    if (::access(p, X_OK) == 0) return p;
  }
  throw std::runtime_error("nats-server is not installed (scripts/setup installs it)");
}

// nats-server with JetStream, on 127.0.0.1 and a port the kernel picks at the first start; a
// restart keeps the port and the store.
class NatsServer {
 public:
  NatsServer() : dir_(make_temp_dir("nats")) { start(); }
  ~NatsServer() {
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  void start() {
    process_ = Process({nats_server_program(), "-a", "127.0.0.1", "-p", port_ == 0 ? "-1" : std::to_string(port_),
                        "-js", "-sd", (dir_ / "js").string(), "--ports_file_dir", dir_.string(), "-l",
                        (dir_ / "server.log").string()});
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    if (port_ == 0) {
      const auto ports_file = dir_ / ("nats-server_" + std::to_string(process_.pid()) + ".ports");
      const std::regex client(R"(nats://[0-9.]+:([0-9]+))");
      while (port_ == 0) {
        if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("nats-server did not start");
        std::ifstream in(ports_file);
        std::stringstream text;
        text << in.rdbuf();
        std::smatch m;
        const std::string s = text.str();
        if (std::regex_search(s, m, client)) port_ = std::stoi(m[1]);
        if (port_ == 0) grove::sleep(0.05);
      }
    }
    while (!port_accepts(port_)) {
      if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("nats-server is not listening");
      grove::sleep(0.05);
    }
  }
  void stop() { process_.signal(SIGTERM); }

  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }

 private:
  std::filesystem::path dir_;
  int port_ = 0;
  Process process_;
};

// The peer node program (tests/cluster/peer.cc) from the test's runfiles.
inline std::string peer_program() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  return std::string(srcdir != nullptr ? srcdir : ".") + "/" + (workspace != nullptr ? workspace : "grove") +
         "/tests/cluster/cluster_peer";
}

}  // namespace grove::cluster::testing
