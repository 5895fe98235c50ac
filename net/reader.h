// net/reader.h — buffered reads on a stream socket: lines, exact sizes, whatever is there.
//
// Model: a Reader borrows a stream (Socket, TlsSocket, or anything with
// `std::size_t recv_into(void*, std::size_t)`) and keeps one buffer. Each refill is one recv of
// up to the buffer's free space, so a line-oriented protocol costs one system call per
// readiness event, not one per line. The stream's own timeout applies to each refill.
//
//   - readline(max): up to and including '\n'; at most `max` bytes (then without the '\n'); at
//     end of stream, what is left ("" once nothing is).
//   - read_exact(n): exactly n bytes, or EndOfStream when the peer closes first.
//   - read_some(max): what is buffered, or else one recv; "" at end of stream.
//
// Thread: the stream's. Lifetime: the stream must outlive the reader; bytes buffered but not
// returned are lost with the reader.
//
//   grove::net::SocketReader reader(sock);
//   std::string request_line = reader.readline(8192);
//   std::string body = reader.read_exact(content_length);
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "net/errors.h"
#include "net/socket.h"

namespace grove::net {

template <class Stream>
class Reader {
 public:
  explicit Reader(Stream& stream, std::size_t buffer_size = 16 * 1024)
      : stream_(&stream), buffer_(buffer_size == 0 ? 1 : buffer_size) {}

  std::string readline(std::size_t max_bytes = 64 * 1024) {
    std::string line;
    for (;;) {
      const std::string_view have = buffered();
      const std::size_t room = max_bytes - line.size();
      const std::size_t scan = std::min(have.size(), room);
      const auto newline = have.substr(0, scan).find('\n');
      if (newline != std::string_view::npos) {
        line.append(have.data(), newline + 1);
        consume(newline + 1);
        return line;
      }
      line.append(have.data(), scan);
      consume(scan);
      if (line.size() >= max_bytes) return line;
      if (fill() == 0) return line;  // end of stream
    }
  }

  std::string read_exact(std::size_t n) {
    std::string out;
    out.reserve(n);
    while (out.size() < n) {
      if (buffered().empty()) {
        // Large remainders go straight into the result, skipping the copy.
        const std::size_t missing = n - out.size();
        if (missing >= buffer_.size()) {
          const std::size_t old = out.size();
          out.resize(n);
          const std::size_t got = stream_->recv_into(out.data() + old, missing);
          out.resize(old + got);
          if (got == 0) throw_eof(out.size(), n);
          continue;
        }
        if (fill() == 0) throw_eof(out.size(), n);
      }
      const std::string_view have = buffered();
      const std::size_t take = std::min(have.size(), n - out.size());
      out.append(have.data(), take);
      consume(take);
    }
    return out;
  }

  std::string read_some(std::size_t max_bytes = 64 * 1024) {
    if (buffered().empty() && fill() == 0) return {};
    const std::string_view have = buffered();
    const std::size_t take = std::min(have.size(), max_bytes);
    std::string out(have.substr(0, take));
    consume(take);
    return out;
  }

  // Bytes read from the stream and not yet returned.
  std::string_view buffered() const noexcept {
    return std::string_view(buffer_.data() + begin_, end_ - begin_);
  }
  // Drops `n` buffered bytes (after inspecting them with buffered()).
  void consume(std::size_t n) noexcept {
    begin_ += std::min(n, end_ - begin_);
    if (begin_ == end_) begin_ = end_ = 0;
  }
  // One recv into the free space; returns the bytes added (0 at end of stream).
  std::size_t fill() {
    if (begin_ > 0 && end_ == buffer_.size()) {
      std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (end_ == buffer_.size()) buffer_.resize(buffer_.size() * 2);
    const std::size_t got = stream_->recv_into(buffer_.data() + end_, buffer_.size() - end_);
    end_ += got;
    return got;
  }

  Stream& stream() const noexcept { return *stream_; }

 private:
  [[noreturn]] static void throw_eof(std::size_t got, std::size_t wanted) {
    throw EndOfStream("read_exact: the peer closed the connection after " + std::to_string(got) +
                      " of " + std::to_string(wanted) + " bytes");
  }

  Stream* stream_;
  std::vector<char> buffer_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

using SocketReader = Reader<Socket>;

}  // namespace grove::net
