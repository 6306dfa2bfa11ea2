// Hex and base64 (standard and URL-safe) codecs for bytes.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sigil {

std::string hex_encode(std::span<const std::uint8_t> data);
// Throws Error(invalid_argument) on odd length or a non-hex character.
std::vector<std::uint8_t> hex_decode(std::string_view hex);

std::string base64_encode(std::span<const std::uint8_t> data);
std::string base64url_encode(std::span<const std::uint8_t> data);  // no padding
// Accepts standard or URL-safe alphabet, with or without padding; throws Error(invalid_argument).
std::vector<std::uint8_t> base64_decode(std::string_view text);

inline std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace sigil
