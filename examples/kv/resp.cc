// examples/kv/resp.cc — RESP2 request parsing and reply writing (see resp.h).
#include "examples/kv/resp.h"

#include <charconv>
#include <cstring>

namespace kv {
namespace {

// The header line at the start of `input` ("*3", "$5") without its CRLF; npos when incomplete.
std::size_t find_line_end(std::string_view input) { return input.find('\r'); }

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
  if (input.empty()) return ParseResult{};
  if (input[0] == '*') return next_multibulk(input, request);
  return next_inline(input, request);
}

ParseResult RequestParser::next_multibulk(std::string_view input, Request& request) {
  std::size_t line_end = find_line_end(input);
  if (line_end == std::string_view::npos) {
    if (input.size() > limits_.max_inline_length) {
      return error("Protocol error: too big mbulk count string");
    }
    return ParseResult{};
  }
  if (line_end + 1 >= input.size()) return ParseResult{};  // the '\n' has not arrived yet
  std::int64_t count = 0;
  if (!parse_int64(input.substr(1, line_end - 1), count) || count > limits_.max_multibulk_count) {
    return error("Protocol error: invalid multibulk length");
  }
  std::size_t pos = line_end + 2;
  if (count <= 0) {
    ParseResult r;
    r.status = ParseStatus::kComplete;
    r.consumed = pos;
    return r;
  }
  if (request.args.capacity() < static_cast<std::size_t>(count) && count <= 1024) {
    request.args.reserve(static_cast<std::size_t>(count));
  }
  for (std::int64_t i = 0; i < count; ++i) {
    if (pos >= input.size()) return ParseResult{.wanted = pos + 1};
    if (input[pos] != '$') {
      return error(std::string("Protocol error: expected '$', got '") + input[pos] + "'");
    }
    std::string_view rest = input.substr(pos);
    line_end = find_line_end(rest);
    if (line_end == std::string_view::npos) {
      if (rest.size() > limits_.max_inline_length) {
        return error("Protocol error: too big bulk count string");
      }
      return ParseResult{};
    }
    if (line_end + 1 >= rest.size()) return ParseResult{};
    std::int64_t length = 0;
    if (!parse_int64(rest.substr(1, line_end - 1), length) || length < 0 ||
        length > limits_.max_bulk_length) {
      return error("Protocol error: invalid bulk length");
    }
    pos += line_end + 2;
    const std::size_t end = pos + static_cast<std::size_t>(length) + 2;  // data + CRLF
    if (end > input.size()) return ParseResult{.wanted = end};
    request.args.emplace_back(input.data() + pos, static_cast<std::size_t>(length));
    pos = end;
  }
  ParseResult r;
  r.status = ParseStatus::kComplete;
  r.consumed = pos;
  return r;
}

ParseResult RequestParser::next_inline(std::string_view input, Request& request) {
  const std::size_t newline = input.find('\n');
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
  ParseResult r;
  r.status = ParseStatus::kComplete;
  r.consumed = newline + 1;
  return r;
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
