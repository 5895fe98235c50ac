// examples/kv/resp.h — the Redis wire protocol (RESP2): a parser for requests and a writer for
// replies.
//
// Requests come in two forms, both accepted on the same connection (as redis-server does):
//   - multibulk: `*<count>\r\n` then `count` times `$<length>\r\n<bytes>\r\n` (what clients send);
//   - inline: one line of words separated by spaces, with "double" and 'single' quotes and the
//     escapes \n \r \t \b \a \\ \" \xHH inside double quotes (what telnet and nc send).
//
// Model: the parser is incremental, like redis-server's. RequestParser::next() is given the
// bytes a connection holds from the first byte of the current request on, and either returns
// one complete request (its arguments are string_views into those bytes, or into the parser's
// scratch for unescaped inline words — valid until the next call), says it needs more bytes,
// or reports a protocol error with redis-server's text ("Protocol error: invalid bulk length");
// after an error the connection must be closed. After kNeedMore the parser remembers how far it
// got (the header lines it read, where each argument lies, how much of a line it has searched),
// so the next call — with the same bytes, possibly moved to another buffer, and more appended —
// resumes there: every byte is examined once, and a request trickled in one byte at a time costs
// what it costs in one piece. A request's announced sizes are never reserved: how much memory a
// client may hold is the caller's decision (kv's connection caps it with
// client-query-buffer-limit). Nothing is copied for multibulk requests: a pipelined batch of
// SETs parses without allocating.
//
// Limits (redis-server's): a bulk longer than `max_bulk_length` (proto-max-bulk-len, 512 MiB) or
// a count above `max_multibulk_count` (INT_MAX) is an error, as is an inline line or a `*`/`$`
// header line longer than 64 KiB without its newline.
//
// ReplyWriter appends RESP2 replies to a std::string the connection sends in one write.
//
//   kv::RequestParser parser;
//   kv::Request request;
//   auto r = parser.next(std::string_view(buffer + begin, end - begin), request);
//   if (r.status == kv::ParseStatus::kComplete) { execute(request.args); begin += r.consumed; }
//   // kNeedMore: read more, append it after `end`, call next() again from `begin`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kv {

enum class ParseStatus { kComplete, kNeedMore, kError };

struct ParseResult {
  ParseStatus status = ParseStatus::kNeedMore;
  std::size_t consumed = 0;   // kComplete: bytes the request took (may be an empty request)
  std::string error;          // kError: "Protocol error: ..."
};

struct Request {
  std::vector<std::string_view> args;  // empty for a blank line or `*0`: nothing to execute
};

struct ParserLimits {
  std::int64_t max_bulk_length = 512LL * 1024 * 1024;
  std::int64_t max_multibulk_count = 2147483647;
  std::size_t max_inline_length = 64 * 1024;
};

class RequestParser {
 public:
  explicit RequestParser(ParserLimits limits = {}) : limits_(limits) {}
  // `input` starts at the first byte of the current request (see the model above).
  ParseResult next(std::string_view input, Request& request);
  // Forgets a partly parsed request (the next call starts a new one).
  void reset();
  // Applies from the next header line on (CONFIG SET proto-max-bulk-len).
  void set_limits(const ParserLimits& limits) { limits_ = limits; }
  // Bytes examined so far, over every call: each byte of a header or inline line once, nothing
  // for bulk data. Tests use it to show that a trickled request costs no more than a whole one.
  std::uint64_t bytes_examined() const { return examined_; }

 private:
  enum class Stage { kStart, kCount, kBulkHeader, kBulkData, kInline };
  struct Span {
    std::size_t offset;
    std::size_t length;
  };
  ParseResult parse_multibulk(std::string_view input, Request& request);
  ParseResult parse_inline(std::string_view input, Request& request);
  // Position of `terminator` in input[line_start_, ...), searching only the bytes not searched
  // before; npos when it has not arrived yet.
  std::size_t find_line_end(std::string_view input, char terminator);
  ParseResult complete(std::size_t consumed);

  ParserLimits limits_;
  Stage stage_ = Stage::kStart;
  std::size_t line_start_ = 0;    // where the current header/inline line starts
  std::size_t searched_ = 0;      // bytes from line_start_ already searched for the line end
  std::int64_t args_left_ = 0;    // bulks still to come in this multibulk
  std::size_t bulk_length_ = 0;   // kBulkData: length of the bulk at line_start_
  std::vector<Span> spans_;       // the arguments parsed so far, as offsets into the request
  std::vector<std::string> inline_words_;  // unescaped words of the last inline request
  std::uint64_t examined_ = 0;
};

// Splits an inline request line into words the way redis-server does; false on unbalanced
// quotes. Exposed for tests.
bool split_inline_words(std::string_view line, std::vector<std::string>& words);

class ReplyWriter {
 public:
  explicit ReplyWriter(std::string& out) : out_(&out) {}
  void simple(std::string_view text);       // +text
  void error(std::string_view text);        // -text (CR/LF in text become spaces, like redis)
  void integer(std::int64_t value);         // :value
  void bulk(std::string_view value);        // $len\r\nvalue
  void null_bulk();                         // $-1
  void null_array();                        // *-1
  void array_header(std::size_t count);     // *count
  void ok() { out_->append("+OK\r\n", 5); }
  void raw(std::string_view bytes) { out_->append(bytes); }  // an already encoded reply
  std::string& buffer() { return *out_; }

 private:
  std::string* out_;
};

// Decimal text of a signed integer, strictly as redis parses it: no spaces, no '+', no leading
// zeros, fits in int64. Used for INCRBY arguments and stored values.
bool parse_int64(std::string_view text, std::int64_t& value);

}  // namespace kv
