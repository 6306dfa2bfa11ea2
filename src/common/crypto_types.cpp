#include "sigil/common/crypto_types.hpp"

#include "sigil/common/error.hpp"

namespace sigil {

std::string KeySpec::name() const {
  if (type == KeyType::rsa) return "rsa-" + std::to_string(bits);
  return "ec-p" + std::to_string(bits);
}

KeySpec KeySpec::parse(std::string_view name) {
  if (name == "rsa-2048") return {KeyType::rsa, 2048};
  if (name == "rsa-3072") return {KeyType::rsa, 3072};
  if (name == "rsa-4096") return {KeyType::rsa, 4096};
  if (name == "ec-p256" || name == "p256" || name == "P-256") return {KeyType::ec, 256};
  if (name == "ec-p384" || name == "p384" || name == "P-384") return {KeyType::ec, 384};
  if (name == "ec-p521" || name == "p521" || name == "P-521") return {KeyType::ec, 521};
  throw Error(Errc::invalid_argument,
              "unknown key type '" + std::string(name) + "' (rsa-2048, rsa-3072, rsa-4096, ec-p256, ec-p384, ec-p521)",
              true);
}

std::size_t digest_size(HashAlg alg) {
  switch (alg) {
    case HashAlg::sha256: return 32;
    case HashAlg::sha384: return 48;
    case HashAlg::sha512: return 64;
  }
  return 0;
}

std::string_view hash_name(HashAlg alg) {
  switch (alg) {
    case HashAlg::sha256: return "sha256";
    case HashAlg::sha384: return "sha384";
    case HashAlg::sha512: return "sha512";
  }
  return "?";
}

HashAlg parse_hash(std::string_view name) {
  if (name == "sha256" || name == "SHA-256" || name == "SHA256") return HashAlg::sha256;
  if (name == "sha384" || name == "SHA-384" || name == "SHA384") return HashAlg::sha384;
  if (name == "sha512" || name == "SHA-512" || name == "SHA512") return HashAlg::sha512;
  throw Error(Errc::invalid_argument, "unknown hash '" + std::string(name) + "' (sha256, sha384, sha512)", true);
}

std::string_view scheme_name(SignatureScheme s) {
  switch (s) {
    case SignatureScheme::rsa_pkcs1: return "rsa-pkcs1";
    case SignatureScheme::rsa_pss: return "rsa-pss";
    case SignatureScheme::ecdsa: return "ecdsa";
  }
  return "?";
}

SignatureScheme parse_scheme(std::string_view name) {
  if (name == "rsa-pkcs1") return SignatureScheme::rsa_pkcs1;
  if (name == "rsa-pss") return SignatureScheme::rsa_pss;
  if (name == "ecdsa") return SignatureScheme::ecdsa;
  throw Error(Errc::invalid_argument, "unknown signature scheme '" + std::string(name) + "' (rsa-pkcs1, rsa-pss, ecdsa)",
              true);
}

}  // namespace sigil
