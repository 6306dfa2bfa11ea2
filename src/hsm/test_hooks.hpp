// Hooks for recovery and session-key tests only.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "sigil/hsm/token.hpp"
namespace sigil::hsm {
void close_all_sessions_for_test(Token& token);

// Stands in for another party in the process resetting the module every Token of `module` shares:
// C_Finalize, then C_Initialize again if `initialize_again`. It waits until none of the layer's
// calls is inside the module (a finalize in the middle of a call is undefined behaviour in SoftHSM2
// itself) and does not tell the layer: the layer finds out from failing calls, as in production.
void finalize_module_for_test(const std::filesystem::path& module, bool initialize_again);

// The session-object copies the token signs `label` with (cache_session_keys), read back from a pool
// session; nullopt when there is none.
struct SessionKeyForTest {
  unsigned long handle = 0;            // the first copy
  std::vector<unsigned long> handles;  // every copy; the flags below hold for all of them
  bool current = false;  // made under the pool's current key generation
  bool token = true, private_ = false, sensitive = false, extractable = true, sign = false;
  bool secret_readable = true;  // CKA_VALUE / CKA_PRIVATE_EXPONENT could be read
};
std::optional<SessionKeyForTest> session_key_for_test(Token& token, const std::string& label);
}  // namespace sigil::hsm
