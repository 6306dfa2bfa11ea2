#include "sigil/otp/otp.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>

#include "sigil/common/error.hpp"

namespace sigil::otp {
namespace {

const EVP_MD* evp(HmacAlg alg) {
  switch (alg) {
    case HmacAlg::sha1: return EVP_sha1();
    case HmacAlg::sha256: return EVP_sha256();
    case HmacAlg::sha512: return EVP_sha512();
  }
  return EVP_sha1();
}

constexpr std::string_view kBase32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

}  // namespace

std::string_view hmac_name(HmacAlg alg) noexcept {
  switch (alg) {
    case HmacAlg::sha1: return "sha1";
    case HmacAlg::sha256: return "sha256";
    case HmacAlg::sha512: return "sha512";
  }
  return "sha1";
}

std::string_view hmac_uri_name(HmacAlg alg) noexcept {
  switch (alg) {
    case HmacAlg::sha1: return "SHA1";
    case HmacAlg::sha256: return "SHA256";
    case HmacAlg::sha512: return "SHA512";
  }
  return "SHA1";
}

std::optional<HmacAlg> parse_hmac(std::string_view name) noexcept {
  for (const HmacAlg a : {HmacAlg::sha1, HmacAlg::sha256, HmacAlg::sha512}) {
    if (hmac_name(a) == name || hmac_uri_name(a) == name) return a;
  }
  return std::nullopt;
}

std::string hotp(std::span<const std::uint8_t> key, std::uint64_t counter, unsigned digits, HmacAlg alg) {
  if (digits < 6 || digits > 9) throw Error(Errc::invalid_argument, "OTP digits must be 6..9");
  std::array<std::uint8_t, 8> msg{};
  for (int i = 7; i >= 0; --i) {
    msg[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(counter & 0xff);
    counter >>= 8;
  }
  std::array<std::uint8_t, EVP_MAX_MD_SIZE> mac{};
  unsigned int len = 0;
  if (HMAC(evp(alg), key.data(), static_cast<int>(key.size()), msg.data(), msg.size(), mac.data(), &len) == nullptr) {
    throw Error(Errc::crypto, "HMAC for OTP failed");
  }
  const unsigned offset = mac[len - 1] & 0x0f;
  const std::uint32_t bin = (static_cast<std::uint32_t>(mac[offset] & 0x7f) << 24) |
                            (static_cast<std::uint32_t>(mac[offset + 1]) << 16) |
                            (static_cast<std::uint32_t>(mac[offset + 2]) << 8) | mac[offset + 3];
  std::uint32_t mod = 1;
  for (unsigned i = 0; i < digits; ++i) mod *= 10;
  std::string out = std::to_string(bin % mod);
  secure_wipe(mac.data(), mac.size());
  return std::string(digits - out.size(), '0') + out;
}

std::uint64_t totp_step(std::int64_t unix_seconds, unsigned period, std::int64_t t0) {
  if (period == 0) throw Error(Errc::invalid_argument, "TOTP period must not be 0");
  const std::int64_t t = unix_seconds - t0;
  return t < 0 ? 0 : static_cast<std::uint64_t>(t) / period;
}

std::string totp(std::span<const std::uint8_t> key, std::int64_t unix_seconds, unsigned period, unsigned digits,
                 HmacAlg alg) {
  return hotp(key, totp_step(unix_seconds, period), digits, alg);
}

std::string base32_encode(std::span<const std::uint8_t> data) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const std::uint8_t b : data) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kBase32[(buffer >> (bits - 5)) & 0x1f]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kBase32[(buffer << (5 - bits)) & 0x1f]);
  return out;
}

Bytes base32_decode(std::string_view text) {
  Bytes out;
  std::uint32_t buffer = 0;
  int bits = 0;
  bool padding = false;
  for (char c : text) {
    if (c == ' ') continue;
    if (c == '=') {
      padding = true;
      continue;
    }
    if (padding) throw Error(Errc::invalid_argument, "base32: data after padding");
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    const auto pos = kBase32.find(c);
    if (pos == std::string_view::npos) throw Error(Errc::invalid_argument, "base32: invalid character");
    buffer = (buffer << 5) | static_cast<std::uint32_t>(pos);
    bits += 5;
    if (bits >= 8) {
      out.push_back(static_cast<std::uint8_t>((buffer >> (bits - 8)) & 0xff));
      bits -= 8;
    }
  }
  return out;
}

bool well_formed_code(std::string_view code, unsigned digits) noexcept {
  if (code.size() != digits) return false;
  for (const char c : code) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

SecretString random_code(unsigned digits) {
  if (digits < 6 || digits > 9) throw Error(Errc::invalid_argument, "OTP digits must be 6..9");
  std::uint64_t mod = 1;
  for (unsigned i = 0; i < digits; ++i) mod *= 10;
  // Rejection sampling: no modulo bias.
  const std::uint64_t limit = (UINT64_MAX / mod) * mod;
  std::uint64_t v = 0;
  do {
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v) != 1) throw Error(Errc::crypto, "RAND_bytes failed");
  } while (v >= limit);
  std::string s = std::to_string(v % mod);
  v = 0;
  return SecretString(std::string(digits - s.size(), '0') + s);
}

}  // namespace sigil::otp
