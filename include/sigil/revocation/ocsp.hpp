// OCSP client (RFC 6960): one request per certificate, with a nonce, POSTed to the responder of
// the certificate's AIA (or a configured override); the answer is accepted only when signed by the
// issuer or by a responder certificate the issuer gave id-kp-OCSPSigning, when its CertID matches
// the request, and when it is fresh at the injected clock.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "sigil/common/clock.hpp"
#include "sigil/common/secure.hpp"

namespace sigil::revocation {

enum class CertStatus { good, revoked, unknown };
std::string_view status_name(CertStatus status);  // "good", "revoked", "unknown"

struct OcspOptions {
  std::string url_override;                  // asked instead of the certificate's AIA URL
  std::chrono::milliseconds timeout{5'000};  // per request
  std::chrono::seconds max_clock_skew{300};  // tolerance on thisUpdate / nextUpdate
  std::chrono::seconds max_age{86'400};      // answers without nextUpdate: thisUpdate at most this old
  bool require_nonce = false;                // true: reject answers that do not echo the nonce
  std::size_t max_reply_bytes = 1u << 20;
  std::optional<std::string> proxy;  // unset: direct connections
  std::string tls_ca_file;           // https responders; empty: system store
};

struct OcspResult {
  CertStatus status = CertStatus::unknown;
  std::string url;              // the responder asked
  Bytes response;               // DER OCSPResponse, exactly as received
  Bytes responder_certificate;  // DER of a delegated responder; empty when the issuer signed
  Clock::time_point this_update;
  std::optional<Clock::time_point> next_update;
  std::optional<Clock::time_point> revocation_time;  // when revoked
};

class OcspClient {
 public:
  // Throws Error(config_invalid) on a bad override URL or timeout. `clock` must outlive the client.
  OcspClient(OcspOptions options, const Clock& clock);

  // Status of `cert_der` (DER) issued by `issuer_der`. Thread-safe. Throws
  // Error(revocation_unavailable) when there is no responder URL, the responder cannot be reached,
  // or its answer does not verify or is not fresh (the detail says which). A verified `revoked` or
  // `unknown` answer is returned, not thrown.
  OcspResult check(const Bytes& cert_der, const Bytes& issuer_der) const;

  // The responder check() would ask for `cert_der`: the override, else the first http(s) AIA OCSP
  // URL; nullopt when there is none.
  std::optional<std::string> responder_url(const Bytes& cert_der) const;

 private:
  OcspOptions opt_;
  const Clock& clock_;
};

}  // namespace sigil::revocation
