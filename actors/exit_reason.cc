#include "actors/exit_reason.h"

#include <fmt/format.h>

#include "hub/errors.h"

namespace grove {

ExitReason ExitReason::exception(std::exception_ptr error) {
  ExitReason r(Kind::kException);
  r.error_ = std::move(error);
  return r;
}

ExitReason ExitReason::shutdown(std::string detail) {
  ExitReason r(Kind::kShutdown);
  r.text_ = std::move(detail);
  return r;
}

ExitReason ExitReason::user(std::string text) {
  ExitReason r(Kind::kUser);
  r.text_ = std::move(text);
  return r;
}

std::string ExitReason::to_string() const {
  switch (kind_) {
    case Kind::kNormal: return "normal";
    case Kind::kShutdown: return text_.empty() ? "shutdown" : fmt::format("shutdown: {}", text_);
    case Kind::kKilled: return "killed";
    case Kind::kNoProc: return "noproc";
    case Kind::kKill: return "kill";
    case Kind::kUser: return text_;
    case Kind::kException: {
      const ExceptionInfo info = describe_exception(error_);
      return info.what.empty() ? fmt::format("exception {}", info.type)
                               : fmt::format("exception {}: {}", info.type, info.what);
    }
  }
  return "?";
}

bool operator==(const ExitReason& a, const ExitReason& b) noexcept {
  if (a.kind_ != b.kind_) return false;
  if (a.kind_ == ExitReason::Kind::kUser || a.kind_ == ExitReason::Kind::kShutdown) {
    return a.text_ == b.text_;
  }
  if (a.kind_ == ExitReason::Kind::kException) return a.error_ == b.error_;
  return true;
}

}  // namespace grove
