// examples/kv/resp.cc — RESP2 request parsing and reply writing (see resp.h).
#include "examples/kv/resp.h"

#include <charconv>
#include <cstring>

namespace kv {
namespace {

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}
bool is_space(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\v' || c == '\f';
}

ParseResult error(std::string text) {
  ParseResult r;
  r.status = ParseStatus::kError;
  r.error = std::move(text);
  return r;
}

}  // namespace

bool parse_int64(std::string_view text, std::int64_t& value) {
  if (text.empty() || text.size() > 20) return false;
  std::size_t i = 0;
  if (text[0] == '-') i = 1;
  if (i == text.size()) return false;
  if (text[i] == '0' && text.size() != 1) return false;  // "0" only; no "01", "-0"
  std::int64_t parsed = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), parsed);
  if (ec != std::errc() || ptr != text.data() + text.size()) return false;
  value = parsed;
  return true;
}

ParseResult RequestParser::next(std::string_view input, Request& request) {
  request.args.clear();
  if (stage_ == Stage::kStart) {
    if (input.empty()) return ParseResult{};
    stage_ = input[0] == '*' ? Stage::kCount : Stage::kInline;
    line_start_ = 0;
    searched_ = 0;
  }
  ParseResult r =
      stage_ == Stage::kInline ? parse_inline(input, request) : parse_multibulk(input, request);
  if (r.status == ParseStatus::kError) reset();
  return r;
}

void RequestParser::reset() {
  stage_ = Stage::kStart;
  line_start_ = 0;
  searched_ = 0;
  args_left_ = 0;
  bulk_length_ = 0;
  spans_.clear();
}

std::size_t RequestParser::find_line_end(std::string_view input, char terminator) {
  const std::size_t from = line_start_ + searched_;
  if (from >= input.size()) return std::string_view::npos;
  const void* hit = std::memchr(input.data() + from, terminator, input.size() - from);
  if (hit == nullptr) {
    examined_ += input.size() - from;
    searched_ = input.size() - line_start_;
    return std::string_view::npos;
  }
  const std::size_t at = static_cast<std::size_t>(static_cast<const char*>(hit) - input.data());
  examined_ += at + 1 - from;
  searched_ = at - line_start_;  // found: a call waiting for the '\n' after it starts here
  return at;
}

ParseResult RequestParser::complete(std::size_t consumed) {
  reset();
  ParseResult r;
  r.status = ParseStatus::kComplete;
  r.consumed = consumed;
  return r;
}

ParseResult RequestParser::parse_multibulk(std::string_view input, Request& request) {
  auto next_line = [this](std::size_t at) {
    line_start_ = at;
    searched_ = 0;
  };
  if (stage_ == Stage::kCount) {
    const std::size_t cr = find_line_end(input, '\r');
    if (cr == std::string_view::npos) {
      if (input.size() - line_start_ > limits_.max_inline_length) {
        return error("Protocol error: too big mbulk count string");
      }
      return ParseResult{};
    }
    if (cr + 1 >= input.size()) return ParseResult{};  // the '\n' has not arrived yet
    std::int64_t count = 0;
    if (!parse_int64(input.substr(1, cr - 1), count) || count > limits_.max_multibulk_count) {
      return error("Protocol error: invalid multibulk length");
    }
    if (count <= 0) return complete(cr + 2);
    args_left_ = count;
    spans_.clear();
    if (count <= 1024) spans_.reserve(static_cast<std::size_t>(count));
    next_line(cr + 2);
    stage_ = Stage::kBulkHeader;
  }
  for (;;) {
    if (stage_ == Stage::kBulkHeader) {
      if (line_start_ >= input.size()) return ParseResult{};
      if (input[line_start_] != '$') {
        return error(std::string("Protocol error: expected '$', got '") + input[line_start_] +
                     "'");
      }
      const std::size_t cr = find_line_end(input, '\r');
      if (cr == std::string_view::npos) {
        if (input.size() - line_start_ > limits_.max_inline_length) {
          return error("Protocol error: too big bulk count string");
        }
        return ParseResult{};
      }
      if (cr + 1 >= input.size()) return ParseResult{};
      std::int64_t length = 0;
      if (!parse_int64(input.substr(line_start_ + 1, cr - line_start_ - 1), length) ||
          length < 0 || length > limits_.max_bulk_length) {
        return error("Protocol error: invalid bulk length");
      }
      bulk_length_ = static_cast<std::size_t>(length);
      next_line(cr + 2);
      stage_ = Stage::kBulkData;
    }
    // The data is not examined: only whether all of it (and its CRLF) has arrived.
    const std::size_t end = line_start_ + bulk_length_ + 2;
    if (end > input.size()) return ParseResult{};
    spans_.push_back(Span{line_start_, bulk_length_});
    next_line(end);
    if (--args_left_ == 0) break;
    stage_ = Stage::kBulkHeader;
  }
  request.args.reserve(spans_.size());
  for (const Span& span : spans_) {
    request.args.emplace_back(input.data() + span.offset, span.length);
  }
  return complete(line_start_);
}

