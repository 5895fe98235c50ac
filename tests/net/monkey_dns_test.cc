// Tests of net/monkey.h: once patch_dns() ran, libc's getaddrinfo / gethostbyname(_r) called
// from a greenlet resolve through grove's resolver. That resolver asks a dnsmasq started here,
// which knows a name libc's configuration does not, so a right answer shows the call went
// through grove; nothing leaves the machine.
#include "net/monkey.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "hub/monkey.h"
#include "net/dns.h"
#include "tests/net/net_test_support.h"
#include "tests/support/grove_test.h"

namespace {

using grove::net::testing::Subprocess;
using grove::net::testing::TempDir;

// dnsmasq on a free local port, answering from a hosts file of its own and authoritative for
// "test" (other names there are NXDOMAIN). Started once per test binary.
class Dnsmasq {
 public:
  Dnsmasq() {
    dir_.write("hosts", "10.11.12.13 monkey-only.test\n");
    for (int attempt = 1;; ++attempt) {
      {
        auto probe = grove::net::Socket::create(AF_INET, SOCK_DGRAM);
        probe.bind(grove::net::Address::ipv4("127.0.0.1", 0));
        port_ = probe.getsockname().port();
      }
      process_ = std::make_unique<Subprocess>(std::vector<std::string>{
          "/usr/sbin/dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--user=root",
          "--group=root", "--port=" + std::to_string(port_), "--listen-address=127.0.0.1",
          "--bind-interfaces", "--no-resolv", "--no-hosts", "--addn-hosts=" + dir_.file("hosts"),
          "--local=/test/", "--cache-size=0", "--log-facility=-"});
      try {
        process_->read_until("read " + dir_.file("hosts"), 10.0);
        return;
      } catch (const std::runtime_error&) {
        process_.reset();
        if (attempt == 5) throw;
      }
    }
  }
  std::string server() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  TempDir dir_;
  std::uint16_t port_ = 0;
  std::unique_ptr<Subprocess> process_;
};

void use_test_resolver() {
  static Dnsmasq* server = new Dnsmasq();
  static struct Reaper {
    ~Reaper() { delete server; }
  } reaper;
  grove::net::ResolverOptions options;
  options.servers = {server->server()};
  options.use_hosts_file = false;
  options.timeout = 2.0;
  grove::net::set_resolver(grove::net::Resolver::create(grove::net::ResolverKind::kAres, options));
}

std::string ipv4_of(const sockaddr* addr) {
  char text[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(addr)->sin_addr, text, sizeof text);
  return text;
}

}  // namespace

GROVE_TEST(MonkeyDns, GetaddrinfoOnAGreenletUsesGrovesResolver) {
  grove::net::patch_dns();
  EXPECT_TRUE(grove::is_patched(grove::Patch::kDns));
  use_test_resolver();
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_CANONNAME;
  addrinfo* result = nullptr;
  ASSERT_EQ(::getaddrinfo("monkey-only.test", "8080", &hints, &result), 0);
  ASSERT_NE(result, nullptr);
  EXPECT_EQ(result->ai_family, AF_INET);
  EXPECT_EQ(ipv4_of(result->ai_addr), "10.11.12.13");
  EXPECT_EQ(ntohs(reinterpret_cast<sockaddr_in*>(result->ai_addr)->sin_port), 8080);
  ASSERT_NE(result->ai_canonname, nullptr);
  EXPECT_EQ(result->ai_next, nullptr);
  ::freeaddrinfo(result);  // libc's: the result is laid out as libc lays it
  grove::net::set_resolver(nullptr);
}

GROVE_TEST(MonkeyDns, GethostbynameOnAGreenletUsesGrovesResolver) {
  grove::net::patch_dns();
  use_test_resolver();
  hostent* h = ::gethostbyname("monkey-only.test");
  ASSERT_NE(h, nullptr);
  EXPECT_EQ(h->h_addrtype, AF_INET);
  ASSERT_NE(h->h_addr_list[0], nullptr);
  char text[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, h->h_addr_list[0], text, sizeof text);
  EXPECT_EQ(std::string(text), "10.11.12.13");

  hostent entry{};
  hostent* found = nullptr;
  int error = 0;
  char small[8];
  EXPECT_EQ(::gethostbyname_r("monkey-only.test", &entry, small, sizeof small, &found, &error),
            ERANGE);
  char buffer[512];
  ASSERT_EQ(::gethostbyname_r("monkey-only.test", &entry, buffer, sizeof buffer, &found, &error), 0);
  ASSERT_EQ(found, &entry);
  ::inet_ntop(AF_INET, entry.h_addr_list[0], text, sizeof text);
  EXPECT_EQ(std::string(text), "10.11.12.13");
  grove::net::set_resolver(nullptr);
}

GROVE_TEST(MonkeyDns, FailuresComeBackAsLibcCodes) {
  grove::net::patch_dns();
  use_test_resolver();
  addrinfo* result = nullptr;
  const int rc = ::getaddrinfo("nosuch.monkey.test", "80", nullptr, &result);
  EXPECT_EQ(rc, EAI_NONAME);
  EXPECT_EQ(result, nullptr);
  EXPECT_NE(::gai_strerror(rc), nullptr);
  hostent entry{};
  hostent* found = &entry;
  int error = 0;
  char buffer[512];
  EXPECT_EQ(::gethostbyname_r("nosuch.monkey.test", &entry, buffer, sizeof buffer, &found, &error), 0);
  EXPECT_EQ(found, nullptr);
  EXPECT_EQ(error, HOST_NOT_FOUND);
  grove::net::set_resolver(nullptr);
}
