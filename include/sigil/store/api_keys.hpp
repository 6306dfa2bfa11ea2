// API keys for programmatic clients (back-office systems, service users).
//
// Format: "sk_<prefix>_<secret>", prefix = 8 random base64url characters (the public lookup part,
// safe to log), secret = 32 random bytes in base64url (43 characters). Only the prefix and the
// SHA-256 of the secret are stored; the full key is returned once, by create().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sigil/common/clock.hpp"
#include "sigil/common/secure.hpp"
#include "sigil/store/database.hpp"

namespace sigil::store {

struct ApiKeyInfo {
  std::string id;
  std::string user_id;
  std::string prefix;
  std::optional<std::string> label;
  std::int64_t created_at = 0;
  std::optional<std::int64_t> last_used_at;  // minute granularity, see authenticate()
  std::optional<std::int64_t> revoked_at;

  bool revoked() const noexcept { return revoked_at.has_value(); }
};

struct NewApiKey {
  ApiKeyInfo info;
  SecretString key;  // the full key: show it to the user once, then let it go
};

class ApiKeyRepository {
 public:
  // `db` and `clock` must outlive the repository.
  ApiKeyRepository(Database& db, const Clock& clock);

  // Throws Error(not_found) if the user does not exist.
  NewApiKey create(std::string_view user_id, std::optional<std::string> label = std::nullopt);

  // The id of the key's user, or nullopt for a malformed, unknown, wrong, revoked key or a key of a
  // disabled user. The digest comparison is constant-time. last_used_at is refreshed at most once a
  // minute, so a busy client does not turn every request into a database write.
  std::optional<std::string> authenticate(std::string_view full_key);

  // Throws Error(not_found) for an unknown id; revoking twice keeps the first revocation time.
  void revoke(std::string_view id);

  // The user's keys, newest first (never the secret; there is none to return).
  std::vector<ApiKeyInfo> list(std::string_view user_id);

 private:
  Database& db_;
  const Clock& clock_;
};

}  // namespace sigil::store
