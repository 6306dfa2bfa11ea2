#include "sigil/auth/oauth.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>

#include "sigil/auth/errors.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"

namespace sigil::auth {
namespace {

constexpr std::string_view kSecretPrefix = "cs_";
constexpr std::size_t kMaxRedirectUris = 10;
constexpr std::size_t kMaxUriBytes = 512;

bool contains(const std::vector<std::string>& v, std::string_view s) { return std::find(v.begin(), v.end(), s) != v.end(); }

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  while (!s.empty()) {
    const auto pos = s.find(sep);
    const auto part = s.substr(0, pos);
    if (!part.empty()) out.emplace_back(part);
    if (pos == std::string_view::npos) break;
    s.remove_prefix(pos + 1);
  }
  return out;
}

bool loopback_http(std::string_view uri) {
  for (const std::string_view host : {"http://127.0.0.1", "http://localhost", "http://[::1]"}) {
    if (uri.starts_with(host) && (uri.size() == host.size() || uri[host.size()] == ':' || uri[host.size()] == '/')) return true;
  }
  return false;
}

void check_redirect_uri(const std::string& uri) {
  const bool bad_chars = uri.find_first_of("# \t\r\n") != std::string::npos;
  const auto colon = uri.find(':');
  // Private-use scheme (RFC 8252 §7.1): reverse domain name, so it must contain a dot.
  const bool private_scheme = colon != std::string::npos && colon > 0 &&
                              uri.substr(0, colon).find('.') != std::string::npos && !uri.starts_with("http");
  const bool https = uri.starts_with("https://") && uri.size() > 8;
  if (uri.empty() || uri.size() > kMaxUriBytes || bad_chars || !(https || loopback_http(uri) || private_scheme)) {
    throw Error(Errc::invalid_argument, "redirect URI must be https://, http:// on loopback or a private-use scheme, without fragment: " + uri, true);
  }
}

OAuthClient client_from_row(const store::Row& r) {
  return OAuthClient{r.get_text("client_id"),
                     r.get_text("name"),
                     split(r.get_text("redirect_uris"), '\n'),
                     split(r.get_text("grant_types"), ','),
                     split(r.get_text("scopes"), ' '),
                     !r.is_null("secret_hash"),
                     r.get_int("created_at"),
                     r.opt_text("service_user_id")};
}

constexpr std::string_view kClientColumns =
    "client_id, name, secret_hash, redirect_uris, grant_types, scopes, created_at, service_user_id";

// Whether the user is active and holds the role "service".
bool active_service_user(store::Database& db, const std::string& user_id) {
  return db
      .query_one("SELECT 1 FROM users u JOIN user_roles r ON r.user_id = u.id AND r.role = 'service' "
                 "WHERE u.id = $1 AND u.status = 'active'",
                 {user_id})
      .has_value();
}

}  // namespace

std::string pkce_s256(std::string_view verifier) {
  const bool ok_len = verifier.size() >= 43 && verifier.size() <= 128;
  const bool ok_chars = std::all_of(verifier.begin(), verifier.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
  });
  if (!ok_len || !ok_chars) throw AuthError(AuthFailure::pkce_invalid, "malformed code_verifier");
  std::array<std::uint8_t, 32> md{};
  unsigned int len = 0;
  if (EVP_Digest(verifier.data(), verifier.size(), md.data(), &len, EVP_sha256(), nullptr) != 1) {
    throw Error(Errc::crypto, "EVP_Digest(SHA-256) failed");
  }
  return base64url_encode(md);
}

