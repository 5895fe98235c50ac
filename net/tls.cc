// net/tls.cc — TlsContext/TlsSocket on OpenSSL 3: non-blocking SSL calls, WANT_READ/WANT_WRITE
// mapped to the Socket's waits, bytes through a BIO of ours (send with MSG_NOSIGNAL).
#include "net/tls.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace grove::net {

namespace {

// The newest reason in OpenSSL's error queue ("certificate verify failed"); clears the queue.
std::string take_openssl_reason() {
  unsigned long last = 0;
  while (const unsigned long e = ::ERR_get_error()) last = e;
  if (last == 0) return "unknown TLS error";
  const char* reason = ::ERR_reason_error_string(last);
  if (reason != nullptr) return reason;
  char buf[256];
  ::ERR_error_string_n(last, buf, sizeof buf);
  return buf;
}

[[noreturn]] void throw_config_error(const std::string& what) {
  const std::string reason = take_openssl_reason();
  throw TlsError(fmt::format("{}: {}", what, reason), reason);
}

// --- the BIO: recv/send on the socket's fd --------------------------------------------------

// What the BIO knows of its socket; lives in the TlsSocket's Impl.
struct BioState {
  int fd = -1;
  bool eof = false;  // recv returned 0: lets OpenSSL tell a clean EOF from an error
};

BioState* bio_state(BIO* bio) { return static_cast<BioState*>(::BIO_get_data(bio)); }

int bio_write(BIO* bio, const char* data, int size) {
  ::BIO_clear_retry_flags(bio);
  const ssize_t n = ::send(bio_state(bio)->fd, data, static_cast<std::size_t>(size), MSG_NOSIGNAL);
  if (n >= 0) return static_cast<int>(n);
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ::BIO_set_retry_write(bio);
  return -1;
}

int bio_read(BIO* bio, char* data, int size) {
  ::BIO_clear_retry_flags(bio);
  BioState* state = bio_state(bio);
  const ssize_t n = ::recv(state->fd, data, static_cast<std::size_t>(size), 0);
  if (n > 0) return static_cast<int>(n);
  if (n == 0) {
    state->eof = true;
    return 0;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) ::BIO_set_retry_read(bio);
  return -1;
}

long bio_ctrl(BIO* bio, int cmd, long /*num*/, void* /*ptr*/) {
  switch (cmd) {
    case BIO_CTRL_FLUSH: return 1;
    case BIO_CTRL_EOF: return bio_state(bio)->eof ? 1 : 0;
    default: return 0;
  }
}

int bio_create(BIO* bio) {
  ::BIO_set_init(bio, 1);
  return 1;
}

BIO_METHOD* socket_bio_method() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = ::BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "grove socket");
    ::BIO_meth_set_write(m, bio_write);
    ::BIO_meth_set_read(m, bio_read);
    ::BIO_meth_set_ctrl(m, bio_ctrl);
    ::BIO_meth_set_create(m, bio_create);
    return m;
  }();
  return method;
}

// Mozilla's server-side TLS recommendations (version 5.7), as OpenSSL names them.
constexpr const char* kTls13Suites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
constexpr const char* kIntermediateCiphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
// Old clients: CBC, RSA and DHE key exchange, SHA-1 MACs; OpenSSL 3 allows TLS 1.0/1.1 only at
// security level 0.
constexpr const char* kOldCiphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305:"
    "ECDHE-ECDSA-AES128-SHA256:ECDHE-RSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA:"
    "ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384:"
    "ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA:DHE-RSA-AES128-SHA256:DHE-RSA-AES256-SHA256:"
    "AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA256:AES256-SHA256:AES128-SHA:AES256-SHA:"
    "DES-CBC3-SHA:@SECLEVEL=0";
constexpr const char* kGroups = "X25519:prime256v1:secp384r1";

int openssl_version(TlsVersion v) {
  switch (v) {
    case TlsVersion::kTls10: return TLS1_VERSION;
    case TlsVersion::kTls11: return TLS1_1_VERSION;
    case TlsVersion::kTls12: return TLS1_2_VERSION;
    case TlsVersion::kTls13: return TLS1_3_VERSION;
  }
  return TLS1_2_VERSION;
}

