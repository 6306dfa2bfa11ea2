// Internals shared by the CMS/CAdES translation units: OIDs, algorithm identifiers, and a raw-bytes
// model of SignedData/SignerInfo that keeps every element's original encoding (extension and the
// ats-hash-index-v3 need the exact bytes).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sigil/asn1/der.hpp"
#include "sigil/common/crypto_types.hpp"

namespace sigil::cms::detail {

namespace oids {
inline constexpr std::string_view kData = "1.2.840.113549.1.7.1";
inline constexpr std::string_view kSignedData = "1.2.840.113549.1.7.2";
inline constexpr std::string_view kTstInfo = "1.2.840.113549.1.9.16.1.4";
inline constexpr std::string_view kContentType = "1.2.840.113549.1.9.3";
inline constexpr std::string_view kMessageDigest = "1.2.840.113549.1.9.4";
inline constexpr std::string_view kSigningTime = "1.2.840.113549.1.9.5";
inline constexpr std::string_view kSigningCertificate = "1.2.840.113549.1.9.16.2.12";
inline constexpr std::string_view kSigningCertificateV2 = "1.2.840.113549.1.9.16.2.47";
inline constexpr std::string_view kPolicy = "1.2.840.113549.1.9.16.2.15";
inline constexpr std::string_view kCommitmentType = "1.2.840.113549.1.9.16.2.16";
inline constexpr std::string_view kSpqEtsUri = "1.2.840.113549.1.9.16.5.1";
inline constexpr std::string_view kSignatureTimeStamp = "1.2.840.113549.1.9.16.2.14";
inline constexpr std::string_view kRevocationValues = "1.2.840.113549.1.9.16.2.24";
inline constexpr std::string_view kArchiveTimeStampV3 = "0.4.0.1733.2.4";
inline constexpr std::string_view kAtsHashIndexV3 = "0.4.0.19122.1.5";
inline constexpr std::string_view kRiOcspResponse = "1.3.6.1.5.5.7.16.2";
inline constexpr std::string_view kRsaEncryption = "1.2.840.113549.1.1.1";
inline constexpr std::string_view kRsaPss = "1.2.840.113549.1.1.10";
inline constexpr std::string_view kMgf1 = "1.2.840.113549.1.1.8";
inline constexpr std::string_view kEcPublicKey = "1.2.840.10045.2.1";
}  // namespace oids

using asn1::ByteView;

// ---- algorithms
std::string_view digest_oid(HashAlg alg);
std::optional<HashAlg> hash_from_oid(std::string_view dotted);
Bytes digest_algorithm_id(HashAlg alg);  // AlgorithmIdentifier, parameters absent (RFC 5754)
Bytes signature_algorithm_id(SignatureScheme scheme, HashAlg alg);
struct SigAlg {
  SignatureScheme scheme;
  std::optional<HashAlg> hash;  // none for rsaEncryption (the digestAlgorithm decides)
};
SigAlg parse_signature_algorithm(ByteView alg_id_raw);
HashAlg parse_digest_algorithm(ByteView alg_id_raw);

// ---- certificates
struct CertFields {
  Bytes serial;   // INTEGER TLV
  Bytes issuer;   // Name TLV
  Bytes subject;  // Name TLV
  Bytes spki;     // SubjectPublicKeyInfo TLV
};
CertFields cert_fields(ByteView cert_der);  // throws Error(cert_invalid)
bool self_issued(const CertFields& c);

// ---- attributes
Bytes attribute(std::string_view type_oid, ByteView value);
struct Attribute {
  std::string type;
  ByteView raw;                  // the whole Attribute SEQUENCE
  ByteView type_raw;             // the OID TLV
  std::vector<ByteView> values;  // each AttributeValue TLV
};
std::vector<Attribute> read_attributes(ByteView set_contents);
const Attribute* find_attribute(const std::vector<Attribute>& attrs, std::string_view type);

// ---- SignerInfo / SignedData, raw
struct SignerInfoModel {
  Bytes version, sid, digest_algorithm, signed_attrs /* [0] IMPLICIT, as stored */, signature_algorithm, signature;
  std::vector<Bytes> unsigned_attrs;  // each Attribute TLV, order kept
};
SignerInfoModel read_signer_info(ByteView raw);
Bytes write_signer_info(const SignerInfoModel& si);
// The DER the signature covers: signedAttrs with the SET tag (RFC 5652 §5.4).
Bytes signed_attrs_as_set(const SignerInfoModel& si);

struct SignedDataModel {
  std::string content_type;           // eContentType
  std::optional<Bytes> econtent;      // eContent octets when attached
  std::vector<Bytes> digest_algorithms;  // AlgorithmIdentifier TLVs
  std::vector<Bytes> certificates;       // CertificateChoices TLVs
  std::vector<Bytes> crls;               // RevocationInfoChoice TLVs
  std::vector<Bytes> signer_infos;       // SignerInfo TLVs, order kept
};
// Reads a ContentInfo(SignedData). Throws Error(invalid_document).
SignedDataModel read_signed_data(ByteView content_info);

// ContentInfo split around the eContent octets, whose length must be known (`content_length`) or
// absent (detached, nullopt).
struct Framing {
  Bytes prefix, suffix;
};
Framing frame(const SignedDataModel& sd, std::optional<std::uint64_t> content_length);
Bytes assemble(const SignedDataModel& sd);  // with sd.econtent when present

void add_unique(std::vector<Bytes>& list, const Bytes& item);

// Verifies `signature` over `digest` with the certificate's key; ECDSA may be DER or raw r||s.
// Returns the CMS form (ECDSA as DER) or nullopt when it does not verify.
std::optional<Bytes> normalized_verified_signature(const Bytes& spki, SignatureScheme scheme, HashAlg alg,
                                                   const Bytes& digest, const Bytes& signature);

}  // namespace sigil::cms::detail
