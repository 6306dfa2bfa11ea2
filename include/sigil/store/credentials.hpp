// Signing credentials: a token key (with its certificate) bound to an owner. Storage only; the
// rules (which algorithms fit a key, who may be unattended) live in admin::AdminService.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sigil/common/clock.hpp"
#include "sigil/store/database.hpp"

namespace sigil::store {

struct CredentialRecord {
  std::string id;
  std::string owner_user_id;
  std::string owner_username;  // joined from users on read; ignored on write
  std::string key_label;
  std::string description;
  std::vector<std::string> algorithms;  // stored as a comma list (names never contain commas)
  int scal = 2;
  std::string second_factor;  // none | pin | otp | pin_otp (CHECKed by the schema)
  bool unattended = false;
  std::string status;  // active | disabled
  std::string certificate_pem;
  std::string chain_pem;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
};

class CredentialRepository {
 public:
  // `db` and `clock` must outlive the repository.
  CredentialRepository(Database& db, const Clock& clock);

  // Inserts with created_at = updated_at = now (the record's timestamps are ignored) and returns
  // the stored record. Unknown owner or key row: Error(store_conflict) from the foreign keys.
  CredentialRecord create(const CredentialRecord& c);

  std::optional<CredentialRecord> get(std::string_view id);
  // Ordered by creation time, then id; all credentials, or those of one owner.
  std::vector<CredentialRecord> list(const std::optional<std::string>& owner_user_id = std::nullopt);
  // How many credentials (of any status) use the key.
  std::int64_t count_for_key(std::string_view key_label);

  // The setters throw Error(not_found) for an unknown id.
  void set_owner(std::string_view id, std::string_view owner_user_id);
  void set_status(std::string_view id, std::string_view status);

 private:
  Database& db_;
  const Clock& clock_;
};

}  // namespace sigil::store