std::string alpn_wire(const std::vector<std::string>& protocols) {
  std::string wire;
  for (const std::string& p : protocols) {
    if (p.empty() || p.size() > 255) throw std::invalid_argument("ALPN protocol names are 1-255 bytes");
    wire += static_cast<char>(p.size());
    wire += p;
  }
  return wire;
}

bool is_ip_literal(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, host.c_str(), buf) == 1 || ::inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

}  // namespace

TlsError::TlsError(std::string message, std::string reason, long verify_result,
                   std::string verify_message)
    : SocketError(std::error_code(EPROTO, std::generic_category()), std::move(message)),
      reason_(std::move(reason)),
      verify_result_(verify_result),
      verify_message_(std::move(verify_message)) {}

// ---------------------------------------------------------------------------------------------
// TlsContext

struct TlsContext::Impl {
  SSL_CTX* ctx = nullptr;
  bool server = false;
  bool verify = false;
  bool verify_optional = false;  // server: ask for a client certificate, accept none
  bool check_hostname = false;
  std::string alpn;  // wire format

  ~Impl() {
    if (ctx != nullptr) ::SSL_CTX_free(ctx);
  }

  void apply_verify() {
    int mode = SSL_VERIFY_NONE;
    if (verify) {
      mode = server && !verify_optional ? (SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT)
                                        : SSL_VERIFY_PEER;
    }
    ::SSL_CTX_set_verify(ctx, mode, nullptr);
  }

  static int select_alpn(SSL* /*ssl*/, const unsigned char** out, unsigned char* outlen,
                         const unsigned char* in, unsigned int inlen, void* arg) {
    auto* self = static_cast<Impl*>(arg);
    if (self->alpn.empty()) return SSL_TLSEXT_ERR_NOACK;
    unsigned char* chosen = nullptr;
    const int rc = ::SSL_select_next_proto(
        &chosen, outlen, reinterpret_cast<const unsigned char*>(self->alpn.data()),
        static_cast<unsigned int>(self->alpn.size()), in, inlen);
    if (rc != OPENSSL_NPN_NEGOTIATED) return SSL_TLSEXT_ERR_NOACK;
    *out = chosen;
    return SSL_TLSEXT_ERR_OK;
  }

  static std::shared_ptr<Impl> make(bool server) {
    auto impl = std::make_shared<Impl>();
    impl->server = server;
    impl->ctx = ::SSL_CTX_new(server ? ::TLS_server_method() : ::TLS_client_method());
    if (impl->ctx == nullptr) throw_config_error("SSL_CTX_new");
    ::SSL_CTX_set_min_proto_version(impl->ctx, TLS1_2_VERSION);
    ::SSL_CTX_set_options(impl->ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION |
                                         SSL_OP_NO_COMPRESSION);
    ::SSL_CTX_set_mode(impl->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                                      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    ::SSL_CTX_set_read_ahead(impl->ctx, 1);  // one recv per record batch, not two per record
    if (!server) {
      impl->verify = true;
      impl->check_hostname = true;
      if (::SSL_CTX_set_default_verify_paths(impl->ctx) != 1) ::ERR_clear_error();
    } else {
      ::SSL_CTX_set_alpn_select_cb(impl->ctx, &Impl::select_alpn, impl.get());
      impl->apply_profile(TlsProfile::kIntermediate);
    }
    impl->apply_verify();
    return impl;
  }

  void apply_profile(TlsProfile profile) {
    const bool old = profile == TlsProfile::kOld;
    const int min = profile == TlsProfile::kModern ? TLS1_3_VERSION : old ? TLS1_VERSION : TLS1_2_VERSION;
    if (::SSL_CTX_set_min_proto_version(ctx, min) != 1 ||
        ::SSL_CTX_set_max_proto_version(ctx, 0) != 1 ||
        ::SSL_CTX_set_cipher_list(ctx, old ? kOldCiphers : kIntermediateCiphers) != 1 ||
        ::SSL_CTX_set_ciphersuites(ctx, kTls13Suites) != 1 ||
        ::SSL_CTX_set1_groups_list(ctx, kGroups) != 1) {
      throw_config_error("set_profile");
    }
    if (old) {
      ::SSL_CTX_set_dh_auto(ctx, 1);  // DHE key exchange needs parameters
    } else {
      ::SSL_CTX_set_security_level(ctx, 2);  // back from the level 0 of kOld's cipher list
    }
    // Every cipher of these lists is strong, so the server's order (strongest and fastest
    // first) decides; a client that puts ChaCha20 first has no AES hardware and gets it.
    ::SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_PRIORITIZE_CHACHA);
  }
};

