// servers/http_server.h — an HTTP/1.1 server on StreamServer, parsing with http-parser.
//
// Model: each connection is a greenlet-actor that reads requests and calls
// `handler(request, response)` for each, one at a time, so pipelined requests are answered in
// order. The handler sees the method, target, version and headers at once; the body streams
// through request.read() (an `Expect: 100-continue` is answered on the first read, never
// before). It answers once with response.send(status, body) — status line, headers and body in
// one write — or streams with response.write_chunk() (chunked for HTTP/1.1; for HTTP/1.0 the body
// is sent as is and the connection closes). A handler that returns without answering gets a
// 500, so a forgotten answer is visible; one that throws gets a 500 (when nothing was sent yet),
// the connection closes and the actor machinery reports the failure. Keep-alive is HTTP/1.1's
// default and HTTP/1.0's on `Connection: keep-alive`; HEAD
// answers carry the headers (Content-Length included) and no body.
//
// Hostile input gets a clear answer and the connection closes: malformed → 400, request line
// (the target) over max_request_line → 414, headers over max_header_bytes or max_headers →
// 431, a body over max_body → 413 (a Content-Length or chunk size that announces more is
// refused before the bytes arrive), an HTTP version other than 1.0/1.1 → 505, CONNECT → 405.
// Message framing follows RFC 9112 §6 strictly, since a request that two parsers frame
// differently is how requests get smuggled past a proxy. 400 and close for: Transfer-Encoding
// whose last coding is not chunked (`gzip`, `xchunked`, `chunked, gzip`), chunked applied twice,
// Transfer-Encoding in an HTTP/1.0 request, in two field lines, or with Content-Length;
// Content-Length repeated, as a list (`5, 5`), signed, hex, empty or past 2^64; a chunk size that
// is not hex or overflows, chunk data not followed by CRLF, chunk extensions or trailers with
// control characters, lines over max_request_line, or more framing than content (16 KiB plus a
// little per chunk); any line of the head, a chunk-size line or a trailer that does not end in
// CRLF (a bare CR or a bare LF), an obs-folded line, whitespace before a header's colon, a
// control character in a field, a missing or repeated Host in HTTP/1.1. A transfer coding other
// than chunked (`gzip, chunked`) → 501: the server does not decode it. http-parser rejects many
// of these; the server checks the ones its lenient build lets through. Trailer fields are
// checked and counted against max_header_bytes, then dropped. Answers with status 1xx, 204 or
// 304 carry no Content-Length, Transfer-Encoding or body.
//
// Timeouts: a connection idle between requests for idle_timeout (60 s) is closed silently; a
// request whose headers have not all arrived header_timeout (10 s) after its first byte gets
// 408 and close (slowloris); an answer (or a chunk of one) the client has not taken within
// send_timeout (60 s) ends the connection, so a client that sends and never reads holds its
// descriptor no longer than that. All are deadlines on the waits themselves (a userspace libev
// timer while parked; no system call per request).
//
// Cost per keep-alive request on a plain connection: one read (a short read marks the socket
// not ready, so the next request parks without an EAGAIN read), one write for the whole
// response; pipelined requests that arrive together are parsed from one read and their
// responses leave in one write. A `Date` header is formatted once a second. Parsing is
// incremental: a request that arrives in pieces is parsed piece by piece, each byte once.
//
// Memory per connection: a 4 KiB read buffer that doubles (up to read_buffer) only when reads
// fill it, and returns to 4 KiB between requests; header strings as long as the headers that
// arrived. A client that sends without reading its answers is not read from while its answers
// wait to be written (at most ~80 KiB of answers wait in the server), so it
// stalls itself, never the server.
//
// Many hubs: with options.stream.threads > 1 connections are accepted and served on that many
// hubs (see StreamServer); the handler runs on all of them at once. Each hub keeps its own
// connection list and counters; stats() adds them up.
//
// Thread: create, start and stop from one hub. Lifetime: Request and Response are valid only
// during the handler call.
//
//   grove::servers::HttpServer server("127.0.0.1:8080", [](auto& req, auto& res) {
//     res.send(200, "Hello, World!", "text/plain");
//   });
//   server.serve_forever();
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/address.h"
#include "net/socket.h"
#include "servers/stream.h"
#include "servers/stream_server.h"

namespace grove::servers {

namespace internal {
class HttpConnection;
}

// A header list with case-insensitive lookup, in arrival order.
class HttpHeaders {
 public:
  // The first value of `name` (case-insensitive), if present.
  std::optional<std::string_view> get(std::string_view name) const;
  std::size_t count(std::string_view name) const;
  std::size_t size() const noexcept { return size_; }
  std::pair<std::string_view, std::string_view> at(std::size_t i) const {
    return {entries_[i].first, entries_[i].second};
  }

 private:
  friend class internal::HttpConnection;
  // Entries are reused across requests (their strings keep their capacity).
  std::vector<std::pair<std::string, std::string>> entries_;
  std::size_t size_ = 0;
};

class HttpRequest {
 public:
  std::string_view method() const noexcept { return method_; }
  std::string_view target() const noexcept { return target_; }
  int version_major() const noexcept { return major_; }
  int version_minor() const noexcept { return minor_; }
  const HttpHeaders& headers() const noexcept { return headers_; }
  std::optional<std::string_view> header(std::string_view name) const { return headers_.get(name); }
  const net::Address& peer() const noexcept { return *peer_; }
  // Content-Length, when the request had one.
  std::optional<std::uint64_t> content_length() const noexcept { return content_length_; }
  bool chunked() const noexcept { return chunked_; }
  bool keep_alive() const noexcept { return keep_alive_; }

