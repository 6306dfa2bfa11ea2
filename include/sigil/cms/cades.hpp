// CMS SignedData and CAdES baseline signatures (ETSI EN 319 122-1), built in two phases so the key
// may sit anywhere: prepare() builds the signed attributes and returns their digest; whoever holds
// the key signs that digest (our PKCS#11 layer, a CSC client, ...); finish() assembles the CMS.
// PAdES builds on the same two phases (detached, without signing-time), the built-in TSA on sign().
//
// Contract shared by the PAdES and CAdES code: the declarations in this header are stable; add to
// them, do not change them.
#pragma once

#include <chrono>
#include <cstdint>
#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "sigil/common/signing.hpp"

namespace sigil::cms {

inline constexpr std::string_view kIdData = "1.2.840.113549.1.7.1";

struct SignaturePolicy {
  std::string oid;                     // SigPolicyId
  HashAlg hash_alg = HashAlg::sha256;  // sigPolicyHash algorithm
  Bytes hash;                          // sigPolicyHash value
  std::string uri;                     // optional SPuri qualifier
};

struct SignParams {
  SignerCerts signer;  // leaf (required) and issuers; all go into SignedData.certificates
  HashAlg digest_alg = HashAlg::sha256;
  SignatureScheme scheme = SignatureScheme::ecdsa;  // must fit the leaf's key
  // signing-time signed attribute. CAdES: set it. PAdES: leave empty (the time goes into /M).
  std::optional<std::chrono::system_clock::time_point> signing_time;
  std::optional<std::string> commitment_type_oid;  // e.g. 1.2.840.113549.1.9.16.6.1 (proof of origin)
  std::optional<SignaturePolicy> policy;
  std::string content_type_oid = std::string(kIdData);  // eContentType (id-ct-TSTInfo for the TSA)
};

struct Prepared {
  HashAlg digest_alg = HashAlg::sha256;
  Bytes data_to_be_signed;  // DER SET OF signed attributes: the bytes the signature covers
  Bytes digest;             // digest_alg(data_to_be_signed): what a hash-only signer signs
  Bytes state;              // opaque, self-contained; hand it back to finish()
};

// Phase 1: signed attributes over `content_digest` (the content hashed by the caller, streaming,
// with params.digest_alg). Throws Error(invalid_argument|cert_invalid) on bad parameters.
Prepared prepare(const SignParams& params, const Bytes& content_digest);

// Phase 2, detached: DER ContentInfo(SignedData) without eContent. `signature_value` is what the key
// returned: RSA raw, ECDSA DER or raw r||s. It is verified against the leaf's public key first:
// a mismatch throws Error(invalid_signature_value); a corrupt state Error(invalid_signing_state).
Bytes finish(const Bytes& state, const Bytes& signature_value);

// Phase 2, attached: writes the CMS with the content as eContent to `out`, streaming exactly
// `content_length` bytes from `content` (the bytes whose digest went to prepare()).
void finish_attached(const Bytes& state, const Bytes& signature_value, std::istream& content,
                     std::uint64_t content_length, std::ostream& out);

// Both phases with a key at hand (detached).
Bytes sign_detached(const SignParams& params, const Bytes& content_digest, KeySigner& key);

// Digest of a stream, read in fixed-size chunks (memory does not depend on the size).
Bytes digest_stream(HashAlg alg, std::istream& in);

// B-T: adds a signature-time-stamp unsigned attribute (over SignerInfo.signature) to every
// SignerInfo of `cms` that has none. Returns the new CMS DER; the signed parts stay byte-identical.
Bytes add_signature_timestamp(const Bytes& cms, Timestamper& tsa, HashAlg alg = HashAlg::sha256);

}  // namespace sigil::cms
