#include "sigil/store/api_keys.hpp"

#include <openssl/evp.h>

#include <array>

#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/log.hpp"

namespace sigil::store {
namespace {

constexpr std::string_view kScheme = "sk_";
constexpr std::size_t kPrefixChars = 8;    // 6 random bytes in base64url
constexpr std::size_t kSecretBytes = 32;
constexpr std::size_t kSecretChars = 43;   // 32 bytes in base64url without padding
constexpr std::size_t kKeyChars = kScheme.size() + kPrefixChars + 1 + kSecretChars;
constexpr std::int64_t kLastUsedGranularity = 60;  // seconds
constexpr int kCreateAttempts = 3;
constexpr std::size_t kMaxLabelBytes = 256;

constexpr std::string_view kInfoColumns = "id, user_id, prefix, label, created_at, last_used_at, revoked_at";

bool is_base64url(std::string_view s) {
  for (const char c : s) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

// Lowercase hex SHA-256 (see the schema for why a fast hash is right for 256-bit random secrets).
std::string sha256_hex(std::string_view data) {
  std::array<std::uint8_t, 32> md{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr) != 1 || len != md.size()) {
    throw Error(Errc::crypto, "EVP_Digest(SHA-256) failed");
  }
  return hex_encode(md);
}

ApiKeyInfo info_from_row(const Row& row) {
  return ApiKeyInfo{row.get_text("id"),          row.get_text("user_id"),     row.get_text("prefix"),
                    row.opt_text("label"),       row.get_int("created_at"),   row.opt_int("last_used_at"),
                    row.opt_int("revoked_at")};
}

// Splits "sk_<prefix>_<secret>" by position (both parts may themselves contain '_').
struct ParsedKey {
  std::string_view prefix;
  std::string_view secret;
};
std::optional<ParsedKey> parse_key(std::string_view key) {
  if (key.size() != kKeyChars || !key.starts_with(kScheme) || key[kScheme.size() + kPrefixChars] != '_') {
    return std::nullopt;
  }
  ParsedKey p{key.substr(kScheme.size(), kPrefixChars), key.substr(kScheme.size() + kPrefixChars + 1)};
  if (!is_base64url(p.prefix) || !is_base64url(p.secret)) return std::nullopt;
  return p;
}

}  // namespace

ApiKeyRepository::ApiKeyRepository(Database& db, const Clock& clock) : db_(db), clock_(clock) {}

NewApiKey ApiKeyRepository::create(std::string_view user_id, std::optional<std::string> label) {
  if (label && label->size() > kMaxLabelBytes) {
    throw Error(Errc::invalid_argument, "API key label longer than " + std::to_string(kMaxLabelBytes) + " bytes", true);
  }
  const std::int64_t now = to_unix(clock_.now());
  for (int attempt = 1;; ++attempt) {
    SecretString secret(random_token(kSecretBytes));
    NewApiKey out{ApiKeyInfo{hex_encode(random_bytes(16)), std::string(user_id), random_token(6), label, now,
                             std::nullopt, std::nullopt},
                  SecretString{}};
    try {
      db_.transaction([&](Database& tx) {
        if (!tx.query_one("SELECT 1 FROM users WHERE id = $1", {out.info.user_id})) {
          throw Error(Errc::not_found, "no user with id " + out.info.user_id);
        }
        tx.exec("INSERT INTO api_keys (id, user_id, prefix, secret_hash, label, created_at) "
                "VALUES ($1, $2, $3, $4, $5, $6)",
                {out.info.id, out.info.user_id, out.info.prefix, sha256_hex(secret.view()), nullable(label), now});
      });
    } catch (const Error& e) {
      // 48 random prefix bits make a collision very unlikely, but it costs nothing to draw again.
      if (e.code() == Errc::already_exists && attempt < kCreateAttempts) continue;
      throw;
    }
    std::string key;
    key.reserve(kKeyChars);
    key.append(kScheme).append(out.info.prefix).append("_").append(secret.view());
    out.key = SecretString(std::move(key));
    return out;
  }
}

std::optional<std::string> ApiKeyRepository::authenticate(std::string_view full_key) {
  const auto parsed = parse_key(full_key);
  if (!parsed) return std::nullopt;
  const std::string presented = sha256_hex(parsed->secret);

  const auto row = db_.query_one(
      "SELECT k.id, k.user_id, k.secret_hash, k.last_used_at, k.revoked_at, u.status "
      "FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.prefix = $1",
      {std::string(parsed->prefix)});
  if (!row) return std::nullopt;
  // Compare before looking at anything else, so every known prefix takes the same path.
  const bool match = constant_time_equal(row->get_text("secret_hash"), presented);
  if (!match || !row->is_null("revoked_at") || row->get_text("status") != "active") return std::nullopt;

  const std::int64_t now = to_unix(clock_.now());
  const auto last_used = row->opt_int("last_used_at");
  if (!last_used || now - *last_used >= kLastUsedGranularity) {
    try {
      db_.exec("UPDATE api_keys SET last_used_at = $1 WHERE id = $2", {now, row->get_text("id")});
    } catch (const Error& e) {
      // A busy store must not turn a valid key into a refusal: last_used_at is informational.
      if (e.code() != Errc::store_unavailable) throw;
      log::warn("store: cannot record use of API key {}: {}", std::string(parsed->prefix), e.detail());
    }
  }
  return row->get_text("user_id");
}

void ApiKeyRepository::revoke(std::string_view id) {
  const Params params{std::string(id), to_unix(clock_.now())};
  if (db_.exec("UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1", params) == 0) {
    throw Error(Errc::not_found, "no API key with id " + std::string(id));
  }
}

std::vector<ApiKeyInfo> ApiKeyRepository::list(std::string_view user_id) {
  std::vector<ApiKeyInfo> out;
  for (const Row& row : db_.query("SELECT " + std::string(kInfoColumns) +
                                      " FROM api_keys WHERE user_id = $1 ORDER BY created_at DESC, id",
                                  {std::string(user_id)})) {
    out.push_back(info_from_row(row));
  }
  return out;
}

}  // namespace sigil::store