TlsContext TlsContext::client() { return TlsContext(Impl::make(false)); }
TlsContext TlsContext::server() { return TlsContext(Impl::make(true)); }

TlsContext& TlsContext::load_cert_chain(const std::string& cert_file, const std::string& key_file) {
  if (::SSL_CTX_use_certificate_chain_file(impl_->ctx, cert_file.c_str()) != 1) {
    throw_config_error("load_cert_chain " + cert_file);
  }
  if (::SSL_CTX_use_PrivateKey_file(impl_->ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    throw_config_error("load_cert_chain " + key_file);
  }
  if (::SSL_CTX_check_private_key(impl_->ctx) != 1) {
    throw_config_error("load_cert_chain: the key does not match the certificate");
  }
  return *this;
}

TlsContext& TlsContext::load_cert_chain_pem(std::string_view cert_pem, std::string_view key_pem) {
  BIO* certs = ::BIO_new_mem_buf(cert_pem.data(), static_cast<int>(cert_pem.size()));
  X509* leaf = ::PEM_read_bio_X509(certs, nullptr, nullptr, nullptr);
  if (leaf == nullptr) {
    ::BIO_free(certs);
    throw_config_error("load_cert_chain_pem: certificate");
  }
  const int used = ::SSL_CTX_use_certificate(impl_->ctx, leaf);
  ::X509_free(leaf);
  if (used != 1) {
    ::BIO_free(certs);
    throw_config_error("load_cert_chain_pem: certificate");
  }
  ::SSL_CTX_clear_chain_certs(impl_->ctx);
  while (X509* extra = ::PEM_read_bio_X509(certs, nullptr, nullptr, nullptr)) {
    ::SSL_CTX_add0_chain_cert(impl_->ctx, extra);  // takes ownership
  }
  ::ERR_clear_error();  // the end of the PEM text reads as an error
  ::BIO_free(certs);
  BIO* key_bio = ::BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  EVP_PKEY* key = ::PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);
  ::BIO_free(key_bio);
  if (key == nullptr) throw_config_error("load_cert_chain_pem: private key");
  const int key_used = ::SSL_CTX_use_PrivateKey(impl_->ctx, key);
  ::EVP_PKEY_free(key);
  if (key_used != 1 || ::SSL_CTX_check_private_key(impl_->ctx) != 1) {
    throw_config_error("load_cert_chain_pem: the key does not match the certificate");
  }
  return *this;
}

TlsContext& TlsContext::load_verify_locations(const std::string& ca_file) {
  // A fresh store: the CAs given replace the system's.
  ::SSL_CTX_set_cert_store(impl_->ctx, ::X509_STORE_new());
  if (::SSL_CTX_load_verify_locations(impl_->ctx, ca_file.c_str(), nullptr) != 1) {
    throw_config_error("load_verify_locations " + ca_file);
  }
  return *this;
}

TlsContext& TlsContext::load_verify_pem(std::string_view ca_pem) {
  X509_STORE* store = ::X509_STORE_new();
  ::SSL_CTX_set_cert_store(impl_->ctx, store);
  BIO* bio = ::BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size()));
  int added = 0;
  while (X509* cert = ::PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    added += ::X509_STORE_add_cert(store, cert) == 1;
    ::X509_free(cert);
  }
  ::BIO_free(bio);
  ::ERR_clear_error();
  if (added == 0) throw TlsError("load_verify_pem: no certificate in the PEM text", "no certificate");
  return *this;
}

