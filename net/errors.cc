// net/errors.cc — the socket error texts.
#include "net/errors.h"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace grove::net {

namespace {
std::string errno_text(int error_number) {
  char buf[128];
  // GNU strerror_r returns the text (maybe not in buf).
  return ::strerror_r(error_number, buf, sizeof buf);
}
}  // namespace

SocketError::SocketError(int error_number, std::string_view context)
    : SocketError(std::error_code(error_number, std::generic_category()),
                  context.empty() ? errno_text(error_number)
                                  : fmt::format("{}: {}", context, errno_text(error_number))) {}

SocketError::SocketError(std::error_code code, std::string message)
    : std::system_error(code), message_(std::move(message)) {}

SocketTimeout::SocketTimeout(std::string_view context)
    : SocketError(std::error_code(ETIMEDOUT, std::generic_category()),
                  context.empty() ? std::string("timed out") : fmt::format("{}: timed out", context)) {}

EndOfStream::EndOfStream(std::string message)
    : SocketError(std::error_code(ECONNRESET, std::generic_category()), std::move(message)) {}

}  // namespace grove::net
