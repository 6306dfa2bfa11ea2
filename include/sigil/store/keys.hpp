// Certificate metadata per token key. The token is the source of truth for whether a key exists;
// a row here only carries what the token does not hold (the imported certificate and its chain).
// Rules (label syntax, certificate checks) live in admin::AdminService; this is storage only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sigil/common/clock.hpp"
#include "sigil/store/database.hpp"

namespace sigil::store {

struct KeyRecord {
  std::string label;
  std::string token_label;
  std::optional<std::string> key_id_hex;
  std::string key_spec;  // "rsa-3072", "ec-p256"
  std::optional<std::string> certificate_pem;
  std::optional<std::string> chain_pem;
  std::optional<std::string> subject;
  std::optional<std::string> not_after;  // RFC 3339
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
};

struct KeyCertificate {
  std::string certificate_pem;
  std::string chain_pem;  // may be empty
  std::string subject;
  std::string not_after;
};

class KeyRepository {
 public:
  // `db` and `clock` must outlive the repository.
  KeyRepository(Database& db, const Clock& clock);

  // Records a freshly generated key. A stale row with the same label (its token key was deleted
  // behind our back) is replaced, certificate included; created_at/updated_at are set to now.
  void record_generated(const KeyRecord& key);

  // Stores the certificate for the key (inserting the row for a key generated outside sigild, from
  // `key`'s label/token/spec) and, in the same transaction, refreshes the certificate of every
  // credential on this key so a signer never sees a stale certificate.
  void set_certificate(const KeyRecord& key, const KeyCertificate& cert);

  std::optional<KeyRecord> get(std::string_view label);
  std::vector<KeyRecord> list();  // ordered by label

  // Deletes the row; false if there was none. Throws Error(store_conflict, public) while any
  // credential (active or disabled) references the key.
  bool remove(std::string_view label);

 private:
  Database& db_;
  const Clock& clock_;
};

}  // namespace sigil::store
