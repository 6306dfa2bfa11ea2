// Shared by the XAdES translation units: algorithm URIs, certificate helpers, ids, digests.
// Internal header (src/).
#pragma once

#include <openssl/evp.h>

#include <string>
#include <string_view>
#include <vector>

#include "ossl/handles.hpp"
#include "sigil/xades/xades.hpp"
#include "xml.hpp"

namespace sigil::xades::detail {

inline constexpr const char* kSignedPropertiesType = "http://uri.etsi.org/01903#SignedProperties";
inline constexpr const char* kEnvelopedTransform = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
inline constexpr const char* kBase64Transform = "http://www.w3.org/2000/09/xmldsig#base64";

std::string c14n_uri(C14n alg);
// Parses a C14N 1.0 URI (with or without comments is refused: we never sign comments).
// Throws Error(unsupported) for others.
C14n parse_c14n_uri(std::string_view uri);
std::string digest_uri(HashAlg alg);
HashAlg parse_digest_uri(std::string_view uri);  // throws Error(unsupported)
std::string policy_digest_uri(PolicyHashAlg alg);
std::string signature_uri(SignatureScheme scheme, HashAlg hash);  // throws Error(unsupported)

// Streaming digest: feed C14N output straight into it.
class Hasher {
 public:
  explicit Hasher(HashAlg alg);
  void update(const std::uint8_t* p, std::size_t n);
  Bytes final();
  xml::Sink sink() {
    return [this](const std::uint8_t* p, std::size_t n) { update(p, n); };
  }

 private:
  ossl::MdCtx ctx_;
};

// DER certificate -> X509 (throws Error(cert_invalid)).
ossl::Cert parse_cert(const Bytes& der, const char* what);
// base64(DER IssuerSerial { issuer GeneralNames { directoryName }, serialNumber }).
std::string issuer_serial_v2(const Bytes& cert_der);
// Orders `pool` into the chain of `leaf` (leaf first, issuers after, as far as the pool goes).
std::vector<Bytes> build_chain(const Bytes& leaf, const std::vector<Bytes>& pool);
// The certificates of a DER TimeStampToken and the TSA's own certificate (first of the chain).
std::vector<Bytes> timestamp_tsa_chain(const Bytes& token, const std::vector<Bytes>& extra_pool);

// A fresh id prefix ("id-" + 16 hex) not clashing with any of `taken`.
std::string fresh_id(const std::vector<std::string>& taken);

}  // namespace sigil::xades::detail
