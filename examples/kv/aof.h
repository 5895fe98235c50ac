// examples/kv/aof.h — the append-only file: every write command, in RESP, replayed at start.
//
// Model (redis-server's AOF, simplified): a write command that changed the data appends its
// canonical form to an in-memory buffer (relative expiries are logged as absolute PEXPIREAT, so a
// replay tomorrow gives the same result). Before a connection sends the replies of a batch it
// calls write_pending(): the buffer goes to the kernel in one write(2), so a reply the client has
// seen is at least in the page cache — it survives `kill -9` of the server, whatever the fsync
// policy. What survives a machine crash depends on the policy:
//   - always:   the connection also waits (wait_durable) until an fsync covering its bytes has
//               completed; the persistence actor batches the waiting connections into one fsync
//               (group commit), so 50 clients cost one fsync, not 50;
//   - everysec: the persistence actor fsyncs once a second;
//   - no:       the kernel decides.
// fsync always runs on a worker thread (grove::run_in_thread): the hub never blocks on the disk.
//
// Replay: open() reads the file and hands each request to `apply`. A torn last record (the
// server died mid-write) is dropped and the file truncated to the last whole record, with one
// spdlog line; garbage in the middle is an error (the server refuses to start, as redis does).
//
// Rewrite (BGREWRITEAOF, kv/aof_rewrite.h): while a rewrite runs, writes still go to this file
// as always; the rewrite is told which keys were written meanwhile (note_write/note_flush) and
// finally hands over the compacted file, which replaces this one atomically (rename) and
// receives every write from then on (replace_file).
//
// Thread: one hub. The persistence actor runs run_syncer(); everything else is called by
// connections. The object outlives the actors (main owns it), so a restarted persistence actor
// continues where the last one stopped.
//
//   auto aof = kv::AppendOnlyFile::open("data.aof", kv::FsyncPolicy::kEverySec, apply_request);
//   aof->append({"SET", "k", "v"});
//   aof->write_pending();
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "actors/event.h"
#include "hub/wait.h"

namespace kv {

enum class FsyncPolicy { kAlways, kEverySec, kNo };
const char* to_string(FsyncPolicy policy);
bool parse_fsync_policy(std::string_view text, FsyncPolicy& policy);

class AppendOnlyFile {
 public:
  using ApplyFn = std::function<void(const std::vector<std::string_view>& args)>;

  // Opens (creating) `path`, replays it through `apply`, and positions for appending. Throws
  // std::runtime_error when the file cannot be opened or is corrupt before its last record.
  static std::unique_ptr<AppendOnlyFile> open(const std::string& path, FsyncPolicy policy,
                                              const ApplyFn& apply);
  // kv_server --threads N (kv/shards.h): a shard's log, which holds no file. write_pending()
  // returns once every record appended before the call is in the one file (and fsynced under
  // `always`), whichever fiber of the hub forwarded it; wait_durable() has nothing to add.
  //
  // One chunk at a time per shard: the first fiber that finds none in flight takes everything
  // pending as the next chunk, numbered `seq` (1, 2, ...), and hands it to `forward`, which
  // returns once the writer has it in the file — resending the same chunk, same number, to a
  // restarted writer if the writer died meanwhile (kv/shards.cc: forward_records). Fibers that
  // come meanwhile wait and their records go in the next chunk. A chunk stays here until it is
  // acknowledged, so a flushing fiber that is killed leaves it to the next one; the writer
  // drops a chunk it already has (take_forwarded), so a resend never logs a record twice and
  // one shard's records keep their order.
  using Forward =
      std::function<bool(const std::string& records, std::uint64_t seq, FsyncPolicy policy)>;
  static std::unique_ptr<AppendOnlyFile> forwarding(std::string path, FsyncPolicy policy,
                                                    Forward forward);
  ~AppendOnlyFile();

  FsyncPolicy policy() const { return policy_; }
  // CONFIG SET appendfsync: the syncer follows from its next step. Clients already waiting
  // under `always` are still served by the next fsync.
  void set_policy(FsyncPolicy policy);
  const std::string& path() const { return path_; }

