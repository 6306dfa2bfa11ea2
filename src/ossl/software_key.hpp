// A key held by OpenSSL in process memory. Only for keys that must live in a file by design
// (the TLS server key OpenSSL's TLS stack uses) and for tests; signing keys live in the token.
#pragma once

#include <memory>
#include <string>

#include "sigil/common/crypto_types.hpp"

namespace sigil::ossl {

class SoftwareKey final : public KeySigner {
 public:
  static std::unique_ptr<SoftwareKey> generate(const KeySpec& spec);
  static std::unique_ptr<SoftwareKey> from_pem(const std::string& pem);
  ~SoftwareKey() override;
  SoftwareKey(const SoftwareKey&) = delete;
  SoftwareKey& operator=(const SoftwareKey&) = delete;

  KeyType key_type() const override;
  Bytes sign_digest(SignatureScheme scheme, HashAlg hash, const Bytes& digest, bool raw_ecdsa = false) override;
  Bytes public_key_der() const override;
  // Unencrypted PKCS#8 PEM: write it with mode 0600 only.
  std::string private_key_pem() const;

 private:
  struct Impl;
  explicit SoftwareKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sigil::ossl
