// RFC 3161 time-stamp client: sigil::Timestamper over one or more TSAs, tried in order.
//
// Each request carries a fresh 64-bit nonce and certReq = true (and the requested policy, if any).
// A reply is accepted only after full verification (see docs/timestamps-and-revocation.md): status
// granted/grantedWithMods, messageImprint and nonce equal to the request, policy when requested,
// the token's CMS signature and ESS signing-certificate binding, a signer certificate with a
// critical timeStamping EKU, a genTime within `max_clock_skew` of the clock, and - when trust
// anchors are configured - the signer's chain to one of them at the clock's time.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sigil/common/clock.hpp"
#include "sigil/common/secure.hpp"
#include "sigil/common/signing.hpp"

namespace sigil::tsp {

struct TsaEndpoint {
  std::string url;        // http(s)://host[:port]/path; credentials never in the URL
  std::string username;   // HTTP Basic when not empty
  SecretString password;  // never logged, never in error details
  SecretString bearer;    // "Authorization: Bearer …" when not empty (and no username), e.g. a Sigil API key
};

struct ClientOptions {
  std::vector<TsaEndpoint> endpoints;         // tried in this order
  std::chrono::milliseconds timeout{10'000};  // per URL: connect + request + reply
  std::string policy_oid;                     // requested TSA policy (dotted OID); empty: none
  // PEM bundle of trust anchors for the TSA certificate. Every certificate in it is an anchor (a
  // root, an issuing CA, or the TSA certificate itself to pin it). Empty: the token is verified for
  // integrity against the certificate it carries, without a trust decision.
  std::string trust_anchors_pem;
  std::string intermediates_pem;             // extra untrusted CA certificates (PEM), optional
  std::chrono::seconds max_clock_skew{300};  // |genTime - clock| allowed
  std::size_t max_reply_bytes = 1u << 20;    // a bigger TimeStampResp is rejected
  std::optional<std::string> proxy;          // HTTP proxy; unset: direct connections
  std::string tls_ca_file;                   // https TSAs: CA file; empty: system store
};

class Client final : public Timestamper {
 public:
  // Throws Error(config_invalid) on no endpoint, a URL with credentials or a non-http(s) scheme, a
  // malformed policy OID, or unreadable PEM. `clock` must outlive the client.
  Client(ClientOptions options, const Clock& clock);
  ~Client() override;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Thread-safe. Throws Error(invalid_argument) when the digest length does not match `alg`,
  // Error(tsa_response_invalid) when every TSA answered but no reply verified, Error(tsa_unavailable)
  // otherwise; the detail names each URL and why it was passed over.
  Bytes timestamp(HashAlg alg, const Bytes& digest) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sigil::tsp
