// Algorithm vocabulary shared by the key layer (hsm) and the format layer (ossl, formats), so
// neither depends on the other: formatters see a KeySigner, never PKCS#11.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sigil/common/secure.hpp"

namespace sigil {

enum class HashAlg { sha256, sha384, sha512 };
enum class KeyType { rsa, ec };
// How the digest is turned into a signature value.
enum class SignatureScheme { rsa_pkcs1, rsa_pss, ecdsa };

// A key to generate: RSA with `bits` (2048/3072/4096) or EC on `curve` (P-256/P-384/P-521).
struct KeySpec {
  KeyType type = KeyType::ec;
  unsigned bits = 256;  // RSA modulus bits, or the EC field size (256, 384, 521)
  std::string name() const;                        // "rsa-3072", "ec-p256"
  static KeySpec parse(std::string_view name);     // inverse of name(); throws Error(invalid_argument)
};

std::size_t digest_size(HashAlg alg);
std::string_view hash_name(HashAlg alg);           // "sha256"
HashAlg parse_hash(std::string_view name);         // throws Error(invalid_argument)
std::string_view scheme_name(SignatureScheme s);   // "rsa-pkcs1", "rsa-pss", "ecdsa"
SignatureScheme parse_scheme(std::string_view name);

// The narrow seam every signature goes through: sign a pre-computed digest.
// RSA PKCS#1 v1.5 output is the raw signature; RSA-PSS uses salt = hash length and MGF1 with the
// same hash; ECDSA output is DER (SEQUENCE of r, s) unless `raw_ecdsa`, then r||s.
class KeySigner {
 public:
  virtual ~KeySigner() = default;
  virtual KeyType key_type() const = 0;
  virtual Bytes sign_digest(SignatureScheme scheme, HashAlg hash, const Bytes& digest, bool raw_ecdsa = false) = 0;
  // Several digests, in order; all or an exception. The default signs them one by one.
  virtual std::vector<Bytes> sign_digests(SignatureScheme scheme, HashAlg hash, std::span<const Bytes> digests,
                                          bool raw_ecdsa = false) {
    std::vector<Bytes> out;
    out.reserve(digests.size());
    for (const auto& d : digests) out.push_back(sign_digest(scheme, hash, d, raw_ecdsa));
    return out;
  }
  // DER SubjectPublicKeyInfo of the key.
  virtual Bytes public_key_der() const = 0;
};

}  // namespace sigil
