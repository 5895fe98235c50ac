// net/tls.h — TLS on a cooperative Socket (OpenSSL 3 underneath, never in this header).
//
// Model: a TlsContext is the shared configuration of many connections (one SSL_CTX): role,
// certificate and key, trusted CAs, verification, hostname check, ALPN, minimum version. It is a
// cheap handle; copies share the same context. A TlsSocket owns a Socket plus one TLS session.
// Every OpenSSL call runs non-blocking; when OpenSSL wants to read or write, the fiber waits on
// the Socket's own watchers (so the Socket's timeout applies to each call, sendall's to the whole
// call, and close() from another fiber wakes a blocked TLS read with EBADF, as for a Socket).
// The bytes go through a small BIO of ours that uses send(MSG_NOSIGNAL): no SIGPIPE.
//
// Defaults follow Python's ssl.create_default_context(): a client verifies the server's
// certificate against the system CAs (or those you load) and checks the hostname given to
// wrap_client (which is also sent as SNI); TLS 1.2 is the minimum. A server does not ask for a
// client certificate unless set_verify(true). An EOF without close_notify reads as end of stream
// (Python's suppress_ragged_eofs). Renegotiation is refused on both sides.
//
// A server starts with Mozilla's "intermediate" profile (TlsProfile::kIntermediate): TLS 1.2 and
// 1.3 only; TLS 1.2 with ECDHE key exchange and AEAD ciphers only (AES-GCM, ChaCha20-Poly1305 —
// no CBC, no RSA or DHE key exchange), the server's order preferred (ChaCha20 first for a client
// that prefers it: those lack AES hardware); groups X25519, P-256, P-384; no compression.
// set_profile(kOld) widens it for clients from before 2014 (TLS 1.0/1.1, CBC, RSA key
// exchange); set_ciphers/set_ciphersuites/set_minimum_version tune it by hand.
//
// Failures throw TlsError (a SocketError) with OpenSSL's reason and, for certificate problems,
// the verify result: "TLS handshake with 127.0.0.1:4433: certificate verify failed (hostname
// mismatch)". Timeouts throw SocketTimeout.
//
// Thread: a TlsContext may be shared by every thread once configured (configure it first);
// a TlsSocket follows its Socket's rules (one hub; one reader and one writer fiber at a time).
//
//   auto ctx = grove::net::TlsContext::client();
//   ctx.set_alpn_protocols({"http/1.1"});
//   grove::net::TlsSocket tls = ctx.wrap_client(
//       grove::net::create_connection("example.org", 443, 10.0), "example.org");
//   tls.sendall("GET / HTTP/1.1\r\nHost: example.org\r\n\r\n");
//   std::string reply = tls.recv(65536);
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/errors.h"
#include "net/socket.h"

namespace grove::net {

class TlsError : public SocketError {
 public:
  TlsError(std::string message, std::string reason, long verify_result = 0,
           std::string verify_message = {});
  // OpenSSL's reason ("certificate verify failed", "wrong version number", ...).
  const std::string& reason() const noexcept { return reason_; }
  // X509_V_* of the peer's certificate check (0 = ok) and its text ("hostname mismatch").
  long verify_result() const noexcept { return verify_result_; }
  const std::string& verify_message() const noexcept { return verify_message_; }

 private:
  std::string reason_;
  long verify_result_;
  std::string verify_message_;
};

enum class TlsVersion { kTls10, kTls11, kTls12, kTls13 };

// Mozilla's server-side TLS profiles (wiki.mozilla.org/Security/Server_Side_TLS, version 5).
enum class TlsProfile {
  kModern,        // TLS 1.3 only
  kIntermediate,  // TLS 1.3, and TLS 1.2 with ECDHE + AEAD ciphers: a server's default
  kOld,           // also TLS 1.0/1.1, CBC ciphers, RSA and DHE key exchange (old clients only)
};

class TlsSocket;

// What the peer's certificate says (Python's getpeercert()): names as one-line text
// ("/CN=example.org/O=..."), validity as OpenSSL prints it ("Jan  1 00:00:00 2030 GMT"), the
// serial number in hex, and the subjectAltName entries as (kind, value): ("DNS", "a.example"),
// ("IP Address", "127.0.0.1").
struct PeerCertificate {
  std::string subject;
  std::string issuer;
  std::string not_before;
  std::string not_after;
  std::string serial_number;
  std::vector<std::pair<std::string, std::string>> subject_alt_names;
  std::string der;  // the certificate itself, DER-encoded (getpeercert(binary_form=True))
};

class TlsContext {
 public:
  // Verifies the server (system CAs until load_verify_*), checks hostnames.
  static TlsContext client();
  // Needs load_cert_chain before use; does not ask clients for certificates.
  static TlsContext server();

