// servers/http_server.cc — the HTTP/1.1 connection loop over http-parser.
//
// Parsing: http-parser runs over one read buffer and is paused in on_headers_complete (to call
// the handler), in on_body (to hand one span of body to HttpRequest::read without a copy) and in
// on_message_complete (so a pipelined request is parsed only after the previous answer). Header
// names and values are copied into reused strings as the callbacks deliver them, so a request
// split across reads needs nothing from old buffer contents.
#include "servers/http_server.h"

#include <http_parser.h>
#include <sys/socket.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <time.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <ctime>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "actors/actor.h"
#include "hub/errors.h"
#include "hub/hub.h"
#include "net/errors.h"

namespace grove::servers {

std::string_view http_reason(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = char(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = char(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// RFC 9110 token characters (header names).
bool is_tchar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  return std::strchr("!#$%&'*+-.^_`|~", c) != nullptr && c != 0;
}

// The Date header value, formatted once per second.
std::string_view http_date() {
  struct Cache {
    std::time_t second = 0;
    char text[64] = {};
    std::size_t size = 0;
  };
  thread_local Cache cache;
  const std::time_t now = std::time(nullptr);
  if (now != cache.second) {
    std::tm tm;
    gmtime_r(&now, &tm);
    cache.size = std::strftime(cache.text, sizeof cache.text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cache.second = now;
  }
  return std::string_view(cache.text, cache.size);
}

void append_number(std::string& out, std::uint64_t n) {
  char digits[24];
  char* end = digits + sizeof digits;
  char* p = end;
  do {
    *--p = char('0' + n % 10);
    n /= 10;
  } while (n != 0);
  out.append(p, std::size_t(end - p));
}

constexpr std::size_t kCopyBodyLimit = 16 * 1024;  // smaller bodies are copied next to the head
constexpr std::size_t kFirstReadBuffer = 4096;    // grows (to options.read_buffer) as reads fill it

// Statuses whose answers have no body, and so no Content-Length or Transfer-Encoding (RFC 9110
// §8.6, RFC 9112 §6.1, §6.3).
bool bodiless(int status) { return (status >= 100 && status < 200) || status == 204 || status == 304; }

// The lines around the content of a request — the request line, the header section, chunk-size
// lines with their extensions, the trailer section — checked byte by byte as http-parser consumes
// them. http-parser built without HTTP_PARSER_STRICT (as Debian ships it) takes any byte after a
// CR for its LF, ends lines at a bare LF, folds lines that start with whitespace, and skips
// whatever follows a chunk size up to the next CR. A front end that reads those bytes otherwise
// sees a different request (smuggling), so here every line ends in CRLF, no line starts with
// whitespace, and no control character other than HTAB appears. Content bytes are never given
// to it. Linear: each byte is looked at once.
class FramingCheck {
 public:
  // Back to the start of a line (a new message).
  void reset() noexcept {
    state_ = kLineStart;
    line_ = 0;
  }
  // False at the first byte that breaks the rules or makes a line longer than `max_line`.
  // Works line by line: plain bytes are skipped 16 at a time, each CR must be followed by LF
  // and each line's first byte must not be whitespace.
  bool scan(const char* data, std::size_t n, std::size_t max_line) noexcept {
    const auto* const begin = reinterpret_cast<const unsigned char*>(data);
    const auto* const end = begin + n;
    const unsigned char* p = begin;
    if (p == end) return true;
    // What the previous piece left open: the LF after its CR, the first byte of a line.
    if (state_ == kAfterCr) {
      if (*p++ != '\n') return false;  // a bare CR
      state_ = kLineStart;
      line_ = 0;
      if (p == end) return true;
    }
    if (state_ == kLineStart && (*p == ' ' || *p == '\t')) return false;
    state_ = kInLine;
    const unsigned char* line_begin = p;  // line_ counts the bytes of this line before it
    for (;;) {
      const unsigned char* q = skip_plain(begin, p, end);
      if (q == end) break;
      if (*q == '\t') {
        p = q + 1;
        continue;
      }
      if (*q != '\r') return false;  // a bare LF, or a control character
      if (line_ + std::size_t(q - line_begin) > max_line) return false;
      if (q + 1 == end) {
        state_ = kAfterCr;
        return true;
      }
      if (q[1] != '\n') return false;  // a bare CR
      p = q + 2;
      line_ = 0;
      line_begin = p;
      if (p == end) {
        state_ = kLineStart;
        return true;
      }
      if (*p == ' ' || *p == '\t') return false;  // obs-fold, or whitespace before a field
    }
    line_ += std::size_t(end - line_begin);
    return line_ <= max_line;
  }
  // Whether `c` may come next (nothing is consumed).
  bool accepts(unsigned char c) const noexcept {
    if (state_ == kAfterCr) return c == '\n';
    if (state_ == kLineStart && (c == ' ' || c == '\t')) return false;
    return plain(c) || c == '\r' || c == '\t';
  }

 private:
  enum State : unsigned char { kLineStart, kInLine, kAfterCr };

  // Printable ASCII and obs-text: the bytes that need no look.
  static bool plain(unsigned char c) noexcept { return c >= 0x20 && c != 0x7f; }
  // The first byte in [p, end) that is not plain (or `end`); [begin, end) is all readable.
  // Heads are mostly plain bytes: SSE2 looks at 16 of them at once (the last, partial block
  // through the 16 bytes that end at `end`), so the check costs a fraction of the parse.
  static const unsigned char* skip_plain(const unsigned char* begin, const unsigned char* p,
                                         const unsigned char* end) noexcept {
#if defined(__SSE2__)
    while (end - p >= 16) {
      if (const unsigned mask = special_bytes(p)) return p + __builtin_ctz(mask);
      p += 16;
    }
    if (p != end && end - begin >= 16) {
      const unsigned char* last = end - 16;
      const unsigned mask = special_bytes(last) & (~0u << (p - last));
      return mask != 0 ? last + __builtin_ctz(mask) : end;
    }
#endif
    while (p != end && plain(*p)) ++p;
    return p;
  }
#if defined(__SSE2__)
  // One bit per byte of p[0..16) that is a control character or DEL.
  static unsigned special_bytes(const unsigned char* p) noexcept {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // Signed compares: bytes >= 0x80 are negative, and plain.
    const __m128i control = _mm_and_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
                                          _mm_cmpgt_epi8(v, _mm_set1_epi8(-1)));
    const __m128i del = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f));
    return static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(control, del)));
  }
