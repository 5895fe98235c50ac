// net/internal/ares_resolver.cc — the c-ares backend: one channel per resolver, one IoWatcher
// per c-ares socket on the hub's loop (kept by c-ares' socket-state callback), and a pump fiber
// (alive only while queries are in flight) that waits for all of them at once with
// grove::wait_any, c-ares' next timeout as its deadline.
#include <ares.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "hub/hub.h"
#include "hub/io.h"
#include "hub/wait.h"
#include "hub/wait_any.h"
#include "net/internal/resolvers.h"

namespace grove::net::internal {
namespace {

DnsStatus status_of_ares(int status) {
  switch (status) {
    case ARES_ENOTFOUND:
    case ARES_ENONAME: return DnsStatus::kNotFound;
    case ARES_ENODATA: return DnsStatus::kNoData;
    case ARES_ETIMEOUT: return DnsStatus::kTimeout;
    case ARES_ESERVFAIL:
    case ARES_EFORMERR:
    case ARES_EBADRESP:
    case ARES_ENOTIMP:
    case ARES_EOF: return DnsStatus::kServerFailure;
    case ARES_EREFUSED:
    case ARES_ECONNREFUSED: return DnsStatus::kRefused;
    case ARES_EBADNAME: return DnsStatus::kBadName;
    case ARES_EBADFAMILY: return DnsStatus::kBadFamily;
    case ARES_ESERVICE: return DnsStatus::kBadService;
    case ARES_EDESTRUCTION:
    case ARES_ECANCELLED: return DnsStatus::kCancelled;
    default: return DnsStatus::kOther;
  }
}

DnsError ares_error(const char* op, const std::string& name, int status) {
  return DnsError(status_of_ares(status), status,
                  fmt::format("{}: {}", lookup_context(op, name), ::ares_strerror(status)));
}

int ares_ai_flags(int flags) {
  int out = 0;
  if (flags & AI_CANONNAME) out |= ARES_AI_CANONNAME;
  if (flags & AI_NUMERICHOST) out |= ARES_AI_NUMERICHOST;
  if (flags & AI_PASSIVE) out |= ARES_AI_PASSIVE;
  if (flags & AI_NUMERICSERV) out |= ARES_AI_NUMERICSERV;
  if (flags & AI_V4MAPPED) out |= ARES_AI_V4MAPPED;
  if (flags & AI_ALL) out |= ARES_AI_ALL;
  if (flags & AI_ADDRCONFIG) out |= ARES_AI_ADDRCONFIG;
  return out;
}

int ares_ni_flags(int flags) {
  int out = ARES_NI_LOOKUPHOST | ARES_NI_LOOKUPSERVICE;
  if (flags & NI_NOFQDN) out |= ARES_NI_NOFQDN;
  if (flags & NI_NUMERICHOST) out |= ARES_NI_NUMERICHOST;
  if (flags & NI_NAMEREQD) out |= ARES_NI_NAMEREQD;
  if (flags & NI_NUMERICSERV) out |= ARES_NI_NUMERICSERV;
  if (flags & NI_DGRAM) out |= ARES_NI_DGRAM;
  return out;
}

struct AresCore;

// One lookup inside c-ares. Owned by the waiting fiber until it gives up (killed, timed out);
// then `abandoned`, and the c-ares callback frees it.
struct Query {
  AresCore* core = nullptr;
  Waiter* waiter = nullptr;
  bool done = false;
  bool abandoned = false;
  int status = ARES_SUCCESS;
  ares_addrinfo* addrinfo = nullptr;
  std::string node;
  std::string service;
};

// The channel and everything the pump fiber needs. Shared by the Resolver, every fiber inside a
// lookup, and the running pump; it never touches a hub except from those fibers.
struct AresCore {
  ares_channel channel = nullptr;
  std::map<int, std::unique_ptr<IoWatcher>> sockets;  // c-ares' sockets, with what it waits for
  WaitList changed;             // woken when `sockets` changes, so the pump waits on the new set
  std::size_t pending = 0;      // queries inside c-ares (abandoned ones too)
  std::size_t in_flight = 0;    // admitted lookups (each holds one slot until its callback)
  std::size_t max_in_flight = 1;
  WaitList admission;           // fibers waiting for a slot, FIFO
  FiberRef pump;                // the current pump fiber, if any (may be dead)

  ~AresCore() {
    if (channel != nullptr) ::ares_destroy(channel);  // abandoned queries are freed here
  }

  // c-ares opens, closes and re-aims its sockets from inside its calls (a lookup starting in a
  // fiber while the pump waits, or ares_process_fd in the pump). Wake the pump first: its
  // registrations then end quietly even on a watcher destroyed here.
  static void on_sock_state(void* data, ares_socket_t fd, int readable, int writable) {
    auto* core = static_cast<AresCore*>(data);
    core->changed.wake_all();
    if (!readable && !writable) {
      core->sockets.erase(fd);
      return;
    }
    const int events = (readable ? kIoRead : 0) | (writable ? kIoWrite : 0);
    std::unique_ptr<IoWatcher>& watcher = core->sockets[fd];
    if (!watcher) {
      watcher = std::make_unique<IoWatcher>(fd, events);
    } else if (watcher->events() != events) {
      watcher->reset(fd, events);
    }
  }

