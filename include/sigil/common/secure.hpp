// Secrets in memory: wiped on destruction, compared in constant time, never printed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sigil {

using Bytes = std::vector<std::uint8_t>;

// Overwrites memory in a way the optimiser cannot remove (OPENSSL_cleanse).
void secure_wipe(void* data, std::size_t size) noexcept;

// Constant-time equality for secrets of possibly different lengths (length leaks, content does not).
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

// A string that wipes itself. Use for PINs, passwords, OTPs, API keys.
class SecretString {
 public:
  SecretString() = default;
  explicit SecretString(std::string value) : value_(std::move(value)) {}
  SecretString(const SecretString&) = delete;
  SecretString& operator=(const SecretString&) = delete;
  SecretString(SecretString&& other) noexcept : value_(std::move(other.value_)) { other.clear(); }
  SecretString& operator=(SecretString&& other) noexcept;
  ~SecretString() { clear(); }

  std::string_view view() const noexcept { return value_; }
  bool empty() const noexcept { return value_.empty(); }
  std::size_t size() const noexcept { return value_.size(); }
  void clear() noexcept;

 private:
  std::string value_;
};

// Cryptographically secure random bytes (RAND_bytes); throws sigil::Error on failure.
Bytes random_bytes(std::size_t n);
// Random URL-safe token (base64url without padding) of `n` random bytes.
std::string random_token(std::size_t n = 32);

}  // namespace sigil