#endif

  State state_ = kLineStart;
  std::size_t line_ = 0;
};

// The coding names of a Transfer-Encoding value, lower-case, in order ("gzip, chunked" →
// gzip, chunked); empty list elements are skipped (RFC 9110 §5.6.1).
std::vector<std::string> transfer_codings(std::string_view value) {
  std::vector<std::string> codings;
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (item.empty()) continue;
    std::string name(item);
    for (char& ch : name) {
      if (ch >= 'A' && ch <= 'Z') ch = char(ch - 'A' + 'a');
    }
    codings.push_back(std::move(name));
  }
  return codings;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

std::optional<std::string_view> HttpHeaders::get(std::string_view name) const {
  for (std::size_t i = 0; i < size_; ++i) {
    if (iequals(entries_[i].first, name)) return std::string_view(entries_[i].second);
  }
  return std::nullopt;
}

std::size_t HttpHeaders::count(std::string_view name) const {
  std::size_t n = 0;
  for (std::size_t i = 0; i < size_; ++i) n += iequals(entries_[i].first, name) ? 1 : 0;
  return n;
}

struct HttpServer::State {
  HttpServerOptions options;
  HttpHandler handler;
  bool stopping = false;
  HttpServerStats stats;
  // Every open connection (an intrusive list: joining and leaving cost no allocation); stop()
  // kills the ones marked idle (waiting for their next request, no byte of it read yet).
  internal::HttpConnection* connections = nullptr;
};

namespace internal {

class HttpConnection {
 public:
  HttpConnection(Stream& stream, const net::Address& peer, const HttpHandler& handler,
                 const HttpServerOptions& options, HttpServer::State* server)
      : stream_(stream),
        peer_(peer),
        handler_(handler),
        options_(options),
        server_(server),
        buffer_(new char[kFirstReadBuffer]),
        capacity_(kFirstReadBuffer) {
    http_parser_init(&parser_, HTTP_REQUEST);
    parser_.data = this;
    http_parser_settings_init(&settings_);
    settings_.on_message_begin = &HttpConnection::on_message_begin;
    settings_.on_url = &HttpConnection::on_url;
    settings_.on_header_field = &HttpConnection::on_header_field;
    settings_.on_header_value = &HttpConnection::on_header_value;
    settings_.on_headers_complete = &HttpConnection::on_headers_complete;
    settings_.on_body = &HttpConnection::on_body;
    settings_.on_chunk_header = &HttpConnection::on_chunk_header;
    settings_.on_message_complete = &HttpConnection::on_message_complete;
    request_.connection_ = this;
    request_.peer_ = &peer_;
    response_.connection_ = this;
    out_.reserve(4096);
    // The socket's timeout bounds each write (reads here always carry their own deadline).
    if (options.send_timeout > 0) stream_.socket().settimeout(options.send_timeout);
    if (server_ != nullptr && in_actor()) {
      self_ = self().get();
      next_ = server_->connections;
      if (next_ != nullptr) next_->prev_ = this;
      server_->connections = this;
    }
  }

  ~HttpConnection() {
    if (self_ == nullptr) return;
    if (prev_ != nullptr) {
      prev_->next_ = next_;
    } else {
      server_->connections = next_;
    }
    if (next_ != nullptr) next_->prev_ = prev_;
  }

  // For stop(): the next connection of the server, and whether this one waits between requests.
  HttpConnection* next() const noexcept { return next_; }
  bool idle() const noexcept { return idle_; }
  ActorBase* actor() const noexcept { return self_; }

  void run();

