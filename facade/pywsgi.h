// facade/pywsgi.h — gevent.pywsgi: WSGIServer, a WSGI-shaped adapter over servers' HTTP server.
//
// The application is called once per request as `app(environ, start_response)` and returns the
// body: a std::vector<std::string> of chunks, a std::string, or nothing (when it streamed with
// the `write` that start_response returns, as WSGI's write() does).
//
//   environ            a string map with WSGI's keys: REQUEST_METHOD, SCRIPT_NAME (""),
//                      PATH_INFO (percent-decoded), QUERY_STRING, RAW_URI, SERVER_NAME,
//                      SERVER_PORT, SERVER_PROTOCOL, REMOTE_ADDR, REMOTE_PORT, CONTENT_TYPE and
//                      CONTENT_LENGTH (when sent), HTTP_<NAME> for every other header (repeated
//                      headers joined with ","), GATEWAY_INTERFACE, wsgi.url_scheme; and
//                      environ.input() for the body: read(n), read(), readline(), iteration.
//   start_response(status, headers)  "200 OK" and the headers; returns write(data).
//
// Framing is the server's: a returned body is sent with Content-Length in one write (HEAD gets
// the headers only); a body streamed through write() goes out chunked on HTTP/1.1 (to the close
// of the connection on HTTP/1.0). Keep-alive follows HTTP/1.1 and the client's Connection header;
// an app header `Connection: close` closes after the answer. Content-Length, Transfer-Encoding,
// Connection, Date and Server headers from the app are not copied: the server frames and stamps
// every answer itself, so an app cannot frame a response two ways. An app that never calls
// start_response, or throws before the answer started, gets a 500 (and the failure is reported).
//
// Differences from gevent: start_response's exc_info argument is not offered (an exception
// thrown by the app is the error path); environ values are strings (no wsgi.errors, no
// wsgi.version tuple); an app that sets Content-Length and streams with write() is still sent
// chunked.
//
//   gevent::pywsgi::WSGIServer server({"127.0.0.1", 8088}, [](auto& environ, auto& start_response) {
//     start_response("200 OK", {{"Content-Type", "text/plain"}});
//     return std::vector<std::string>{"Hello, ", environ["PATH_INFO"], "\n"};
//   });
//   server.serve_forever();
#pragma once

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "facade/server.h"
#include "net/reader.h"
#include "servers/http_server.h"

namespace gevent::pywsgi {

using Headers = std::vector<std::pair<std::string, std::string>>;

// wsgi.input: the request body as a file.
class Input {
 public:
  explicit Input(grove::servers::HttpRequest& request) : source_{&request}, reader_(source_) {}
  Input(const Input&) = delete;

  std::string read() {
    std::string out;
    for (std::string part; !(part = reader_.read_some()).empty();) out += part;
    return out;
  }
  std::string read(std::size_t n) {
    std::string out;
    while (out.size() < n) {
      std::string part = reader_.read_some(n - out.size());
      if (part.empty()) break;
      out += part;
    }
    return out;
  }
  std::string readline(std::size_t limit = 64 * 1024) { return reader_.readline(limit); }
  std::vector<std::string> readlines() {
    std::vector<std::string> lines;
    for (std::string l; !(l = readline()).empty();) lines.push_back(std::move(l));
    return lines;
  }

