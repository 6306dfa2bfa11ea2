// sigil::RevocationSource over OCSP (preferred) and CRLs (fallback), plus the caller's policy for
// when no status can be had.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "sigil/common/signing.hpp"
#include "sigil/revocation/crl.hpp"
#include "sigil/revocation/ocsp.hpp"

namespace sigil::revocation {

// What a signing request does when revocation data cannot be obtained: `fail` the request
// (revocation_unavailable), or `degrade` - sign at B-T instead of B-LT/B-LTA and report the level
// actually reached. A revoked certificate always fails, whatever the policy.
enum class OnUnavailable { fail, degrade };
std::string_view on_unavailable_name(OnUnavailable p);      // "fail", "degrade"
OnUnavailable parse_on_unavailable(std::string_view text);  // throws Error(config_invalid)

struct CollectorOptions {
  bool use_ocsp = true;
  bool use_crl = true;
};

class Collector final : public RevocationSource {
 public:
  // `ocsp` and `crls` must outlive the collector; both are thread-safe, and so is collect().
  Collector(const OcspClient& ocsp, CrlCache& crls, CollectorOptions options = {});

  // For each certificate of `chain` (leaf first, each followed by its issuer) up to the first
  // self-signed one: OCSP first, CRL when OCSP fails or answers `unknown`. Throws
  // Error(cert_revoked) as soon as one source says revoked, Error(revocation_unavailable) when a
  // certificate gets no status (the detail names it and each source's failure),
  // Error(invalid_argument) on an empty or out-of-order chain. `certificates` holds delegated OCSP
  // responder certificates not already in `chain`; responses and CRLs are de-duplicated.
  RevocationData collect(const std::vector<Bytes>& chain) override;

 private:
  const OcspClient& ocsp_;
  CrlCache& crls_;
  CollectorOptions opt_;
};

// The policy applied in one place: collect(); on revocation_unavailable rethrow (fail) or return
// nullopt (degrade: the caller signs at B-T and says so). cert_revoked always propagates.
std::optional<RevocationData> collect_with_policy(RevocationSource& source, const std::vector<Bytes>& chain,
                                                  OnUnavailable policy);

}  // namespace sigil::revocation