  // --- used by HttpRequest / HttpResponse ---
  std::size_t read_body(void* buffer, std::size_t size);
  void send(HttpResponse& r, std::string_view body, std::string_view content_type);
  void begin_chunked(HttpResponse& r, std::string_view content_type);
  void write_chunk(HttpResponse& r, std::string_view data);
  void end_chunked(HttpResponse& r);

 private:
  enum class Feed { kOk, kError };

  static HttpConnection& of(http_parser* p) { return *static_cast<HttpConnection*>(p->data); }
  static int on_message_begin(http_parser* p);
  static int on_url(http_parser* p, const char* at, std::size_t n);
  static int on_header_field(http_parser* p, const char* at, std::size_t n);
  static int on_header_value(http_parser* p, const char* at, std::size_t n);
  static int on_headers_complete(http_parser* p);
  static int on_body(http_parser* p, const char* at, std::size_t n);
  static int on_chunk_header(http_parser* p);
  static int on_message_complete(http_parser* p);

  int fail(int status) {
    if (error_status_ == 0) error_status_ = status;
    return -1;
  }
  Feed fail_feed(int status) {
    fail(status);
    return Feed::kError;
  }
  void begin_request();
  bool read_head();
  void handle_request();
  void finish_request();
  Feed feed();
  std::size_t fill(Deadline deadline);
  void release_buffers();
  void flush();
  void write_head(HttpResponse& r, std::string_view content_type, bool chunked,
                  std::uint64_t length);
  void answer_error(int status);
  void lingering_close();
  bool closing() const;
  void set_idle(bool idle) noexcept { idle_ = idle; }

  Stream& stream_;
  net::Address peer_;
  const HttpHandler& handler_;
  const HttpServerOptions& options_;
  HttpServer::State* server_;
  ActorBase* self_ = nullptr;
  HttpConnection* prev_ = nullptr;
  HttpConnection* next_ = nullptr;
  bool idle_ = false;

  http_parser parser_;
  http_parser_settings settings_;
  // Read buffer: starts at kFirstReadBuffer and doubles (up to options.read_buffer) only when a
  // read fills it, so an idle or slow connection holds 4 KiB; back to that size when idle.
  std::unique_ptr<char[]> buffer_;
  std::size_t capacity_;
  bool filled_ = false;  // the last read filled the free space
  std::size_t begin_ = 0;  // first byte not yet given to the parser
  std::size_t end_ = 0;    // end of the bytes read
  const char* exec_end_ = nullptr;  // end of the range of the running http_parser_execute
  std::string out_;        // answers not yet written (pipelined answers leave together)
  FramingCheck framing_;