TlsContext& TlsContext::set_verify(bool verify_peer) {
  impl_->verify = verify_peer;
  impl_->verify_optional = false;
  impl_->apply_verify();
  return *this;
}

TlsContext& TlsContext::set_verify_optional() {
  impl_->verify = true;
  impl_->verify_optional = true;
  impl_->apply_verify();
  return *this;
}

TlsContext& TlsContext::set_check_hostname(bool check) {
  impl_->check_hostname = check;
  return *this;
}

TlsContext& TlsContext::set_alpn_protocols(const std::vector<std::string>& protocols) {
  impl_->alpn = alpn_wire(protocols);
  if (!impl_->server &&
      ::SSL_CTX_set_alpn_protos(impl_->ctx, reinterpret_cast<const unsigned char*>(impl_->alpn.data()),
                                static_cast<unsigned int>(impl_->alpn.size())) != 0) {
    throw_config_error("set_alpn_protocols");
  }
  return *this;
}

TlsContext& TlsContext::set_minimum_version(TlsVersion version) {
  if (::SSL_CTX_set_min_proto_version(impl_->ctx, openssl_version(version)) != 1) {
    throw_config_error("set_minimum_version");
  }
  return *this;
}

TlsContext& TlsContext::set_profile(TlsProfile profile) {
  impl_->apply_profile(profile);
  return *this;
}

TlsContext& TlsContext::set_ciphers(const std::string& tls12_ciphers) {
  if (::SSL_CTX_set_cipher_list(impl_->ctx, tls12_ciphers.c_str()) != 1) {
    throw_config_error("set_ciphers '" + tls12_ciphers + "'");
  }
  return *this;
}

TlsContext& TlsContext::set_ciphersuites(const std::string& tls13_suites) {
  if (::SSL_CTX_set_ciphersuites(impl_->ctx, tls13_suites.c_str()) != 1) {
    throw_config_error("set_ciphersuites '" + tls13_suites + "'");
  }
  return *this;
}

bool TlsContext::is_server() const noexcept { return impl_->server; }
bool TlsContext::verify() const noexcept { return impl_->verify; }
bool TlsContext::check_hostname() const noexcept { return impl_->check_hostname; }

// ---------------------------------------------------------------------------------------------
// TlsSocket

struct TlsSocket::Impl {
  Socket socket;
  std::shared_ptr<TlsContext::Impl> context;  // keeps the SSL_CTX alive
  SSL* ssl = nullptr;
  BioState bio;
  bool handshaken = false;
  std::string peer;  // for messages

  ~Impl() {
    if (ssl != nullptr) ::SSL_free(ssl);
  }

  // Waits as OpenSSL asked. `deadline`/`have_deadline` carry the call's deadline.
  void wait_for(int ssl_error, const char* op, Deadline& deadline, bool& have_deadline) {
    const std::optional<double> timeout = socket.gettimeout();
    if (timeout && *timeout == 0) {
      throw SocketError(EAGAIN, fmt::format("TLS {} with {}", op, peer));
    }
    if (!have_deadline) {
      deadline = socket.call_deadline();
      have_deadline = true;
    }
    const bool ready = ssl_error == SSL_ERROR_WANT_READ ? socket.wait_readable(deadline)
                                                        : socket.wait_writable(deadline);
    if (!ready) throw SocketTimeout(fmt::format("TLS {} with {}", op, peer));
  }

  [[noreturn]] void fail(int ssl_error, const char* op) {
    if (ssl_error == SSL_ERROR_SYSCALL) {
      const int e = errno;
      const std::string reason = take_openssl_reason();
      if (e != 0) throw SocketError(e, fmt::format("TLS {} with {}", op, peer));
      throw TlsError(fmt::format("TLS {} with {}: EOF in violation of protocol", op, peer),
                     "unexpected eof");
    }
    const std::string reason = take_openssl_reason();
    const long verify_result = ::SSL_get_verify_result(ssl);
    if (verify_result != X509_V_OK && !handshaken) {
      const std::string verify_message = ::X509_verify_cert_error_string(verify_result);
      throw TlsError(fmt::format("TLS {} with {}: {} ({})", op, peer, reason, verify_message),
                     reason, verify_result, verify_message);
    }
    throw TlsError(fmt::format("TLS {} with {}: {}", op, peer, reason), reason);
  }

