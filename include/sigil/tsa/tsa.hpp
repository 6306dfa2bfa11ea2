// A built-in RFC 3161 Time-Stamping Authority: answers DER TimeStampReq with DER TimeStampResp
// (granted with a token, or a rejection with PKIFailureInfo), and time-stamps locally as a
// sigil::Timestamper so the daemon needs no HTTP round trip to itself.
//
// Tokens are CMS SignedData over TSTInfo (eContentType id-ct-TSTInfo), built by the CAdES engine
// (sigil/cms/cades.hpp) with signing-certificate-v2 and without signing-time. The key signs through
// the KeySigner seam: ECDSA keys with ecdsa-with-SHAx, RSA keys with PKCS#1 v1.5.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "sigil/common/clock.hpp"
#include "sigil/common/signing.hpp"

namespace sigil::tsa {

struct TsaOptions {
  std::string policy_oid;  // TSTInfo.policy; a request naming another policy is refused
  std::vector<HashAlg> accepted_hashes{HashAlg::sha256, HashAlg::sha384, HashAlg::sha512};
  std::chrono::milliseconds accuracy{1000};  // TSTInfo.accuracy; 0 = omitted
  const Clock* clock = nullptr;              // genTime source; nullptr = the system clock
  // Serial numbers (big-endian magnitude, at most 20 octets); empty = random 128-bit.
  std::function<Bytes()> serial_source;
  HashAlg signing_hash = HashAlg::sha256;  // digest of the token's signed attributes
};

// PKIFailureInfo bits (RFC 3161 §2.4.2).
enum class FailureInfo : unsigned {
  bad_alg = 0,
  bad_request = 2,
  bad_data_format = 5,
  time_not_available = 14,
  unaccepted_policy = 15,
  unaccepted_extension = 16,
  add_info_not_available = 17,
  system_failure = 25,
};

class TimeStampAuthority final : public Timestamper {
 public:
  // `tsa_certs.leaf` must carry the key's public key and (RFC 3161) a critical EKU timeStamping.
  // Throws Error(invalid_argument|cert_invalid|cert_key_mismatch).
  TimeStampAuthority(KeySigner& key, SignerCerts tsa_certs, TsaOptions options);

  // DER TimeStampReq -> DER TimeStampResp. Never throws for a bad request (rejection status);
  // a failing key answers status rejection with systemFailure.
  Bytes respond(const Bytes& der_request);

  // Timestamper: a token over `digest`; throws Error(invalid_argument) for a hash not accepted and
  // Error(tsa_unavailable) when signing fails.
  Bytes timestamp(HashAlg alg, const Bytes& digest) override;

 private:
  Bytes issue_token(const Bytes& message_imprint_der, const Bytes* nonce_der, bool cert_req);
  Bytes next_serial();

  KeySigner& key_;
  SignerCerts certs_;
  TsaOptions options_;
  SignatureScheme scheme_;
  Bytes tsa_name_;  // [0] GeneralName directoryName of the TSA certificate's subject
  std::mutex mu_;   // serial source
};

}  // namespace sigil::tsa