OAuthClients::OAuthClients(store::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

RegisteredClient OAuthClients::add(const NewOAuthClient& c) {
  if (c.name.empty() || c.name.size() > 128) throw Error(Errc::invalid_argument, "client name must be 1..128 bytes", true);
  if (c.grant_types.empty()) throw Error(Errc::invalid_argument, "a client needs a grant type", true);
  for (const auto& g : c.grant_types) {
    if (g != "authorization_code" && g != "refresh_token" && g != "client_credentials") {
      throw Error(Errc::invalid_argument, "unsupported grant type: " + g, true);
    }
  }
  // A machine-to-machine client (client_credentials only) has no redirect URI; a browser client 1..10.
  const bool code_grant = contains(c.grant_types, "authorization_code");
  if ((code_grant && c.redirect_uris.empty()) || c.redirect_uris.size() > kMaxRedirectUris) {
    throw Error(Errc::invalid_argument, "a client needs 1..10 redirect URIs", true);
  }
  for (const auto& u : c.redirect_uris) check_redirect_uri(u);
  for (const auto& s : c.scopes) {
    if (s != "service" && s != "credential") throw Error(Errc::invalid_argument, "unknown scope: " + s, true);
  }
  if (contains(c.grant_types, "client_credentials")) {
    if (!c.confidential) throw Error(Errc::invalid_argument, "client_credentials needs a confidential client", true);
    if (!c.service_user_id) throw Error(Errc::invalid_argument, "client_credentials needs a service user", true);
    if (!contains(c.scopes, "service")) throw Error(Errc::invalid_argument, "client_credentials needs scope service", true);
  } else if (c.service_user_id) {
    throw Error(Errc::invalid_argument, "a service user is bound only with the client_credentials grant", true);
  }
  if (c.service_user_id && !active_service_user(db_, *c.service_user_id)) {
    throw Error(Errc::invalid_argument, "the service user must be an active user with role service", true);
  }
  RegisteredClient out;
  out.client = OAuthClient{"cl_" + random_token(12), c.name, c.redirect_uris, c.grant_types, c.scopes, c.confidential,
                           to_unix(clock_.now()), c.service_user_id};
  if (c.confidential) out.secret = SecretString(std::string(kSecretPrefix) + random_token(32));
  db_.exec("INSERT INTO oauth_clients (client_id, name, secret_hash, redirect_uris, grant_types, scopes, created_at, "
           "service_user_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
           {out.client.client_id, out.client.name,
            c.confidential ? store::Value{sha256_hex(out.secret.view())} : store::Value{nullptr},
            join(c.redirect_uris, "\n"), join(c.grant_types, ","), join(c.scopes, " "), out.client.created_at,
            store::nullable(c.service_user_id)});
  return out;
}

std::optional<OAuthClient> OAuthClients::get(std::string_view client_id) {
  const auto row = db_.query_one("SELECT " + std::string(kClientColumns) + " FROM oauth_clients WHERE client_id = $1",
                                 {std::string(client_id)});
  if (!row) return std::nullopt;
  return client_from_row(*row);
}

std::vector<OAuthClient> OAuthClients::list() {
  std::vector<OAuthClient> out;
  for (const auto& r : db_.query("SELECT " + std::string(kClientColumns) + " FROM oauth_clients ORDER BY name, client_id")) {
    out.push_back(client_from_row(r));
  }
  return out;
}

bool OAuthClients::remove(std::string_view client_id) {
  bool removed = false;
  db_.transaction([&](store::Database& tx) {
    // The client's row first: a token being issued for it (TokenService holds that row while it
    // writes) commits before, and is revoked by the next statement, or is refused after.
    removed = tx.exec("DELETE FROM oauth_clients WHERE client_id = $1", {std::string(client_id)}) > 0;
    tx.exec("UPDATE auth_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE client_id = $1",
            {std::string(client_id), to_unix(clock_.now())});
  });
  return removed;
}

OAuthClient OAuthClients::authenticate(std::string_view client_id, const std::optional<std::string_view>& secret) {
  const auto row = db_.query_one("SELECT " + std::string(kClientColumns) + " FROM oauth_clients WHERE client_id = $1",
                                 {std::string(client_id)});
  // Hash even for an unknown client, so both paths cost the same.
  const std::string presented = sha256_hex(secret.value_or(""));
  if (!row) throw AuthError(AuthFailure::client_invalid, "unknown client");
  const auto stored = row->opt_text("secret_hash");
  if (stored) {
    if (!secret || !constant_time_equal(*stored, presented)) throw AuthError(AuthFailure::client_invalid, "wrong client secret");
  } else if (secret) {
    throw AuthError(AuthFailure::client_invalid, "public client presented a secret");
  }
  return client_from_row(*row);
}

OAuthService::OAuthService(store::Database& db, const Clock& clock, OAuthClients& clients, TokenService& tokens,
                           OAuthOptions options)
    : db_(db), clock_(clock), clients_(clients), tokens_(tokens), options_(options) {}

OAuthClient OAuthService::validate(const AuthorizationRequest& r) {
  const auto client = clients_.get(r.client_id);
  if (!client) throw AuthError(AuthFailure::client_invalid, "unknown client " + r.client_id);
  if (!contains(client->redirect_uris, r.redirect_uri)) {
    throw AuthError(AuthFailure::redirect_uri_invalid, "redirect_uri not registered for " + r.client_id);
  }
  if (r.response_type != "code" || !contains(client->grant_types, "authorization_code")) {
    throw AuthError(AuthFailure::unauthorized_client, "response_type " + r.response_type + " not allowed");
  }
  if (!contains(client->scopes, r.scope)) throw AuthError(AuthFailure::scope_invalid, "scope " + r.scope + " not allowed");
  if (r.scope == "credential" && (!r.credential_id || r.credential_id->empty())) {
    throw AuthError(AuthFailure::scope_invalid, "scope credential without credentialID");
  }
  if (r.code_challenge_method != "S256" || r.code_challenge.size() != 43) {
    throw AuthError(AuthFailure::pkce_invalid, "PKCE S256 challenge required");
  }
  return *client;
}

SecretString OAuthService::issue_code(const AuthorizationRequest& r, std::string_view user_id,
                                      const std::optional<std::string>& sad_id, std::optional<std::int64_t> login_epoch) {
  validate(r);
  const bool credential = r.scope == "credential";
  const std::int64_t now = to_unix(clock_.now());
  if (credential) {
    if (!sad_id) throw AuthError(AuthFailure::grant_invalid, "scope credential needs an authorised SAD");
    if (!db_.query_one("SELECT 1 FROM sads WHERE id = $1 AND user_id = $2 AND credential_id = $3 AND used_count = 0 "
                       "AND revoked = 0 AND expires_at > $4",
                       {*sad_id, std::string(user_id), *r.credential_id, now})) {
      throw AuthError(AuthFailure::grant_invalid, "SAD " + *sad_id + " unusable for this code");
    }
  }
  SecretString code("ac_" + random_token(32));
  db_.transaction([&](store::Database& tx) {
    const std::int64_t epoch = checked_login_epoch(tx, user_id, login_epoch);
    tx.exec("INSERT INTO oauth_codes (code_hash, client_id, user_id, redirect_uri, scope, credential_id, code_challenge, "
            "expires_at, used, created_at, sad_id, login_epoch) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9, $10, $11)",
            {sha256_hex(code.view()), r.client_id, std::string(user_id), r.redirect_uri, r.scope,
             credential ? store::nullable(r.credential_id) : store::Value{nullptr}, r.code_challenge,
             now + options_.code_ttl.count(), now, credential ? store::nullable(sad_id) : store::Value{nullptr}, epoch});
  });
  return code;
}

IssuedTokens OAuthService::exchange_code(std::string_view client_id, const std::optional<std::string_view>& client_secret,
                                         std::string_view code, std::string_view redirect_uri,
                                         std::string_view code_verifier) {
  const OAuthClient client = clients_.authenticate(client_id, client_secret);
  if (!contains(client.grant_types, "authorization_code")) throw AuthError(AuthFailure::unauthorized_client);
  const std::string hash = sha256_hex(code);
  const std::int64_t now = to_unix(clock_.now());
  const auto row = db_.query_one(
      "SELECT client_id, user_id, redirect_uri, scope, credential_id, code_challenge, expires_at, used, grant_id, sad_id, "
      "login_epoch FROM oauth_codes WHERE code_hash = $1",
      {hash});
  if (!row) throw AuthError(AuthFailure::grant_invalid, "unknown authorization code");
  if (row->get_int("used") != 0) {
    if (const auto grant = row->opt_text("grant_id")) {
      db_.exec("UPDATE auth_tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE grant_id = $1", {*grant, now});
      tokens_.forget_cached();
    }
    throw AuthError(AuthFailure::grant_invalid, "authorization code replayed; its tokens are revoked");
  }
  if (now >= row->get_int("expires_at")) throw AuthError(AuthFailure::grant_invalid, "authorization code expired");
  if (row->get_text("client_id") != client.client_id) throw AuthError(AuthFailure::grant_invalid, "code of another client");
  if (row->get_text("redirect_uri") != redirect_uri) throw AuthError(AuthFailure::grant_invalid, "redirect_uri mismatch");
  std::string computed;
  try {
    computed = pkce_s256(code_verifier);
  } catch (const AuthError&) {
    throw AuthError(AuthFailure::grant_invalid, "malformed code_verifier");
  }
  if (!constant_time_equal(computed, row->get_text("code_challenge"))) {
    throw AuthError(AuthFailure::grant_invalid, "PKCE verification failed");
  }
  if (db_.exec("UPDATE oauth_codes SET used = 1 WHERE code_hash = $1 AND used = 0", {hash}) != 1) {
    throw AuthError(AuthFailure::grant_invalid, "authorization code used concurrently");
  }
  const std::string scope = row->get_text("scope");
  // A code written before login epochs existed carries none: sign in again (fail closed).
  const auto epoch = row->opt_int("login_epoch");
  if (!epoch) throw AuthError(AuthFailure::login_superseded, "authorization code without a login epoch");
  IssuedTokens tokens = tokens_.issue(row->get_text("user_id"), client.client_id, scope, row->opt_text("credential_id"),
                                      scope == "service" && contains(client.grant_types, "refresh_token"), *epoch);
  db_.exec("UPDATE oauth_codes SET grant_id = $2 WHERE code_hash = $1", {hash, tokens.grant_id});
  if (const auto sad_id = row->opt_text("sad_id")) {
    // The credential-scope token becomes the SAD: re-key the (still unused) SAD record to it and bind
    // it to this client.
    if (db_.exec("UPDATE sads SET sad_hash = $2, client_id = $3 WHERE id = $1 AND used_count = 0 AND revoked = 0",
                 {*sad_id, sha256_hex(tokens.access_token.view()), client.client_id}) != 1) {
      tokens_.revoke(tokens.access_token.view());
      throw AuthError(AuthFailure::grant_invalid, "SAD " + *sad_id + " used or revoked before the code exchange");
    }
  }
  return tokens;
}

IssuedTokens OAuthService::refresh(std::string_view client_id, const std::optional<std::string_view>& client_secret,
                                   std::string_view refresh_token) {
  const OAuthClient client = clients_.authenticate(client_id, client_secret);
  if (!contains(client.grant_types, "refresh_token")) throw AuthError(AuthFailure::unauthorized_client);
  return tokens_.refresh(refresh_token, client.client_id);
}

IssuedTokens OAuthService::client_credentials(std::string_view client_id,
                                              const std::optional<std::string_view>& client_secret,
                                              std::string_view scope) {
  const OAuthClient client = clients_.authenticate(client_id, client_secret);
  if (!contains(client.grant_types, "client_credentials") || !client.confidential || !client.service_user_id) {
    throw AuthError(AuthFailure::unauthorized_client, "client " + client.client_id + " may not use client_credentials");
  }
  if (!scope.empty() && scope != "service") throw AuthError(AuthFailure::scope_invalid, "client_credentials gives scope service");
  if (!contains(client.scopes, "service")) throw AuthError(AuthFailure::scope_invalid, "scope service not allowed");
  // Read before the checks: a disable or revocation after it voids this grant (TokenService::issue).
  const auto epoch = tokens_.login_epoch(*client.service_user_id);
  if (!epoch || !active_service_user(db_, *client.service_user_id)) {
    throw AuthError(AuthFailure::user_disabled, "service user " + *client.service_user_id + " disabled or not a service user");
  }
  return tokens_.issue(*client.service_user_id, client.client_id, "service", std::nullopt, false, *epoch);
}

bool OAuthService::revoke(std::string_view client_id, const std::optional<std::string_view>& client_secret,
                          std::string_view token) {
  const OAuthClient client = clients_.authenticate(client_id, client_secret);
  if (token.empty() || token.size() > 256) return false;
  // Only a token of this client: another client's token is left alone (RFC 7009 §2.1).
  if (!db_.query_one("SELECT 1 FROM auth_tokens WHERE token_hash = $1 AND client_id = $2",
                     {sha256_hex(token), client.client_id})) {
    return false;
  }
  return tokens_.revoke(token);
}

// ---- login tickets ----

namespace {
constexpr std::string_view kTicketPrefix = "lt_";
}

LoginTickets::LoginTickets(store::Database& db, const Clock& clock, std::chrono::seconds ttl, unsigned max_attempts)
    : db_(db), clock_(clock), ttl_(ttl), max_attempts_(max_attempts) {}

SecretString LoginTickets::create(std::string_view user_id, std::string_view client_id, std::string_view request_digest,
                                  const std::optional<std::string>& transaction_id,
                                  std::optional<std::int64_t> login_epoch) {
  const std::int64_t now = to_unix(clock_.now());
  purge_expired();
  SecretString ticket(std::string(kTicketPrefix) + random_token(32));
  db_.transaction([&](store::Database& tx) {
    const std::int64_t epoch = checked_login_epoch(tx, user_id, login_epoch);
    tx.exec("INSERT INTO oauth_login_tickets (ticket_hash, user_id, client_id, request_digest, transaction_id, attempts, "
            "expires_at, created_at, login_epoch) VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $8)",
            {sha256_hex(ticket.view()), std::string(user_id), std::string(client_id), std::string(request_digest),
             store::nullable(transaction_id), now + ttl_.count(), now, epoch});
  });
  return ticket;
}

std::optional<LoginTicket> LoginTickets::check(std::string_view ticket, std::string_view client_id,
                                               std::string_view request_digest) {
  if (!ticket.starts_with(kTicketPrefix) || ticket.size() > 64) return std::nullopt;
  const auto row = db_.query_one(
      "SELECT user_id, client_id, request_digest, transaction_id, attempts, expires_at, login_epoch "
      "FROM oauth_login_tickets WHERE ticket_hash = $1",
      {sha256_hex(ticket)});
  if (!row || row->get_int("expires_at") <= to_unix(clock_.now()) || row->is_null("login_epoch")) return std::nullopt;
  if (row->get_text("client_id") != client_id || !constant_time_equal(row->get_text("request_digest"), request_digest)) {
    return std::nullopt;
  }
  if (row->get_int("attempts") >= static_cast<std::int64_t>(max_attempts_)) return std::nullopt;
  return LoginTicket{row->get_text("user_id"), row->get_text("client_id"), row->opt_text("transaction_id"),
                     row->get_int("attempts"), row->get_int("login_epoch")};
}

bool LoginTickets::fail(std::string_view ticket) {
  const std::string hash = sha256_hex(ticket);
  db_.exec("UPDATE oauth_login_tickets SET attempts = attempts + 1 WHERE ticket_hash = $1", {hash});
  if (db_.exec("DELETE FROM oauth_login_tickets WHERE ticket_hash = $1 AND attempts >= $2",
               {hash, static_cast<std::int64_t>(max_attempts_)}) > 0) {
    return false;
  }
  return true;
}

bool LoginTickets::consume(std::string_view ticket) {
  return db_.exec("DELETE FROM oauth_login_tickets WHERE ticket_hash = $1", {sha256_hex(ticket)}) == 1;
}

std::int64_t LoginTickets::purge_expired() {
  return db_.exec("DELETE FROM oauth_login_tickets WHERE expires_at <= $1", {to_unix(clock_.now())});
}

}  // namespace sigil::auth