  // Takes a slot, waiting in FIFO order when all are in use. A slot freed while others wait is
  // handed to the longest waiter directly.
  void admit(const char* op, const std::string& name) {
    if (in_flight < max_in_flight && admission.empty()) {
      ++in_flight;
      return;
    }
    Waiter waiter;
    admission.push_back(waiter);
    if (waiter.wait(Deadline::never(), "dns slot") == WaitStatus::kTimedOut) {
      throw DnsError(DnsStatus::kTimeout, ARES_ETIMEOUT,
                     fmt::format("{}: timed out waiting for a resolver slot", lookup_context(op, name)));
    }
    // Woken: release() handed its slot over.
  }

  void release() noexcept {
    if (admission.wake_one() == nullptr) --in_flight;
  }

  void query_done() noexcept {
    --pending;
    release();
  }

  void ensure_pump(const std::shared_ptr<AresCore>& self) {
    if (pump && !pump->dead() && &pump->hub() == &Hub::current()) return;
    std::weak_ptr<AresCore> weak = self;
    pump = spawn_fiber([weak] {
      if (std::shared_ptr<AresCore> core = weak.lock()) core->run_pump();
    });
  }

  void run_pump() {
    // However the pump ends (no query left, or killed with its hub), the poller stops watching
    // c-ares' sockets: an idle resolver keeps no watcher active (LoopExit stays possible).
    struct StopWatching {
      AresCore& core;
      ~StopWatching() {
        for (auto& [fd, watcher] : core.sockets) watcher->stop();
      }
    } stop_watching{*this};
    std::vector<WaitSource> sources;
    std::vector<std::pair<int, int>> ready;
    while (pending > 0) {
      sources.clear();
      sources.emplace_back(changed, nullptr, nullptr);
      for (auto& [fd, watcher] : sockets) sources.emplace_back(*watcher);
      const auto fired = wait_any(sources, next_deadline(), "dns");
      if (!fired) {
        ::ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // retries and timeouts
        continue;
      }
      // Collect first: ares_process_fd may open and close sockets (on_sock_state).
      ready.clear();
      for (auto& [fd, watcher] : sockets) {
        if (const int r = watcher->take_ready()) ready.emplace_back(fd, r);
      }
      for (const auto& [fd, r] : ready) {
        ::ares_process_fd(channel, (r & kIoRead) ? fd : ARES_SOCKET_BAD,
                          (r & kIoWrite) ? fd : ARES_SOCKET_BAD);
      }
    }
  }

  Deadline next_deadline() const {
    timeval tv{};
    if (::ares_timeout(channel, nullptr, &tv) == nullptr) return Deadline::never();
    return Deadline::after(static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) * 1e-6);
  }

  // Parks the calling fiber until `q` completes; abandons it when the fiber is interrupted.
  void wait_for(Query* q, const char* what) {
    if (q->done) return;
    Waiter waiter;
    q->waiter = &waiter;
    try {
      while (!q->done) {
        if (waiter.wait(Deadline::never(), what) == WaitStatus::kTimedOut && !q->done) {
          // A silent grove::Timeout scope expired.
          throw DnsError(DnsStatus::kTimeout, ARES_ETIMEOUT, "timed out");
        }
      }
    } catch (...) {
      q->waiter = nullptr;
      q->abandoned = true;
      throw;
    }
    q->waiter = nullptr;
  }

  static void on_addrinfo(void* arg, int status, int /*timeouts*/, ares_addrinfo* result) {
    auto* q = static_cast<Query*>(arg);
    q->core->query_done();
    if (q->abandoned) {
      if (result != nullptr) ::ares_freeaddrinfo(result);
      delete q;
      return;
    }
    q->status = status;
    q->addrinfo = result;
    q->done = true;
    if (q->waiter != nullptr) q->waiter->wake();
  }

