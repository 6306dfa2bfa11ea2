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
#include <vector>

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

// ---------------------------------------------------------------------------------------------
// Additions (CAdES engine). Everything above is the stable contract; what follows only adds.

inline constexpr std::string_view kIdCtTstInfo = "1.2.840.113549.1.9.16.1.4";

// Both phases with a key at hand, attached: the content is streamed twice (digest, then output),
// so `content` must be seekable.
void sign_attached(const SignParams& params, std::istream& content, KeySigner& key, std::ostream& out);

// The same CMS with SignedData.certificates replaced by `certificates` (empty: the field is
// omitted, as RFC 3161 wants for a token when certReq is false). SignerInfos stay byte-identical.
Bytes replace_certificates(const Bytes& cms, const std::vector<Bytes>& certificates);

// Parallel signature: a further SignerInfo for the content of `existing_cms` (attached or detached).
// `content_digest` is the content hashed with params.digest_alg. The state embeds a checksum of
// `existing_cms`; finish_parallel() refuses (invalid_signing_state) a different CMS. The existing
// SignerInfos stay byte-identical; certificates and digestAlgorithms are merged.
Prepared prepare_parallel(const Bytes& existing_cms, const SignParams& params, const Bytes& content_digest);
Bytes finish_parallel(const Bytes& existing_cms, const Bytes& state, const Bytes& signature_value);

// Lifting a CAdES to a higher baseline level (EN 319 122-1).
struct ExtendOptions {
  SignatureLevel target = SignatureLevel::b_lt;
  HashAlg timestamp_alg = HashAlg::sha256;  // signature and archive time-stamps, ats-hash-index-v3
  // B-LTA of a detached signature: the signed content hashed with `timestamp_alg` (attached
  // signatures hash their eContent). Required for B-LTA when detached, ignored otherwise.
  std::optional<Bytes> content_digest;
};

// B-T: signature-time-stamp for every SignerInfo without one. B-LT: also the complete chains of
// every signer and every time-stamping authority (signature and archive time-stamps) into
// SignedData.certificates and their revocation data into SignedData.crls (CRLs as CertificateList,
// OCSP responses as OtherRevocationInfoFormat id-ri-ocsp-response, RFC 5940). B-LTA: also an
// archive-time-stamp-v3 per SignerInfo with ats-hash-index-v3 (EN 319 122-1 §5.5.3). Earlier
// attributes are kept; asking for a level already reached adds what the level needs again (fresh
// revocation data, a further archive time-stamp for B-LTA: that is how an archive is renewed).
// Input must be DER (BER indefinite lengths: Error(invalid_document)).
Bytes extend(const Bytes& cms, Timestamper& tsa, RevocationSource& revocation, const ExtendOptions& options);

// ---------------------------------------------------------------------------------------------
// Inspection.
struct ParsedTimestamp {
  Bytes token;  // DER ContentInfo as embedded (archive tokens include their ats-hash-index-v3)
  HashAlg imprint_alg = HashAlg::sha256;
  Bytes imprint;
  std::chrono::system_clock::time_point gen_time;
  std::vector<Bytes> certificates;  // from the token's SignedData.certificates
  Bytes tsa_certificate;            // the token signer's certificate when embedded, else empty
};

struct ParsedSigner {
  Bytes signer_info;      // raw DER of the SignerInfo
  Bytes certificate;      // the signer's certificate (found by issuerAndSerialNumber), or empty
  HashAlg digest_alg = HashAlg::sha256;
  SignatureScheme scheme = SignatureScheme::ecdsa;
  std::string signature_algorithm_oid;
  Bytes message_digest;   // message-digest signed attribute
  Bytes signature;        // SignerInfo.signature octets
  std::optional<std::chrono::system_clock::time_point> signing_time;
  bool signing_certificate_v2 = false;
  std::optional<std::string> commitment_type_oid;
  std::optional<std::string> policy_oid;
  std::vector<ParsedTimestamp> signature_timestamps;
  std::vector<ParsedTimestamp> archive_timestamps;  // archive-time-stamp-v3
  std::vector<std::string> unsigned_attribute_oids;  // in order of appearance
};

struct ParsedCms {
  std::string content_type_oid;
  bool attached = false;  // eContent present
  Bytes content;          // eContent octets when attached
  unsigned version = 0;
  std::vector<std::string> digest_algorithm_oids;
  std::vector<Bytes> certificates;    // SignedData.certificates (plain certificates only)
  std::vector<Bytes> crls;            // CertificateList entries of SignedData.crls
  std::vector<Bytes> ocsp_responses;  // id-ri-ocsp-response entries of SignedData.crls
  std::vector<ParsedSigner> signers;
  // Highest baseline level every signer structurally reaches (nothing is verified here):
  // B-T signature time-stamp, B-LT revocation data embedded, B-LTA archive-time-stamp-v3.
  SignatureLevel level = SignatureLevel::b_b;
};

// Parses a DER ContentInfo(SignedData). Malformed input: Error(invalid_document), never a crash.
// Signatures are not verified (see verify()).
ParsedCms parse(const Bytes& cms);

// Cryptographic self-check of every SignerInfo: message-digest == `content_digest` (hashed with
// each signer's digest algorithm by the caller: pass the content instead when attached, nullopt) and
// the signature over the signed attributes with the signer certificate's key. Throws
// Error(invalid_signature_value) on the first mismatch.
void verify(const Bytes& cms, const std::optional<Bytes>& detached_content = std::nullopt);

}  // namespace sigil::cms
