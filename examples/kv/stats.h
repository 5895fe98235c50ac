// examples/kv/stats.h — the process figures INFO reports: memory, CPU time, and the
// instantaneous command rate.
//
// Model: memory and CPU are read when INFO asks (the allocator's statistics, /proc, getrusage);
// the command rate is redis-server's: commands_processed is sampled every 100 ms (by the expiry
// actor, which ticks at that rate) into a ring of 16 samples, and INFO reports the mean rate over
// the ring.
//
// Thread: the server's hub.
#pragma once

#include <cstdint>
#include <string>

namespace kv {

struct Server;

struct ProcessMemory {
  std::uint64_t used = 0;  // bytes the allocator handed out and not yet freed
  std::uint64_t rss = 0;   // resident set size
};
ProcessMemory process_memory();

struct CpuTimes {
  double user = 0, sys = 0, children_user = 0, children_sys = 0;  // seconds
};
CpuTimes cpu_times();

// "1.50M", "12.00K", "512B": redis-server's bytesToHuman.
std::string bytes_to_human(std::uint64_t bytes);

// Records commands_processed now (every 100 ms).
void sample_ops(Server& server, std::int64_t now_ms);
// The mean rate over the last samples, in commands per second.
std::uint64_t instantaneous_ops_per_sec(const Server& server);

}  // namespace kv
