#include "sigil/auth/tokens.hpp"

#include <openssl/evp.h>

#include <array>
#include <mutex>
#include <unordered_map>

#include "sigil/auth/errors.hpp"
#include "sigil/common/encoding.hpp"

namespace sigil::auth {
namespace {

constexpr std::string_view kAccessPrefix = "at_";
constexpr std::string_view kRefreshPrefix = "rt_";
constexpr std::size_t kTokenBytes = 32;
constexpr std::size_t kTokenChars = 3 + 43;
constexpr std::int64_t kPurgeGrace = 24 * 3600;

bool well_formed(std::string_view token, std::string_view prefix) {
  if (token.size() != kTokenChars || !token.starts_with(prefix)) return false;
  for (const char c : token.substr(prefix.size())) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string new_id() { return hex_encode(random_bytes(16)); }

}  // namespace

std::string sha256_hex(std::string_view data) {
  std::array<std::uint8_t, 32> md{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr) != 1) {
    throw Error(Errc::crypto, "EVP_Digest(SHA-256) failed");
  }
  return hex_encode(md);
}

// What authenticate() read about access tokens, by token hash, for options_.cache_ttl. Any
// revocation through this service empties it. Bounded: emptied when full.
struct TokenService::Cache {
  struct Entry {
    TokenInfo info;
    Clock::time_point read_at;
  };
  static constexpr std::size_t kMax = 10000;
  std::mutex mu;
  std::unordered_map<std::string, Entry> entries;
  std::uint64_t generation = 0;  // bumped by clear(): a read that raced a revocation is not kept

