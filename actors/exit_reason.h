// actors/exit_reason.h — why an actor ended, as a value you can match on (OTP's exit reasons).
//
//   normal     the body returned (or raised GreenletExit on its own)
//   shutdown   asked to stop by its supervisor (or exit(a, shutdown())); shutdown("why") is
//              OTP's {shutdown, Term}: a stop with a reason that still counts as normal for
//              transient children
//   killed     ended by kill(), or by the untrappable exit signal `kill`
//   noproc     the actor did not exist any more (links/monitors made after its death)
//   exception  the body threw; the std::exception_ptr is kept
//   user       any other reason, as text: exit(a, ExitReason::user("overload"))
//
// `kill` is not an end state but a signal (E6): exit(a, ExitReason::kill()) cannot be trapped and
// ends the receiver with `killed`.
//
// is_normal(): only `normal` — what a non-trapping linked actor ignores (E3).
// is_abnormal_for_restart(): not normal and not shutdown — what restarts a transient child (S5).
// Two kinds of "failure" exist on purpose: gevent's successful() is false only for `exception`
// (a kill counts as success there), while OTP links propagate everything but `normal`.
#pragma once

#include <exception>
#include <string>

namespace grove {

class ExitReason {
 public:
  enum class Kind : unsigned char { kNormal, kShutdown, kKilled, kNoProc, kException, kUser, kKill };

  ExitReason() = default;  // normal
  static ExitReason normal() { return ExitReason(Kind::kNormal); }
  static ExitReason shutdown() { return ExitReason(Kind::kShutdown); }
  static ExitReason shutdown(std::string detail);
  static ExitReason killed() { return ExitReason(Kind::kKilled); }
  static ExitReason noproc() { return ExitReason(Kind::kNoProc); }
  static ExitReason kill() { return ExitReason(Kind::kKill); }  // the untrappable signal
  static ExitReason exception(std::exception_ptr error);
  static ExitReason user(std::string text);

  Kind kind() const noexcept { return kind_; }
  bool is_normal() const noexcept { return kind_ == Kind::kNormal; }
  bool is_exception() const noexcept { return kind_ == Kind::kException; }
  bool is_abnormal_for_restart() const noexcept {
    return kind_ != Kind::kNormal && kind_ != Kind::kShutdown;
  }
  const std::exception_ptr& error() const noexcept { return error_; }
  const std::string& text() const noexcept { return text_; }

  // "normal", "shutdown", "shutdown: <detail>", "killed", "noproc",
  // "exception std::runtime_error: boom", or the text.
  std::string to_string() const;

  // Same kind and, for user reasons, same text; exceptions compare by identity.
  friend bool operator==(const ExitReason& a, const ExitReason& b) noexcept;

 private:
  explicit ExitReason(Kind kind) : kind_(kind) {}
  Kind kind_ = Kind::kNormal;
  std::exception_ptr error_;
  std::string text_;
};

// Thrown into an actor to end it with `reason` (an exit signal it does not trap). Like
// GreenletExit it does not derive from std::exception.
struct ExitSignal {
  ExitReason reason;
};

}  // namespace grove
