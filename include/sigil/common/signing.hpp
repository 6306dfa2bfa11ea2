// Vocabulary shared by the signature formats (cms/CAdES, pades, xades) and the services that lift a
// signature to a higher level: the ETSI baseline level, the signer's certificates, and the two
// network-backed sources (RFC 3161 time-stamps, revocation data). The formats see these interfaces
// only; tsp:: and revocation:: implement them, tests may implement them too.
#pragma once

#include <string_view>
#include <vector>

#include "sigil/common/crypto_types.hpp"

namespace sigil {

// ETSI baseline levels (EN 319 122-1 / 319 132-1 / 319 142-1).
enum class SignatureLevel { b_b, b_t, b_lt, b_lta };
std::string_view level_name(SignatureLevel level);  // "B-B", "B-T", "B-LT", "B-LTA"
// Accepts "B-B", "b-lt", "BASELINE_B", "PAdES_BASELINE_LTA", "XAdES-BASELINE-T", "LT", ...
// Throws Error(invalid_argument, public) for anything else.
SignatureLevel parse_level(std::string_view text);

// The signer's certificate and its issuers (DER), nearest issuer first; the root may be included.
struct SignerCerts {
  Bytes leaf;
  std::vector<Bytes> issuers;
  // leaf followed by issuers.
  std::vector<Bytes> chain() const {
    std::vector<Bytes> c{leaf};
    c.insert(c.end(), issuers.begin(), issuers.end());
    return c;
  }
};

// RFC 3161 time-stamp source.
class Timestamper {
 public:
  virtual ~Timestamper() = default;
  // A DER TimeStampToken (CMS ContentInfo with SignedData over TSTInfo) whose messageImprint is
  // `digest` under `alg`, already verified by the implementation.
  // Throws Error(tsa_unavailable) when no TSA answers, Error(tsa_response_invalid) on a bad reply.
  virtual Bytes timestamp(HashAlg alg, const Bytes& digest) = 0;
};

// Revocation material for B-LT.
struct RevocationData {
  std::vector<Bytes> certificates;    // DER certificates needed beyond the chain given (OCSP responders, CRL issuers, TSA chain)
  std::vector<Bytes> ocsp_responses;  // DER OCSPResponse (complete, responseStatus successful)
  std::vector<Bytes> crls;            // DER CertificateList
};

class RevocationSource {
 public:
  virtual ~RevocationSource() = default;
  // Proof that no non-root certificate of `chain` (DER, leaf first, each followed by its issuer,
  // ending at the root when known) is revoked: an OCSP response or a CRL for each.
  // Throws Error(revocation_unavailable) when a status cannot be obtained, Error(cert_revoked) when
  // one is revoked.
  virtual RevocationData collect(const std::vector<Bytes>& chain) = 0;
};

}  // namespace sigil
