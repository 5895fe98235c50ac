// net/dns.h: both resolvers. The ares resolver is checked against a real dnsmasq on a loopback
// port serving a hosts file generated here (answers, IPv6, NXDOMAIN, reverse lookups, 10,000
// concurrent lookups from 10,000 fibers) and against a UDP port that never answers (timeouts);
// the thread resolver against the system's configuration (/etc/hosts, literals).
#include "net/dns.h"

#include <arpa/inet.h>

#include <cstdlib>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "hub/hub.h"
#include "hub/timeout.h"
#include "net/socket.h"
#include "tests/net/net_test_support.h"
#include "tests/support/grove_test.h"

namespace grove::net {
namespace {

using testing::Subprocess;
using testing::TempDir;

constexpr int kManyNames = 10000;

std::string many_name(int i) { return fmt::format("host{}.test", i); }
std::string many_address(int i) { return fmt::format("10.{}.{}.{}", 100 + i / 65536, (i / 256) % 256, i % 256); }

// dnsmasq on 127.0.0.1:<port>, answering only from a generated hosts file; authoritative for
// "test" (unknown names there are NXDOMAIN, not REFUSED). Started once per test binary.
class Dnsmasq {
 public:
  Dnsmasq() {
    std::string hosts =
        "10.0.0.1 alpha.test\n"
        "10.0.0.2 beta.test\n"
        "10.0.0.3 gamma.test\n"
        "fd00::3 gamma.test\n"
        "fd00::4 sixonly.test\n";
    for (int i = 0; i < kManyNames; ++i) hosts += many_address(i) + " " + many_name(i) + "\n";
    dir_.write("hosts", hosts);
    // A free UDP port. dnsmasq binds TCP on it too, which a concurrent test's connection may
    // hold: if it fails to start, try again on another port.
    for (int attempt = 1;; ++attempt) {
      {
        Socket probe = Socket::create(AF_INET, SOCK_DGRAM);
        probe.bind(Address::ipv4("127.0.0.1", 0));
        port_ = probe.getsockname().port();
      }
      process_ = std::make_unique<Subprocess>(std::vector<std::string>{
          "/usr/sbin/dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--user=root",
          "--group=root", fmt::format("--port={}", port_), "--listen-address=127.0.0.1",
          "--bind-interfaces", "--no-resolv", "--no-hosts", "--addn-hosts=" + dir_.file("hosts"),
          "--local=/test/", "--local=/10.in-addr.arpa/", "--cache-size=0", "--log-facility=-"});
      try {
        process_->read_until("read " + dir_.file("hosts"), 10.0);
        return;
      } catch (const std::runtime_error&) {
        process_.reset();
        if (attempt == 5) throw;
      }
    }
  }
  std::string server() const { return fmt::format("127.0.0.1:{}", port_); }

 private:
  TempDir dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Subprocess> process_;
};

Dnsmasq& dnsmasq() {
  static Dnsmasq* server = new Dnsmasq();  // lives until the process exits (then SIGTERM'd below)
  static struct Reaper {
    ~Reaper() { delete server; }
  } reaper;
  return *server;
}

std::shared_ptr<Resolver> ares_on_dnsmasq(double timeout = 2.0) {
  ResolverOptions options;
  options.servers = {dnsmasq().server()};
  options.timeout = timeout;
  options.tries = 2;
  return Resolver::create(ResolverKind::kAres, options);
}

std::set<std::string> hosts_of(const std::vector<AddrInfo>& results) {
  std::set<std::string> out;
  for (const AddrInfo& r : results) out.insert(r.address.host());
  return out;
}

// --- ares on dnsmasq ------------------------------------------------------------------------

GROVE_TEST(AresResolver, AnswersFromTheServer) {
  auto r = ares_on_dnsmasq();
  EXPECT_EQ(r->kind(), ResolverKind::kAres);
  EXPECT_EQ(r->gethostbyname("alpha.test"), "10.0.0.1");
  AddrInfoHints hints;
  hints.socktype = SOCK_STREAM;
  const auto results = r->getaddrinfo("beta.test", "8080", hints);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].family, AF_INET);
  EXPECT_EQ(results[0].socktype, SOCK_STREAM);
  EXPECT_EQ(results[0].protocol, IPPROTO_TCP);
  EXPECT_EQ(results[0].address.to_string(), "10.0.0.2:8080");
}

