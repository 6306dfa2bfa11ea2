// Bearer access tokens and refresh tokens (ADR 0014): opaque random strings, stored only as their
// SHA-256, with expiry, revocation, scope, client id and an optional credential (scope
// "credential"). Tokens of one login / code exchange share a grant id: revoking a refresh token
// revokes the grant; presenting an already rotated refresh token again (theft) revokes it too.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "sigil/common/clock.hpp"
#include "sigil/common/secure.hpp"
#include "sigil/store/database.hpp"

namespace sigil::auth {

struct TokenOptions {
  std::chrono::seconds access_ttl{3600};
  std::chrono::seconds credential_ttl{300};        // scope "credential" tokens (no refresh token)
  std::chrono::seconds refresh_ttl{30 * 24 * 3600};
  // How long authenticate() reuses what it read about an access token (0 = read every time).
  // Revocations through this service take effect at once; a revocation or a user disabled by
  // another process (sigilctl --local, another node) within this time. Signing re-checks the
  // token in the commit that spends the SAD, so the cache never lets a revoked token sign.
  std::chrono::milliseconds cache_ttl{2000};
};

struct IssuedTokens {
  SecretString access_token;   // "at_<43 base64url>": show once
  SecretString refresh_token;  // "rt_<43 base64url>", empty when none was issued
  std::int64_t expires_in = 0; // seconds
  std::string scope;
  std::optional<std::string> credential_id;
  std::string grant_id;
};

struct TokenInfo {
  std::string id;  // public token id (safe to log)
  std::string grant_id;
  std::string user_id;
  std::optional<std::string> client_id;
  std::string scope;  // "service" or "credential"
  std::optional<std::string> credential_id;
  std::int64_t expires_at = 0;
};

class TokenService {
 public:
  // `db` and `clock` must outlive the service.
  TokenService(store::Database& db, const Clock& clock, TokenOptions options = {});
  ~TokenService();
  TokenService(const TokenService&) = delete;
  TokenService& operator=(const TokenService&) = delete;

  // New tokens for a user (CSC auth/login, the OAuth token endpoint). scope "service" or
  // "credential" (then `credential_id` is required and no refresh token is issued).
  // `login_epoch`: the user's login epoch the login behind these tokens was checked at
  // (store::UserRepository::verify_password, or read before the check of a client secret); the
  // tokens are written only if the user is still active at that epoch, in the same transaction,
  // else AuthError login_superseded: a password change, disable or revoke_user() that landed while
  // the login was being checked voids it. Every caller with a login behind it passes one; with
  // nullopt (tests) only "the user is active" is checked.
  IssuedTokens issue(std::string_view user_id, const std::optional<std::string>& client_id, std::string_view scope,
                     const std::optional<std::string>& credential_id = std::nullopt, bool with_refresh = false,
                     std::optional<std::int64_t> login_epoch = std::nullopt);
  // The user's current login epoch (store::User::login_epoch); nullopt for an unknown user.
  std::optional<std::int64_t> login_epoch(std::string_view user_id);

  // The token's facts, or AuthError token_invalid (unknown, malformed, revoked, refresh token used
  // as access token, user disabled) / token_expired. Comparison is by SHA-256 lookup. `read`:
  // `cached` may answer from what was read within cache_ttl (the CSC API: its signing path
  // re-checks the token when it spends the SAD); `fresh` always reads the store (every other API,
  // whose signatures have no such check).
  enum class Read { cached, fresh };
  TokenInfo authenticate(std::string_view access_token, Read read = Read::fresh);

  // Rotation: the refresh token is used up and a new access + refresh pair of the same grant is
  // issued. A refresh token presented a second time revokes the whole grant (AuthError
  // grant_invalid), as does an expired/unknown one (grant_invalid). `client_id`, when the token was
  // issued to a client, must match.
  IssuedTokens refresh(std::string_view refresh_token, const std::optional<std::string>& client_id);

  // RFC 7009 semantics: revoking an access token revokes only it; a refresh token revokes its whole
  // grant. Returns false for an unknown token (the endpoint answers 200/204 all the same).
  bool revoke(std::string_view token);
  // Revokes every token of the user (password change, disable, admin action) and raises the
  // user's login epoch in the same transaction, so a login in progress (tokens, code or ticket not
  // yet issued) is void too; returns how many tokens were revoked.
  std::int64_t revoke_user(std::string_view user_id);
  // Deletes tokens that expired more than a day ago; returns how many.
  std::int64_t purge_expired();
  // Drops what authenticate() cached (after revoking tokens by other means than this service).
  void forget_cached();

 private:
  struct Cache;
  store::Database& db_;
  const Clock& clock_;
  TokenOptions options_;
  std::unique_ptr<Cache> cache_;
};

// Inside a write transaction on `tx`: the user's login epoch, which must equal `expected` (when
// given) with the user active; AuthError login_superseded otherwise (the password, status or
// sessions changed since the password check `expected` was read with). Holds the user's row lock
// until the transaction ends. What a login issues - tokens, an authorization code, a login ticket -
// is written in the same transaction.
std::int64_t checked_login_epoch(store::Database& tx, std::string_view user_id, std::optional<std::int64_t> expected);

// Lowercase hex SHA-256 (how tokens, codes and SADs are stored).
std::string sha256_hex(std::string_view data);

}  // namespace sigil::auth