 private:
  struct Source {
    grove::servers::HttpRequest* request;
    std::size_t recv_into(void* buffer, std::size_t size) { return request->read(buffer, size); }
  };
  Source source_;
  grove::net::Reader<Source> reader_;
};

// The WSGI environ: WSGI's keys as strings, and the body as input().
class Environ {
 public:
  Environ(grove::servers::HttpRequest& request, const grove::net::Address& server)
      : input_(request) {
    const std::string_view target = request.target();
    const auto q = target.find('?');
    vars_["REQUEST_METHOD"] = std::string(request.method());
    vars_["SCRIPT_NAME"] = "";
    vars_["PATH_INFO"] = unquote(target.substr(0, q));
    vars_["QUERY_STRING"] = q == std::string_view::npos ? "" : std::string(target.substr(q + 1));
    vars_["RAW_URI"] = std::string(target);
    vars_["SERVER_NAME"] = server.host();
    vars_["SERVER_PORT"] = std::to_string(server.port());
    vars_["SERVER_PROTOCOL"] = "HTTP/" + std::to_string(request.version_major()) + "." +
                               std::to_string(request.version_minor());
    vars_["REMOTE_ADDR"] = request.peer().host();
    vars_["REMOTE_PORT"] = std::to_string(request.peer().port());
    vars_["GATEWAY_INTERFACE"] = "CGI/1.1";
    vars_["wsgi.url_scheme"] = "http";
    const auto& headers = request.headers();
    for (std::size_t i = 0; i < headers.size(); ++i) {
      auto [name, value] = headers.at(i);
      std::string key = cgi_name(name);
      if (key == "HTTP_CONTENT_TYPE") key = "CONTENT_TYPE";
      if (key == "HTTP_CONTENT_LENGTH") key = "CONTENT_LENGTH";
      auto [it, fresh] = vars_.try_emplace(std::move(key), value);
      if (!fresh) (it->second += ',') += value;
    }
  }
  Environ(const Environ&) = delete;

  // environ["KEY"]: the value, "" (and added) when absent, as a std::map does.
  std::string& operator[](const std::string& key) { return vars_[key]; }
  std::optional<std::string> get(const std::string& key) const {
    auto it = vars_.find(key);
    return it == vars_.end() ? std::nullopt : std::optional<std::string>(it->second);
  }
  std::string get(const std::string& key, std::string fallback) const {
    return get(key).value_or(std::move(fallback));
  }
  bool contains(const std::string& key) const { return vars_.count(key) != 0; }
  const std::map<std::string, std::string>& vars() const { return vars_; }
  Input& input() { return input_; }

  // "%2Fa%20b" -> "/a b" (PATH_INFO as WSGI gives it; '+' stays '+').
  static std::string unquote(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '%' && i + 2 < s.size() + 0 && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
          std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
        out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
        i += 2;
      } else {
        out.push_back(s[i]);
      }
    }
    return out;
  }

 private:
  static std::string cgi_name(std::string_view header) {
    std::string key = "HTTP_";
    for (char c : header) {
      key.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    }
    return key;
  }

  std::map<std::string, std::string> vars_;
  Input input_;
};

// What start_response returns: WSGI's write(data), sending body bytes at once.
class Write {
 public:
  explicit Write(std::function<void(std::string_view)> send) : send_(std::move(send)) {}
  void operator()(std::string_view data) const { send_(data); }

 private:
  std::function<void(std::string_view)> send_;
};

// start_response(status, headers) for one request.
class StartResponse {
 public:
  explicit StartResponse(grove::servers::HttpResponse& response) : response_(&response) {}
  StartResponse(const StartResponse&) = delete;

  // "200 OK": the code and the reason phrase. Throws std::invalid_argument for a malformed
  // status, std::logic_error once the answer has started.
  Write operator()(std::string_view status, const Headers& headers = {}) {
    if (response_->started()) throw std::logic_error("start_response: the answer has started");
    if (status.size() < 3 || !std::isdigit(static_cast<unsigned char>(status[0])) ||
        !std::isdigit(static_cast<unsigned char>(status[1])) ||
        !std::isdigit(static_cast<unsigned char>(status[2])) ||
        (status.size() > 3 && status[3] != ' ')) {
      throw std::invalid_argument("start_response: status must look like \"200 OK\", got \"" +
                                  std::string(status) + "\"");
    }
    code_ = std::stoi(std::string(status.substr(0, 3)));
    reason_ = status.size() > 4 ? std::string(status.substr(4)) : std::string();
    headers_ = headers;
    called_ = true;
    return Write([this](std::string_view data) { write(data); });
  }

