// examples/kv/stats.cc — memory, CPU and command-rate figures for INFO (see stats.h).
#include "examples/kv/stats.h"

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

#include "examples/kv/server.h"

namespace kv {

ProcessMemory process_memory() {
  ProcessMemory m;
  const struct mallinfo2 info = ::mallinfo2();
  m.used = info.uordblks + info.hblkhd;
  if (std::FILE* f = std::fopen("/proc/self/statm", "r")) {
    unsigned long long size = 0, resident = 0;
    if (std::fscanf(f, "%llu %llu", &size, &resident) == 2) {
      m.rss = resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
    }
    std::fclose(f);
  }
  return m;
}

CpuTimes cpu_times() {
  auto seconds = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  CpuTimes t;
  rusage self{}, children{};
  ::getrusage(RUSAGE_SELF, &self);
  ::getrusage(RUSAGE_CHILDREN, &children);
  t.user = seconds(self.ru_utime);
  t.sys = seconds(self.ru_stime);
  t.children_user = seconds(children.ru_utime);
  t.children_sys = seconds(children.ru_stime);
  return t;
}

std::string bytes_to_human(std::uint64_t bytes) {
  const double n = static_cast<double>(bytes);
  if (bytes < 1024) return fmt::format("{}B", bytes);
  if (bytes < 1024ULL * 1024) return fmt::format("{:.2f}K", n / 1024);
  if (bytes < 1024ULL * 1024 * 1024) return fmt::format("{:.2f}M", n / (1024 * 1024));
  if (bytes < 1024ULL * 1024 * 1024 * 1024) return fmt::format("{:.2f}G", n / (1024.0 * 1024 * 1024));
  return fmt::format("{:.2f}T", n / (1024.0 * 1024 * 1024 * 1024));
}

void sample_ops(Server& server, std::int64_t now_ms) {
  server.ops_samples[server.ops_sample_next % server.ops_samples.size()] = {
      now_ms, server.commands_processed};
  ++server.ops_sample_next;
}

std::uint64_t instantaneous_ops_per_sec(const Server& server) {
  const std::size_t n = std::min(server.ops_sample_next, server.ops_samples.size());
  if (n < 2) return 0;
  const std::size_t ring = server.ops_samples.size();
  const auto& newest = server.ops_samples[(server.ops_sample_next - 1) % ring];
  const auto& oldest = server.ops_samples[(server.ops_sample_next - n) % ring];
  if (newest.ms <= oldest.ms || newest.commands < oldest.commands) return 0;
  return (newest.commands - oldest.commands) * 1000 /
         static_cast<std::uint64_t>(newest.ms - oldest.ms);
}

}  // namespace kv
