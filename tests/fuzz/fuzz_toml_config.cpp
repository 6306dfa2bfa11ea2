// Configuration loader (sigil/config/config.hpp): config::parse on arbitrary text. TOML syntax
// errors, type mismatches, unknown keys and failed validation must all be Error(config_*).
// parse() reads no files (secrets are resolved later), so the base directory need not exist.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_common.hpp"
#include "sigil/config/config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sigil;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  fuzz::refuses([&] { (void)config::parse(text, "fuzz.toml", "/nonexistent/sigil-fuzz"); });
  return 0;
}
