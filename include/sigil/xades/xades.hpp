// XAdES baseline signatures (ETSI EN 319 132-1, B-B … B-LTA) built in two phases, like cms::
// prepare() assembles the ds:Signature around the document and returns the canonical SignedInfo
// (what the key signs) and its digest; whoever holds the key signs it; finish() inserts the
// ds:SignatureValue. extend() lifts a signed document to B-T / B-LT / B-LTA.
//
// Every XML input goes through one hardened parser: no network, no DTD (a DOCTYPE is refused with
// Error(xml_forbidden)), no entity expansion, bounded size and depth, unique Ids (duplicates are
// refused: they are the raw material of signature-wrapping attacks). Malformed input:
// Error(invalid_document). No libxml2 type appears here.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sigil/common/signing.hpp"

namespace sigil::xades {

enum class Packaging {
  enveloped,   // the ds:Signature goes inside the signed XML document
  enveloping,  // the data goes inside a ds:Object of the signature (XML as XML, other bytes base64)
  detached,    // the data is an external file, referenced by a plain relative name
};
// Canonicalisation 1.0 without comments (SignedInfo, the transforms, the time-stamps).
enum class C14n { inclusive, exclusive };

// Hash of a signature policy document (SigPolicyHash); SHA-1 only because published policies
// (Facturae 3.1) give a SHA-1 value. Never used for anything we compute ourselves.
enum class PolicyHashAlg { sha1, sha256, sha384, sha512 };

struct SignaturePolicy {
  std::string identifier;       // SigPolicyId/Identifier (a URI or urn:oid:…)
  std::string description;      // optional SigPolicyId/Description
  PolicyHashAlg hash_alg = PolicyHashAlg::sha256;
  Bytes hash;                   // SigPolicyHash/DigestValue
  std::string uri;              // optional SPURI qualifier
};

// Resource bounds for XML input (documents to sign and signed documents to extend).
struct Limits {
  std::size_t max_bytes = 64u * 1024 * 1024;
  unsigned max_depth = 128;     // element nesting; libxml2's own hard limit is 256 without HUGE
};

// Preset a configuration can name (e.g. "facturae-3.1"): everything but the signer and the data.
struct XadesProfile {
  std::string name;
  Packaging packaging = Packaging::enveloped;
  SignatureLevel level = SignatureLevel::b_b;
  C14n c14n = C14n::exclusive;
  HashAlg digest_alg = HashAlg::sha256;
  std::optional<SignaturePolicy> policy;
  std::optional<std::string> commitment_type;  // e.g. "http://uri.etsi.org/01903/v1.2.2#ProofOfOrigin"
};

// The Facturae 3.1 signature policy (Spanish e-invoices): enveloped, EPES policy with its published
// SHA-1 policy hash, SHA-256 for everything the signature computes. See docs/xades.md.
XadesProfile facturae_profile(SignatureLevel level = SignatureLevel::b_b);
// Named presets: "xades-baseline" (enveloped, exclusive C14N, SHA-256), "xades-enveloping",
// "xades-detached", "facturae-3.1". Throws Error(invalid_argument, public) for an unknown name.
XadesProfile profile_by_name(std::string_view name);

struct XadesParams {
  SignerCerts signer;  // leaf required; issuers go into KeyInfo/X509Data
  Packaging packaging = Packaging::enveloped;
  HashAlg digest_alg = HashAlg::sha256;             // references, certificate digest, signature hash
  SignatureScheme scheme = SignatureScheme::ecdsa;  // rsa_pkcs1 or ecdsa; must fit the leaf's key
  C14n c14n = C14n::exclusive;
  // xades:SigningTime; empty = now.
  std::optional<std::chrono::system_clock::time_point> signing_time;
  std::optional<SignaturePolicy> policy;
  std::optional<std::string> commitment_type;  // CommitmentTypeId/Identifier (URI)
  std::vector<std::string> claimed_roles;      // SignerRoleV2/ClaimedRoles
  // DataObjectFormat/MimeType of the signed data; empty = "text/xml" for XML, else
  // "application/octet-stream".
  std::string mime_type;

