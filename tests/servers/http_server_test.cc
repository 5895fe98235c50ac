// tests/servers/http_server_test.cc — HttpServer against raw sockets: keep-alive, pipelining,
// chunked bodies, HEAD, 100-continue, timeouts, stop(), and a table of hostile requests.
#include "servers/http_server.h"

#include <fmt/format.h>

#include <string>
#include <vector>

#include "actors/actor.h"
#include "hub/hub.h"
#include "hub/testing.h"
#include "tests/servers/client.h"
#include "tests/support/grove_test.h"

namespace {

using grove::servers::HttpRequest;
using grove::servers::HttpResponse;
using grove::servers::HttpServer;
using grove::servers::HttpServerOptions;
using grove::servers::testing::connect_to;
using grove::servers::testing::Reply;
using grove::servers::testing::ReplyReader;

int slow_in_handler = 0;  // /slow requests the server is handling now

void test_handler(HttpRequest& req, HttpResponse& res) {
  const std::string target(req.target());
  if (target == "/chunked") {
    res.begin_chunked(200);
    res.write_chunk("one,");
    res.write_chunk("two,");
    res.write_chunk("three");
    return;
  }
  if (target == "/throw") throw std::runtime_error("handler boom");
  if (target == "/204") {
    res.send(204, "a body a 204 must not carry");
    return;
  }
  if (target == "/304") {
    res.send(304, "a body a 304 must not carry");
    return;
  }
  if (target == "/chunked204") {
    res.begin_chunked(204);
    res.write_chunk("not sent");
    return;
  }
  if (target == "/headers") {
    // The header list, read after the whole body (and its trailers) went by.
    const std::string body = req.read_all();
    std::string names;
    for (std::size_t i = 0; i < req.headers().size(); ++i) {
      names += std::string(req.headers().at(i).first) + ";";
    }
    res.send(200, fmt::format("[{}] {}", body, names));
    return;
  }
  if (target == "/none") return;
  if (target == "/noread") {
    res.send(200, "did not read");
    return;
  }
  if (target == "/slow") {
    ++slow_in_handler;
    grove::sleep(0.2);
    --slow_in_handler;
  }
  const std::string body = req.read_all();
  res.add_header("X-Method", req.method());
  res.send(200, fmt::format("{} {} [{}]", req.method(), target, body));
}

HttpServerOptions test_options() {
  HttpServerOptions o;
  o.max_body = 1 << 20;
  o.header_timeout = 0.3;
  o.idle_timeout = 5.0;
  o.body_timeout = 2.0;
  return o;
}

struct Served {
  explicit Served(HttpServerOptions o = test_options()) : server("127.0.0.1:0", test_handler, o) {
    server.start();
  }
  std::uint16_t port() const { return server.server_port(); }
  HttpServer server;
};

// One fresh client, one valid request: the server is still serving.
void expect_serves(std::uint16_t port) {
  grove::net::Socket s = connect_to(port);
  s.sendall("GET /alive HTTP/1.1\r\nHost: t\r\n\r\n");
  ReplyReader r(s);
  const Reply reply = r.read();
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, "GET /alive []");
}

GROVE_TEST(HttpServer, AnswersAndKeepsTheConnectionAlive) {
  Served served;
  grove::net::Socket s = connect_to(served.port());
  ReplyReader r(s);
  for (int i = 0; i < 3; ++i) {
    s.sendall(fmt::format("GET /k{} HTTP/1.1\r\nHost: t\r\n\r\n", i));
    const Reply reply = r.read();
    ASSERT_EQ(reply.status, 200);
    EXPECT_EQ(reply.body, fmt::format("GET /k{} []", i));
    EXPECT_EQ(reply.headers.at("server"), "grove");
    EXPECT_TRUE(reply.headers.count("date"));
    EXPECT_EQ(reply.headers.at("x-method"), "GET");
    EXPECT_EQ(reply.headers.count("connection"), 0u);
  }
  EXPECT_FALSE(r.closed_within(0.05));
}

