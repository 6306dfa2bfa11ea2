// Request-body JSON (sigil/http/json.hpp): parse_json_bounded with the default depth (64) and a
// small one (4). Invariants: a parsed value is never deeper than the bound, and a document accepted
// with depth 4 is accepted with depth 64 too.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "fuzz_common.hpp"
#include "sigil/http/json.hpp"

namespace {

unsigned depth_of(const nlohmann::json& j) {
  if (!j.is_structured() || j.empty()) return j.is_structured() ? 1 : 0;
  unsigned d = 0;
  for (const auto& child : j) d = std::max(d, depth_of(child));
  return d + 1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sigil;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  std::optional<nlohmann::json> deep, shallow;
  fuzz::refuses([&] { deep = http::parse_json_bounded(body, 64); });
  fuzz::refuses([&] { shallow = http::parse_json_bounded(body, 4); });
  if (deep && depth_of(*deep) > 64) __builtin_trap();
  if (shallow && depth_of(*shallow) > 4) __builtin_trap();
  if (shallow && (!deep || *deep != *shallow)) __builtin_trap();
  return 0;
}
