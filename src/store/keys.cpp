#include "sigil/store/keys.hpp"

#include "sigil/common/error.hpp"

namespace sigil::store {
namespace {

constexpr std::string_view kColumns =
    "label, token_label, key_id_hex, key_spec, certificate_pem, chain_pem, subject, not_after, created_at, updated_at";

KeyRecord key_from_row(const Row& row) {
  return KeyRecord{row.get_text("label"),    row.get_text("token_label"),     row.opt_text("key_id_hex"),
                   row.get_text("key_spec"), row.opt_text("certificate_pem"), row.opt_text("chain_pem"),
                   row.opt_text("subject"),  row.opt_text("not_after"),       row.get_int("created_at"),
                   row.get_int("updated_at")};
}

Value text_or_null(const std::string& s) {
  return s.empty() ? Value{nullptr} : Value{s};
}

}  // namespace

KeyRepository::KeyRepository(Database& db, const Clock& clock) : db_(db), clock_(clock) {}

void KeyRepository::record_generated(const KeyRecord& key) {
  const std::int64_t now = to_unix(clock_.now());
  db_.exec(
      "INSERT INTO keys (label, token_label, key_id_hex, key_spec, created_at, updated_at) "
      "VALUES ($1, $2, $3, $4, $5, $5) "
      "ON CONFLICT (label) DO UPDATE SET token_label = $2, key_id_hex = $3, key_spec = $4, "
      "certificate_pem = NULL, chain_pem = NULL, subject = NULL, not_after = NULL, created_at = $5, updated_at = $5",
      {key.label, key.token_label, nullable(key.key_id_hex), key.key_spec, now});
}

void KeyRepository::set_certificate(const KeyRecord& key, const KeyCertificate& cert) {
  const std::int64_t now = to_unix(clock_.now());
  db_.transaction([&](Database& tx) {
    tx.exec(
        "INSERT INTO keys (label, token_label, key_id_hex, key_spec, certificate_pem, chain_pem, subject, "
        "not_after, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) "
        "ON CONFLICT (label) DO UPDATE SET certificate_pem = $5, chain_pem = $6, subject = $7, not_after = $8, "
        "updated_at = $9",
        {key.label, key.token_label, nullable(key.key_id_hex), key.key_spec, cert.certificate_pem,
         text_or_null(cert.chain_pem), cert.subject, cert.not_after, now});
    tx.exec("UPDATE credentials SET certificate_pem = $2, chain_pem = $3, updated_at = $4 WHERE key_label = $1",
            {key.label, cert.certificate_pem, text_or_null(cert.chain_pem), now});
  });
}

std::optional<KeyRecord> KeyRepository::get(std::string_view label) {
  const auto row =
      db_.query_one("SELECT " + std::string(kColumns) + " FROM keys WHERE label = $1", {std::string(label)});
  if (!row) return std::nullopt;
  return key_from_row(*row);
}

std::vector<KeyRecord> KeyRepository::list() {
  std::vector<KeyRecord> out;
  for (const Row& row : db_.query("SELECT " + std::string(kColumns) + " FROM keys ORDER BY label")) {
    out.push_back(key_from_row(row));
  }
  return out;
}

bool KeyRepository::remove(std::string_view label) {
  bool removed = false;
  // The count and the delete share one write transaction, so a credential created concurrently
  // either sees no key row (and fails on its foreign key) or blocks this delete.
  db_.transaction([&](Database& tx) {
    const auto used = tx.query_one("SELECT COUNT(*) AS n FROM credentials WHERE key_label = $1", {std::string(label)});
    if (used && used->get_int("n") > 0) {
      throw Error(Errc::store_conflict,
                  "key '" + std::string(label) + "' is used by " + std::to_string(used->get_int("n")) +
                      " credential(s); delete or reassign them first",
                  true);
    }
    removed = tx.exec("DELETE FROM keys WHERE label = $1", {std::string(label)}) > 0;
  });
  return removed;
}

}  // namespace sigil::store