  // PEM files: the certificate (chain) and its private key. Throws TlsError.
  TlsContext& load_cert_chain(const std::string& cert_file, const std::string& key_file);
  // The same from PEM text.
  TlsContext& load_cert_chain_pem(std::string_view cert_pem, std::string_view key_pem);
  // Trusted CAs from a PEM file / PEM text (replaces the system CAs for a client).
  TlsContext& load_verify_locations(const std::string& ca_file);
  TlsContext& load_verify_pem(std::string_view ca_pem);
  // Client: verify the server's certificate (default true). Server: require a client
  // certificate (default false).
  TlsContext& set_verify(bool verify_peer);
  // Verify the peer's certificate when it sends one; a server asks clients for one but also
  // accepts a client without (Python's CERT_OPTIONAL). A client treats it as set_verify(true).
  TlsContext& set_verify_optional();
  // Client: match the certificate to wrap_client's hostname (default true; needs verify).
  TlsContext& set_check_hostname(bool check);
  // Offered (client) or accepted in preference order (server) application protocols.
  TlsContext& set_alpn_protocols(const std::vector<std::string>& protocols);
  TlsContext& set_minimum_version(TlsVersion version);
  // Versions, ciphers, groups and cipher order of a profile (replaces earlier settings of those).
  TlsContext& set_profile(TlsProfile profile);
  // OpenSSL cipher list for TLS 1.2 and older ("ECDHE+AESGCM:ECDHE+CHACHA20"); TLS 1.3 suites
  // ("TLS_AES_128_GCM_SHA256:..."). Throw TlsError when nothing in the list is known.
  TlsContext& set_ciphers(const std::string& tls12_ciphers);
  TlsContext& set_ciphersuites(const std::string& tls13_suites);

  bool is_server() const noexcept;
  bool verify() const noexcept;
  bool check_hostname() const noexcept;

  // Takes the (connected) socket; handshakes now unless `handshake_now` is false (then on the
  // first recv/send, or do_handshake()). `server_hostname`: SNI and the name to check; an IP
  // literal is checked against the certificate's IP addresses and not sent as SNI.
  TlsSocket wrap_client(Socket socket, std::string server_hostname, bool handshake_now = true);
  TlsSocket wrap_server(Socket socket, bool handshake_now = true);

  struct Impl;

 private:
  explicit TlsContext(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

class TlsSocket {
 public:
  TlsSocket() noexcept;
  TlsSocket(TlsSocket&&) noexcept;
  TlsSocket& operator=(TlsSocket&&) noexcept;
  ~TlsSocket();  // closes the socket (no close_notify; call unwrap() for a clean goodbye)

  // Completes the handshake (idempotent). Throws TlsError, SocketTimeout, SocketError.
  void do_handshake();
  bool handshake_done() const noexcept;

  // As Socket's: 0 / "" means the peer closed (close_notify, or a plain EOF).
  std::size_t recv_into(void* buffer, std::size_t size);
  std::string recv(std::size_t max_bytes);
  std::size_t send(std::string_view data);
  void sendall(std::string_view data);
  // Bytes already decrypted and waiting (recv returns them without a system call).
  std::size_t pending() const noexcept;

  // Sends close_notify, waits for the peer's, and returns the plain socket (Python's unwrap).
  Socket unwrap();
  // shutdown(2) of the underlying socket (as Python's SSLSocket.shutdown).
  void shutdown(int how);
  void close() noexcept;

  // After the handshake: "TLSv1.3", the cipher name, the ALPN choice ("" if none), the SNI name
  // a client asked for (server side), the peer certificate's subject ("" without one).
  std::string version() const;
  std::string cipher() const;
  std::string selected_alpn_protocol() const;
  std::string server_name() const;
  std::string peer_certificate_subject() const;
  // The peer's certificate; nullopt when it sent none (a client without one, or no handshake).
  std::optional<PeerCertificate> peer_certificate() const;

  Socket& socket() noexcept;
  int fileno() const noexcept;
  void settimeout(std::optional<double> seconds);
  std::optional<double> gettimeout() const noexcept;

  struct Impl;

 private:
  friend class TlsContext;
  explicit TlsSocket(std::unique_ptr<Impl> impl) noexcept;
  std::unique_ptr<Impl> impl_;
};

}  // namespace grove::net