  bool called() const noexcept { return called_; }

  // The rest is the adapter's: sending what the app returned.
  void write(std::string_view data) {
    if (!called_) throw std::logic_error("write() before start_response()");
    if (!response_->started()) {
      apply_head();
      response_->begin_chunked(code_, {});
    }
    response_->write_chunk(data);
  }
  void finish(std::string_view body) {
    if (!called_) return;  // the server answers 500
    if (response_->started()) {
      if (!body.empty()) response_->write_chunk(body);
      response_->end_chunked();
      return;
    }
    apply_head();
    response_->send(code_, body, {});
  }

 private:
  void apply_head() {
    if (!reason_.empty()) response_->set_reason(reason_);
    for (const auto& [name, value] : headers_) {
      if (iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") ||
          iequals(name, "Date") || iequals(name, "Server")) {
        continue;
      }
      if (iequals(name, "Connection")) {
        if (iequals(value, "close")) response_->close_connection();
        continue;
      }
      response_->add_header(name, value);
    }
  }
  static bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(a[i])) !=
          std::tolower(static_cast<unsigned char>(b[i]))) {
        return false;
      }
    }
    return true;
  }

  grove::servers::HttpResponse* response_;
  int code_ = 0;
  std::string reason_;
  Headers headers_;
  bool called_ = false;
};

// Any app(environ, start_response) returning a vector of chunks, a string, or nothing.
using Application = std::function<std::vector<std::string>(Environ&, StartResponse&)>;

class WSGIServer : public server::BaseServer<WSGIServer, grove::servers::HttpServer> {
 public:
  template <class App>
  WSGIServer(server::Listener listener, App application, server::Spawn spawn = server::Spawn())
      : BaseServer(std::move(listener), spawn), app_(adapt(std::move(application))) {}

  // Tuning of the HTTP server underneath (limits, timeouts, access log).
  grove::servers::HttpServerOptions options;

  void start() {
    if (started()) return;
    grove::servers::HttpServerOptions opts = options;
    opts.stream.spawn = spawn_.policy();
    opts.stream.name = "gevent.pywsgi.WSGIServer";
    auto state = std::make_shared<grove::net::Address>();
    grove::servers::HttpHandler handler = [app = app_, state](grove::servers::HttpRequest& req,
                                                              grove::servers::HttpResponse& res) {
      Environ environ(req, *state);
      StartResponse start_response(res);
      std::vector<std::string> body = app(environ, start_response);
      if (body.size() == 1 || !start_response.called()) {
        start_response.finish(body.empty() ? std::string_view() : std::string_view(body[0]));
        return;
      }
      if (!res.started()) {
        std::string joined;
        for (const auto& chunk : body) joined += chunk;
        start_response.finish(joined);
        return;
      }
      for (const auto& chunk : body) start_response.write(chunk);
      start_response.finish({});
    };
    start_core(std::move(handler), opts);
    *state = server_->address();
  }
  void stop(std::optional<double> timeout = std::nullopt) {
    if (server_) server_->stop(timeout.value_or(1.0));
  }
  void close() {
    if (server_) server_->close();
  }

 private:
  template <class App>
  static Application adapt(App app) {
    using R = std::invoke_result_t<App&, Environ&, StartResponse&>;
    if constexpr (std::is_void_v<R>) {
      return [app = std::move(app)](Environ& e, StartResponse& s) mutable {
        app(e, s);
        return std::vector<std::string>();
      };
    } else if constexpr (std::is_convertible_v<R, std::string> &&
                         !std::is_convertible_v<R, std::vector<std::string>>) {
      return [app = std::move(app)](Environ& e, StartResponse& s) mutable {
        return std::vector<std::string>{std::string(app(e, s))};
      };
    } else {
      return [app = std::move(app)](Environ& e, StartResponse& s) mutable {
        return std::vector<std::string>(app(e, s));
      };
    }
  }

  Application app_;
};

}  // namespace gevent::pywsgi