  // Runs `call` until it succeeds, waiting on WANT_READ/WANT_WRITE. Returns its result, or 0
  // for a clean end of stream.
  template <class Call>
  int run(const char* op, Deadline& deadline, bool& have_deadline, Call&& call) {
    for (;;) {
      if (!socket.is_open()) {
        throw SocketError(std::error_code(EBADF, std::generic_category()),
                          fmt::format("TLS {}: socket is closed", op));
      }
      ::ERR_clear_error();
      errno = 0;
      const int r = call();
      if (r > 0) return r;
      const int err = ::SSL_get_error(ssl, r);
      switch (err) {
        case SSL_ERROR_WANT_READ:
        case SSL_ERROR_WANT_WRITE:
          wait_for(err, op, deadline, have_deadline);
          break;
        case SSL_ERROR_ZERO_RETURN:
          return 0;
        default:
          fail(err, op);
      }
    }
  }

  void handshake() {
    if (handshaken) return;
    Deadline deadline;
    bool have_deadline = false;
    run("handshake", deadline, have_deadline, [&] { return ::SSL_do_handshake(ssl); });
    handshaken = true;
  }
};

TlsSocket TlsContext::wrap_client(Socket socket, std::string server_hostname, bool handshake_now) {
  if (impl_->server) throw std::logic_error("wrap_client on a server TlsContext");
  if (impl_->check_hostname && impl_->verify && server_hostname.empty()) {
    throw std::invalid_argument("check_hostname requires a server_hostname");
  }
  auto impl = std::make_unique<TlsSocket::Impl>();
  impl->peer = socket.describe_peer();
  impl->context = impl_;
  impl->ssl = ::SSL_new(impl_->ctx);
  if (impl->ssl == nullptr) throw_config_error("SSL_new");
  const bool ip = is_ip_literal(server_hostname);
  if (!server_hostname.empty() && !ip) {
    ::SSL_set_tlsext_host_name(impl->ssl, server_hostname.c_str());
  }
  if (impl_->verify && impl_->check_hostname) {
    X509_VERIFY_PARAM* param = ::SSL_get0_param(impl->ssl);
    ::X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    const int ok = ip ? ::X509_VERIFY_PARAM_set1_ip_asc(param, server_hostname.c_str())
                      : ::X509_VERIFY_PARAM_set1_host(param, server_hostname.c_str(), 0);
    if (ok != 1) throw_config_error("server_hostname " + server_hostname);
  }
  impl->bio.fd = socket.fileno();
  BIO* bio = ::BIO_new(socket_bio_method());
  ::BIO_set_data(bio, &impl->bio);
  ::SSL_set_bio(impl->ssl, bio, bio);
  ::SSL_set_connect_state(impl->ssl);
  impl->socket = std::move(socket);
  TlsSocket out(std::move(impl));
  if (handshake_now) out.do_handshake();
  return out;
}

TlsSocket TlsContext::wrap_server(Socket socket, bool handshake_now) {
  if (!impl_->server) throw std::logic_error("wrap_server on a client TlsContext");
  auto impl = std::make_unique<TlsSocket::Impl>();
  impl->peer = socket.describe_peer();
  impl->context = impl_;
  impl->ssl = ::SSL_new(impl_->ctx);
  if (impl->ssl == nullptr) throw_config_error("SSL_new");
  impl->bio.fd = socket.fileno();
  BIO* bio = ::BIO_new(socket_bio_method());
  ::BIO_set_data(bio, &impl->bio);
  ::SSL_set_bio(impl->ssl, bio, bio);
  ::SSL_set_accept_state(impl->ssl);
  impl->socket = std::move(socket);
  TlsSocket out(std::move(impl));
  if (handshake_now) out.do_handshake();
  return out;
}

