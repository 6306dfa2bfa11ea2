#include "ossl/digest.hpp"

#include <openssl/rsa.h>

#include "ossl/error.hpp"
#include "ossl/handles.hpp"

namespace sigil::ossl {

const EVP_MD* md(HashAlg alg) {
  switch (alg) {
    case HashAlg::sha256: return EVP_sha256();
    case HashAlg::sha384: return EVP_sha384();
    case HashAlg::sha512: return EVP_sha512();
  }
  throw Error(Errc::invalid_argument, "unknown hash algorithm");
}

Bytes digest(HashAlg alg, std::span<const std::uint8_t> data) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  check(EVP_Digest(data.data(), data.size(), out.data(), &len, md(alg), nullptr) == 1, "EVP_Digest");
  out.resize(len);
  return out;
}

Bytes encode_digest_info(HashAlg alg, const Bytes& digest) {
  // The fixed DER prefixes of RFC 8017 §9.2, note 1: SEQUENCE { SEQUENCE { OID, NULL }, OCTET STRING }.
  static const Bytes kSha256 = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
                                0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
  static const Bytes kSha384 = {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
                                0x03, 0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30};
  static const Bytes kSha512 = {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
                                0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40};
  if (digest.size() != digest_size(alg)) {
    throw Error(Errc::invalid_argument,
                "digest length " + std::to_string(digest.size()) + " does not match " + std::string(hash_name(alg)), true);
  }
  const Bytes& prefix = alg == HashAlg::sha256 ? kSha256 : alg == HashAlg::sha384 ? kSha384 : kSha512;
  Bytes out = prefix;
  out.insert(out.end(), digest.begin(), digest.end());
  return out;
}

Bytes ecdsa_raw_to_der(const Bytes& raw) {
  if (raw.empty() || raw.size() % 2 != 0) throw Error(Errc::crypto, "ECDSA raw signature has odd length");
  const int half = static_cast<int>(raw.size() / 2);
  EcdsaSig sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(raw.data(), half, nullptr);
  BIGNUM* s = BN_bin2bn(raw.data() + half, half, nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    fail("ECDSA_SIG_set0");
  }
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) fail("i2d_ECDSA_SIG");
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

Bytes ecdsa_der_to_raw(const Bytes& der, std::size_t field_bytes) {
  const unsigned char* p = der.data();
  EcdsaSig sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) fail("d2i_ECDSA_SIG", Errc::invalid_argument);
  Bytes out(2 * field_bytes);
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), out.data(), static_cast<int>(field_bytes)) < 0 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), out.data() + field_bytes, static_cast<int>(field_bytes)) < 0) {
    fail("BN_bn2binpad");
  }
  return out;
}

bool verify_digest(const Bytes& spki_der, SignatureScheme scheme, HashAlg hash, const Bytes& digest,
                   const Bytes& signature) {
  const unsigned char* p = spki_der.data();
  PKey key(d2i_PUBKEY(nullptr, &p, static_cast<long>(spki_der.size())));
  if (!key) fail("d2i_PUBKEY", Errc::invalid_argument);
  PKeyCtx ctx(EVP_PKEY_CTX_new(key.get(), nullptr));
  check(ctx && EVP_PKEY_verify_init(ctx.get()) == 1, "EVP_PKEY_verify_init");
  check(EVP_PKEY_CTX_set_signature_md(ctx.get(), md(hash)) == 1, "set_signature_md");
  if (scheme == SignatureScheme::rsa_pss) {
    check(EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PSS_PADDING) == 1, "set_rsa_padding");
    check(EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), RSA_PSS_SALTLEN_DIGEST) == 1, "set_pss_saltlen");
    check(EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), md(hash)) == 1, "set_mgf1_md");
  } else if (scheme == SignatureScheme::rsa_pkcs1) {
    check(EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) == 1, "set_rsa_padding");
  }
  const int rc = EVP_PKEY_verify(ctx.get(), signature.data(), signature.size(), digest.data(), digest.size());
  drain_errors();  // a failed verification leaves errors queued; they are not ours to report
  return rc == 1;
}

}  // namespace sigil::ossl
