// tests/property/otp_reason.h — exit reasons as the OTP models see them: plain values, no grove.
//
// `kill` is the untrappable signal (exit(a, kill), or gevent's kill()); an actor it reaches ends
// with `killed`. `crash` is an exception thrown by the actor's body; `user` reasons are text
// ("user0", "user1"), so that "which signal won" is visible. A shutdown may carry a detail
// (OTP's {shutdown, Term}); it is still a shutdown.
#pragma once

#include <ostream>
#include <string>

namespace otp_model {

struct Reason {
  enum Kind { kNormal, kShutdown, kKilled, kNoProc, kCrash, kUser, kKill };
  Kind kind = kNormal;
  int tag = 0;  // kUser: which user reason; kShutdown: its detail (0 = none)

  static Reason normal() { return {kNormal}; }
  static Reason shutdown() { return {kShutdown}; }
  static Reason killed() { return {kKilled}; }
  static Reason noproc() { return {kNoProc}; }
  static Reason crash() { return {kCrash}; }
  static Reason kill() { return {kKill}; }
  static Reason user_reason(int n) { return {kUser, n}; }
  static Reason shutdown_with(int detail) { return {kShutdown, detail}; }

  std::string to_string() const {
    switch (kind) {
      case kNormal: return "normal";
      case kShutdown: return tag == 0 ? "shutdown" : "shutdown: detail" + std::to_string(tag);
      case kKilled: return "killed";
      case kNoProc: return "noproc";
      case kCrash: return "crash";
      case kUser: return "user" + std::to_string(tag);
      case kKill: return "kill";
    }
    return "?";
  }
  friend bool operator==(const Reason& a, const Reason& b) {
    return a.kind == b.kind && ((a.kind != kUser && a.kind != kShutdown) || a.tag == b.tag);
  }
  friend std::ostream& operator<<(std::ostream& os, const Reason& r) { return os << r.to_string(); }
};

}  // namespace otp_model
