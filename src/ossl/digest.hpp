// Digests, DigestInfo, and ECDSA signature encodings.
#pragma once

#include <openssl/evp.h>

#include <span>
#include <string_view>

#include "sigil/common/crypto_types.hpp"

namespace sigil::ossl {

const EVP_MD* md(HashAlg alg);
Bytes digest(HashAlg alg, std::span<const std::uint8_t> data);
inline Bytes digest(HashAlg alg, std::string_view data) {
  return digest(alg, {reinterpret_cast<const std::uint8_t*>(data.data()), data.size()});
}

// DER DigestInfo { AlgorithmIdentifier(hash, NULL), OCTET STRING digest } as RSASSA-PKCS1-v1_5
// (RFC 8017 §9.2) signs it. Throws Error(invalid_argument) if the digest length is wrong.
Bytes encode_digest_info(HashAlg alg, const Bytes& digest);

// ECDSA: PKCS#11 returns r||s (each half the length of the field); CMS and X.509 want DER.
Bytes ecdsa_raw_to_der(const Bytes& raw);
Bytes ecdsa_der_to_raw(const Bytes& der, std::size_t field_bytes);

// Verifies a signature over a digest with a public key (DER SPKI). For tests, `doctor` and
// self-checks after signing. Returns false on a bad signature; throws on malformed input.
bool verify_digest(const Bytes& spki_der, SignatureScheme scheme, HashAlg hash, const Bytes& digest,
                   const Bytes& signature);

}  // namespace sigil::ossl