// From the main fiber (no test harness timer), so LoopExit can tell whether anything is left
// active on the loop.
TEST(AresResolver, KeepsNoPollerOfItsOwnAndNoWatcherWhenIdle) {
  {
    (void)Hub::current();
    const int epolls = testing::count_epoll_fds();
    auto r = ares_on_dnsmasq();
    EXPECT_EQ(r->gethostbyname("alpha.test"), "10.0.0.1");
    // c-ares' sockets are watched on the hub's own loop, not through an epoll set of its own.
    EXPECT_EQ(testing::count_epoll_fds(), epolls);
    // Idle, the resolver keeps no watcher active: waiting on nothing is a LoopExit, not a hang.
    WaitList nothing;
    EXPECT_THROW((void)nothing.wait(Deadline::never(), "nothing"), LoopExit);
  }
  Hub::destroy_current();
}

GROVE_TEST(AresResolver, BothFamiliesAndFamilyHints) {
  auto r = ares_on_dnsmasq();
  AddrInfoHints hints;
  hints.socktype = SOCK_STREAM;
  EXPECT_EQ(hosts_of(r->getaddrinfo("gamma.test", "80", hints)),
            (std::set<std::string>{"10.0.0.3", "fd00::3"}));
  hints.family = AF_INET6;
  const auto v6 = r->getaddrinfo("gamma.test", "443", hints);
  ASSERT_EQ(v6.size(), 1u);
  EXPECT_EQ(v6[0].address.to_string(), "[fd00::3]:443");
  hints.family = AF_INET;
  EXPECT_EQ(hosts_of(r->getaddrinfo("gamma.test", "80", hints)), (std::set<std::string>{"10.0.0.3"}));
  hints.family = AF_INET6;
  EXPECT_EQ(hosts_of(r->getaddrinfo("sixonly.test", "80", hints)), (std::set<std::string>{"fd00::4"}));
}

GROVE_TEST(AresResolver, SocktypeZeroGivesOneEntryPerTypeLikeGlibc) {
  auto r = ares_on_dnsmasq();
  AddrInfoHints hints;
  hints.family = AF_INET;
  const auto results = r->getaddrinfo("alpha.test", "53", hints);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].socktype, SOCK_STREAM);
  EXPECT_EQ(results[1].socktype, SOCK_DGRAM);
  EXPECT_EQ(results[2].socktype, SOCK_RAW);
}

GROVE_TEST(AresResolver, NxdomainIsNotFoundWithTheResolversMessageAndTheName) {
  auto r = ares_on_dnsmasq();
  try {
    (void)r->getaddrinfo("nosuch.test", "80");
    FAIL() << "an unknown name resolved";
  } catch (const DnsError& e) {
    EXPECT_EQ(e.status(), DnsStatus::kNotFound);
    EXPECT_STREQ(e.what(), "getaddrinfo nosuch.test: Domain name not found");
  }
  // A DnsError is a SocketError, as gaierror is an OSError.
  EXPECT_THROW((void)r->gethostbyname("nosuch.test"), SocketError);
}

GROVE_TEST(AresResolver, HonoursEtcHostsBeforeTheServer) {
  // dnsmasq runs with --no-hosts and knows no "localhost": the answer can only come from the
  // resolver's own look at /etc/hosts.
  auto r = ares_on_dnsmasq();
  AddrInfoHints hints;
  hints.family = AF_INET;
  hints.socktype = SOCK_STREAM;
  EXPECT_EQ(hosts_of(r->getaddrinfo("localhost", "1", hints)), (std::set<std::string>{"127.0.0.1"}));
  ResolverOptions no_hosts;
  no_hosts.servers = {dnsmasq().server()};
  no_hosts.use_hosts_file = false;
  no_hosts.timeout = 1.0;
  auto dns_only = Resolver::create(ResolverKind::kAres, no_hosts);
  EXPECT_THROW((void)dns_only->getaddrinfo("localhost", "1", hints), DnsError);
}