  // Reads up to `size` body bytes (de-chunked); 0 at the end of the body. Sends `100 Continue`
  // first when the client asked for it. Throws HttpError (413) past max_body.
  std::size_t read(void* buffer, std::size_t size);
  // The whole (rest of the) body.
  std::string read_all();

 private:
  friend class internal::HttpConnection;
  internal::HttpConnection* connection_ = nullptr;
  std::string method_;
  std::string target_;
  int major_ = 1;
  int minor_ = 1;
  HttpHeaders headers_;
  const net::Address* peer_ = nullptr;
  std::optional<std::uint64_t> content_length_;
  bool chunked_ = false;
  bool keep_alive_ = true;
};

class HttpResponse {
 public:
  // Adds a header to the answer (before send/begin_chunked). Content-Length, Transfer-Encoding,
  // Date, Server and Connection are the server's.
  void add_header(std::string_view name, std::string_view value);
  // The whole answer in one write. For HEAD, the body is counted in Content-Length, not sent.
  void send(int status, std::string_view body = {}, std::string_view content_type = "text/plain");
  // Streams the body: begin_chunked sends the head; each write_chunk one chunk; end_chunked the
  // terminator (also done for you when the handler returns).
  void begin_chunked(int status, std::string_view content_type = "text/plain");
  void write_chunk(std::string_view data);
  void end_chunked();
  // Close the connection after this answer.
  void close_connection() noexcept { close_ = true; }
  // The reason phrase of the status line (before send/begin_chunked); default http_reason().
  // Throws std::invalid_argument for a phrase with CR, LF or other control characters.
  void set_reason(std::string_view reason);

  bool started() const noexcept { return started_; }
  int status() const noexcept { return status_; }

 private:
  friend class internal::HttpConnection;
  internal::HttpConnection* connection_ = nullptr;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::string reason_;
  int status_ = 0;
  bool started_ = false;
  bool chunked_ = false;
  bool finished_ = false;
  bool close_ = false;
  std::uint64_t body_bytes_ = 0;
};

// What the server answers with when a request is refused (thrown by HttpRequest::read past
// max_body; a handler may throw one too to answer with that status and close).
class HttpError : public std::runtime_error {
 public:
  HttpError(int status, const std::string& message) : std::runtime_error(message), status_(status) {}
  int status() const noexcept { return status_; }

 private:
  int status_;
};

using HttpHandler = std::function<void(HttpRequest& request, HttpResponse& response)>;

struct HttpServerOptions {
  std::size_t max_request_line = 8192;    // → 414
  std::size_t max_header_bytes = 64 * 1024;  // → 431
  std::size_t max_headers = 100;          // → 431
  std::uint64_t max_body = 64 * 1024 * 1024;  // → 413
  double idle_timeout = 60.0;             // between requests: close silently
  double header_timeout = 10.0;           // first byte to end of headers: 408
  double body_timeout = 60.0;             // each wait for body bytes
  double send_timeout = 60.0;             // each write (an answer, a chunk): close when the client
                                          // does not take it in time (<= 0: wait forever)
  std::size_t read_buffer = 64 * 1024;
  bool access_log = false;                // one spdlog info line per request
  std::string server_name = "grove";
  StreamServerOptions stream;             // accept policy, TLS (make_stream), ...
};

struct HttpServerStats {
  std::uint64_t requests = 0;        // requests given to the handler
  std::uint64_t bytes_received = 0;  // read from clients
  std::uint64_t bytes_parsed = 0;    // consumed by the parser: each received byte once
};

class HttpServer {
 public:
  HttpServer(std::string_view address, HttpHandler handler, HttpServerOptions options = {});
  HttpServer(net::Socket listener, HttpHandler handler, HttpServerOptions options = {});
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;
  ~HttpServer();

  void start() { server_->start(); }
  void serve_forever() { server_->serve_forever(); }
  // Stops accepting, closes idle keep-alive connections at once, lets requests in progress
  // finish (their answer says `Connection: close`) for up to `timeout`, then kills the rest.
  void stop(double timeout = 1.0);
  void close() { server_->close(); }
  bool started() const noexcept { return server_->started(); }
  net::Address address() const { return server_->address(); }
  std::string server_host() const { return server_->server_host(); }
  std::uint16_t server_port() const { return server_->server_port(); }
  StreamServer& stream_server() noexcept { return *server_; }
  HttpServerStats stats() const;

  struct State;

 private:
  std::vector<std::shared_ptr<State>> states_;  // one per hub (options.stream.threads)
  std::unique_ptr<StreamServer> server_;
};

// "OK", "Not Found", ...; "Unknown" for codes it does not know.
std::string_view http_reason(int status);

// The connection loop itself, for a stream you accepted yourself.
void serve_http(Stream& stream, const net::Address& peer, const HttpHandler& handler,
                const HttpServerOptions& options);

}  // namespace grove::servers