GROVE_TEST(HttpServer, PipelinedRequestsAreAnsweredInOrder) {
  Served served;
  grove::net::Socket s = connect_to(served.port());
  std::string burst;
  for (int i = 0; i < 10; ++i) burst += fmt::format("GET /p{} HTTP/1.1\r\nHost: t\r\n\r\n", i);
  burst += "POST /p10 HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc";
  s.sendall(burst);
  ReplyReader r(s);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(r.read().body, fmt::format("GET /p{} []", i));
  EXPECT_EQ(r.read().body, "POST /p10 [abc]");
}

GROVE_TEST(HttpServer, ChunkedRequestBodyIsDecoded) {
  Served served;
  grove::net::Socket s = connect_to(served.port());
  s.sendall("POST /up HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
            "5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\nTrailer: x\r\n\r\n"
            "GET /after HTTP/1.1\r\nHost: t\r\n\r\n");
  ReplyReader r(s);
  EXPECT_EQ(r.read().body, "POST /up [hello world]");
  EXPECT_EQ(r.read().body, "GET /after []");
}

GROVE_TEST(HttpServer, ChunkedResponseStreams) {
  Served served;
  grove::net::Socket s = connect_to(served.port());
  s.sendall("GET /chunked HTTP/1.1\r\nHost: t\r\n\r\n");
  ReplyReader r(s);
  const Reply reply = r.read();
  EXPECT_EQ(reply.headers.at("transfer-encoding"), "chunked");
  EXPECT_EQ(reply.body, "one,two,three");
  EXPECT_FALSE(r.closed_within(0.05));
}

GROVE_TEST(HttpServer, ChunkedResponseToHttp10EndsWithTheConnection) {
  Served served;
  grove::net::Socket s = connect_to(served.port());
  s.sendall("GET /chunked HTTP/1.0\r\n\r\n");
  ReplyReader r(s);
  const Reply reply = r.read();
  EXPECT_EQ(reply.headers.count("transfer-encoding"), 0u);
  EXPECT_EQ(reply.body, "one,two,three");
}

GROVE_TEST(HttpServer, HeadKeepsContentLengthAndSendsNoBody) {
  Served served;
  grove::net::Socket s = connect_to(served.port());
  s.sendall("HEAD /h HTTP/1.1\r\nHost: t\r\n\r\nGET /g HTTP/1.1\r\nHost: t\r\n\r\n");
  ReplyReader r(s);
  const Reply head = r.read(/*head_only=*/true);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.headers.at("content-length"), std::to_string(std::string("HEAD /h []").size()));
  EXPECT_EQ(r.read().body, "GET /g []");  // the next answer follows at once: no body in between
}

