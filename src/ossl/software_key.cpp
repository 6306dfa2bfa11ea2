#include "ossl/software_key.hpp"

#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "ossl/digest.hpp"
#include "ossl/error.hpp"
#include "ossl/handles.hpp"

namespace sigil::ossl {

struct SoftwareKey::Impl {
  PKey key;
};

SoftwareKey::SoftwareKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SoftwareKey::~SoftwareKey() = default;

std::unique_ptr<SoftwareKey> SoftwareKey::generate(const KeySpec& spec) {
  EVP_PKEY* raw = nullptr;
  if (spec.type == KeyType::rsa) {
    raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(spec.bits));
  } else {
    const char* curve = spec.bits == 256 ? "P-256" : spec.bits == 384 ? "P-384" : "P-521";
    raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve);
  }
  if (raw == nullptr) fail("key generation " + spec.name());
  auto impl = std::make_unique<Impl>();
  impl->key.reset(raw);
  return std::unique_ptr<SoftwareKey>(new SoftwareKey(std::move(impl)));
}

std::unique_ptr<SoftwareKey> SoftwareKey::from_pem(const std::string& pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  auto impl = std::make_unique<Impl>();
  impl->key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!impl->key) fail("invalid private key PEM", Errc::invalid_argument);
  return std::unique_ptr<SoftwareKey>(new SoftwareKey(std::move(impl)));
}

KeyType SoftwareKey::key_type() const {
  return EVP_PKEY_base_id(impl_->key.get()) == EVP_PKEY_EC ? KeyType::ec : KeyType::rsa;
}

Bytes SoftwareKey::sign_digest(SignatureScheme scheme, HashAlg hash, const Bytes& digest, bool raw_ecdsa) {
  PKeyCtx ctx(EVP_PKEY_CTX_new(impl_->key.get(), nullptr));
  check(ctx && EVP_PKEY_sign_init(ctx.get()) == 1, "EVP_PKEY_sign_init");
  check(EVP_PKEY_CTX_set_signature_md(ctx.get(), md(hash)) == 1, "set_signature_md");
  if (scheme == SignatureScheme::rsa_pss) {
    check(EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PSS_PADDING) == 1 &&
              EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), RSA_PSS_SALTLEN_DIGEST) == 1 &&
              EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), md(hash)) == 1,
          "PSS parameters");
  } else if (scheme == SignatureScheme::rsa_pkcs1) {
    check(EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_PADDING) == 1, "PKCS#1 padding");
  }
  size_t len = 0;
  check(EVP_PKEY_sign(ctx.get(), nullptr, &len, digest.data(), digest.size()) == 1, "EVP_PKEY_sign(size)");
  Bytes sig(len);
  check(EVP_PKEY_sign(ctx.get(), sig.data(), &len, digest.data(), digest.size()) == 1, "EVP_PKEY_sign");
  sig.resize(len);
  if (scheme == SignatureScheme::ecdsa && raw_ecdsa) {
    return ecdsa_der_to_raw(sig, static_cast<std::size_t>((EVP_PKEY_get_bits(impl_->key.get()) + 7) / 8));
  }
  return sig;
}

Bytes SoftwareKey::public_key_der() const {
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(impl_->key.get(), &der);
  if (len <= 0) fail("i2d_PUBKEY");
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

std::string SoftwareKey::private_key_pem() const {
  Bio bio(BIO_new(BIO_s_mem()));
  check(PEM_write_bio_PrivateKey(bio.get(), impl_->key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1,
        "PEM_write_bio_PrivateKey");
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  std::string out(data, static_cast<std::size_t>(len));
  OPENSSL_cleanse(data, static_cast<std::size_t>(len));
  return out;
}

}  // namespace sigil::ossl