GROVE_TEST(AresResolver, ReverseLookupAndServiceNames) {
  auto r = ares_on_dnsmasq();
  const NameInfo info = r->getnameinfo(Address::ipv4("10.0.0.1", 80));
  EXPECT_EQ(info.host, "alpha.test");
  EXPECT_EQ(info.service, "http");
  const NameInfo numeric = r->getnameinfo(Address::ipv4("10.0.0.1", 80), NI_NUMERICHOST | NI_NUMERICSERV);
  EXPECT_EQ(numeric.host, "10.0.0.1");
  EXPECT_EQ(numeric.service, "80");
  AddrInfoHints hints;
  hints.socktype = SOCK_STREAM;
  EXPECT_EQ(r->getaddrinfo("alpha.test", "https", hints).at(0).address.port(), 443);
  EXPECT_THROW((void)r->getaddrinfo("alpha.test", "no-such-service", hints), DnsError);
}

GROVE_TEST(AresResolver, TimesOutAgainstASilentServer) {
  Socket silent = Socket::create(AF_INET, SOCK_DGRAM);
  silent.bind(Address::ipv4("127.0.0.1", 0));  // bound, never read: queries vanish
  ResolverOptions options;
  options.servers = {silent.getsockname().to_string()};
  options.timeout = 0.1;
  options.tries = 2;
  options.use_hosts_file = false;
  auto r = Resolver::create(ResolverKind::kAres, options);
  // Other fibers keep running while the lookup waits.
  int ticks = 0;
  FiberRef ticker = spawn_fiber([&] {
    for (int i = 0; i < 5; ++i) {
      sleep(0.01);
      ++ticks;
    }
  });
  const double start = Deadline::now();
  try {
    (void)r->getaddrinfo("alpha.test", "80");
    FAIL() << "a silent server answered";
  } catch (const DnsError& e) {
    EXPECT_EQ(e.status(), DnsStatus::kTimeout);
    EXPECT_STREQ(e.what(), "getaddrinfo alpha.test: Timeout while contacting DNS servers");
  }
  const double elapsed = Deadline::now() - start;
  EXPECT_GE(elapsed, 0.15);  // two tries of 0.1 s (c-ares backs off, so a bit more)
  EXPECT_TRUE(ticker->join(Deadline::after(20.0)));
  EXPECT_EQ(ticks, 5);
}

GROVE_TEST(AresResolver, AGroveTimeoutAbandonsTheLookupAndTheResolverStaysUsable) {
  Socket silent = Socket::create(AF_INET, SOCK_DGRAM);
  silent.bind(Address::ipv4("127.0.0.1", 0));
  ResolverOptions options;
  options.servers = {silent.getsockname().to_string()};
  options.timeout = 0.3;
  options.tries = 1;
  options.max_in_flight = 1;
  auto r = Resolver::create(ResolverKind::kAres, options);
  {
    Timeout scope(0.02);
    EXPECT_THROW((void)r->getaddrinfo("alpha.test", "80"), Timeout);
  }
  // The abandoned query still holds the only slot until c-ares gives up on it; then it is freed
  // and the next lookup runs (and times out on its own).
  EXPECT_THROW((void)r->getaddrinfo("beta.test", "80"), DnsError);
}

GROVE_TEST(AresResolver, KillingAFiberInALookupUnwindsIt) {
  Socket silent = Socket::create(AF_INET, SOCK_DGRAM);
  silent.bind(Address::ipv4("127.0.0.1", 0));
  ResolverOptions options;
  options.servers = {silent.getsockname().to_string()};
  options.timeout = 0.2;
  options.tries = 1;
  auto r = Resolver::create(ResolverKind::kAres, options);
  bool unwound = false;
  FiberRef f = spawn_fiber([&] {
    struct Mark {
      bool* flag;
      ~Mark() { *flag = true; }
    } mark{&unwound};
    (void)r->getaddrinfo("alpha.test", "80");
  });
  sleep(0.01);
  f->kill();
  EXPECT_TRUE(f->join(Deadline::after(20.0)));
  EXPECT_TRUE(unwound);
}