  // enveloped: the element that receives the ds:Signature as its last child: the first element
  // (document order) with this local name and namespace URI; empty local name = the root.
  std::string parent_local_name;
  std::string parent_namespace;
  // enveloping: true = the document is XML and goes into ds:Object as XML; false = any bytes,
  // base64 in ds:Object (the reference then carries the base64 transform).
  bool enveloping_xml = true;
  // detached: the reference URI (a plain relative file name, percent-encoded here) and, for a
  // hash-only request, the digest of the data under digest_alg (then `document` may be empty).
  std::string detached_name;
  std::optional<Bytes> detached_digest;
  // detached over several documents (DSS multiple-documents): one ds:Reference per entry, in this
  // order, URI = the name (percent-encoded as above), DigestValue = `digest` (under digest_alg,
  // computed by the caller), each with its DataObjectFormat. Non-empty: replaces detached_name,
  // detached_digest and `document` (which must then be empty). Names must be distinct.
  struct DetachedReference {
    std::string name;
    Bytes digest;
  };
  std::vector<DetachedReference> detached_references;

  Limits limits;
  // Non-empty: the signature's Ids derive from this seed instead of random bytes, so the same
  // inputs give the same SignedInfo (the DSS getDataToSign/signDocument contract). The signing
  // service seeds it with a digest of the document, the certificate and the parameters.
  std::string id_seed;
  // Applies a profile (packaging, c14n, digest, policy, commitment type).
  void apply(const XadesProfile& profile);
};

struct Prepared {
  HashAlg digest_alg = HashAlg::sha256;
  Bytes data_to_be_signed;  // C14N(ds:SignedInfo): the bytes the signature covers
  Bytes digest;             // digest_alg(data_to_be_signed): what a hash-only signer signs
  Bytes state;              // opaque, self-contained; hand it back to finish()
};

// Phase 1. `document`: the XML to sign (enveloped, enveloping XML), the bytes (enveloping binary,
// detached) or nothing (detached with detached_digest). Throws Error(invalid_argument|cert_invalid|
// unsupported|invalid_document|xml_forbidden|document_too_large).
Prepared prepare(std::string_view document, const XadesParams& params);

// Phase 2: the signed XML (UTF-8). `signature_value`: RSA raw, ECDSA DER or raw r||s (converted to
// the r||s XML-DSig wants). Verified against the leaf's key first: a mismatch throws
// Error(invalid_signature_value); a corrupt state Error(invalid_signing_state).
std::string finish(const Bytes& state, const Bytes& signature_value);

// Network-backed sources for B-T and above; the ones a level needs must be set.
struct Sources {
  Timestamper* tsa = nullptr;
  RevocationSource* revocation = nullptr;
  HashAlg timestamp_hash = HashAlg::sha256;
};

struct ExtendParams {
  // The ds:Signature to extend (its Id); empty = the only XAdES signature, or the last one.
  std::string signature_id;
  C14n c14n = C14n::exclusive;  // for the time-stamps' CanonicalizationMethod
  // B-LTA over a detached signature: the detached data (the archive time-stamp covers it).
  std::optional<std::string> detached_data;
  // B-LTA over a detached signature with several references: (name, data) of each, matched with
  // the reference URI (the percent-decoded URI equals the name); a reference with no match falls
  // back to detached_data.
  std::vector<std::pair<std::string, std::string>> detached_documents;
  Limits limits;
};

// Lifts a XAdES signature to `level`, adding only what is missing: SignatureTimeStamp (B-T),
// CertificateValues + RevocationValues for the signer and TSA chains (B-LT), xades141:ArchiveTimeStamp
// (B-LTA; each call at B-LTA adds a new one when one exists already). The signed content is untouched.
std::string extend(std::string_view signed_xml, SignatureLevel level, const Sources& sources,
                   const ExtendParams& params = {});

// Both phases with a key at hand, then extend() when `level` is above B-B.
std::string sign(std::string_view document, const XadesParams& params, KeySigner& key,
                 SignatureLevel level = SignatureLevel::b_b, const Sources& sources = {});

// The hardened parse alone (for callers that want to vet a document early): throws as prepare().
void check_document(std::string_view xml, const Limits& limits = {});

}  // namespace sigil::xades