  void clear() {
    std::lock_guard lock(mu);
    entries.clear();
    ++generation;
  }
};

std::int64_t checked_login_epoch(store::Database& tx, std::string_view user_id, std::optional<std::int64_t> expected) {
  const auto superseded = [&] {
    return AuthError(AuthFailure::login_superseded,
                     "user " + std::string(user_id) + " changed (password, status or revocation) during the login");
  };
  const auto row = tx.query_one("SELECT login_epoch, status FROM users WHERE id = $1", {std::string(user_id)});
  if (!row || row->get_text("status") != "active" || (expected && row->get_int("login_epoch") != *expected)) {
    throw superseded();
  }
  const std::int64_t epoch = row->get_int("login_epoch");
  // A no-op write of the row: it holds the user's row lock until commit, so a concurrent password
  // change or revoke_user (which raise the epoch) waits for this transaction and then sees what it
  // wrote - on SQLite the write transaction already serialises them, on a row-locking store
  // (PostgreSQL, READ COMMITTED) this is what does.
  if (tx.exec("UPDATE users SET login_epoch = login_epoch WHERE id = $1 AND login_epoch = $2 AND status = 'active'",
              {std::string(user_id), epoch}) != 1) {
    throw superseded();
  }
  return epoch;
}

// Inside a write transaction: refuses tokens for an OAuth client that no longer exists (removed
// after the caller authenticated it) and holds the client's row until commit, so a concurrent
// OAuthClients::remove waits and then revokes what this transaction wrote.
static void check_client(store::Database& tx, const std::optional<std::string>& client_id) {
  if (!client_id) return;
  if (tx.exec("UPDATE oauth_clients SET client_id = client_id WHERE client_id = $1", {*client_id}) != 1) {
    throw AuthError(AuthFailure::client_invalid, "client " + *client_id + " was removed");
  }
}

TokenService::TokenService(store::Database& db, const Clock& clock, TokenOptions options)
    : db_(db), clock_(clock), options_(options), cache_(std::make_unique<Cache>()) {}

TokenService::~TokenService() = default;

IssuedTokens TokenService::issue(std::string_view user_id, const std::optional<std::string>& client_id,
                                 std::string_view scope, const std::optional<std::string>& credential_id,
                                 bool with_refresh, std::optional<std::int64_t> login_epoch) {
  if (scope != "service" && scope != "credential") throw AuthError(AuthFailure::scope_invalid, "unknown scope");
  if (scope == "credential" && !credential_id) throw AuthError(AuthFailure::scope_invalid, "credential scope without credential");
  const bool credential = scope == "credential";
  const std::int64_t now = to_unix(clock_.now());
  IssuedTokens out;
  out.grant_id = new_id();
  out.scope = std::string(scope);
  out.credential_id = credential ? credential_id : std::nullopt;
  out.expires_in = (credential ? options_.credential_ttl : options_.access_ttl).count();
  out.access_token = SecretString(std::string(kAccessPrefix) + random_token(kTokenBytes));
  if (with_refresh && !credential) out.refresh_token = SecretString(std::string(kRefreshPrefix) + random_token(kTokenBytes));
  db_.transaction([&](store::Database& tx) {
    // In the write transaction: a concurrent password change or revocation either committed
    // before (the epoch moved: refused) or commits after (and revokes what this writes). Without an
    // epoch (tests) the user must still be active.
    (void)checked_login_epoch(tx, user_id, login_epoch);
    check_client(tx, client_id);
    const std::string insert =
        "INSERT INTO auth_tokens (token_hash, id, kind, grant_id, user_id, client_id, scope, credential_id, expires_at, "
        "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
    tx.exec(insert, {sha256_hex(out.access_token.view()), new_id(), std::string("access"), out.grant_id,
                     std::string(user_id), store::nullable(client_id), out.scope, store::nullable(out.credential_id),
                     now + out.expires_in, now});
    if (!out.refresh_token.empty()) {
      tx.exec(insert, {sha256_hex(out.refresh_token.view()), new_id(), std::string("refresh"), out.grant_id,
                       std::string(user_id), store::nullable(client_id), out.scope, store::Value{nullptr},
                       now + options_.refresh_ttl.count(), now});
    }
  });
  return out;
}

TokenInfo TokenService::authenticate(std::string_view access_token, Read read) {
  if (!well_formed(access_token, kAccessPrefix)) throw AuthError(AuthFailure::token_invalid, "malformed access token");
  const std::string hash = sha256_hex(access_token);
  const auto now = clock_.now();
  std::uint64_t generation = 0;
  if (options_.cache_ttl.count() > 0 && read == Read::cached) {
    std::lock_guard lock(cache_->mu);
    generation = cache_->generation;
    if (const auto it = cache_->entries.find(hash); it != cache_->entries.end()) {
      if (now - it->second.read_at < options_.cache_ttl && now >= it->second.read_at) {
        if (to_unix(now) >= it->second.info.expires_at) throw AuthError(AuthFailure::token_expired);
        return it->second.info;
      }
      cache_->entries.erase(it);
    }
  }
  const auto row = db_.query_one(
      "SELECT t.id, t.grant_id, t.user_id, t.client_id, t.scope, t.credential_id, t.expires_at, t.revoked_at, u.status "
      "FROM auth_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1 AND t.kind = 'access'",
      {hash});
  if (!row || !row->is_null("revoked_at") || row->get_text("status") != "active") {
    throw AuthError(AuthFailure::token_invalid, "unknown, revoked or disabled-user access token");
  }
  if (to_unix(now) >= row->get_int("expires_at")) throw AuthError(AuthFailure::token_expired);
  TokenInfo info{row->get_text("id"),       row->get_text("grant_id"), row->get_text("user_id"),
                 row->opt_text("client_id"), row->get_text("scope"),   row->opt_text("credential_id"),
                 row->get_int("expires_at")};
  if (options_.cache_ttl.count() > 0 && read == Read::cached) {
    std::lock_guard lock(cache_->mu);
    if (cache_->generation == generation) {
      if (cache_->entries.size() >= Cache::kMax) cache_->entries.clear();
      cache_->entries.insert_or_assign(hash, Cache::Entry{info, now});
    }
  }
  return info;
}

IssuedTokens TokenService::refresh(std::string_view refresh_token, const std::optional<std::string>& client_id) {
  if (!well_formed(refresh_token, kRefreshPrefix)) throw AuthError(AuthFailure::grant_invalid, "malformed refresh token");
  const std::string hash = sha256_hex(refresh_token);
  const std::int64_t now = to_unix(clock_.now());
  const auto row = db_.query_one(
      "SELECT t.grant_id, t.user_id, t.client_id, t.scope, t.expires_at, t.revoked_at, t.used_at, u.status "
      "FROM auth_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = $1 AND t.kind = 'refresh'",
      {hash});
  if (!row) throw AuthError(AuthFailure::grant_invalid, "unknown refresh token");
  const std::string grant = row->get_text("grant_id");
  if (row->opt_text("client_id") != client_id) throw AuthError(AuthFailure::grant_invalid, "refresh token of another client");
  if (!row->is_null("used_at")) {
    // A rotated token presented again: someone holds a copy. Revoke the grant (RFC 9700 §4.14.2).
    db_.exec("UPDATE auth_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE grant_id = $1", {grant, now});
    cache_->clear();
    throw AuthError(AuthFailure::grant_invalid, "refresh token reused: grant " + grant + " revoked");
  }
  if (!row->is_null("revoked_at") || row->get_text("status") != "active" || now >= row->get_int("expires_at")) {
    throw AuthError(AuthFailure::grant_invalid, "revoked or expired refresh token");
  }
  IssuedTokens out;
  out.grant_id = grant;
  out.scope = row->get_text("scope");
  out.expires_in = options_.access_ttl.count();
  out.access_token = SecretString(std::string(kAccessPrefix) + random_token(kTokenBytes));
  out.refresh_token = SecretString(std::string(kRefreshPrefix) + random_token(kTokenBytes));
  db_.transaction([&](store::Database& tx) {
    // The user's row lock first (see checked_login_epoch): a revoke_user racing this rotation either
    // went first (the UPDATE below finds the token revoked) or waits and revokes the new pair.
    (void)checked_login_epoch(tx, row->get_text("user_id"), std::nullopt);
    check_client(tx, client_id);
    // Only one of two concurrent refreshes with the same token wins the rotation.
    if (tx.exec("UPDATE auth_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL",
                {hash, now}) != 1) {
      throw AuthError(AuthFailure::grant_invalid, "refresh token used concurrently");
    }
    const std::string insert =
        "INSERT INTO auth_tokens (token_hash, id, kind, grant_id, user_id, client_id, scope, credential_id, expires_at, "
        "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8, $9)";
    tx.exec(insert, {sha256_hex(out.access_token.view()), new_id(), std::string("access"), grant, row->get_text("user_id"),
                     store::nullable(client_id), out.scope, now + out.expires_in, now});
    tx.exec(insert, {sha256_hex(out.refresh_token.view()), new_id(), std::string("refresh"), grant,
                     row->get_text("user_id"), store::nullable(client_id), out.scope, now + options_.refresh_ttl.count(), now});
  });
  return out;
}

bool TokenService::revoke(std::string_view token) {
  const bool access = well_formed(token, kAccessPrefix);
  if (!access && !well_formed(token, kRefreshPrefix)) return false;
  const std::string hash = sha256_hex(token);
  const std::int64_t now = to_unix(clock_.now());
  bool found = false;
  if (access) {
    found = db_.exec("UPDATE auth_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE token_hash = $1 AND kind = 'access'",
                     {hash, now}) > 0;
  } else if (const auto row =
                 db_.query_one("SELECT grant_id FROM auth_tokens WHERE token_hash = $1 AND kind = 'refresh'", {hash})) {
    db_.exec("UPDATE auth_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE grant_id = $1", {row->get_text(0), now});
    found = true;
  }
  cache_->clear();  // after the write (a read that raced it is dropped: Cache::generation)
  return found;
}

std::int64_t TokenService::revoke_user(std::string_view user_id) {
  std::int64_t n = 0;
  db_.transaction([&](store::Database& tx) {
    tx.exec("UPDATE users SET login_epoch = login_epoch + 1 WHERE id = $1", {std::string(user_id)});
    n = tx.exec("UPDATE auth_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
                {std::string(user_id), to_unix(clock_.now())});
  });
  cache_->clear();
  return n;
}

std::optional<std::int64_t> TokenService::login_epoch(std::string_view user_id) {
  const auto row = db_.query_one("SELECT login_epoch FROM users WHERE id = $1", {std::string(user_id)});
  if (!row) return std::nullopt;
  return row->get_int(0);
}

void TokenService::forget_cached() { cache_->clear(); }

std::int64_t TokenService::purge_expired() {
  return db_.exec("DELETE FROM auth_tokens WHERE expires_at < $1", {to_unix(clock_.now()) - kPurgeGrace});
}

}  // namespace sigil::auth