  static void on_nameinfo(void* arg, int status, int /*timeouts*/, char* node, char* service) {
    auto* q = static_cast<Query*>(arg);
    q->core->query_done();
    if (q->abandoned) {
      delete q;
      return;
    }
    q->status = status;
    if (node != nullptr) q->node = node;
    if (service != nullptr) q->service = service;
    q->done = true;
    if (q->waiter != nullptr) q->waiter->wake();
  }
};

class AresResolver final : public Resolver {
 public:
  explicit AresResolver(ResolverOptions options) : Resolver(std::move(options)) {
    static std::once_flag library_once;
    std::call_once(library_once, [] { ::ares_library_init(ARES_LIB_INIT_ALL); });
    core_ = std::make_shared<AresCore>();
    core_->max_in_flight = options_.max_in_flight;

    ares_options opts{};
    int mask = 0;
    opts.timeout = static_cast<int>(options_.timeout * 1000.0 + 0.5);
    if (opts.timeout < 1) opts.timeout = 1;
    mask |= ARES_OPT_TIMEOUTMS;
    opts.tries = options_.tries;
    mask |= ARES_OPT_TRIES;
    std::string lookups = options_.use_hosts_file ? "fb" : "b";
    opts.lookups = lookups.data();
    mask |= ARES_OPT_LOOKUPS;
    opts.sock_state_cb = &AresCore::on_sock_state;
    opts.sock_state_cb_data = core_.get();
    mask |= ARES_OPT_SOCK_STATE_CB;
    if (const int rc = ::ares_init_options(&core_->channel, &opts, mask); rc != ARES_SUCCESS) {
      core_->channel = nullptr;
      throw ares_error("ares_init_options", "(resolver)", rc);
    }
    if (!options_.servers.empty()) {
      std::string csv;
      for (const std::string& s : options_.servers) {
        if (!csv.empty()) csv += ',';
        csv += s;
      }
      if (const int rc = ::ares_set_servers_ports_csv(core_->channel, csv.c_str());
          rc != ARES_SUCCESS) {
        throw std::invalid_argument(
            fmt::format("resolver servers \"{}\": {}", csv, ::ares_strerror(rc)));
      }
    }
  }

  ResolverKind kind() const noexcept override { return ResolverKind::kAres; }

 protected:
  std::vector<AddrInfo> lookup(const std::string& host, const std::string& service,
                               const AddrInfoHints& hints) override {
    std::shared_ptr<AresCore> core = core_;  // alive while this fiber is inside
    core->admit("getaddrinfo", host);
    auto* q = new Query;
    q->core = core.get();
    ++core->pending;
    ares_addrinfo_hints h{};
    h.ai_family = hints.family;
    h.ai_socktype = hints.socktype;
    h.ai_protocol = hints.protocol;
    h.ai_flags = ares_ai_flags(hints.flags) | ARES_AI_NUMERICSERV;
    // c-ares 1.18 rejects service "0" as ARES_ESERVICE; no service means port 0.
    const char* service_arg = service == "0" || service.empty() ? nullptr : service.c_str();
    ::ares_getaddrinfo(core->channel, host.c_str(), service_arg, &h, &AresCore::on_addrinfo, q);
    if (core->pending > 0) core->ensure_pump(core);
    core->wait_for(q, "getaddrinfo");
    std::unique_ptr<Query> owned(q);
    struct FreeResult {
      ares_addrinfo* r;
      ~FreeResult() {
        if (r != nullptr) ::ares_freeaddrinfo(r);
      }
    } free_result{q->addrinfo};
    if (q->status != ARES_SUCCESS) throw ares_error("getaddrinfo", host, q->status);
    std::vector<AddrInfo> out;
    for (ares_addrinfo_node* n = q->addrinfo ? q->addrinfo->nodes : nullptr; n; n = n->ai_next) {
      append_addrinfo(out, Address::from_sockaddr(n->ai_addr, n->ai_addrlen), n->ai_socktype,
                      n->ai_protocol, hints);
    }
    if (out.empty()) {
      throw ares_error("getaddrinfo", host, ARES_ENODATA);
    }
    if (hints.flags & AI_CANONNAME) {
      const ares_addrinfo_cname* last = q->addrinfo->cnames;
      while (last != nullptr && last->next != nullptr) last = last->next;
      if (last != nullptr && last->name != nullptr) {
        out.front().canonname = last->name;
      } else if (q->addrinfo->name != nullptr) {
        out.front().canonname = q->addrinfo->name;
      } else {
        out.front().canonname = host;
      }
    }
    return out;
  }

  NameInfo reverse(const Address& address, int flags) override {
    std::shared_ptr<AresCore> core = core_;
    const std::string name = address.to_string();
    core->admit("getnameinfo", name);
    auto* q = new Query;
    q->core = core.get();
    ++core->pending;
    ::ares_getnameinfo(core->channel, address.sockaddr_ptr(), address.length(),
                       ares_ni_flags(flags), &AresCore::on_nameinfo, q);
    if (core->pending > 0) core->ensure_pump(core);
    core->wait_for(q, "getnameinfo");
    std::unique_ptr<Query> owned(q);
    if (q->status != ARES_SUCCESS) throw ares_error("getnameinfo", name, q->status);
    return {q->node, q->service.empty() ? std::to_string(address.port()) : q->service};
  }

 private:
  std::shared_ptr<AresCore> core_;
};

}  // namespace

std::shared_ptr<Resolver> make_ares_resolver(ResolverOptions options) {
  return std::make_shared<AresResolver>(std::move(options));
}

}  // namespace grove::net::internal