GROVE_TEST(AresResolver, TenThousandConcurrentLookupsFromTenThousandFibers) {
  ResolverOptions options;
  options.servers = {dnsmasq().server()};
  options.timeout = 2.0;  // a dropped query would cost 2 s: the test's time shows if any were
  options.tries = 3;
  options.use_hosts_file = false;
  auto r = Resolver::create(ResolverKind::kAres, options);
  // One lookup per fiber; under TSan 500 fibers share the 10,000 lookups (see kThreadSanitizer).
  const int fiber_count = testing::kThreadSanitizer ? 500 : kManyNames;
  const int per_fiber = kManyNames / fiber_count;
  int correct = 0;
  int failed = 0;
  std::vector<FiberRef> fibers;
  fibers.reserve(fiber_count);
  const double start = Deadline::now();
  for (int f = 0; f < fiber_count; ++f) {
    fibers.push_back(spawn_fiber([&, f] {
      AddrInfoHints hints;
      hints.family = AF_INET;
      hints.socktype = SOCK_STREAM;
      for (int k = 0; k < per_fiber; ++k) {
        const int i = f * per_fiber + k;
        try {
          const auto results = r->getaddrinfo(many_name(i), "80", hints);
          if (results.size() == 1 && results[0].address.host() == many_address(i)) ++correct;
        } catch (const DnsError& e) {
          if (failed++ == 0) ADD_FAILURE() << e.what();
        }
      }
    }));
  }
  for (auto& f : fibers) ASSERT_TRUE(f->join(Deadline::after(60.0)));
  EXPECT_EQ(correct, kManyNames);
  EXPECT_EQ(failed, 0);
  ::testing::Test::RecordProperty("lookups_per_second",
                                  static_cast<int>(kManyNames / (Deadline::now() - start)));
}

GROVE_TEST(AresResolver, BadServerSpecIsRejected) {
  ResolverOptions options;
  options.servers = {"not a server"};
  EXPECT_THROW(Resolver::create(ResolverKind::kAres, options), std::invalid_argument);
}

// --- both resolvers: what needs no server ---------------------------------------------------

class BothResolvers : public ::testing::TestWithParam<ResolverKind> {};

void check_literals_and_hosts(ResolverKind kind) {
  auto r = Resolver::create(kind);
  AddrInfoHints hints;
  hints.socktype = SOCK_STREAM;
  auto v4 = r->getaddrinfo("127.0.0.1", "80", hints);
  ASSERT_EQ(v4.size(), 1u);
  EXPECT_EQ(v4[0].address.to_string(), "127.0.0.1:80");
  auto v6 = r->getaddrinfo("::1", "80", hints);
  ASSERT_EQ(v6.size(), 1u);
  EXPECT_EQ(v6[0].address.to_string(), "[::1]:80");
  hints.family = AF_INET;
  EXPECT_THROW((void)r->getaddrinfo("::1", "80", hints), DnsError);
  hints.family = AF_INET;
  EXPECT_EQ(hosts_of(r->getaddrinfo("localhost", "80", hints)), (std::set<std::string>{"127.0.0.1"}));
  EXPECT_EQ(r->gethostbyname("localhost"), "127.0.0.1");
  EXPECT_EQ(r->gethostbyname("10.1.2.3"), "10.1.2.3");
  hints.flags = AI_PASSIVE;
  EXPECT_EQ(r->getaddrinfo("", "8080", hints).at(0).address.to_string(), "0.0.0.0:8080");
  hints.flags = AI_NUMERICHOST;
  try {
    (void)r->getaddrinfo("localhost", "80", hints);
    FAIL();
  } catch (const DnsError& e) {
    EXPECT_EQ(e.status(), DnsStatus::kNotFound);
    EXPECT_NE(std::string(e.what()).find("getaddrinfo localhost: "), std::string::npos);
  }
  const NameInfo numeric = r->getnameinfo(Address::ipv4("127.0.0.1", 22), NI_NUMERICHOST | NI_NUMERICSERV);
  EXPECT_EQ(numeric.host, "127.0.0.1");
  EXPECT_EQ(numeric.service, "22");
  EXPECT_EQ(r->getnameinfo(Address::ipv4("127.0.0.1", 22), NI_NUMERICHOST).service, "ssh");
}

