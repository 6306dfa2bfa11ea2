#include "sigil/common/secure.hpp"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"

namespace sigil {

void secure_wipe(void* data, std::size_t size) noexcept {
  if (data != nullptr && size != 0) OPENSSL_cleanse(data, size);
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  // Compare over the longer length so the running time depends only on the lengths.
  const std::size_t n = a.size() > b.size() ? a.size() : b.size();
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff = static_cast<unsigned char>(diff | (x ^ y));
  }
  return diff == 0;
}

SecretString& SecretString::operator=(SecretString&& other) noexcept {
  if (this != &other) {
    clear();
    value_ = std::move(other.value_);
    other.clear();
  }
  return *this;
}

void SecretString::clear() noexcept {
  secure_wipe(value_.data(), value_.capacity());
  value_.clear();
}

Bytes random_bytes(std::size_t n) {
  Bytes out(n);
  if (n != 0 && RAND_bytes(out.data(), static_cast<int>(n)) != 1) {
    throw Error(Errc::crypto, "RAND_bytes failed");
  }
  return out;
}

std::string random_token(std::size_t n) {
  Bytes b = random_bytes(n);
  std::string t = base64url_encode(b);
  secure_wipe(b.data(), b.size());
  return t;
}

}  // namespace sigil
