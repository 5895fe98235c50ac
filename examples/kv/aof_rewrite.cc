// examples/kv/aof_rewrite.cc — BGREWRITEAOF (see aof_rewrite.h).
#include "examples/kv/aof_rewrite.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "actors/actor.h"
#include "examples/kv/collections.h"
#include "examples/kv/command_kit.h"
#include "examples/kv/resp.h"
#include "examples/kv/server.h"
#include "hub/thread_pool.h"
#include "hub/wait.h"

namespace kv {
namespace {

constexpr std::size_t kBucketsPerStep = 4096;
constexpr std::size_t kBytesPerWrite = 1 << 20;
constexpr std::size_t kElementsPerRecord = 64;  // RPUSH/HSET batch
constexpr int kCatchUpRounds = 3;

class Rewriter {
 public:
  Rewriter(Server& server, int fd) : server_(server), store_(*server.store), fd_(fd) {}

  void run() {
    AppendOnlyFile& aof = *server_.aof;
    aof.begin_rewrite();
    walk();
    for (int round = 0; round < kCatchUpRounds; ++round) {
      if (aof.take_flushed()) {
        restart_empty();
        walk();
      }
      write_touched();
      flush();
      const int fd = fd_;
      const int error = grove::run_in_thread([fd] { return ::fdatasync(fd) == 0 ? 0 : errno; });
      if (error != 0) throw std::runtime_error(fmt::format("fsync: {}", std::strerror(error)));
    }
    // From here on nothing yields: no write can slip between the last keys and the switch.
    if (aof.take_flushed()) {
      restart_empty();
      walk_without_yielding();
    }
    write_touched();
    flush();
    aof.replace_file(aof.rewrite_path(), fd_, size_);
    fd_ = -1;  // the AppendOnlyFile owns it now
    aof.end_rewrite();
  }

  ~Rewriter() {
    if (fd_ >= 0) ::close(fd_);
  }

  std::uint64_t size() const { return size_; }

 private:
  // Step 1: bucket by bucket, yielding between steps.
  void walk() {
    for (;;) {
      const Store::Table& table = store_.table();
      const std::size_t buckets = table.bucket_count();
      std::size_t bucket = 0;
      bool restarted = false;
      while (bucket < buckets) {
        const std::size_t end = std::min(bucket + kBucketsPerStep, buckets);
        for (; bucket < end; ++bucket) {
          for (auto it = table.begin(bucket); it != table.end(bucket); ++it) {
            write_entry(it->first, &it->second);
          }
        }
        flush();
        grove::sleep(0);  // the connections run
        if (server_.aof->take_flushed()) {
          restart_empty();
          restarted = true;
          break;
        }
        if (table.bucket_count() != buckets) {  // rehashed: bucket numbers mean other keys
          restarted = true;
          break;
        }
      }
      if (!restarted) return;
    }
  }

  void walk_without_yielding() {
    for (const auto& [key, entry] : store_.table()) write_entry(key, &entry);
    flush();
  }

  // FLUSHALL/FLUSHDB during the rewrite: what was written so far is void.
  void restart_empty() {
    buffer_.clear();
    if (::ftruncate(fd_, 0) != 0 || ::lseek(fd_, 0, SEEK_SET) != 0) {
      throw std::runtime_error(fmt::format("truncate: {}", std::strerror(errno)));
    }
    size_ = 0;
    (void)server_.aof->take_touched();
  }

  void write_touched() {
    for (const std::string& key : server_.aof->take_touched()) {
      const auto& table = store_.table();
      auto it = table.find(key);
      if (it == table.end()) {
        record({"DEL", key});
      } else {
        write_entry(it->first, &it->second);
      }
      if (buffer_.size() >= kBytesPerWrite) flush();
    }
  }

