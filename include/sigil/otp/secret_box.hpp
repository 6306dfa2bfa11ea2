// The server-side key that protects OTP secrets at rest: AES-256-GCM for seeds (sealed with the row
// id as associated data, so a sealed seed cannot be moved to another enrolment) and HMAC-SHA256 for
// delivered codes. The key comes from a secret file named in config (32 random bytes, 0600), never
// from the database it protects.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "sigil/common/secure.hpp"

namespace sigil::otp {

class SecretBox {
 public:
  // `key` is 32 bytes (else Error(invalid_argument)). The copy is wiped on destruction.
  explicit SecretBox(std::span<const std::uint8_t> key);
  ~SecretBox();
  SecretBox(const SecretBox&) = delete;
  SecretBox& operator=(const SecretBox&) = delete;

  // Reads a key file: 32 raw bytes, or 64 hex characters / base64 text of 32 bytes (trailing newline
  // allowed). Error(config_secret_missing) if unreadable, Error(config_invalid) if malformed or if
  // the file is readable by group or others.
  static SecretBox from_file(const std::filesystem::path& path);
  // A fresh random key (tests, `sigilctl init`).
  static Bytes generate_key();

  // base64(nonce(12) || ciphertext || tag(16)); `aad` binds the box to its context.
  std::string seal(std::span<const std::uint8_t> plaintext, std::string_view aad) const;
  // Error(crypto) when the text was not sealed by this key for this `aad`.
  Bytes open(std::string_view sealed, std::string_view aad) const;
  // Lowercase hex HMAC-SHA256(key, data).
  std::string mac(std::string_view data) const;

 private:
  Bytes key_;
};

}  // namespace sigil::otp
