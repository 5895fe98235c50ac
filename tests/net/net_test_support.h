// tests/net/net_test_support.h — small helpers shared by the net tests: open-fd counts, IPv6
// availability, temporary directories, and child processes (dnsmasq, openssl) whose output a
// fiber can read cooperatively.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "hub/hub.h"
#include "hub/wait.h"
#include "net/wait.h"

namespace grove::net::testing {

// ThreadSanitizer maps ~1.2 MB of trace per fiber it knows and runs everything 5-15x slower:
// tests that spawn ten thousand fibers scale down under it (and say so).
#if defined(__SANITIZE_THREAD__)
inline constexpr bool kThreadSanitizer = true;
#else
inline constexpr bool kThreadSanitizer = false;
#endif

// Open descriptors of this process (entries of /proc/self/fd, minus the one listing them).
inline int count_open_fds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int n = 0;
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] != '.') ++n;
  }
  ::closedir(dir);
  return n - 1;
}

// Epoll instances this process holds (descriptors linking to "anon_inode:[eventpoll]").
inline int count_epoll_fds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int n = 0;
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    char target[64] = {};
    const std::string path = std::string("/proc/self/fd/") + e->d_name;
    const ssize_t len = ::readlink(path.c_str(), target, sizeof target - 1);
    if (len > 0 && std::string(target, static_cast<std::size_t>(len)) == "anon_inode:[eventpoll]") {
      ++n;
    }
  }
  ::closedir(dir);
  return n;
}

// True when a TCP socket can bind to [::1].
inline bool ipv6_loopback_available() {
  const int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// A fresh directory under /tmp, removed with its contents on destruction. (Not $TEST_TMPDIR:
// Bazel's is longer than a Unix socket path may be.)
class TempDir {
 public:
  TempDir() {
    std::string pattern = "/tmp/grove-net-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  void write(const std::string& name, const std::string& text) const {
    std::ofstream(file(name)) << text;
  }

 private:
  std::string path_;
};

// Raises the soft RLIMIT_NOFILE to the hard limit; returns the new soft limit.
inline rlim_t raise_fd_limit() {
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &rl);
  ::getrlimit(RLIMIT_NOFILE, &rl);
  return rl.rlim_cur;
}

// A child process with its stdout+stderr on a non-blocking pipe (and optionally stdin). Killed
// (SIGTERM, then SIGKILL) and reaped on destruction.
class Subprocess {
 public:
  explicit Subprocess(const std::vector<std::string>& argv, bool with_stdin = false) {
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
    int in[2] = {-1, -1};
    if (with_stdin && ::pipe2(in, O_CLOEXEC) != 0) throw std::runtime_error("pipe2");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, out[1], 2);
    if (with_stdin) {
      posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    } else {
      posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const int rc = ::posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), ::environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    if (with_stdin) ::close(in[0]);
    if (rc != 0) {
      ::close(out[0]);
      if (with_stdin) ::close(in[1]);
      throw std::runtime_error("posix_spawn " + argv[0] + ": " + std::strerror(rc));
    }
    out_ = out[0];
    in_ = in[1];
    ::fcntl(out_, F_SETFL, O_NONBLOCK);
    if (in_ >= 0) ::fcntl(in_, F_SETFL, O_NONBLOCK);
  }
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;
  ~Subprocess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      for (int i = 0; i < 200; ++i) {
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
          pid_ = -1;
          break;
        }
        ::usleep(5000);
      }
      if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
      }
    }
    if (out_ >= 0) ::close(out_);
    if (in_ >= 0) ::close(in_);
  }

  pid_t pid() const { return pid_; }
  int stdout_fd() const { return out_; }

  // Reads output cooperatively until `needle` appears or `seconds` pass; returns all output so far.
  // Throws std::runtime_error on timeout or end of output without the needle.
  const std::string& read_until(const std::string& needle, double seconds) {
    const Deadline deadline = Deadline::after(seconds);
    while (output_.find(needle) == std::string::npos) {
      char buf[4096];
      const ssize_t n = ::read(out_, buf, sizeof buf);
      if (n > 0) {
        output_.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (n == 0) throw std::runtime_error("child output ended before \"" + needle + "\":\n" + output_);
      if (errno != EAGAIN) throw std::runtime_error("read from child failed");
      if (deadline.passed() ||
          wait_read(out_, deadline.remaining(), OnTimeout::silent()) == 0) {
        throw std::runtime_error("timed out waiting for \"" + needle + "\" from child:\n" + output_);
      }
    }
    return output_;
  }
  const std::string& output() const { return output_; }

  // Writes to the child's stdin (small writes only; the pipe is not full in tests).
  void write_stdin(const std::string& text) {
    if (::write(in_, text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
      throw std::runtime_error("write to child stdin failed");
    }
  }
  void close_stdin() {
    if (in_ >= 0) ::close(in_);
    in_ = -1;
  }

  // Waits (cooperatively polling) for the child to exit; returns its exit status or nullopt.
  std::optional<int> wait_exit(double seconds) {
    const Deadline deadline = Deadline::after(seconds);
    while (!deadline.passed()) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      grove::sleep(0.01);
    }
    return std::nullopt;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  int in_ = -1;
  std::string output_;
};

// Runs a command to completion (blocking; for test setup outside fibers). Throws on failure.
inline void run_command(const std::string& command) {
  const int rc = std::system(command.c_str());
  if (rc != 0) throw std::runtime_error("command failed (" + std::to_string(rc) + "): " + command);
}

}  // namespace grove::net::testing
