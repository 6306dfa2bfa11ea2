#include "sigil/store/password.hpp"

#include <argon2.h>

#include <cstring>
#include <string>

#include "sigil/common/error.hpp"
#include "sigil/common/secure.hpp"

namespace sigil::store {
namespace {

constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;

}  // namespace

std::string hash_password(std::string_view password, const PasswordParams& params) {
  if (password.empty()) throw Error(Errc::invalid_argument, "password is empty", true);
  if (password.size() > kMaxPasswordBytes) {
    throw Error(Errc::invalid_argument, "password is longer than " + std::to_string(kMaxPasswordBytes) + " bytes", true);
  }
  if (params.time_cost < 1 || params.parallelism < 1 || params.memory_kib < 8 * params.parallelism) {
    throw Error(Errc::invalid_argument, "store: unusable Argon2 parameters");
  }
  Bytes salt = random_bytes(kSaltBytes);
  std::string encoded(argon2_encodedlen(params.time_cost, params.memory_kib, params.parallelism, kSaltBytes,
                                        kHashBytes, Argon2_id),
                      '\0');
  // The password is hashed straight from the caller's buffer: no copy to wipe. libargon2 clears
  // its own working memory (ARGON2_DEFAULT_FLAGS includes clearing internal memory).
  const int rc = argon2id_hash_encoded(params.time_cost, params.memory_kib, params.parallelism, password.data(),
                                       password.size(), salt.data(), salt.size(), kHashBytes, encoded.data(),
                                       encoded.size());
  secure_wipe(salt.data(), salt.size());
  if (rc != ARGON2_OK) throw Error(Errc::crypto, std::string("argon2id_hash_encoded: ") + argon2_error_message(rc));
  encoded.resize(std::strlen(encoded.c_str()));  // argon2_encodedlen counts the terminating NUL
  return encoded;
}

bool verify_password_hash(std::string_view encoded, std::string_view password) noexcept {
  if (!is_argon2id_hash(encoded) || password.size() > kMaxPasswordBytes) return false;
  try {
    const std::string terminated(encoded);  // argon2id_verify wants a C string; hashes are not secret
    // argon2id_verify recomputes the hash with the encoded salt and parameters and compares in
    // constant time.
    return argon2id_verify(terminated.c_str(), password.data(), password.size()) == ARGON2_OK;
  } catch (...) {
    return false;
  }
}

bool is_argon2id_hash(std::string_view encoded) noexcept { return encoded.starts_with("$argon2id$"); }

}  // namespace sigil::store
