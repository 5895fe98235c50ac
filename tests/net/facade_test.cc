// facade/socket.h, selectors.h, ssl.h, dns.h: gevent-style code over grove::net reads like
// gevent's and behaves the same.
#include <string>

#include "facade/dns.h"
#include "facade/selectors.h"
#include "facade/socket.h"
#include "facade/ssl.h"
#include "hub/hub.h"
#include "tests/support/grove_test.h"

namespace {

namespace socket = gevent::socket;
namespace selectors = gevent::selectors;

GROVE_TEST(GeventSocket, EchoClientReadsLikeGevent) {
  socket::socket listener = socket::socket::create(AF_INET, SOCK_STREAM);
  listener.bind(socket::Address::parse("127.0.0.1:0"));
  listener.listen(16);
  const std::uint16_t port = listener.getsockname().port();
  grove::FiberRef server = grove::spawn_fiber([&] {
    auto [conn, peer] = listener.accept();
    for (std::string data; !(data = conn.recv(1024)).empty();) conn.sendall(data);
  });

  socket::socket s = socket::create_connection({"localhost", port}, /*timeout=*/5.0);
  s.sendall("hello");
  EXPECT_EQ(s.recv(1024), "hello");
  s.close();
  EXPECT_TRUE(server->join(grove::Deadline::after(20.0)));
}

GROVE_TEST(GeventSocket, ErrorsAndTimeoutsHaveGeventsNames) {
  auto [a, b] = socket::socketpair();
  a.settimeout(0.01);
  EXPECT_THROW((void)a.recv(1), socket::timeout);
  EXPECT_THROW((void)socket::wait_read(a.fileno(), 0.01), socket::timeout);
  EXPECT_THROW((void)socket::getaddrinfo("localhost", 80, AF_INET, SOCK_STREAM, 0, AI_NUMERICHOST),
               socket::gaierror);
  try {
    (void)a.recv(1);
  } catch (const socket::error& e) {  // timeout is an error, as in Python
    EXPECT_STREQ(e.code().category().name(), "generic");
  }
  EXPECT_EQ(socket::gethostbyname("localhost"), "127.0.0.1");
  EXPECT_EQ(socket::getdefaulttimeout(), std::nullopt);
}

GROVE_TEST(GeventSelectors, DefaultSelectorSelects) {
  selectors::DefaultSelector sel;
  auto [a, b] = socket::socketpair();
  sel.register_(a, selectors::EVENT_READ, std::string("a"));
  EXPECT_THROW(sel.register_(a.fileno(), selectors::EVENT_READ), selectors::KeyError);
  EXPECT_THROW(sel.register_(-1, selectors::EVENT_READ), selectors::ValueError);
  b.sendall("x");
  auto ready = sel.select(1.0);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].events, selectors::EVENT_READ);
  EXPECT_EQ(std::any_cast<std::string>(ready[0].key.data), "a");
  sel.close();
}

GROVE_TEST(GeventSsl, DefaultContextVerifiesAndNeedsAHostname) {
  auto ctx = gevent::ssl::create_default_context();
  EXPECT_TRUE(ctx.verify());
  EXPECT_TRUE(ctx.check_hostname());
  EXPECT_FALSE(ctx.is_server());
  EXPECT_TRUE(gevent::ssl::create_default_context(gevent::ssl::Purpose::CLIENT_AUTH).is_server());
  auto [a, b] = socket::socketpair();
  EXPECT_THROW((void)ctx.wrap_socket(std::move(a)), std::invalid_argument);
}

GROVE_TEST(GeventDns, ResolversByKind) {
  EXPECT_EQ(gevent::dns::thread_resolver()->kind(), gevent::dns::ResolverKind::kThread);
  EXPECT_EQ(gevent::dns::ares_resolver()->kind(), gevent::dns::ResolverKind::kAres);
  gevent::dns::set_resolver(gevent::dns::thread_resolver());
  EXPECT_EQ(gevent::dns::get_resolver()->kind(), gevent::dns::ResolverKind::kThread);
  EXPECT_EQ(gevent::dns::gethostbyname("localhost"), "127.0.0.1");
  gevent::dns::set_resolver(nullptr);
}

GROVE_TEST(GeventDns, GetResolverIsASharedHandleToSaveAndRestore) {
  auto saved = gevent::dns::get_resolver();
  EXPECT_EQ(saved, gevent::dns::get_resolver()) << "the same resolver, not a copy";
  auto other = gevent::dns::thread_resolver();
  gevent::dns::set_resolver(other);
  EXPECT_EQ(gevent::dns::get_resolver(), other);
  gevent::dns::set_resolver(saved);
  EXPECT_EQ(gevent::dns::get_resolver(), saved);
}

GROVE_TEST(GeventSocket, HostLookupsOfPythonsSocketModule) {
  // /etc/hosts first; lookups that reach for the network are bounded.
  gevent::dns::ResolverOptions options;
  options.timeout = 2.0;
  gevent::dns::set_resolver(gevent::dns::thread_resolver(options));
  auto entry = socket::gethostbyname_ex("localhost");
  EXPECT_FALSE(entry.hostname.empty());
  EXPECT_EQ(entry.addresses, std::vector<std::string>{"127.0.0.1"});
  auto byaddr = socket::gethostbyaddr("127.0.0.1");
  EXPECT_FALSE(byaddr.hostname.empty());
  EXPECT_EQ(byaddr.addresses, std::vector<std::string>{"127.0.0.1"});
  EXPECT_FALSE(socket::gethostname().empty());
  EXPECT_FALSE(socket::getfqdn().empty());
  EXPECT_EQ(socket::getfqdn("no-such-host.invalid"), "no-such-host.invalid")
      << "getfqdn never fails: the name as given";
  // 192.0.2.0/24 is TEST-NET-1: no reverse name; gevent raises herror, which is a gaierror.
  try {
    (void)socket::gethostbyaddr("192.0.2.77");
    ADD_FAILURE() << "no name expected for a TEST-NET address";
  } catch (const socket::herror& e) {
    EXPECT_TRUE(dynamic_cast<const socket::gaierror*>(&e) != nullptr);
  }
  EXPECT_THROW((void)socket::gethostbyname_ex("no-such-host.invalid"), socket::gaierror);
  gevent::dns::set_resolver(nullptr);
}

}  // namespace