  // Per-request parse state.
  HttpRequest request_;
  HttpResponse response_;
  bool in_message_ = false;
  bool headers_done_ = false;
  bool message_done_ = false;
  bool last_was_value_ = false;
  std::size_t header_bytes_ = 0;
  int error_status_ = 0;
  const char* body_at_ = nullptr;
  std::size_t body_left_ = 0;
  std::uint64_t body_read_ = 0;
  const char* span_at_ = nullptr;    // the content http-parser gave on_body in this feed
  std::size_t span_size_ = 0;
  std::uint64_t body_received_ = 0;  // content bytes parsed so far
  std::uint64_t chunks_ = 0;
  std::uint64_t framing_bytes_ = 0;  // chunk-size lines and trailers
  int crlf_owed_ = 0;  // bytes of a chunk's closing CRLF still to be checked
  bool expect_continue_ = false;
  bool continue_sent_ = false;
  bool close_after_ = false;
  std::optional<Deadline> header_deadline_;
};

// --- parser callbacks ----------------------------------------------------------------------

int HttpConnection::on_message_begin(http_parser* p) {
  HttpConnection& c = of(p);
  c.in_message_ = true;
  return 0;
}

int HttpConnection::on_url(http_parser* p, const char* at, std::size_t n) {
  HttpConnection& c = of(p);
  if (c.request_.target_.size() + n > c.options_.max_request_line) return c.fail(414);
  c.request_.target_.append(at, n);
  return 0;
}

int HttpConnection::on_header_field(http_parser* p, const char* at, std::size_t n) {
  HttpConnection& c = of(p);
  HttpHeaders& h = c.request_.headers_;
  if (c.headers_done_) {
    // A trailer field of a chunked body: checked and counted, not kept (the handler holds
    // views of the header list while it reads the body; RFC 9110 §6.5.1 lets a recipient
    // drop trailers).
    for (std::size_t i = 0; i < n; ++i) {
      if (!is_tchar(static_cast<unsigned char>(at[i]))) return c.fail(400);
    }
    c.header_bytes_ += n;
    return c.header_bytes_ > c.options_.max_header_bytes ? c.fail(431) : 0;
  }
  if (c.last_was_value_ || h.size_ == 0) {
    if (h.size_ >= c.options_.max_headers) return c.fail(431);
    if (h.entries_.size() == h.size_) h.entries_.emplace_back();
    h.entries_[h.size_].first.clear();
    h.entries_[h.size_].second.clear();
    ++h.size_;
    c.header_bytes_ += 4;  // ": " and CRLF
    c.last_was_value_ = false;
  }
  // http-parser lets whitespace before the colon through ("Host : x"); a smuggling form.
  for (std::size_t i = 0; i < n; ++i) {
    if (!is_tchar(static_cast<unsigned char>(at[i]))) return c.fail(400);
  }
  c.header_bytes_ += n;
  if (c.header_bytes_ > c.options_.max_header_bytes) return c.fail(431);
  h.entries_[h.size_ - 1].first.append(at, n);
  return 0;
}

int HttpConnection::on_header_value(http_parser* p, const char* at, std::size_t n) {
  HttpConnection& c = of(p);
  HttpHeaders& h = c.request_.headers_;
  // (An obs-folded line — one that starts with whitespace — is refused by FramingCheck.)
  c.header_bytes_ += n;
  if (c.header_bytes_ > c.options_.max_header_bytes) return c.fail(431);
  if (c.headers_done_) return 0;  // a trailer field's value: counted, not kept
  if (h.size_ == 0) return c.fail(400);
  c.last_was_value_ = true;
  h.entries_[h.size_ - 1].second.append(at, n);
  return 0;
}

int HttpConnection::on_headers_complete(http_parser* p) {
  HttpConnection& c = of(p);
  HttpRequest& r = c.request_;
  r.method_ = http_method_str(static_cast<http_method>(p->method));
  r.major_ = p->http_major;
  r.minor_ = p->http_minor;
  if (r.major_ != 1 || r.minor_ > 1) return c.fail(505);
  if (p->method == HTTP_CONNECT) return c.fail(405);
  const std::size_t hosts = r.headers_.count("host");
  if (hosts > 1 || (hosts == 0 && r.minor_ == 1)) return c.fail(400);
  // Transfer-Encoding (RFC 9112 §6.1, §6.3). http-parser has refused it with Content-Length,
  // and a request whose last coding is not chunked; the rest is checked here.
  if (const std::size_t te = r.headers_.count("transfer-encoding"); te > 0) {
    // One field line only: a second one is how requests get smuggled past proxies that read
    // only the first.
    if (te > 1) return c.fail(400);
    // HTTP/1.0 has no transfer codings: its framing is faulty whatever else it says.
    if (r.minor_ == 0) return c.fail(400);
    const std::vector<std::string> codings = transfer_codings(*r.headers_.get("transfer-encoding"));
    if (codings.empty() || codings.back() != "chunked" || (p->flags & F_CHUNKED) == 0) {
      return c.fail(400);
    }
    for (std::size_t i = 0; i + 1 < codings.size(); ++i) {
      if (codings[i] == "chunked") return c.fail(400);  // chunked applied twice
    }
    // gzip, deflate, ... under chunked: the content would reach the handler still coded.
    if (codings.size() > 1) return c.fail(501);
  }
  r.chunked_ = (p->flags & F_CHUNKED) != 0;
  if ((p->flags & F_CONTENTLENGTH) != 0) {
    r.content_length_ = p->content_length;
    if (p->content_length > c.options_.max_body) return c.fail(413);
  } else {
    r.content_length_.reset();
  }
  r.keep_alive_ = http_should_keep_alive(p) != 0;
  if (auto expect = r.headers_.get("expect")) {
    if (!iequals(*expect, "100-continue")) return c.fail(417);
    c.expect_continue_ = r.minor_ == 1;
  }
  c.headers_done_ = true;
  http_parser_pause(p, 1);
  return 0;
}

int HttpConnection::on_body(http_parser* p, const char* at, std::size_t n) {
  HttpConnection& c = of(p);
  c.body_at_ = at;
  c.body_left_ = n;
  c.span_at_ = at;
  c.span_size_ = n;
  c.body_received_ += n;
  if ((p->flags & F_CHUNKED) != 0 && p->content_length == 0) {
    // The chunk's data ended: http-parser (non-strict build) takes any two bytes as its CRLF
    // ("helloXX0\r\n\r\n" parses). Check them here, or at the start of the next feed.
    const char* after = at + n;
    const char* want = "\r\n";
    int checked = 0;
    while (checked < 2 && after + checked < c.exec_end_) {
      if (after[checked] != want[checked]) return c.fail(400);
      ++checked;
    }
    c.crlf_owed_ = 2 - checked;
  }
  http_parser_pause(p, 1);
  return 0;
}

// A chunk-size line was parsed (p->content_length is the chunk's size): a body that announces
// more than max_body is refused before its bytes arrive.
int HttpConnection::on_chunk_header(http_parser* p) {
  HttpConnection& c = of(p);
  ++c.chunks_;
  if (p->content_length > c.options_.max_body - std::min(c.options_.max_body, c.body_received_)) {
    return c.fail(413);
  }
  return 0;
}

int HttpConnection::on_message_complete(http_parser* p) {
  HttpConnection& c = of(p);
  c.message_done_ = true;
  http_parser_pause(p, 1);
  return 0;
}

// --- reading ---------------------------------------------------------------------------------

HttpConnection::Feed HttpConnection::feed() {
  const char* data = buffer_.get() + begin_;
  const std::size_t size = end_ - begin_;
  // The rest of a chunk's CRLF that on_body could not see yet. The bytes stay in the input:
  // http-parser consumes them itself.
  for (std::size_t i = 0; crlf_owed_ > 0 && i < size; ++i) {
    if (data[i] != "\r\n"[2 - crlf_owed_]) {
      error_status_ = 400;
      return Feed::kError;
    }
    --crlf_owed_;
  }
  if (HTTP_PARSER_ERRNO(&parser_) == HPE_PAUSED) http_parser_pause(&parser_, 0);
  exec_end_ = data + size;
  span_at_ = nullptr;
  span_size_ = 0;
  const bool in_body = headers_done_;
  const std::size_t used = http_parser_execute(&parser_, &settings_, data, size);
  begin_ += used;
  if (server_ != nullptr) server_->stats.bytes_parsed += used;
  const auto err = static_cast<http_errno>(HTTP_PARSER_ERRNO(&parser_));
  if (err != HPE_OK && err != HPE_PAUSED) {
    if (error_status_ == 0) error_status_ = err == HPE_HEADER_OVERFLOW ? 431 : 400;
    return Feed::kError;
  }
  if (error_status_ != 0) return Feed::kError;
  // The bytes consumed around the content go through FramingCheck: all of them while the head
  // is parsed (http-parser pauses at its end), and a chunked body's size lines and trailers.
  // (A Content-Length body is content only; the line feed that ends its head is checked by
  // read_head.)
  if (!in_body) {
    if (!framing_.scan(data, used, SIZE_MAX)) return fail_feed(400);
  } else if (request_.chunked_) {
    const char* end = data + used;
    const char* span_begin = span_at_ != nullptr ? std::min(span_at_, end) : end;
    const char* span_end = span_at_ != nullptr ? std::min(span_at_ + span_size_, end) : end;
    const std::size_t line = options_.max_request_line;
    if (!framing_.scan(data, std::size_t(span_begin - data), line) ||
        !framing_.scan(span_end, std::size_t(end - span_end), line)) {
      return fail_feed(400);
    }
    // Chunk extensions and tiny chunks can make a client send far more framing than content
    // (bytes the handler never sees); allow 16 KiB plus a little per chunk and per content byte.
    framing_bytes_ += used - std::size_t(span_end - span_begin);
    if (framing_bytes_ > 16 * 1024 + 16 * chunks_ + 2 * body_received_) return fail_feed(400);
  }
  return Feed::kOk;
}

std::size_t HttpConnection::fill(Deadline deadline) {
  if (begin_ == end_) {
    begin_ = end_ = 0;
    // The last read filled the buffer: the client sends faster than one read takes. Grow (no
    // byte is pending, so nothing is copied and no pointer into the buffer is live).
    if (filled_ && capacity_ < options_.read_buffer) {
      capacity_ = std::min(capacity_ * 2, std::max(options_.read_buffer, kFirstReadBuffer));
      buffer_.reset(new char[capacity_]);
    }
  } else if (end_ == capacity_) {
    std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }
  flush();  // answers leave before we wait for more requests
  const std::size_t room = capacity_ - end_;
  const std::size_t n = stream_.read_some(buffer_.get() + end_, room, deadline);
  filled_ = n == room;
  end_ += n;
  if (server_ != nullptr) server_->stats.bytes_received += n;
  return n;
}

// Between requests, with nothing buffered: back to the first sizes, so thousands of idle
// keep-alive connections cost a few KiB each whatever they sent before.
void HttpConnection::release_buffers() {
  if (capacity_ > kFirstReadBuffer && begin_ == end_) {
    buffer_.reset(new char[kFirstReadBuffer]);
    capacity_ = kFirstReadBuffer;
    begin_ = end_ = 0;
    filled_ = false;
  }
  if (out_.empty() && out_.capacity() > 16 * 1024) {
    std::string().swap(out_);
    out_.reserve(4096);
  }
}

void HttpConnection::flush() {
  if (out_.empty()) return;
  stream_.write_all(std::string_view(out_));
  out_.clear();
}

void HttpConnection::begin_request() {
  request_.method_.clear();
  request_.target_.clear();
  request_.headers_.size_ = 0;
  request_.content_length_.reset();
  request_.chunked_ = false;
  request_.keep_alive_ = true;
  response_.headers_.clear();
  response_.reason_.clear();
  response_.status_ = 0;
  response_.started_ = false;
  response_.chunked_ = false;
  response_.finished_ = false;
  response_.close_ = false;
  response_.body_bytes_ = 0;
  in_message_ = false;
  headers_done_ = false;
  message_done_ = false;
  last_was_value_ = false;
  header_bytes_ = 0;
  body_at_ = nullptr;
  body_left_ = 0;
  body_read_ = 0;
  body_received_ = 0;
  chunks_ = 0;
  framing_bytes_ = 0;
  framing_.reset();
  crlf_owed_ = 0;
  expect_continue_ = false;
  continue_sent_ = false;
  header_deadline_.reset();
}

// Reads and parses until a request's headers are complete. False when the connection should
// end (peer closed, idle timeout, or an error that was answered).
bool HttpConnection::read_head() {
  begin_request();
  for (;;) {
    if (begin_ < end_) {
      if (!headers_done_) {
        if (feed() == Feed::kError) {
          answer_error(error_status_);
          return false;
        }
        continue;
      }
      // http-parser paused before the byte that ends the header section and, built lenient,
      // takes any byte for that line feed: it must be one before the handler runs.
      if (!framing_.accepts(static_cast<unsigned char>(buffer_[begin_]))) {
        answer_error(400);
        return false;
      }
      if (server_ != nullptr) ++server_->stats.requests;
      return true;
    }
    if (server_ != nullptr && server_->stopping && !in_message_) return false;
    Deadline deadline;
    if (in_message_) {
      if (!header_deadline_) header_deadline_ = Deadline::after(options_.header_timeout);
      deadline = *header_deadline_;
    } else {
      release_buffers();
      deadline = Deadline::after(options_.idle_timeout);
      set_idle(true);
    }
    std::size_t n;
    try {
      n = fill(deadline);
    } catch (const net::SocketTimeout&) {
      set_idle(false);
      if (in_message_) answer_error(408);
      return false;
    } catch (...) {
      set_idle(false);
      throw;
    }
    set_idle(false);
    if (n == 0) {
      // The peer closed. A half-sent request gets no answer (nobody would read it).
      return false;
    }
    // The first bytes of a request arrived: from now on waits are bounded by the header
    // timeout, taken (lazily) at the first wait that needs it.
    in_message_ = true;
  }
}

std::size_t HttpConnection::read_body(void* buffer, std::size_t size) {
  if (size == 0) return 0;
  if (expect_continue_ && !continue_sent_ && !message_done_ && !response_.started_) {
    continue_sent_ = true;
    out_.append("HTTP/1.1 100 Continue\r\n\r\n");
    flush();
  }
  for (;;) {
    if (body_left_ > 0) {
      const std::size_t k = std::min(size, body_left_);
      if (body_read_ + k > options_.max_body) {
        close_after_ = true;
        throw HttpError(413, "request body over the limit");
      }
      std::memcpy(buffer, body_at_, k);
      body_at_ += k;
      body_left_ -= k;
      body_read_ += k;
      return k;
    }
    if (message_done_ || !headers_done_) return 0;
    if (begin_ < end_) {
      if (feed() == Feed::kError) {
        close_after_ = true;
        throw HttpError(error_status_, "malformed request body");
      }
      continue;
    }
    std::size_t n;
    try {
      n = fill(Deadline::after(options_.body_timeout));
    } catch (const net::SocketTimeout&) {
      close_after_ = true;
      throw HttpError(408, "timed out reading the request body");
    }
    if (n == 0) {
      close_after_ = true;
      throw net::EndOfStream("the client closed the connection in the middle of a request body");
    }
  }
}

// --- writing ---------------------------------------------------------------------------------

bool HttpConnection::closing() const {
  if (close_after_ || response_.close_ || !request_.keep_alive_) return true;
  if (server_ != nullptr && server_->stopping) return true;
  // A body the client was told to wait with (100-continue not sent) cannot be drained.
  if (expect_continue_ && !continue_sent_ && !message_done_) return true;
  return false;
}

void HttpConnection::write_head(HttpResponse& r, std::string_view content_type, bool chunked,
                                std::uint64_t length) {
  if (r.started_) throw std::logic_error("HttpResponse: the answer was already started");
  r.started_ = true;
  if (closing()) close_after_ = true;
  out_.append("HTTP/1.1 ");
  append_number(out_, std::uint64_t(r.status_));
  out_.push_back(' ');
  out_.append(r.reason_.empty() ? http_reason(r.status_) : std::string_view(r.reason_));
  out_.append("\r\nServer: ");
  out_.append(options_.server_name);
  out_.append("\r\nDate: ");
  out_.append(http_date());
  if (!content_type.empty()) {
    out_.append("\r\nContent-Type: ");
    out_.append(content_type);
  }
  if (chunked) {
    out_.append("\r\nTransfer-Encoding: chunked");
  } else if (length != std::uint64_t(-1)) {
    out_.append("\r\nContent-Length: ");
    append_number(out_, length);
  }
  if (close_after_) {
    out_.append("\r\nConnection: close");
  } else if (request_.minor_ == 0) {
    out_.append("\r\nConnection: keep-alive");
  }
  for (const auto& [name, value] : r.headers_) {
    out_.append("\r\n");
    out_.append(name);
    out_.append(": ");
    out_.append(value);
  }
  out_.append("\r\n\r\n");
}

void HttpConnection::send(HttpResponse& r, std::string_view body, std::string_view content_type) {
  if (bodiless(r.status_)) {
    write_head(r, {}, false, std::uint64_t(-1));  // the body, if any, is not sent
    r.finished_ = true;
    return;
  }
  write_head(r, content_type, false, body.size());
  r.finished_ = true;
  const bool head = request_.method_ == "HEAD";
  if (head || body.empty()) return;
  r.body_bytes_ = body.size();
  if (body.size() <= kCopyBodyLimit) {
    out_.append(body);
    if (out_.size() >= 64 * 1024) flush();
    return;
  }
  // A big body goes out with the head in one sendmsg, without a copy.
  const std::string_view parts[2] = {out_, body};
  stream_.write_all(std::span<const std::string_view>(parts, 2));
  out_.clear();
}

void HttpConnection::begin_chunked(HttpResponse& r, std::string_view content_type) {
  if (bodiless(r.status_)) {
    write_head(r, {}, false, std::uint64_t(-1));  // chunks written later are not sent
  } else if (request_.minor_ == 0) {
    // HTTP/1.0 has no chunked coding: the body runs to the end of the connection.
    close_after_ = true;
    write_head(r, content_type, false, std::uint64_t(-1));
  } else {
    write_head(r, content_type, true, 0);
    r.chunked_ = true;
  }
}

void HttpConnection::write_chunk(HttpResponse& r, std::string_view data) {
  if (!r.started_) begin_chunked(r, "text/plain");
  if (r.finished_) throw std::logic_error("HttpResponse: write_chunk after the end");
  if (data.empty() || request_.method_ == "HEAD" || bodiless(r.status_)) return;
  r.body_bytes_ += data.size();
  if (r.chunked_) {
    out_.append(fmt::format("{:x}\r\n", data.size()));
    const std::string_view parts[3] = {out_, data, "\r\n"};
    stream_.write_all(std::span<const std::string_view>(parts, 3));
  } else {
    const std::string_view parts[2] = {out_, data};
    stream_.write_all(std::span<const std::string_view>(parts, 2));
  }
  out_.clear();
}

void HttpConnection::end_chunked(HttpResponse& r) {
  if (!r.started_) begin_chunked(r, "text/plain");
  if (r.finished_) return;
  r.finished_ = true;
  if (r.chunked_ && request_.method_ != "HEAD") out_.append("0\r\n\r\n");
}

void HttpConnection::answer_error(int status) {
  close_after_ = true;
  if (!response_.started_) {
    response_.status_ = status;
    response_.headers_.clear();
    response_.reason_.clear();
    const std::string body = fmt::format("{} {}\n", status, http_reason(status));
    try {
      send(response_, body, "text/plain");
      flush();
    } catch (const net::SocketError&) {
      return;  // the client is gone
    }
    if (options_.access_log) {
      spdlog::info("{} \"{} {} HTTP/{}.{}\" {} {}", peer_.to_string(), request_.method_,
                   request_.target_, request_.major_, request_.minor_, status, body.size());
    }
  }
  lingering_close();
}

// After an error answer, unread request bytes in the kernel would turn our close into a reset
// that can destroy the answer before the client reads it. Send FIN, then read and drop what
// still comes for a moment (nginx's lingering close).
void HttpConnection::lingering_close() {
  try {
    flush();
    stream_.shutdown_write();
    const Deadline deadline = Deadline::after(std::min(1.0, options_.idle_timeout));
    std::size_t dropped = 0;
    while (dropped < (1u << 20)) {
      const std::size_t n = stream_.read_some(buffer_.get(), capacity_, deadline);
      if (n == 0) break;
      dropped += n;
    }
  } catch (const net::SocketError&) {
    // reset or timed out: either way we are done
  }
}

// --- the loop --------------------------------------------------------------------------------

void HttpConnection::handle_request() {
  HttpResponse& res = response_;
  try {
    handler_(request_, res);
    if (!res.started_) {
      res.status_ = 500;
      send(res, "500 Internal Server Error: the handler sent no answer\n", "text/plain");
    } else if (!res.finished_) {
      end_chunked(res);
    }
  } catch (const HttpError& e) {
    if (!res.started_) {
      answer_error(e.status());
    }
    close_after_ = true;
    return;
  } catch (const net::SocketError&) {
    close_after_ = true;  // the client went away (or timed out) mid-request
    return;
  } catch (const GreenletExit&) {
    throw;
  } catch (...) {
    close_after_ = true;
    if (!res.started_) {
      res.headers_.clear();
      res.reason_.clear();
      res.status_ = 500;
      try {
        send(res, "500 Internal Server Error\n", "text/plain");
        flush();
      } catch (const net::SocketError&) {
      }
    }
    throw;  // the actor machinery reports it (once, in gevent's form)
  }
  if (options_.access_log) {
    spdlog::info("{} \"{} {} HTTP/{}.{}\" {} {}", peer_.to_string(), request_.method_,
                 request_.target_, request_.major_, request_.minor_, res.status_,
                 res.body_bytes_);
  }
}

// Consumes what is left of the request (an unread body) so the next one can be parsed.
void HttpConnection::finish_request() {
  if (close_after_) return;
  if (!message_done_) {
    if (expect_continue_ && !continue_sent_) {
      close_after_ = true;
      return;
    }
    char scratch[4096];
    try {
      while (read_body(scratch, sizeof scratch) > 0) {
      }
    } catch (const HttpError&) {
      close_after_ = true;
      return;
    }
  }
  if (parser_.upgrade) close_after_ = true;  // no protocol switch here: end the connection
}

void HttpConnection::run() {
  try {
    while (read_head()) {
      handle_request();
      if (!close_after_) finish_request();
      if (close_after_) break;
    }
    flush();
  } catch (const net::SocketError&) {
    // the client went away; nothing to answer
  }
}

}  // namespace internal

