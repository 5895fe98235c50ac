// gevent.pywsgi through the facade: the behaviours gevent's test__pywsgi.py checks — environ
// keys, the request body as a file (Content-Length and chunked), Content-Length on a returned
// body, chunked answers from write(), HTTP/1.0 framing, keep-alive with several requests on one
// connection, HEAD, the reason phrase, 500 for an app that fails or never answers — over real
// sockets on 127.0.0.1, and curl as a real client.
#include "facade/pywsgi.h"

#include <map>
#include <string>
#include <vector>

#include "facade/greenlet.h"
#include "facade/socket.h"
#include "hub/testing.h"
#include "tests/net/net_test_support.h"
#include "tests/support/grove_test.h"

namespace {

namespace socket = gevent::socket;
using gevent::pywsgi::Environ;
using gevent::pywsgi::StartResponse;
using gevent::pywsgi::WSGIServer;

struct Response {
  std::string status_line;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// Reads one response from `f` (Content-Length, chunked, or to the end of the stream).
Response read_response(socket::SocketFile& f, bool head = false) {
  Response r;
  r.status_line = f.readline();
  for (std::string line; (line = f.readline()) != "\r\n" && !line.empty();) {
    const auto colon = line.find(':');
    std::string name = line.substr(0, colon);
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers[name] = line.substr(colon + 2, line.size() - colon - 4);
  }
  if (head) return r;
  if (r.headers.count("content-length")) {
    r.body = f.read(std::stoul(r.headers["content-length"]));
  } else if (r.headers.count("transfer-encoding") && r.headers["transfer-encoding"] == "chunked") {
    for (;;) {
      const std::size_t size = std::stoul(f.readline(), nullptr, 16);
      if (size == 0) {
        (void)f.readline();
        break;
      }
      r.body += f.read(size);
      (void)f.readline();
    }
  } else {
    r.body = f.read();
  }
  return r;
}

socket::socket connect(const WSGIServer& server) {
  return socket::create_connection({"127.0.0.1", server.server_port()}, 10.0);
}

Response request(const WSGIServer& server, const std::string& raw, bool head = false) {
  auto s = connect(server);
  s.sendall(raw);
  auto f = s.makefile("rb");
  return read_response(f, head);
}

std::vector<std::string> hello(Environ&, StartResponse& start_response) {
  start_response("200 OK", {{"Content-Type", "text/plain"}});
  return {"hello ", "world"};
}

GROVE_TEST(GeventPywsgi, ReturnedBodyGetsContentLengthInOneAnswer) {
  WSGIServer server({"127.0.0.1", 0}, hello);
  server.start();
  Response r = request(server, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(r.status_line, "HTTP/1.1 200 OK\r\n");
  EXPECT_EQ(r.headers["content-length"], "11");
  EXPECT_EQ(r.headers["content-type"], "text/plain");
  EXPECT_EQ(r.headers.count("transfer-encoding"), 0u);
  EXPECT_EQ(r.body, "hello world");
  server.stop();
}

GROVE_TEST(GeventPywsgi, ServesOnASocketYouBoundAndReportsTheAddressBeforeStart) {
  WSGIServer by_address({"127.0.0.1", 8089}, hello);
  EXPECT_EQ(by_address.server_port(), 8089) << "not started: the address it will listen on";
  EXPECT_FALSE(by_address.started());

  socket::socket listener(AF_INET, SOCK_STREAM);
  listener.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1);
  listener.bind({"127.0.0.1", 0});
  listener.listen(16);
  const auto port = listener.getsockname().port();
  WSGIServer server(std::move(listener), hello);
  server.start();
  EXPECT_TRUE(server.started());
  EXPECT_EQ(server.server_port(), port);
  Response r = request(server, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(r.body, "hello world");
  server.stop();
}

GROVE_TEST(GeventPywsgi, EnvironCarriesWsgiKeys) {
  std::map<std::string, std::string> seen;
  WSGIServer server({"127.0.0.1", 0}, [&](Environ& environ, StartResponse& start_response) {
    seen = environ.vars();
    seen["body"] = environ.input().read();
    start_response("204 No Content", {});
    return std::string();
  });
  server.start();
  Response r = request(server,
                       "POST /a%20b/c?x=1&y=%20 HTTP/1.1\r\nHost: example\r\nX-Custom-Thing: 1\r\n"
                       "X-Custom-Thing: 2\r\nContent-Type: text/csv\r\nContent-Length: 5\r\n"
                       "Connection: close\r\n\r\nabcde",
                       /*head=*/true);
  EXPECT_EQ(r.status_line, "HTTP/1.1 204 No Content\r\n");
  EXPECT_EQ(seen["REQUEST_METHOD"], "POST");
  EXPECT_EQ(seen["PATH_INFO"], "/a b/c") << "PATH_INFO is percent-decoded";
  EXPECT_EQ(seen["QUERY_STRING"], "x=1&y=%20") << "QUERY_STRING is not";
  EXPECT_EQ(seen["SCRIPT_NAME"], "");
  EXPECT_EQ(seen["SERVER_PROTOCOL"], "HTTP/1.1");
  EXPECT_EQ(seen["SERVER_PORT"], std::to_string(server.server_port()));
  EXPECT_EQ(seen["SERVER_NAME"], "127.0.0.1");
  EXPECT_EQ(seen["REMOTE_ADDR"], "127.0.0.1");
  EXPECT_FALSE(seen["REMOTE_PORT"].empty());
  EXPECT_EQ(seen["HTTP_HOST"], "example");
  EXPECT_EQ(seen["HTTP_X_CUSTOM_THING"], "1,2") << "repeated headers are joined";
  EXPECT_EQ(seen["CONTENT_TYPE"], "text/csv");
  EXPECT_EQ(seen["CONTENT_LENGTH"], "5");
  EXPECT_EQ(seen.count("HTTP_CONTENT_LENGTH"), 0u);
  EXPECT_EQ(seen["wsgi.url_scheme"], "http");
  EXPECT_EQ(seen["body"], "abcde");
  server.stop();
}

GROVE_TEST(GeventPywsgi, ChunkedRequestBodyReadsAsAFile) {
  std::vector<std::string> lines;
  WSGIServer server({"127.0.0.1", 0}, [&](Environ& environ, StartResponse& start_response) {
    lines = environ.input().readlines();
    start_response("200 OK", {});
    return std::string("ok");
  });
  server.start();
  Response r = request(server,
                       "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                       "Connection: close\r\n\r\n"
                       "6\r\nline1\n\r\n8\r\nline2\nli\r\n4\r\nne3\n\r\n0\r\n\r\n");
  EXPECT_EQ(r.body, "ok");
  EXPECT_EQ(lines, (std::vector<std::string>{"line1\n", "line2\n", "line3\n"}));
  server.stop();
}

GROVE_TEST(GeventPywsgi, WriteStreamsChunkedOnHttp11AndToCloseOnHttp10) {
  WSGIServer server({"127.0.0.1", 0}, [](Environ&, StartResponse& start_response) {
    auto write = start_response("200 OK", {{"Content-Type", "text/plain"}});
    write("first,");
    gevent::sleep(0.001);
    write("second,");
    return std::vector<std::string>{"third"};
  });
  server.start();
  Response r11 = request(server, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(r11.headers["transfer-encoding"], "chunked");
  EXPECT_EQ(r11.body, "first,second,third");
  Response r10 = request(server, "GET / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(r10.headers.count("transfer-encoding"), 0u);
  EXPECT_EQ(r10.body, "first,second,third") << "HTTP/1.0: the body runs to the close";
  server.stop();
}

GROVE_TEST(GeventPywsgi, KeepAliveServesSeveralRequestsOnOneConnection) {
  int calls = 0;
  WSGIServer server({"127.0.0.1", 0}, [&](Environ& environ, StartResponse& start_response) {
    ++calls;
    start_response("200 OK", {});
    return std::vector<std::string>{environ["PATH_INFO"]};
  });
  server.start();
  auto s = connect(server);
  auto f = s.makefile("rwb");
  for (const char* path : {"/one", "/two", "/three"}) {
    f.write(std::string("GET ") + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
    f.flush();
    Response r = read_response(f);
    EXPECT_EQ(r.body, path);
    EXPECT_EQ(r.headers.count("connection"), 0u) << "HTTP/1.1 keeps the connection by default";
  }
  EXPECT_EQ(calls, 3);
  // An app's `Connection: close` ends it after the answer.
  WSGIServer closing({"127.0.0.1", 0}, [](Environ&, StartResponse& start_response) {
    start_response("200 OK", {{"Connection", "close"}});
    return std::string("bye");
  });
  closing.start();
  auto c = connect(closing);
  c.sendall("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  auto cf = c.makefile("rb");
  Response last = read_response(cf);
  EXPECT_EQ(last.headers["connection"], "close");
  EXPECT_EQ(cf.read(), "") << "closed after the answer";
  closing.stop();
  server.stop();
}

GROVE_TEST(GeventPywsgi, HeadAnswersHeadersOnlyAndReasonPhraseIsKept) {
  WSGIServer server({"127.0.0.1", 0}, [](Environ&, StartResponse& start_response) {
    start_response("201 Made It", {{"X-Thing", "y"}});
    return std::string("12345");
  });
  server.start();
  auto s = connect(server);
  s.sendall("HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  auto f = s.makefile("rb");
  Response head = read_response(f, /*head=*/true);
  EXPECT_EQ(head.status_line, "HTTP/1.1 201 Made It\r\n");
  EXPECT_EQ(head.headers["content-length"], "5");
  EXPECT_EQ(head.headers["x-thing"], "y");
  Response get = read_response(f);
  EXPECT_EQ(get.body, "12345") << "no HEAD body bytes came before the next answer";
  server.stop();
}

GROVE_TEST(GeventPywsgi, AppThatFailsOrNeverAnswersGets500) {
  grove::testing::ExpectFailures crashes;
  WSGIServer server({"127.0.0.1", 0}, [](Environ& environ, StartResponse&) {
    if (environ["PATH_INFO"] == "/throw") throw std::runtime_error("app failed");
    return std::string("never started");
  });
  server.start();
  EXPECT_EQ(request(server, "GET /throw HTTP/1.1\r\nHost: x\r\n\r\n").status_line.substr(9, 3),
            "500");
  EXPECT_EQ(request(server, "GET /silent HTTP/1.1\r\nHost: x\r\n\r\n").status_line.substr(9, 3),
            "500");
  EXPECT_GE(crashes.count(), 1u);
  server.stop();
}

GROVE_TEST(GeventPywsgi, BadStatusIsAnErrorInTheApp) {
  grove::testing::ExpectFailures crashes;
  WSGIServer server({"127.0.0.1", 0}, [](Environ&, StartResponse& start_response) {
    start_response("OK", {});
    return std::string();
  });
  server.start();
  EXPECT_EQ(request(server, "GET / HTTP/1.1\r\nHost: x\r\n\r\n").status_line.substr(9, 3), "500");
  server.stop();
}

GROVE_TEST(GeventPywsgi, CurlGetsTheAnswer) {
  WSGIServer server({"127.0.0.1", 0}, [](Environ& environ, StartResponse& start_response) {
    start_response("200 OK", {{"Content-Type", "text/plain"}});
    return std::vector<std::string>{"path=", environ["PATH_INFO"], " q=", environ["QUERY_STRING"]};
  });
  server.start();
  const std::string url =
      "http://127.0.0.1:" + std::to_string(server.server_port()) + "/hi?there=1";
  grove::net::testing::Subprocess curl({"curl", "-s", "-S", "--max-time", "20", url, url});
  EXPECT_NO_THROW(curl.read_until("path=/hi q=there=1path=/hi q=there=1", 30.0))
      << curl.output();
  EXPECT_EQ(curl.wait_exit(30.0), 0);
  server.stop();
}

}  // namespace