GROVE_TEST(HttpServer, ExpectContinueIsAnsweredOnTheFirstBodyRead) {
  Served served;
  grove::net::Socket s = connect_to(served.port());
  s.sendall("POST /e HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  ReplyReader r(s);
  const Reply cont = r.read();
  EXPECT_EQ(cont.status, 100);
  s.sendall("data");
  EXPECT_EQ(r.read().body, "POST /e [data]");
}

GROVE_TEST(HttpServer, ExpectContinueNotReadClosesWithoutContinue) {
  Served served;
  grove::net::Socket s = connect_to(served.port());
  s.sendall("POST /noread HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  ReplyReader r(s);
  const Reply reply = r.read();
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.headers.at("connection"), "close");
  EXPECT_TRUE(r.closed_within(20.0));
}

GROVE_TEST(HttpServer, UnreadBodyIsDrainedForTheNextRequest) {
  Served served;
  grove::net::Socket s = connect_to(served.port());
  s.sendall("POST /noread HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"
            "GET /next HTTP/1.1\r\nHost: t\r\n\r\n");
  ReplyReader r(s);
  EXPECT_EQ(r.read().body, "did not read");
  EXPECT_EQ(r.read().body, "GET /next []");
}

GROVE_TEST(HttpServer, Http10ClosesUnlessKeepAlive) {
  Served served;
  {
    grove::net::Socket s = connect_to(served.port());
    s.sendall("GET /a HTTP/1.0\r\n\r\n");
    ReplyReader r(s);
    EXPECT_EQ(r.read().headers.at("connection"), "close");
    EXPECT_TRUE(r.closed_within(20.0));
  }
  grove::net::Socket s = connect_to(served.port());
  ReplyReader r(s);
  s.sendall("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_EQ(r.read().headers.at("connection"), "keep-alive");
  s.sendall("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  EXPECT_EQ(r.read().body, "GET /b []");
}

GROVE_TEST(HttpServer, HandlerFailureAnswers500AndIsReportedOnce) {
  grove::testing::ExpectFailures failures;
  Served served;
  grove::net::Socket s = connect_to(served.port());
  s.sendall("GET /throw HTTP/1.1\r\nHost: t\r\n\r\n");
  ReplyReader r(s);
  EXPECT_EQ(r.read().status, 500);
  EXPECT_TRUE(r.closed_within(20.0));
  grove::sleep(0.05);
  ASSERT_EQ(failures.count(), 1u);
  EXPECT_NE(failures.reports()[0].find("handler boom"), std::string::npos);
  expect_serves(served.port());
}

GROVE_TEST(HttpServer, HandlerWithoutAnswerGets500) {
  Served served;
  grove::net::Socket s = connect_to(served.port());
  s.sendall("GET /none HTTP/1.1\r\nHost: t\r\n\r\n");
  ReplyReader r(s);
  EXPECT_EQ(r.read().status, 500);
}

GROVE_TEST(HttpServer, IdleKeepAliveConnectionIsClosedAfterTheIdleTimeout) {
  HttpServerOptions o = test_options();
  o.idle_timeout = 0.2;
  Served served(o);
  grove::net::Socket s = connect_to(served.port());
  ReplyReader r(s);
  s.sendall("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(r.read().status, 200);
  const double start = grove::Deadline::now();
  EXPECT_TRUE(r.closed_within(20.0));
  EXPECT_GE(grove::Deadline::now() - start, 0.15);
  EXPECT_TRUE(r.leftover().empty());  // closed silently
}

GROVE_TEST(HttpServer, StopFinishesRequestsInFlightAndEndsIdleConnections) {
  Served served;
  grove::net::Socket idle = connect_to(served.port());
  ReplyReader idle_reader(idle);
  idle.sendall("GET / HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(idle_reader.read().status, 200);

  std::vector<grove::Greenlet<Reply>> busy;
  for (int i = 0; i < 20; ++i) {
    busy.push_back(grove::spawn([port = served.port()] {
      grove::net::Socket s = connect_to(port);
      s.sendall("GET /slow HTTP/1.1\r\nHost: t\r\n\r\n");
      ReplyReader r(s);
      return r.read();
    }));
  }
  const grove::Deadline all_in = grove::Deadline::after(10.0);
  while (slow_in_handler < 20 && !all_in.passed()) grove::sleep(0.001);
  ASSERT_EQ(slow_in_handler, 20);
  // Idle connections end at once; only waiting out the stop timeout could take it.
  const double start = grove::Deadline::now();
  served.server.stop(30.0);
  EXPECT_LT(grove::Deadline::now() - start, 30.0);
  for (auto& g : busy) {
    const Reply reply = g.get();
    EXPECT_EQ(reply.status, 200);
    EXPECT_EQ(reply.body, "GET /slow []");
    EXPECT_EQ(reply.headers.at("connection"), "close");
  }
  EXPECT_TRUE(idle_reader.closed_within(20.0));
  EXPECT_THROW(connect_to(served.port()), grove::net::SocketError);
}

// --- hostile requests ------------------------------------------------------------------------

struct Hostile {
  const char* name;
  std::string request;
  int status;   // expected answer
  bool closed;  // the server closes the connection after it
};

std::vector<Hostile> hostile_table() {
  const std::string big_target = "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: t\r\n\r\n";
  const std::string big_header =
      "GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + std::string(70 * 1024, 'b') + "\r\n\r\n";
  std::string many = "GET / HTTP/1.1\r\nHost: t\r\n";
  for (int i = 0; i < 101; ++i) many += fmt::format("X-H{}: v\r\n", i);
  many += "\r\n";
  std::string big_chunked = "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 20; ++i) big_chunked += "10000\r\n" + std::string(0x10000, 'c') + "\r\n";
  big_chunked += "0\r\n\r\n";
  const std::string chunked = "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
  // 200 one-byte chunks, each with a 1000-byte extension: 200 KB of framing for 200 bytes.
  std::string ext_flood = chunked;
  for (int i = 0; i < 200; ++i) ext_flood += "1;e=" + std::string(1000, 'e') + "\r\nx\r\n";
  ext_flood += "0\r\n\r\n";
  using namespace std::string_literals;
  return {
      {"valid", "GET / HTTP/1.1\r\nHost: t\r\n\r\n", 200, false},
      {"absolute_form", "GET http://t/x HTTP/1.1\r\nHost: t\r\n\r\n", 200, false},
      {"leading_crlf", "\r\nGET / HTTP/1.1\r\nHost: t\r\n\r\n", 200, false},
      {"valid_chunk_ext", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\n\r\n", 200, false},
      {"connection_close", "GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", 200, true},
      {"http10", "GET / HTTP/1.0\r\n\r\n", 200, true},
      {"cl_and_te", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, true},
      {"te_and_cl", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nContent-Length: 0\r\n\r\n0\r\n\r\n", 400, true},
      {"cl_repeated", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", 400, true},
      {"cl_list", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5, 5\r\n\r\nhello", 400, true},
      {"cl_plus", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: +5\r\n\r\nhello", 400, true},
      {"cl_negative", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: -1\r\n\r\n", 400, true},
      {"cl_letters", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: abc\r\n\r\n", 400, true},
      {"cl_overflow", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400, true},
      {"te_xchunked", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 400, true},
      {"te_chunked_not_last", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", 400, true},
      {"te_gzip_with_cl", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\nContent-Length: 3\r\n\r\nabc", 400, true},
      {"te_obs_fold", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", 400, true},
      {"te_repeated", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, true},
      {"te_space_before_colon", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400, true},
      {"host_space_before_colon", "GET / HTTP/1.1\r\nHost : t\r\n\r\n", 400, true},
      {"obs_fold", "GET / HTTP/1.1\r\nHost: t\r\nX-A: a\r\n  folded\r\n\r\n", 400, true},
      {"chunk_size_letters", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400, true},
      {"chunk_size_negative", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n", 400, true},
      {"chunk_size_overflow", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n", 400, true},
      {"chunk_without_crlf", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n", 400, true},
      {"chunk_short", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel\r\n0\r\n\r\n", 400, true},
      // RFC 9112 §6.1 and §6.3: Transfer-Encoding.
      {"te_case_insensitive", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: CHUNKED\r\n\r\n0\r\n\r\n", 200, false},
      // (RFC 9110 §5.6.1 lets lists have empty elements; http-parser does not see chunked
      // after one, and framing the server cannot read reliably is refused.)
      {"te_leading_empty_element", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: , chunked\r\n\r\n0\r\n\r\n", 400, true},
      {"te_gzip", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\nabc", 400, true},
      {"te_chunked_gzip", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", 400, true},
      {"te_chunked_twice", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400, true},
      {"te_gzip_chunked", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501, true},
      {"te_empty", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: \r\n\r\n", 400, true},
      {"te_chunked_parameter", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked;a=b\r\n\r\n0\r\n\r\n", 400, true},
      {"te_vertical_tab", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\x0b\r\n\r\n0\r\n\r\n", 400, true},
      {"te_two_field_lines", "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, true},
      {"te_in_http10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, true},
      {"te_in_http10_keep_alive", "POST / HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 400, true},
      {"te_in_http10_with_cl", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nabc", 400, true},
      // RFC 9112 §6.2, §6.3; RFC 9110 §8.6: Content-Length.
      {"cl_whitespace_around", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length:   3  \r\n\r\nabc", 200, false},
      {"cl_leading_zeros", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 003\r\n\r\nabc", 200, false},
      {"cl_list_different", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3, 4\r\n\r\nabcd", 400, true},
      {"cl_two_field_lines_different", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400, true},
      {"cl_hex", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 0x3\r\n\r\nabc", 400, true},
      {"cl_space_inside", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1 2\r\n\r\nabc", 400, true},
      {"cl_decimal_point", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3.0\r\n\r\nabc", 400, true},
      {"cl_empty", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: \r\n\r\n", 400, true},
      {"cl_obs_fold", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n 4\r\n\r\nabc", 400, true},
      // RFC 9112 §7.1: chunk sizes, extensions, trailers.
      {"chunk_size_hex_prefix", chunked + "0x3\r\nabc\r\n0\r\n\r\n", 400, true},
      {"chunk_size_leading_space", chunked + " 3\r\nabc\r\n0\r\n\r\n", 400, true},
      {"chunk_size_bare_cr", chunked + "3\rXabc\r\n0\r\n\r\n", 400, true},
      {"chunk_size_bare_lf", chunked + "3\nabc\r\n0\r\n\r\n", 400, true},
      {"chunk_ext_bare_lf", chunked + "3;a\nabc\r\n0\r\n\r\n", 400, true},
      {"chunk_ext_control", chunked + "3;a=\x01\r\nabc\r\n0\r\n\r\n", 400, true},
      {"chunk_ext_quoted", chunked + "3;a=\"b c\"\r\nabc\r\n0\r\n\r\n", 200, false},
      {"chunk_ext_line_too_long", chunked + "3;" + std::string(9000, 'e') + "\r\nabc\r\n0\r\n\r\n", 400, true},
      {"chunk_ext_flood", ext_flood, 400, true},
      {"chunk_size_over_max_body", chunked + "200000\r\n", 413, true},
      {"last_chunk_bare_cr", chunked + "0\r\n\rX", 400, true},
      {"trailer_valid", chunked + "3\r\nabc\r\n0\r\nX-Sum: 1\r\n\r\n", 200, false},
      {"trailer_obs_fold", chunked + "3\r\nabc\r\n0\r\nX-Sum: 1\r\n 2\r\n\r\n", 400, true},
      {"trailer_bare_lf", chunked + "3\r\nabc\r\n0\r\nX-Sum: 1\n\r\n", 400, true},
      {"trailer_space_before_colon", chunked + "3\r\nabc\r\n0\r\nX-Sum : 1\r\n\r\n", 400, true},
      // RFC 9112 §2.2: every line of the head ends in CRLF; no line starts with whitespace.
      {"head_bare_lf", "GET / HTTP/1.1\nHost: t\n\n", 400, true},
      {"head_bare_lf_last_line", "GET / HTTP/1.1\r\nHost: t\r\n\n", 400, true},
      {"request_line_bare_cr", "GET / HTTP/1.1\rHost: t\r\n\r\n", 400, true},
      {"head_end_bare_cr", "GET / HTTP/1.1\r\nHost: t\r\n\rX", 400, true},
      {"leading_bare_lf", "\nGET / HTTP/1.1\r\nHost: t\r\n\r\n", 400, true},
      {"whitespace_before_first_header", "GET / HTTP/1.1\r\n Host: t\r\n\r\n", 400, true},
      {"tab_fold", "GET / HTTP/1.1\r\nHost: t\r\nX-A: a\r\n\tfolded\r\n\r\n", 400, true},
      {"version_2", "GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505, true},
      {"version_1_2", "GET / HTTP/1.2\r\nHost: t\r\n\r\n", 505, true},
      {"version_garbage", "GET / HTTP/1.10\r\nHost: t\r\n\r\n", 400, true},
      {"version_lowercase", "GET / http/1.1\r\nHost: t\r\n\r\n", 400, true},
      {"http09", "GET /\r\n\r\n", 505, true},
      {"no_host_11", "GET / HTTP/1.1\r\n\r\n", 400, true},
      {"two_hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, true},
      {"nul_in_header", "GET / HTTP/1.1\r\nHost: t\r\nX: a\0b\r\n\r\n"s, 400, true},
      {"nul_in_target", "GET /a\0b HTTP/1.1\r\nHost: t\r\n\r\n"s, 400, true},
      {"nul_in_method", "G\0T / HTTP/1.1\r\nHost: t\r\n\r\n"s, 400, true},
      {"control_in_value", "GET / HTTP/1.1\r\nHost: t\r\nX: a\x01z\r\n\r\n", 400, true},
      {"space_in_target", "GET /a b HTTP/1.1\r\nHost: t\r\n\r\n", 400, true},
      {"unknown_method", "FROB / HTTP/1.1\r\nHost: t\r\n\r\n", 400, true},
      {"lowercase_method", "get / HTTP/1.1\r\nHost: t\r\n\r\n", 400, true},
      {"empty_header_name", "GET / HTTP/1.1\r\nHost: t\r\n: x\r\n\r\n", 400, true},
      {"header_without_colon", "GET / HTTP/1.1\r\nHost: t\r\nFoo\r\n\r\n", 400, true},
      {"tls_client_hello", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400, true},
      {"connect", "CONNECT t:443 HTTP/1.1\r\nHost: t\r\n\r\n", 405, true},
      {"expect_unknown", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nExpect: teapot\r\n\r\nx", 417, true},
      {"target_too_long", big_target, 414, true},
      {"header_too_big", big_header, 431, true},
      {"too_many_headers", many, 431, true},
      {"body_over_limit_cl", "POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 2000000\r\n\r\nxx", 413, true},
      {"body_over_limit_chunked", big_chunked, 413, true},
  };
}

GROVE_TEST(HttpServer, HostileRequestsGetClearAnswersAndTheServerGoesOn) {
  Served served;
  const auto table = hostile_table();
  ASSERT_GE(table.size(), 40u);
  for (const Hostile& h : table) {
    SCOPED_TRACE(h.name);
    grove::net::Socket s = connect_to(served.port(), 3.0);
    try {
      s.sendall(h.request);
    } catch (const grove::net::SocketError&) {
      // the server may answer and close before a big request is all sent
    }
    ReplyReader r(s);
    Reply reply;
    try {
      reply = r.read();
    } catch (const grove::net::SocketTimeout&) {
      ADD_FAILURE() << h.name << ": no answer";
      continue;
    }
    EXPECT_EQ(reply.status, h.status) << h.name << ": " << reply.head;
    if (h.closed) {
      EXPECT_TRUE(r.closed_within(20.0)) << h.name << " left the connection open";
      if (h.status >= 400) {
        EXPECT_EQ(reply.headers.count("connection") ? reply.headers.at("connection") : "", "close") << h.name;
      }
    } else {
      s.sendall("GET /again HTTP/1.1\r\nHost: t\r\n\r\n");
      EXPECT_EQ(r.read().body, "GET /again []") << h.name << ": connection not kept";
    }
    expect_serves(served.port());
  }
}

GROVE_TEST(HttpServer, ObsFoldIsRefusedAlsoWhenTheFoldStartsANewRead) {
  Served served;
  grove::net::Socket s = connect_to(served.port());
  const std::string first = "GET / HTTP/1.1\r\nHost: t\r\nX-A: a\r\n";
  s.sendall(first);
  // Let the server read (and parse) the first part on its own before the fold arrives.
  const grove::Deadline until = grove::Deadline::after(5.0);
  while (served.server.stats().bytes_parsed < first.size() && !until.passed()) grove::sleep(0.001);
  ASSERT_EQ(served.server.stats().bytes_parsed, first.size());
  s.sendall("  folded\r\n\r\n");
  ReplyReader r(s);
  EXPECT_EQ(r.read().status, 400);
  EXPECT_TRUE(r.closed_within(2.0));
}

GROVE_TEST(HttpServer, FramingIsCheckedHoweverTheBytesAreSplit) {
  // One byte per read: every state of the line check is carried across reads.
  Served served;
  const std::string chunked = "POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::vector<std::pair<std::string, int>> cases = {
      {chunked + "3;a=b\r\nabc\r\n0\r\nX-Sum: 1\r\n\r\n", 200},
      {"GET / HTTP/1.1\r\nHost: t\r\n\rX", 400},
      {"GET / HTTP/1.1\r\nHost: t\r\nX-A: a\r\n\tfolded\r\n\r\n", 400},
      {chunked + "3\rXabc\r\n0\r\n\r\n", 400},
      {chunked + "3;a\nabc\r\n0\r\n\r\n", 400},
      {chunked + "3\r\nabc\r\n0\r\nX-Sum: 1\r\n 2\r\n\r\n", 400},
      {chunked + "3\r\nabc\r\n0\r\n\rX", 400},
  };
  for (const auto& [request, status] : cases) {
    SCOPED_TRACE(request);
    grove::net::Socket s = connect_to(served.port());
    const std::uint64_t start = served.server.stats().bytes_received;
    bool answered = false;
    try {
      for (std::size_t i = 0; i < request.size() && !answered; ++i) {
        s.sendall(std::string_view(request).substr(i, 1));
        // Until the server has read it, or has answered (an error: it reads no more).
        const grove::Deadline until = grove::Deadline::after(10.0);
        while (served.server.stats().bytes_received < start + i + 1 && !until.passed()) {
          if (s.wait_readable(grove::Deadline::after(0.0005))) answered = true;
          if (answered) break;
        }
      }
    } catch (const grove::net::SocketError&) {
      // the server answered and closed before the rest was sent
    }
    ReplyReader r(s);
    EXPECT_EQ(r.read().status, status);
  }
}

GROVE_TEST(HttpServer, TrailersAreDroppedAndLeaveTheHeadersAsTheHandlerSawThem) {
  Served served;
  grove::net::Socket s = connect_to(served.port());
  std::string request = "POST /headers HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "3\r\nabc\r\n0\r\n";
  for (int i = 0; i < 50; ++i) request += fmt::format("X-Trailer-{}: {}\r\n", i, std::string(100, 'v'));
  request += "\r\n";
  s.sendall(request);
  ReplyReader r(s);
  EXPECT_EQ(r.read().body, "[abc] Host;Transfer-Encoding;");
}

GROVE_TEST(HttpServer, TrailersCountAgainstTheHeaderLimit) {
  HttpServerOptions o = test_options();
  o.max_header_bytes = 4096;
  Served served(o);
  grove::net::Socket s = connect_to(served.port());
  std::string request = "POST /headers HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "3\r\nabc\r\n0\r\n";
  for (int i = 0; i < 10; ++i) request += fmt::format("X-Trailer-{}: {}\r\n", i, std::string(500, 'v'));
  request += "\r\n";
  s.sendall(request);
  ReplyReader r(s);
  EXPECT_EQ(r.read().status, 431);
  EXPECT_TRUE(r.closed_within(2.0));
}

GROVE_TEST(HttpServer, AnswersWith204Or304CarryNoLengthNoCodingNoBody) {
  Served served;
  grove::net::Socket s = connect_to(served.port());
  s.sendall("GET /204 HTTP/1.1\r\nHost: t\r\n\r\nGET /304 HTTP/1.1\r\nHost: t\r\n\r\n"
            "GET /chunked204 HTTP/1.1\r\nHost: t\r\n\r\nGET /after HTTP/1.1\r\nHost: t\r\n\r\n");
  ReplyReader r(s);
  for (int status : {204, 304, 204}) {
    const Reply reply = r.read(/*head_only=*/true);  // a bodiless answer: the next one follows
    EXPECT_EQ(reply.status, status);
    EXPECT_EQ(reply.headers.count("content-length"), 0u) << reply.head;
    EXPECT_EQ(reply.headers.count("transfer-encoding"), 0u) << reply.head;
  }
  const Reply after = r.read();
  EXPECT_EQ(after.status, 200) << after.head;
  EXPECT_EQ(after.body, "GET /after []");
}

GROVE_TEST(HttpServer, ARequestArrivingInPiecesIsParsedOnce) {
  // Each byte is given to the parser once however the request is split: the cost stays
  // linear in the bytes received (no re-parse of a partial request from its first byte).
  Served served;
  grove::net::Socket s = connect_to(served.port());
  std::string request = "POST /trickle HTTP/1.1\r\nHost: t\r\n";
  for (int i = 0; i < 40; ++i) request += fmt::format("X-Header-{}: {}\r\n", i, std::string(1000, 'h'));
  request += "Content-Length: 30000\r\n\r\n" + std::string(30000, 'b');
  ASSERT_GT(request.size(), 64u * 1024);  // more than one full read buffer
  for (std::size_t at = 0; at < request.size(); at += 97) {
    s.sendall(std::string_view(request).substr(at, 97));
    if (at % (97 * 16) == 0) grove::sleep(0.0005);  // let the server read pieces of it
  }
  ReplyReader r(s);
  const Reply reply = r.read();
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body.size(), std::string("POST /trickle []").size() + 30000);
  const grove::servers::HttpServerStats stats = served.server.stats();
  EXPECT_EQ(stats.bytes_received, request.size());
  EXPECT_EQ(stats.bytes_parsed, request.size());
  EXPECT_EQ(stats.requests, 1u);
}

GROVE_TEST(HttpServer, AClientThatDoesNotReadStallsItselfNotTheServer) {
  Served served;
  grove::net::Socket greedy = connect_to(served.port());
  // Pipelined requests, their answers never read: once the answers fill the socket buffers
  // the server stops reading this connection, so the client's sends stop going through.
  std::string burst;
  for (int i = 0; i < 1000; ++i) burst += "GET /x HTTP/1.1\r\nHost: t\r\n\r\n";
  greedy.settimeout(0.5);
  std::uint64_t sent = 0;
  const std::uint64_t limit = 256ull << 20;
  try {
    while (sent < limit) {
      greedy.sendall(burst);
      sent += burst.size();
    }
  } catch (const grove::net::SocketTimeout&) {
  }
  EXPECT_LT(sent, limit) << "the server read everything a non-reading client sent";
  const grove::servers::HttpServerStats stats = served.server.stats();
  EXPECT_LT(stats.bytes_received, 64u << 20);
  std::printf("non-reading client: %.1f MB sent before it stalled, %.1f MB read by the server\n",
              double(sent) / 1e6, double(stats.bytes_received) / 1e6);
  expect_serves(served.port());  // everyone else is served meanwhile
}

GROVE_TEST(HttpServer, AClientThatNeverReadsIsCutOffAfterTheSendTimeout) {
  HttpServerOptions o = test_options();
  o.send_timeout = 0.3;
  Served served(o);
  grove::net::Socket greedy = connect_to(served.port());
  std::string burst;
  for (int i = 0; i < 1000; ++i) burst += "GET /x HTTP/1.1\r\nHost: t\r\n\r\n";
  greedy.settimeout(0.2);
  try {
    for (;;) greedy.sendall(burst);  // until the server stops reading (or closes)
  } catch (const grove::net::SocketError&) {
  }
  // Its answers cannot be written: the server gives up on them, and on the connection, and
  // its descriptor is free again.
  const grove::Deadline until = grove::Deadline::after(10.0);
  while (served.server.stream_server().connection_count() > 0 && !until.passed()) grove::sleep(0.01);
  EXPECT_EQ(served.server.stream_server().connection_count(), 0u);
  expect_serves(served.port());
}

GROVE_TEST(HttpServer, SlowlorisTrickleGets408WhenTheHeaderTimeoutPasses) {
  Served served;  // header_timeout 0.3 s
  grove::net::Socket s = connect_to(served.port());
  const double start = grove::Deadline::now();
  ReplyReader r(s);
  bool closed = false;
  const std::string request = "GET / HTTP/1.1\r\nHost: t\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaa\r\n";
  for (char c : request) {
    try {
      s.sendall(std::string_view(&c, 1));
    } catch (const grove::net::SocketError&) {
      closed = true;
      break;
    }
    grove::sleep(0.02);  // 3 s for the whole trickle if nobody stopped it
  }
  const Reply reply = r.read();
  EXPECT_EQ(reply.status, 408);  // the whole trickle would take 3 s and never end the headers
  EXPECT_GE(grove::Deadline::now() - start, 0.25);  // not before the header timeout
  EXPECT_TRUE(closed || r.closed_within(20.0));
  expect_serves(served.port());
}

}  // namespace