  void write_entry(const std::string& key, const Entry* e) {
    switch (e->type()) {
      case ValueType::kString:
        record({"SET", key, std::get<std::string>(e->value)});
        break;
      case ValueType::kList: {
        record({"DEL", key});
        const List& list = *std::get<std::unique_ptr<List>>(e->value);
        for (std::size_t i = 0; i < list.size(); i += kElementsPerRecord) {
          const std::size_t n = std::min(kElementsPerRecord, list.size() - i);
          ReplyWriter out(buffer_);
          out.array_header(2 + n);
          out.bulk("RPUSH");
          out.bulk(key);
          list.visit(i, n, [&](std::string_view element) { out.bulk(element); });
        }
        break;
      }
      case ValueType::kHash: {
        record({"DEL", key});
        std::vector<std::pair<const std::string*, const std::string*>> fields;
        std::get<std::unique_ptr<Hash>>(e->value)->for_each(
            [&](const std::string& f, const std::string& v) { fields.emplace_back(&f, &v); });
        for (std::size_t i = 0; i < fields.size(); i += kElementsPerRecord) {
          const std::size_t n = std::min(kElementsPerRecord, fields.size() - i);
          ReplyWriter out(buffer_);
          out.array_header(2 + 2 * n);
          out.bulk("HSET");
          out.bulk(key);
          for (std::size_t j = i; j < i + n; ++j) {
            out.bulk(*fields[j].first);
            out.bulk(*fields[j].second);
          }
        }
        break;
      }
      case ValueType::kSet: {
        record({"DEL", key});
        const Set::Members& members = std::get<std::unique_ptr<Set>>(e->value)->members();
        auto it = members.begin();
        for (std::size_t left = members.size(); left > 0;) {
          const std::size_t n = std::min(kElementsPerRecord, left);
          ReplyWriter out(buffer_);
          out.array_header(2 + n);
          out.bulk("SADD");
          out.bulk(key);
          for (std::size_t j = 0; j < n; ++j, ++it) out.bulk(*it);
          left -= n;
        }
        break;
      }
      case ValueType::kZset: {
        record({"DEL", key});
        const ZSet& zset = *std::get<std::unique_ptr<ZSet>>(e->value);
        auto it = zset.begin();
        for (std::size_t left = zset.size(); left > 0;) {
          const std::size_t n = std::min(kElementsPerRecord, left);
          ReplyWriter out(buffer_);
          out.array_header(2 + 2 * n);
          out.bulk("ZADD");
          out.bulk(key);
          for (std::size_t j = 0; j < n; ++j, ++it) {
            out.bulk(kit::format_double(it->score));  // %.17g: the exact double back
            out.bulk(*it->member);
          }
          left -= n;
        }
        break;
      }
      default:
        throw std::runtime_error(fmt::format("cannot write key '{}' of type {}", key,
                                             type_name(e->type())));
    }
    if (e->expires_at != Store::kNoExpiry) {
      const std::string at = std::to_string(e->expires_at);
      record({"PEXPIREAT", key, at});
    }
  }

  void record(std::initializer_list<std::string_view> args) {
    ReplyWriter out(buffer_);
    out.array_header(args.size());
    for (std::string_view a : args) out.bulk(a);
  }

  // One write of the buffer (page cache; the disk is waited for only on a worker thread).
  void flush() {
    std::size_t done = 0;
    while (done < buffer_.size()) {
      const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw std::runtime_error(fmt::format("write: {}", std::strerror(errno)));
      }
      done += static_cast<std::size_t>(n);
    }
    size_ += done;
    buffer_.clear();
  }

  Server& server_;
  Store& store_;
  int fd_;
  std::string buffer_;
  std::uint64_t size_ = 0;
};

}  // namespace

bool start_aof_rewrite(Server& server) {
  if (!server.aof || server.aof_rewrite.in_progress) return false;
  server.aof_rewrite.in_progress = true;
  grove::ActorOptions options;
  options.name = "aof rewrite";
  grove::spawn_opt(std::move(options), [&server] {
    AppendOnlyFile& aof = *server.aof;
    const std::int64_t started = unix_ms();
    const std::string path = aof.rewrite_path();
    bool ok = false;
    // However it ends — done, failed, or this actor killed — the old file stays usable and the
    // next rewrite may start.
    struct Finish {
      Server& server;
      const bool& ok;
      std::int64_t started;
      ~Finish() {
        server.aof->end_rewrite();
        server.aof_rewrite.in_progress = false;
        server.aof_rewrite.last_ok = ok;
        server.aof_rewrite.last_duration_ms = unix_ms() - started;
        if (ok) ++server.aof_rewrite.rewrites;
      }
    } finish{server, ok, started};
    try {
      const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0) throw std::runtime_error(fmt::format("open: {}", std::strerror(errno)));
      Rewriter rewriter(server, fd);
      rewriter.run();
      ok = true;
      spdlog::info("append-only file {}: rewritten in {} ms, {} bytes", aof.path(),
                   unix_ms() - started, rewriter.size());
    } catch (const std::exception& e) {
      spdlog::error("append-only file {}: rewrite failed, the old file stays: {}", aof.path(),
                    e.what());
      (void)::unlink(path.c_str());
    }
  });
  return true;
}

}  // namespace kv
