// Password hashing: Argon2id (libargon2), encoded as a PHC string
// ("$argon2id$v=19$m=65536,t=3,p=1$<salt>$<hash>") that carries its own parameters, so hashes made
// with older parameters keep verifying after the defaults change.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sigil::store {

struct PasswordParams {
  std::uint32_t time_cost = 3;         // iterations
  std::uint32_t memory_kib = 64 * 1024;  // 64 MiB per hash in flight (tests may use 1024)
  std::uint32_t parallelism = 1;
};

// Longer passwords are refused (Error(invalid_argument)): it bounds the work per request.
inline constexpr std::size_t kMaxPasswordBytes = 1024;

// A fresh 16-byte random salt each call, so equal passwords give different strings.
// Throws Error(invalid_argument) for an empty or over-long password or unusable parameters,
// Error(crypto) if libargon2 fails. The password is read in place, never copied.
std::string hash_password(std::string_view password, const PasswordParams& params = {});

// Constant-time check of `password` against a PHC string made by hash_password. False for a wrong
// password and for a string that is not an Argon2id hash (never throws for bad input).
bool verify_password_hash(std::string_view encoded, std::string_view password) noexcept;

// True if `encoded` looks like an Argon2id PHC string ("$argon2id$...").
bool is_argon2id_hash(std::string_view encoded) noexcept;

}  // namespace sigil::store
