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
      if (h.status >= 400) EXPECT_EQ(reply.headers.count("connection") ? reply.headers.at("connection") : "", "close") << h.name;
    } else {
      s.sendall("GET /again HTTP/1.1\r\nHost: t\r\n\r\n");
      EXPECT_EQ(r.read().body, "GET /again []") << h.name << ": connection not kept";
    }
    expect_serves(served.port());
  }
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
