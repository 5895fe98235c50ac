// tests/servers/client.h — a small HTTP/1.1 client for the server tests: raw bytes out, one
// parsed response back, and whether the server closed the connection afterwards.
#pragma once

#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "net/errors.h"
#include "net/socket.h"

namespace grove::servers::testing {

struct Reply {
  int status = 0;
  std::string head;                          // status line and headers
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  bool complete = false;  // a full response was read
};

inline std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Reads responses from one connection, keeping bytes that belong to the next.
class ReplyReader {
 public:
  explicit ReplyReader(net::Socket& s) : s_(s) {}

  // One response (de-chunked). `head_only`: for HEAD (no body follows). Empty status (0) when
  // the connection closed first.
  Reply read(bool head_only = false) {
    Reply r;
    std::size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!more()) return r;
    }
    r.head = buf_.substr(0, end);
    buf_.erase(0, end + 4);
    r.status = std::atoi(r.head.c_str() + 9);
    std::size_t pos = r.head.find("\r\n");
    while (pos != std::string::npos) {
      const std::size_t next = r.head.find("\r\n", pos + 2);
      const std::string line = r.head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
      const auto colon = line.find(':');
      if (colon != std::string::npos) {
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        r.headers[lower(line.substr(0, colon))] = value;
      }
      pos = next;
    }
    if (r.status == 100 || head_only) {
      r.complete = true;
      return r;
    }
    if (r.headers.count("content-length")) {
      const std::size_t n = std::stoul(r.headers["content-length"]);
      while (buf_.size() < n) {
        if (!more()) return r;
      }
      r.body = buf_.substr(0, n);
      buf_.erase(0, n);
      r.complete = true;
    } else if (r.headers.count("transfer-encoding") &&
               lower(r.headers.at("transfer-encoding")) == "chunked") {
      for (;;) {
        std::size_t eol;
        while ((eol = buf_.find("\r\n")) == std::string::npos) {
          if (!more()) return r;
        }
        const std::size_t size = std::stoul(buf_.substr(0, eol), nullptr, 16);
        while (buf_.size() < eol + 2 + size + 2) {
          if (!more()) return r;
        }
        r.body += buf_.substr(eol + 2, size);
        buf_.erase(0, eol + 2 + size + 2);
        if (size == 0) break;
      }
      r.complete = true;
    } else {
      while (more()) {
      }
      r.body = buf_;
      buf_.clear();
      r.complete = true;
    }
    return r;
  }

  // True when the server closed the connection (EOF or reset) within `seconds` and sent nothing
  // more.
  bool closed_within(double seconds) {
    s_.settimeout(seconds);
    try {
      char c[256];
      const std::size_t n = s_.recv_into(c, sizeof c);
      if (n > 0) buf_.append(c, n);
      return n == 0;
    } catch (const net::SocketTimeout&) {
      return false;
    } catch (const net::SocketError&) {
      return true;  // reset
    }
  }

  const std::string& leftover() const { return buf_; }

 private:
  bool more() {
    char chunk[4096];
    std::size_t n = 0;
    try {
      n = s_.recv_into(chunk, sizeof chunk);
    } catch (const net::SocketTimeout&) {
      throw;
    } catch (const net::SocketError&) {
      return false;
    }
    if (n == 0) return false;
    buf_.append(chunk, n);
    return true;
  }
  net::Socket& s_;
  std::string buf_;
};

inline net::Socket connect_to(std::uint16_t port, double timeout = 5.0) {
  return net::create_connection(net::Address::ipv4("127.0.0.1", port), timeout);
}

}  // namespace grove::servers::testing
