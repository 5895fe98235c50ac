// examples/kv/aof.cc — the append-only file (see aof.h).
#include "examples/kv/aof.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "examples/kv/resp.h"
#include "hub/hub.h"
#include "hub/thread_pool.h"

namespace kv {

const char* to_string(FsyncPolicy policy) {
  switch (policy) {
    case FsyncPolicy::kAlways: return "always";
    case FsyncPolicy::kEverySec: return "everysec";
    case FsyncPolicy::kNo: return "no";
  }
  return "?";
}

bool parse_fsync_policy(std::string_view text, FsyncPolicy& policy) {
  if (text == "always") policy = FsyncPolicy::kAlways;
  else if (text == "everysec") policy = FsyncPolicy::kEverySec;
  else if (text == "no") policy = FsyncPolicy::kNo;
  else return false;
  return true;
}

namespace {
std::runtime_error os_error(const std::string& what, const std::string& path) {
  return std::runtime_error(fmt::format("{} {}: {}", what, path, std::strerror(errno)));
}
}  // namespace

std::unique_ptr<AppendOnlyFile> AppendOnlyFile::open(const std::string& path, FsyncPolicy policy,
                                                     const ApplyFn& apply) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw os_error("cannot open the append-only file", path);
  std::unique_ptr<AppendOnlyFile> aof(new AppendOnlyFile(path, policy, fd));
  // A rewrite the server did not finish (it was killed): the file it was replacing is whole.
  (void)::unlink(aof->rewrite_path().c_str());

  // Read it whole (replay happens once, before serving) and apply request by request.
  std::string contents;
  char chunk[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0) throw os_error("cannot read the append-only file", path);
    if (n == 0) break;
    contents.append(chunk, static_cast<std::size_t>(n));
  }
  RequestParser parser;
  Request request;
  std::size_t offset = 0;
  std::size_t commands = 0;
  while (offset < contents.size()) {
    const ParseResult r = parser.next(std::string_view(contents).substr(offset), request);
    if (r.status == ParseStatus::kError) {
      throw std::runtime_error(fmt::format("bad append-only file {} at byte {}: {}", path, offset,
                                           r.error));
    }
    if (r.status == ParseStatus::kNeedMore) {
      spdlog::warn("append-only file {}: dropping a torn last record ({} bytes at offset {})",
                   path, contents.size() - offset, offset);
      if (::ftruncate(fd, static_cast<off_t>(offset)) != 0) {
        throw os_error("cannot truncate the append-only file", path);
      }
      break;
    }
    if (!request.args.empty()) {
      apply(request.args);
      ++commands;
    }
    offset += r.consumed;
  }
  if (::lseek(fd, static_cast<off_t>(offset), SEEK_SET) < 0) {
    throw os_error("cannot seek in the append-only file", path);
  }
  aof->written_ = aof->synced_ = offset;
  aof->file_size_ = aof->base_size_ = offset;
  spdlog::info("append-only file {}: replayed {} commands ({} bytes), appendfsync {}", path,
               commands, offset, to_string(policy));
  return aof;
}

AppendOnlyFile::AppendOnlyFile(std::string path, FsyncPolicy policy, int fd)
    : path_(std::move(path)), policy_(policy), fd_(fd) {}

std::unique_ptr<AppendOnlyFile> AppendOnlyFile::forwarding(std::string path, FsyncPolicy policy,
                                                           Forward forward) {
  std::unique_ptr<AppendOnlyFile> aof(new AppendOnlyFile(std::move(path), policy, -1));
  aof->forward_ = std::move(forward);
  return aof;
}

void AppendOnlyFile::forward_pending() {
  const std::uint64_t mine = written_ + pending_.size();
  while (acknowledged_ < mine) {
    if (flushing_) {
      (void)acknowledged_waiters_.wait(grove::Deadline::never(), "aof forward");
      continue;
    }
    // This fiber flushes. If it is killed while the writer has not answered, the chunk stays in
    // flight and the next fiber that gets here sends it again.
    flushing_ = true;
    struct Release {
      AppendOnlyFile& aof;
      ~Release() {
        aof.flushing_ = false;
        aof.acknowledged_waiters_.wake_all();
      }
    } release{*this};
    if (in_flight_.empty()) {
      in_flight_.swap(pending_);
      in_flight_seq_ = next_seq_++;
      written_ += in_flight_.size();
      file_size_ += in_flight_.size();
      in_flight_end_ = written_;
    }
    if (!forward_(in_flight_, in_flight_seq_, policy_)) {
      spdlog::error("append-only file {}: records of this shard were not written", path_);
    }
    acknowledged_ = synced_ = in_flight_end_;
    in_flight_.clear();
  }
}