// --- HttpRequest / HttpResponse --------------------------------------------------------------

std::size_t HttpRequest::read(void* buffer, std::size_t size) {
  return connection_->read_body(buffer, size);
}

std::string HttpRequest::read_all() {
  std::string out;
  if (content_length_) out.reserve(std::size_t(*content_length_));
  char chunk[4096];
  while (std::size_t n = read(chunk, sizeof chunk)) out.append(chunk, n);
  return out;
}

void HttpResponse::add_header(std::string_view name, std::string_view value) {
  if (started_) throw std::logic_error("HttpResponse: add_header after the answer started");
  headers_.emplace_back(std::string(name), std::string(value));
}

void HttpResponse::set_reason(std::string_view reason) {
  if (started_) throw std::logic_error("HttpResponse: set_reason after the answer started");
  for (unsigned char c : reason) {
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
      throw std::invalid_argument("HttpResponse: a control character in the reason phrase");
    }
  }
  reason_.assign(reason);
}

void HttpResponse::send(int status, std::string_view body, std::string_view content_type) {
  status_ = status;
  connection_->send(*this, body, content_type);
}

void HttpResponse::begin_chunked(int status, std::string_view content_type) {
  status_ = status;
  connection_->begin_chunked(*this, content_type);
}

void HttpResponse::write_chunk(std::string_view data) {
  if (status_ == 0) status_ = 200;
  connection_->write_chunk(*this, data);
}

