// One-time password algorithms: HOTP (RFC 4226), TOTP (RFC 6238) and the base32 text of their seeds.
// Pure functions; the providers (provider.hpp) add storage, replay protection and delivery.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "sigil/common/secure.hpp"

namespace sigil::otp {

enum class HmacAlg { sha1, sha256, sha512 };

std::string_view hmac_name(HmacAlg alg) noexcept;      // "sha1" (lower case, as stored)
std::string_view hmac_uri_name(HmacAlg alg) noexcept;  // "SHA1" (otpauth:// spelling)
std::optional<HmacAlg> parse_hmac(std::string_view name) noexcept;

// RFC 4226 §5.3: HMAC(key, counter as 8 bytes big endian), dynamic truncation, mod 10^digits,
// zero-padded. `digits` is 6..9 (else Error(invalid_argument)).
std::string hotp(std::span<const std::uint8_t> key, std::uint64_t counter, unsigned digits = 6,
                 HmacAlg alg = HmacAlg::sha1);

// RFC 6238: the step of `unix_seconds` (floor((t - t0) / period)) and its HOTP value.
std::uint64_t totp_step(std::int64_t unix_seconds, unsigned period = 30, std::int64_t t0 = 0);
std::string totp(std::span<const std::uint8_t> key, std::int64_t unix_seconds, unsigned period = 30,
                 unsigned digits = 6, HmacAlg alg = HmacAlg::sha1);

// RFC 4648 base32 without padding (the otpauth:// `secret` parameter). decode accepts upper or
// lower case, optional padding and spaces; anything else is Error(invalid_argument).
std::string base32_encode(std::span<const std::uint8_t> data);
Bytes base32_decode(std::string_view text);

// True when `code` is exactly `digits` ASCII digits (checked before any comparison).
bool well_formed_code(std::string_view code, unsigned digits) noexcept;

// A uniformly random code of `digits` decimal digits (delivered OTPs).
SecretString random_code(unsigned digits);

}  // namespace sigil::otp
