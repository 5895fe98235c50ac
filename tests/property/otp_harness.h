// tests/property/otp_harness.h — what the OTP properties share: converting exit reasons between
// grove and the models, and letting the hub run until nothing more happens.
//
// settle() is how a step ends without sleeping: the driver yields until it comes back to an empty
// run queue twice in a row (whatever a pass wakes is queued behind the driver), so every signal,
// death and message that follows from the step has been processed. (Nothing in the links property uses timers; the supervisor property also waits for
// a supervisor's shutdown timeout — see there.)
#pragma once

#include <fmt/format.h>
#include <rapidcheck.h>

#include <exception>
#include <stdexcept>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "actors/actor.h"
#include "hub/hub.h"
#include "hub/runtime.h"
#include "tests/property/otp_reason.h"

namespace otp_model {

inline grove::ExitReason to_grove(const Reason& r) {
  switch (r.kind) {
    case Reason::kNormal: return grove::ExitReason::normal();
    case Reason::kShutdown:
      return r.tag == 0 ? grove::ExitReason::shutdown() : grove::ExitReason::shutdown("detail" + std::to_string(r.tag));
    case Reason::kKilled: return grove::ExitReason::killed();
    case Reason::kNoProc: return grove::ExitReason::noproc();
    case Reason::kKill: return grove::ExitReason::kill();
    case Reason::kUser: return grove::ExitReason::user(r.to_string());
    case Reason::kCrash: break;
  }
  throw std::logic_error("a crash is thrown, not sent");
}

// The model's reason for a grove reason; anything the models never produce comes back as a user
// reason numbered -1, so that a comparison fails and the message shows the text.
inline Reason from_grove(const grove::ExitReason& r, std::string* text = nullptr) {
  if (text != nullptr) *text = r.to_string();
  using K = grove::ExitReason::Kind;
  switch (r.kind()) {
    case K::kNormal: return Reason::normal();
    case K::kShutdown:
      for (int n = 0; n < 4; ++n) {
        if (to_grove(Reason::shutdown_with(n)) == r) return Reason::shutdown_with(n);
      }
      return Reason::user_reason(-1);
    case K::kKilled: return Reason::killed();
    case K::kNoProc: return Reason::noproc();
    case K::kKill: return Reason::kill();
    case K::kException:
      try {
        std::rethrow_exception(r.error());
      } catch (const std::runtime_error& e) {
        if (std::string(e.what()) == "crash") return Reason::crash();
      } catch (...) {
      }
      return Reason::user_reason(-1);
    case K::kUser:
      for (int n = 0; n < 4; ++n) {
        if (to_grove(Reason::user_reason(n)) == r) return Reason::user_reason(n);
      }
      return Reason::user_reason(-1);
  }
  return Reason::user_reason(-1);
}

// Yields until the run queue has been empty for two passes in a row.
inline void settle() {
  grove::Hub& hub = grove::Hub::current();
  int quiet = 0;
  for (int rounds = 0; quiet < 2; ++rounds) {
    if (rounds > 1000000) RC_FAIL("the hub never went quiet:\n" + hub.run_info());
    grove::yield();
    quiet = hub.stats().ready == 0 ? quiet + 1 : 0;
  }
}

// With actors on other hubs: until nothing more happens on any hub. This hub settles, then every
// hub of `rt` is asked (run_on, in its inbox behind anything posted to it before) whether it has
// a ready fiber and how many fibers it has made ready so far; two rounds in a row with nothing
// ready and no count moved mean every signal and message that follows from a step has been
// handled. Without a runtime, settle().
inline void settle(grove::Runtime* rt) {
  settle();
  if (rt == nullptr) return;
  std::vector<std::uint64_t> last(rt->size(), ~std::uint64_t{0});
  for (int quiet = 0, rounds = 0; quiet < 2; ++rounds) {
    if (rounds > 100000) RC_FAIL("the hubs never went quiet");
    bool still = true;
    for (std::size_t i = 0; i < rt->size(); ++i) {
      const auto [ready, wakeups] = grove::run_on(rt->hub(i), [] {
        const grove::HubStats s = grove::Hub::current().stats();
        return std::pair<std::size_t, std::uint64_t>{s.ready, s.wakeups};
      });
      if (ready != 0 || wakeups != last[i]) still = false;
      last[i] = wakeups;
    }
    settle();
    quiet = still ? quiet + 1 : 0;
  }
}

}  // namespace otp_model
