// net/errors.h — what socket calls throw: SocketError (an errno and a sentence naming the
// operation and the address) and its kinds.
//
// Model: every failing socket call throws a SocketError whose code() is the errno in
// std::generic_category() and whose what() reads "connect to 127.0.0.1:1: Connection refused".
// Kinds derive from it, so `catch (const SocketError&)` catches all of them, the way Python's
// OSError catches socket.timeout and socket.gaierror:
//   - SocketTimeout: the socket's own timeout (settimeout) passed; what() ends in "timed out",
//     code() is ETIMEDOUT. It is NOT grove::Timeout (that one is a scope's deadline and does not
//     derive from std::exception).
//   - EndOfStream: the peer closed the connection before a read that needed more (read_exact);
//     code() is ECONNRESET.
//   - DnsError (net/dns.h) and TlsError (net/tls.h).
//
// Thread: plain values; any thread.
//
//   try {
//     sock.connect(grove::net::Address::parse("127.0.0.1:1"));
//   } catch (const grove::net::SocketError& e) {
//     if (e.code() == std::errc::connection_refused) retry_later();
//   }
#pragma once

#include <string>
#include <string_view>
#include <system_error>

namespace grove::net {

class SocketError : public std::system_error {
 public:
  // `context` names the operation and the address ("recv from 127.0.0.1:80"); the message is
  // "<context>: <strerror(error_number)>".
  SocketError(int error_number, std::string_view context);
  // Full control of the text (used by the kinds below).
  SocketError(std::error_code code, std::string message);

  const char* what() const noexcept override { return message_.c_str(); }
  int error_number() const noexcept { return code().value(); }

 private:
  std::string message_;
};

class SocketTimeout : public SocketError {
 public:
  // what() is "<context>: timed out", or just "timed out" without a context (gevent's text).
  explicit SocketTimeout(std::string_view context = {});
};

class EndOfStream : public SocketError {
 public:
  explicit EndOfStream(std::string message);
};

}  // namespace grove::net