TlsSocket::TlsSocket() noexcept = default;
TlsSocket::TlsSocket(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}
TlsSocket::TlsSocket(TlsSocket&&) noexcept = default;
TlsSocket& TlsSocket::operator=(TlsSocket&&) noexcept = default;
TlsSocket::~TlsSocket() = default;

namespace {
TlsSocket::Impl& open_tls(const std::unique_ptr<TlsSocket::Impl>& impl, const char* op) {
  if (!impl) {
    throw SocketError(std::error_code(EBADF, std::generic_category()),
                      fmt::format("TLS {}: no TLS socket", op));
  }
  return *impl;
}
}  // namespace

void TlsSocket::do_handshake() { open_tls(impl_, "handshake").handshake(); }
bool TlsSocket::handshake_done() const noexcept { return impl_ && impl_->handshaken; }

std::size_t TlsSocket::recv_into(void* buffer, std::size_t size) {
  Impl& s = open_tls(impl_, "recv");
  s.handshake();
  if (size == 0) return 0;
  Deadline deadline;
  bool have_deadline = false;
  const int cap = static_cast<int>(std::min<std::size_t>(size, 1 << 30));
  return static_cast<std::size_t>(
      s.run("recv", deadline, have_deadline, [&] { return ::SSL_read(s.ssl, buffer, cap); }));
}

std::string TlsSocket::recv(std::size_t max_bytes) {
  std::string out(max_bytes, '\0');
  out.resize(recv_into(out.data(), max_bytes));
  return out;
}

std::size_t TlsSocket::send(std::string_view data) {
  Impl& s = open_tls(impl_, "send");
  s.handshake();
  if (data.empty()) return 0;
  Deadline deadline;
  bool have_deadline = false;
  const int cap = static_cast<int>(std::min<std::size_t>(data.size(), 1 << 30));
  const int n = s.run("send", deadline, have_deadline,
                      [&] { return ::SSL_write(s.ssl, data.data(), cap); });
  if (n == 0) throw SocketError(EPIPE, fmt::format("TLS send to {}", s.peer));
  return static_cast<std::size_t>(n);
}

