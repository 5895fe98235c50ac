// examples/kv/aof_rewrite.h — BGREWRITEAOF: compacts the append-only file while clients are
// served.
//
// Model: redis-server forks and writes the child's copy of the data; kv_server has no fork, so
// the rewrite walks the live Store cooperatively, a few thousand keys at a time, yielding to
// the connections between steps, and makes the result consistent with one rule: a key written
// while the rewrite runs (kv/events.h reports every write; AppendOnlyFile::note_write collects
// them) is written again at the end with its value at that moment — or a DEL, if it is gone.
// A key never written meanwhile still holds what the walk wrote down. So the rewritten file
// replays to the data as it is when the file replaces the old one, without a copy of the data
// set and without replaying commands twice (an INCR during the rewrite is not counted twice).
//
// Steps, on their own greenlet:
//   1. walk the hash table bucket by bucket into "<aof>.rewrite" (a key holds one SET, or a DEL
//      and RPUSH/HSET batches, plus PEXPIREAT when it expires); writes go to the page cache.
//      If the table grows (rehash) the walk starts over (keys already written are written
//      again: each key's records are idempotent); FLUSHALL/FLUSHDB truncates the file and
//      starts over;
//   2. a few rounds of "write the keys touched since the last round, fdatasync on a worker
//      thread", so the final step has little left;
//   3. without yielding: write the last touched keys, write the old file's pending records,
//      rename the new file over the old one and append to it from then on.
// Until the rename every write also goes to the old file, so `kill -9` at any point loses no
// acknowledged write: the old file is whole until the new one replaces it atomically, and a
// left-over "<aof>.rewrite" is removed at start.
//
// Types the rewrite cannot write (none today) make it fail with an error in the log and
// aof_last_bgrewrite_status:err; the old file stays in use.
//
// Thread: the server's hub.
#pragma once

#include <cstdint>
#include <string>

namespace kv {

struct Server;

struct RewriteStatus {
  bool in_progress = false;
  bool last_ok = true;
  std::uint64_t rewrites = 0;          // completed
  std::int64_t last_duration_ms = -1;  // aof_last_rewrite_time_sec comes from this
};

// Starts a rewrite on a new greenlet. False when one is running already.
bool start_aof_rewrite(Server& server);

}  // namespace kv