void HttpResponse::end_chunked() {
  if (status_ == 0) status_ = 200;
  connection_->end_chunked(*this);
}

// --- HttpServer ------------------------------------------------------------------------------

void serve_http(Stream& stream, const net::Address& peer, const HttpHandler& handler,
                const HttpServerOptions& options) {
  internal::HttpConnection connection(stream, peer, handler, options, nullptr);
  connection.run();
}

namespace {
using States = std::vector<std::shared_ptr<HttpServer::State>>;

// The calling hub's state, in a handler or on_stopping.
HttpServer::State& here(const States& states) {
  return *states[states.size() == 1 ? 0 : StreamServer::hub_index()];
}

StreamServerOptions stream_options(const States& states) {
  StreamServerOptions o = states[0]->options.stream;
  if (o.name == "StreamServer") o.name = "HttpServer";
  std::vector<std::weak_ptr<HttpServer::State>> weak(states.begin(), states.end());
  o.on_stopping = [weak] {
    if (auto s = weak[weak.size() == 1 ? 0 : StreamServer::hub_index()].lock()) {
      s->stopping = true;
      // Connections between requests have nothing to finish: end them now.
      std::vector<ActorRef> idle;
      for (auto* c = s->connections; c != nullptr; c = c->next()) {
        if (c->idle()) idle.emplace_back(c->actor());
      }
      for (const auto& a : idle) a.kill();
    }
  };
  return o;
}

StreamHandler connection_handler(const States& states) {
  return [states](Stream& stream, const net::Address& peer) {
    HttpServer::State& state = here(states);
    internal::HttpConnection connection(stream, peer, state.handler, state.options, &state);
    connection.run();
  };
}

States make_states(HttpHandler handler, HttpServerOptions options) {
  States states;
  const std::size_t n = std::max<std::size_t>(options.stream.threads, 1);
  for (std::size_t i = 0; i < n; ++i) {
    auto state = std::make_shared<HttpServer::State>();
    state->options = options;
    state->handler = handler;
    states.push_back(std::move(state));
  }
  return states;
}
}  // namespace

HttpServer::HttpServer(std::string_view address, HttpHandler handler, HttpServerOptions options)
    : states_(make_states(std::move(handler), std::move(options))) {
  server_ = std::make_unique<StreamServer>(address, connection_handler(states_),
                                           stream_options(states_));
}

HttpServer::HttpServer(net::Socket listener, HttpHandler handler, HttpServerOptions options)
    : states_(make_states(std::move(handler), std::move(options))) {
  server_ = std::make_unique<StreamServer>(std::move(listener), connection_handler(states_),
                                           stream_options(states_));
}

HttpServer::~HttpServer() = default;

HttpServerStats HttpServer::stats() const {
  auto total = std::make_shared<HttpServerStats>();
  server_->each_hub([total, states = states_](std::size_t i) {
    const HttpServerStats& one = states[i]->stats;
    total->requests += one.requests;
    total->bytes_received += one.bytes_received;
    total->bytes_parsed += one.bytes_parsed;
  });
  return *total;
}

void HttpServer::stop(double timeout) {
  // From now on every answer says `Connection: close` (also those finished while the accept
  // loop is being stopped).
  server_->each_hub([states = states_](std::size_t i) { states[i]->stopping = true; });
  server_->stop(timeout);
}

}  // namespace grove::servers