void TlsSocket::sendall(std::string_view data) {
  Impl& s = open_tls(impl_, "sendall");
  s.handshake();
  Deadline deadline;  // one deadline for the whole call
  bool have_deadline = false;
  while (!data.empty()) {
    const int cap = static_cast<int>(std::min<std::size_t>(data.size(), 1 << 30));
    const int n = s.run("sendall", deadline, have_deadline,
                        [&] { return ::SSL_write(s.ssl, data.data(), cap); });
    if (n == 0) throw SocketError(EPIPE, fmt::format("TLS sendall to {}", s.peer));
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::size_t TlsSocket::pending() const noexcept {
  return impl_ ? static_cast<std::size_t>(::SSL_pending(impl_->ssl)) : 0;
}

Socket TlsSocket::unwrap() {
  Impl& s = open_tls(impl_, "unwrap");
  Deadline deadline;
  bool have_deadline = false;
  for (;;) {
    ::ERR_clear_error();
    const int r = ::SSL_shutdown(s.ssl);
    if (r == 1) break;  // both close_notify sent and received
    if (r == 0) continue;  // ours is sent; call again to read theirs
    const int err = ::SSL_get_error(s.ssl, r);
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      s.wait_for(err, "unwrap", deadline, have_deadline);
      continue;
    }
    if (err == SSL_ERROR_ZERO_RETURN || err == SSL_ERROR_SYSCALL) break;  // the peer just left
    s.fail(err, "unwrap");
  }
  Socket plain = std::move(s.socket);
  impl_.reset();
  return plain;
}

void TlsSocket::shutdown(int how) { open_tls(impl_, "shutdown").socket.shutdown(how); }

void TlsSocket::close() noexcept {
  if (impl_) impl_->socket.close();
}

std::string TlsSocket::version() const {
  return impl_ ? ::SSL_get_version(impl_->ssl) : "";
}

std::string TlsSocket::cipher() const {
  if (!impl_) return "";
  const char* name = ::SSL_get_cipher_name(impl_->ssl);
  return name ? name : "";
}

std::string TlsSocket::selected_alpn_protocol() const {
  if (!impl_) return "";
  const unsigned char* data = nullptr;
  unsigned int len = 0;
  ::SSL_get0_alpn_selected(impl_->ssl, &data, &len);
  return data ? std::string(reinterpret_cast<const char*>(data), len) : "";
}

std::string TlsSocket::server_name() const {
  if (!impl_) return "";
  const char* name = ::SSL_get_servername(impl_->ssl, TLSEXT_NAMETYPE_host_name);
  return name ? name : "";
}

std::string TlsSocket::peer_certificate_subject() const {
  if (!impl_) return "";
  X509* cert = ::SSL_get1_peer_certificate(impl_->ssl);
  if (cert == nullptr) return "";
  char buf[512];
  ::X509_NAME_oneline(::X509_get_subject_name(cert), buf, sizeof buf);
  ::X509_free(cert);
  return buf;
}

namespace {
std::string asn1_time_text(const ASN1_TIME* t) {
  BIO* bio = ::BIO_new(::BIO_s_mem());
  if (bio == nullptr) return "";
  ::ASN1_TIME_print(bio, t);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  std::string out(data, n > 0 ? static_cast<std::size_t>(n) : 0);
  ::BIO_free(bio);
  return out;
}
}  // namespace

std::optional<PeerCertificate> TlsSocket::peer_certificate() const {
  if (!impl_) return std::nullopt;
  X509* cert = ::SSL_get1_peer_certificate(impl_->ssl);
  if (cert == nullptr) return std::nullopt;
  PeerCertificate out;
  char buf[1024];
  ::X509_NAME_oneline(::X509_get_subject_name(cert), buf, sizeof buf);
  out.subject = buf;
  ::X509_NAME_oneline(::X509_get_issuer_name(cert), buf, sizeof buf);
  out.issuer = buf;
  out.not_before = asn1_time_text(::X509_get0_notBefore(cert));
  out.not_after = asn1_time_text(::X509_get0_notAfter(cert));
  if (BIGNUM* bn = ::ASN1_INTEGER_to_BN(::X509_get0_serialNumber(cert), nullptr)) {
    if (char* hex = ::BN_bn2hex(bn)) {
      out.serial_number = hex;
      OPENSSL_free(hex);
    }
    ::BN_free(bn);
  }
  auto* names = static_cast<GENERAL_NAMES*>(
      ::X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names != nullptr) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
      if (name->type == GEN_DNS) {
        const auto* s = name->d.dNSName;
        out.subject_alt_names.emplace_back(
            "DNS", std::string(reinterpret_cast<const char*>(::ASN1_STRING_get0_data(s)),
                               static_cast<std::size_t>(::ASN1_STRING_length(s))));
      } else if (name->type == GEN_IPADD) {
        const auto* ip = name->d.iPAddress;
        const int len = ::ASN1_STRING_length(ip);
        char text[INET6_ADDRSTRLEN] = {};
        ::inet_ntop(len == 4 ? AF_INET : AF_INET6, ::ASN1_STRING_get0_data(ip), text, sizeof text);
        out.subject_alt_names.emplace_back("IP Address", text);
      }
    }
    ::GENERAL_NAMES_free(names);
  }
  const int der_len = ::i2d_X509(cert, nullptr);
  if (der_len > 0) {
    out.der.resize(static_cast<std::size_t>(der_len));
    auto* p = reinterpret_cast<unsigned char*>(out.der.data());
    ::i2d_X509(cert, &p);
  }
  ::X509_free(cert);
  return out;
}

Socket& TlsSocket::socket() noexcept { return impl_->socket; }
int TlsSocket::fileno() const noexcept { return impl_ ? impl_->socket.fileno() : -1; }
void TlsSocket::settimeout(std::optional<double> seconds) {
  open_tls(impl_, "settimeout").socket.settimeout(seconds);
}
std::optional<double> TlsSocket::gettimeout() const noexcept {
  return impl_ ? impl_->socket.gettimeout() : std::nullopt;
}

}  // namespace grove::net