bool AppendOnlyFile::take_forwarded(std::size_t shard, std::uint64_t seq,
                                    std::string_view records) {
  if (shard >= taken_seq_.size()) taken_seq_.resize(shard + 1, 0);
  if (seq <= taken_seq_[shard]) return false;
  taken_seq_[shard] = seq;
  append_raw(records);
  return true;
}

AppendOnlyFile::~AppendOnlyFile() {
  if (fd_ >= 0) ::close(fd_);
  for (int fd : retired_fds_) ::close(fd);
}

void AppendOnlyFile::append(std::initializer_list<std::string_view> args) {
  ReplyWriter out(pending_);
  out.array_header(args.size());
  for (std::string_view a : args) out.bulk(a);
}

void AppendOnlyFile::append(const std::vector<std::string_view>& args) {
  ReplyWriter out(pending_);
  out.array_header(args.size());
  for (std::string_view a : args) out.bulk(a);
}

void AppendOnlyFile::write_pending() {
  if (forward_) {
    forward_pending();
    return;
  }
  std::size_t done = 0;
  while (done < pending_.size()) {
    const ssize_t n = ::write(fd_, pending_.data() + done, pending_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      // Like redis-server with a full disk: keep the bytes and say so; the next batch retries.
      spdlog::error("append-only file {}: write failed: {}", path_, std::strerror(errno));
      pending_.erase(0, done);
      written_ += done;
      file_size_ += done;
      return;
    }
    done += static_cast<std::size_t>(n);
  }
  written_ += done;
  file_size_ += done;
  pending_.clear();
}

void AppendOnlyFile::wait_durable() {
  if (forward_) return;  // forward_pending waited for the fsync already
  const std::uint64_t mine = written_;
  while (synced_ < mine) {
    sync_wanted_.set();
    (void)durable_waiters_.wait(grove::Deadline::never(), "aof fsync");
  }
}

void AppendOnlyFile::sync_once() {
  const std::uint64_t covered = written_;
  const int fd = fd_;
  // The worker's errno, not ours: return it. A file replaced meanwhile stays open until this
  // returns (replace_file retires it).
  ++syncs_in_flight_;
  const int error = grove::run_in_thread([fd] { return ::fdatasync(fd) == 0 ? 0 : errno; });
  if (--syncs_in_flight_ == 0) {
    for (int retired : retired_fds_) ::close(retired);
    retired_fds_.clear();
  }
  if (error != 0) {
    spdlog::error("append-only file {}: fsync failed: {}", path_, std::strerror(error));
    return;
  }
  ++fsyncs_;
  if (covered > synced_) synced_ = covered;
  durable_waiters_.wake_all();
}

void AppendOnlyFile::run_syncer() {
  // The policy is read at every step: CONFIG SET appendfsync applies at once.
  for (;;) {
    switch (policy_) {
      case FsyncPolicy::kAlways:
        if (synced_ >= written_ || durable_waiters_.empty()) {
          sync_wanted_.clear();
          (void)sync_wanted_.wait();
        }
        // Covers every connection that wrote before it started: group commit.
        if (policy_ == FsyncPolicy::kAlways) sync_once();
        break;
      case FsyncPolicy::kEverySec:
        grove::sleep(1.0);
        write_pending();
        if (synced_ < written_) sync_once();
        break;
      case FsyncPolicy::kNo:
        grove::sleep(1.0);
        write_pending();
        break;
    }
  }
}

void AppendOnlyFile::set_policy(FsyncPolicy policy) {
  policy_ = policy;
  sync_wanted_.set();  // a syncer waiting for `always` work looks at the new policy
}

void AppendOnlyFile::begin_rewrite() {
  rewriting_ = true;
  flushed_ = false;
  touched_.clear();
}

void AppendOnlyFile::replace_file(const std::string& path, int fd, std::uint64_t size) {
  write_pending();  // the old file is complete, should the rename fail
  if (::rename(path.c_str(), path_.c_str()) != 0) {
    throw os_error("cannot rename the rewritten append-only file over", path_);
  }
  if (::lseek(fd, 0, SEEK_END) < 0) throw os_error("cannot seek in", path_);
  if (syncs_in_flight_ > 0) retired_fds_.push_back(fd_); else ::close(fd_);
  fd_ = fd;
  // The counters stay cumulative (waiters under `always` compare against them): the new file's
  // bytes count as written and not yet synced, so the next fsync covers them.
  written_ += size;
  file_size_ = base_size_ = size;
}

void AppendOnlyFile::flush_and_sync() {
  write_pending();
  if (forward_) return;
  if (policy_ != FsyncPolicy::kNo && ::fdatasync(fd_) == 0) synced_ = written_;
}

}  // namespace kv