ParseResult RequestParser::parse_inline(std::string_view input, Request& request) {
  const std::size_t newline = find_line_end(input, '\n');
  if (newline == std::string_view::npos) {
    if (input.size() > limits_.max_inline_length) {
      return error("Protocol error: too big inline request");
    }
    return ParseResult{};
  }
  std::string_view line = input.substr(0, newline);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (!split_inline_words(line, inline_words_)) {
    return error("Protocol error: unbalanced quotes in request");
  }
  for (const std::string& word : inline_words_) request.args.emplace_back(word);
  return complete(newline + 1);
}

bool split_inline_words(std::string_view line, std::vector<std::string>& words) {
  words.clear();
  std::size_t i = 0;
  const std::size_t n = line.size();
  for (;;) {
    while (i < n && is_space(line[i])) ++i;
    if (i >= n) return true;
    std::string word;
    bool in_double = false;
    bool in_single = false;
    for (;;) {
      if (in_double) {
        if (i >= n) return false;
        if (line[i] == '\\' && i + 3 < n && line[i + 1] == 'x' && is_hex(line[i + 2]) &&
            is_hex(line[i + 3])) {
          word.push_back(static_cast<char>(hex_value(line[i + 2]) * 16 + hex_value(line[i + 3])));
          i += 3;
        } else if (line[i] == '\\' && i + 1 < n) {
          ++i;
          switch (line[i]) {
            case 'n': word.push_back('\n'); break;
            case 'r': word.push_back('\r'); break;
            case 't': word.push_back('\t'); break;
            case 'b': word.push_back('\b'); break;
            case 'a': word.push_back('\a'); break;
            default: word.push_back(line[i]); break;
          }
        } else if (line[i] == '"') {
          // A closing quote must be followed by a space or the end.
          if (i + 1 < n && !is_space(line[i + 1])) return false;
          in_double = false;
          ++i;
          break;
        } else {
          word.push_back(line[i]);
        }
      } else if (in_single) {
        if (i >= n) return false;
        if (line[i] == '\\' && i + 1 < n && line[i + 1] == '\'') {
          ++i;
          word.push_back('\'');
        } else if (line[i] == '\'') {
          if (i + 1 < n && !is_space(line[i + 1])) return false;
          in_single = false;
          ++i;
          break;
        } else {
          word.push_back(line[i]);
        }
      } else {
        if (i >= n || is_space(line[i])) break;
        if (line[i] == '"') {
          in_double = true;
        } else if (line[i] == '\'') {
          in_single = true;
        } else {
          word.push_back(line[i]);
        }
      }
      ++i;
    }
    words.push_back(std::move(word));
  }
}

void ReplyWriter::simple(std::string_view text) {
  out_->push_back('+');
  out_->append(text);
  out_->append("\r\n", 2);
}

void ReplyWriter::error(std::string_view text) {
  out_->push_back('-');
  const std::size_t start = out_->size();
  out_->append(text);
  for (std::size_t i = start; i < out_->size(); ++i) {
    if ((*out_)[i] == '\r' || (*out_)[i] == '\n') (*out_)[i] = ' ';
  }
  out_->append("\r\n", 2);
}

namespace {
void append_number_line(std::string& out, char type, std::int64_t value) {
  char buffer[24];
  buffer[0] = type;
  auto [end, ec] = std::to_chars(buffer + 1, buffer + sizeof buffer - 2, value);
  end[0] = '\r';
  end[1] = '\n';
  out.append(buffer, static_cast<std::size_t>(end + 2 - buffer));
}
}  // namespace

void ReplyWriter::integer(std::int64_t value) { append_number_line(*out_, ':', value); }

void ReplyWriter::bulk(std::string_view value) {
  append_number_line(*out_, '$', static_cast<std::int64_t>(value.size()));
  out_->append(value);
  out_->append("\r\n", 2);
}

void ReplyWriter::null_bulk() { out_->append("$-1\r\n", 5); }
void ReplyWriter::null_array() { out_->append("*-1\r\n", 5); }

void ReplyWriter::array_header(std::size_t count) {
  append_number_line(*out_, '*', static_cast<std::int64_t>(count));
}

}  // namespace kv