  // Appends one command in RESP to the buffer (no system call).
  void append(std::initializer_list<std::string_view> args);
  void append(const std::vector<std::string_view>& args);
  // Records as they are, already in RESP.
  void append_raw(std::string_view records) { pending_.append(records); }
  // The aof-writer's input: chunk `seq` of shard `shard`, appended unless this file already
  // has it (a resend after the writer restarted; chunks of one shard come in order, one at a
  // time). False when it was a resend.
  bool take_forwarded(std::size_t shard, std::uint64_t seq, std::string_view records);
  bool has_pending() const {
    return !pending_.empty() || (forward_ && acknowledged_ < written_);
  }
  // One write(2) of the buffer. Hub thread (a page-cache write; it does not wait for the disk).
  void write_pending();
  // Under `always`: parks the calling fiber until every byte written so far is fsynced.
  void wait_durable();
  // Body of the persistence actor: fsyncs by the policy, forever.
  void run_syncer();
  // At shutdown: write and fsync everything, on this thread.
  void flush_and_sync();

  // --- rewrite support (kv/aof_rewrite.h) ---
  // The keys written since begin_rewrite(), and whether the data was flushed meanwhile.
  void begin_rewrite();
  void end_rewrite() { rewriting_ = false; touched_.clear(); }
  bool rewriting() const { return rewriting_; }
  void note_write(std::string_view key) {
    if (rewriting_) touched_.emplace(key);
  }
  void note_flush() {
    if (rewriting_) flushed_ = true;
  }
  std::unordered_set<std::string> take_touched() { return std::exchange(touched_, {}); }
  bool take_flushed() { return std::exchange(flushed_, false); }
  // Writes what is pending to the current file, renames `path` (the rewritten file, open as
  // `fd`, `size` bytes long) over path() and appends to it from now on. The old descriptor is
  // closed once no fsync uses it. Throws std::runtime_error when the rename fails (nothing
  // changed then).
  void replace_file(const std::string& path, int fd, std::uint64_t size);
  std::uint64_t file_size() const { return file_size_; }
  std::uint64_t base_size() const { return base_size_; }
  // Where a rewrite writes before it is renamed (a left-over one is removed by open()).
  std::string rewrite_path() const { return path_ + ".rewrite"; }

  std::uint64_t written_bytes() const { return written_; }
  std::uint64_t synced_bytes() const { return synced_; }
  std::uint64_t fsyncs() const { return fsyncs_; }

 private:
  AppendOnlyFile(std::string path, FsyncPolicy policy, int fd);
  void sync_once();  // fsync on a worker thread; wakes the durability waiters
  void forward_pending();  // write_pending of a forwarding log

  std::string path_;
  FsyncPolicy policy_;
  int fd_;
  std::string pending_;
  std::uint64_t written_ = 0;   // bytes handed to the kernel
  std::uint64_t synced_ = 0;    // bytes known to be on disk
  std::uint64_t fsyncs_ = 0;
  std::uint64_t file_size_ = 0;  // bytes in the current file
  std::uint64_t base_size_ = 0;  // its size when it was opened or last rewritten
  bool rewriting_ = false;
  bool flushed_ = false;
  std::unordered_set<std::string> touched_;
  int syncs_in_flight_ = 0;       // fsyncs running on a worker thread
  std::vector<int> retired_fds_;  // replaced files, closed when no fsync runs
  grove::Event sync_wanted_;         // a connection waits under `always`
  grove::WaitList durable_waiters_;  // connections waiting for synced_ to pass their bytes
  Forward forward_;                   // set: a forwarding log (no fd)
  std::uint64_t acknowledged_ = 0;    // forwarded bytes the writer has in the file
  grove::WaitList acknowledged_waiters_;
  bool flushing_ = false;             // a fiber is forwarding `in_flight_`
  std::string in_flight_;             // the chunk being forwarded, until acknowledged
  std::uint64_t in_flight_seq_ = 0;
  std::uint64_t in_flight_end_ = 0;   // written_ once it is acknowledged
  std::uint64_t next_seq_ = 1;
  std::vector<std::uint64_t> taken_seq_;  // the writer's side: last chunk taken, by shard
};

}  // namespace kv
