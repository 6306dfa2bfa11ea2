#include "sigil/store/credentials.hpp"

#include "sigil/common/error.hpp"

namespace sigil::store {
namespace {

constexpr std::string_view kSelect =
    "SELECT c.id, c.owner_user_id, u.username AS owner_username, c.key_label, c.description, c.algorithms, c.scal, "
    "c.second_factor, c.unattended, c.status, c.certificate_pem, c.chain_pem, c.created_at, c.updated_at "
    "FROM credentials c JOIN users u ON u.id = c.owner_user_id";

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    if (item.find(',') != std::string::npos) {
      throw Error(Errc::invalid_argument, "algorithm name contains a comma: " + item, true);
    }
    if (!out.empty()) out += ',';
    out += item;
  }
  return out;
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size() && !text.empty()) {
    const auto comma = text.find(',', start);
    out.push_back(text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

CredentialRecord credential_from_row(const Row& row) {
  CredentialRecord c;
  c.id = row.get_text("id");
  c.owner_user_id = row.get_text("owner_user_id");
  c.owner_username = row.get_text("owner_username");
  c.key_label = row.get_text("key_label");
  c.description = row.opt_text("description").value_or("");
  c.algorithms = split(row.get_text("algorithms"));
  c.scal = static_cast<int>(row.get_int("scal"));
  c.second_factor = row.get_text("second_factor");
  c.unattended = row.get_int("unattended") != 0;
  c.status = row.get_text("status");
  c.certificate_pem = row.get_text("certificate_pem");
  c.chain_pem = row.opt_text("chain_pem").value_or("");
  c.created_at = row.get_int("created_at");
  c.updated_at = row.get_int("updated_at");
  return c;
}

}  // namespace

CredentialRepository::CredentialRepository(Database& db, const Clock& clock) : db_(db), clock_(clock) {}

CredentialRecord CredentialRepository::create(const CredentialRecord& c) {
  const std::int64_t now = to_unix(clock_.now());
  db_.exec(
      "INSERT INTO credentials (id, owner_user_id, key_label, description, algorithms, scal, second_factor, "
      "unattended, status, certificate_pem, chain_pem, created_at, updated_at) "
      "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
      {c.id, c.owner_user_id, c.key_label, c.description.empty() ? Value{nullptr} : Value{c.description},
       join(c.algorithms), std::int64_t{c.scal}, c.second_factor, std::int64_t{c.unattended ? 1 : 0}, c.status,
       c.certificate_pem, c.chain_pem.empty() ? Value{nullptr} : Value{c.chain_pem}, now});
  auto stored = get(c.id);
  if (!stored) throw Error(Errc::internal, "store: credential " + c.id + " vanished after insert");
  return *stored;
}

std::optional<CredentialRecord> CredentialRepository::get(std::string_view id) {
  const auto row = db_.query_one(std::string(kSelect) + " WHERE c.id = $1", {std::string(id)});
  if (!row) return std::nullopt;
  return credential_from_row(*row);
}

std::vector<CredentialRecord> CredentialRepository::list(const std::optional<std::string>& owner_user_id) {
  std::vector<Row> rows =
      owner_user_id ? db_.query(std::string(kSelect) + " WHERE c.owner_user_id = $1 ORDER BY c.created_at, c.id",
                                {*owner_user_id})
                    : db_.query(std::string(kSelect) + " ORDER BY c.created_at, c.id");
  std::vector<CredentialRecord> out;
  out.reserve(rows.size());
  for (const Row& row : rows) out.push_back(credential_from_row(row));
  return out;
}

std::int64_t CredentialRepository::count_for_key(std::string_view key_label) {
  const auto row =
      db_.query_one("SELECT COUNT(*) AS n FROM credentials WHERE key_label = $1", {std::string(key_label)});
  return row ? row->get_int("n") : 0;
}

void CredentialRepository::set_owner(std::string_view id, std::string_view owner_user_id) {
  if (db_.exec("UPDATE credentials SET owner_user_id = $2, updated_at = $3 WHERE id = $1",
               {std::string(id), std::string(owner_user_id), to_unix(clock_.now())}) == 0) {
    throw Error(Errc::not_found, "no credential with id " + std::string(id));
  }
}

void CredentialRepository::set_status(std::string_view id, std::string_view status) {
  if (db_.exec("UPDATE credentials SET status = $2, updated_at = $3 WHERE id = $1",
               {std::string(id), std::string(status), to_unix(clock_.now())}) == 0) {
    throw Error(Errc::not_found, "no credential with id " + std::string(id));
  }
}

}  // namespace sigil::store
