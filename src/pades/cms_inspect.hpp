// What the DSS needs from a CMS signature or a time-stamp token: the signer certificate, the
// certificates carried, the embedded signature-time-stamp tokens, and chain building over a pool.
#pragma once

#include <string>
#include <vector>

#include "sigil/common/crypto_types.hpp"

namespace sigil::pades::detail {

struct CmsContents {
  Bytes signer;                  // the certificate of the (first) SignerInfo, if carried
  std::vector<Bytes> certs;      // SignedData.certificates
  std::vector<Bytes> timestamps; // DER TimeStampTokens of signature-time-stamp attributes
};

// `der` may carry trailing zero padding (as in /Contents). Throws Error(invalid_document).
CmsContents inspect_cms(const Bytes& der);

// The DER length of the leading TLV (strips /Contents padding). Throws Error(invalid_document).
std::size_t der_length(const Bytes& der);

// leaf, its issuer, ... up to a self-signed certificate or until no issuer is found in `pool`.
std::vector<Bytes> build_chain(const Bytes& leaf, const std::vector<Bytes>& pool);

}  // namespace sigil::pades::detail