TEST_P(BothResolvers, LiteralsHostsFileAndFlags) {
  const auto outcome = grove::testing::run_in_hub([] { check_literals_and_hosts(GetParam()); });
  EXPECT_TRUE(outcome.ok()) << outcome.describe();
}

INSTANTIATE_TEST_SUITE_P(Dns, BothResolvers,
                         ::testing::Values(ResolverKind::kAres, ResolverKind::kThread),
                         [](const auto& info) { return std::string(to_string(info.param)); });

GROVE_TEST(ThreadResolver, UnknownNameIsADnsErrorWithGaiMessage) {
  ResolverOptions options;
  options.timeout = 3.0;
  options.tries = 1;
  auto r = Resolver::create(ResolverKind::kThread, options);
  EXPECT_EQ(r->kind(), ResolverKind::kThread);
  try {
    (void)r->getaddrinfo("nosuch.invalid", "80");
    FAIL() << "nosuch.invalid resolved";
  } catch (const DnsError& e) {
    // NXDOMAIN from the system's server; without network, a failure or our own bound.
    EXPECT_TRUE(e.status() == DnsStatus::kNotFound || e.status() == DnsStatus::kServerFailure ||
                e.status() == DnsStatus::kTimeout)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("getaddrinfo nosuch.invalid: "), std::string::npos);
  }
}

GROVE_TEST(ThreadResolver, RejectsServersItCannotUse) {
  ResolverOptions options;
  options.servers = {"127.0.0.1:53"};
  EXPECT_THROW(Resolver::create(ResolverKind::kThread, options), std::invalid_argument);
}

// --- the thread's default resolver and the free functions --------------------------------------

GROVE_TEST(DefaultResolver, ChosenByGroveResolverAndReplaceable) {
  ::setenv("GROVE_RESOLVER", "thread", 1);
  set_resolver(nullptr);
  EXPECT_EQ(resolver().kind(), ResolverKind::kThread);
  ::setenv("GROVE_RESOLVER", "ares", 1);
  set_resolver(nullptr);
  EXPECT_EQ(resolver().kind(), ResolverKind::kAres);
  ::setenv("GROVE_RESOLVER", "bogus", 1);
  EXPECT_THROW(Resolver::kind_from_environment(), std::invalid_argument);
  ::unsetenv("GROVE_RESOLVER");
  EXPECT_EQ(Resolver::kind_from_environment(), ResolverKind::kAres);

  set_resolver(ares_on_dnsmasq());
  EXPECT_EQ(gethostbyname("alpha.test"), "10.0.0.1");
  EXPECT_EQ(getaddrinfo("beta.test", std::uint16_t{80}).at(0).address.port(), 80);
  EXPECT_EQ(getnameinfo(Address::ipv4("10.0.0.2", 80)).host, "beta.test");
  set_resolver(nullptr);
}

GROVE_TEST(DefaultResolver, CreateConnectionByNameTriesEachAddress) {
  Socket listener = create_server(Address::ipv4("127.0.0.1", 0));
  const std::uint16_t port = listener.getsockname().port();
  FiberRef server = spawn_fiber([&] {
    Accepted c = listener.accept();
    c.socket.sendall("hi");
  });
  // "localhost" comes from /etc/hosts on either resolver.
  Socket s = create_connection("localhost", port, 5.0);
  EXPECT_EQ(s.recv(10), "hi");
  EXPECT_EQ(s.gettimeout(), 5.0);
  EXPECT_TRUE(server->join(Deadline::after(20.0)));
  set_resolver(ares_on_dnsmasq());
  try {
    (void)create_connection("nosuch.test", port, 1.0);
    FAIL();
  } catch (const DnsError& e) {
    EXPECT_EQ(e.status(), DnsStatus::kNotFound);
  }
  set_resolver(nullptr);
}

}  // namespace
}  // namespace grove::net
