// Hooks for recovery and session-key tests only.
#pragma once
#include <optional>
#include <string>

#include "sigil/hsm/token.hpp"
namespace sigil::hsm {
void close_all_sessions_for_test(Token& token);

// The session-object copy the token signs `label` with (cache_session_keys), read back from a pool
// session; nullopt when there is none.
struct SessionKeyForTest {
  unsigned long handle = 0;
  bool current = false;  // made under the pool's current key generation
  bool token = true, private_ = false, sensitive = false, extractable = true, sign = false;
  bool secret_readable = true;  // CKA_VALUE / CKA_PRIVATE_EXPONENT could be read
};
std::optional<SessionKeyForTest> session_key_for_test(Token& token, const std::string& label);
}  // namespace sigil::hsm
