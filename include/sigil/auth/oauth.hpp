// OAuth 2.0 clients and the authorization-code flow with PKCE (RFC 6749 §4.1, RFC 7636 S256 only),
// used by the CSC oauth2 endpoints and by portals. Transport-neutral: the HTTP layer parses the
// form/query, shows the login page, and calls these functions.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sigil/auth/tokens.hpp"
#include "sigil/common/clock.hpp"
#include "sigil/common/secure.hpp"
#include "sigil/store/database.hpp"

namespace sigil::auth {

struct OAuthClient {
  std::string client_id;
  std::string name;
  std::vector<std::string> redirect_uris;  // matched exactly (no prefix or wildcard matching)
  std::vector<std::string> grant_types;    // "authorization_code", "refresh_token"
  std::vector<std::string> scopes;         // "service", "credential"
  bool confidential = true;                // has a secret
  std::int64_t created_at = 0;
  // grant_type=client_credentials: the service user (role "service") the client acts as.
  std::optional<std::string> service_user_id;
};

struct NewOAuthClient {
  std::string name;
  std::vector<std::string> redirect_uris;
  std::vector<std::string> grant_types{"authorization_code", "refresh_token"};
  std::vector<std::string> scopes{"service", "credential"};
  bool confidential = true;
  // Binds the client to one user with role "service" for grant_type=client_credentials (the grant
  // must be listed, the client must be confidential). A client with only client_credentials needs
  // no redirect URI.
  std::optional<std::string> service_user_id;
};

struct RegisteredClient {
  OAuthClient client;
  SecretString secret;  // confidential clients: "cs_<43 base64url>", shown once; empty otherwise
};

// `sigilctl client add|list|remove` and the token endpoint's client authentication.
class OAuthClients {
 public:
  OAuthClients(store::Database& db, const Clock& clock);

  // Error(invalid_argument) for a redirect URI that is not absolute https:// (http:// only on
  // loopback, or a private-use scheme "com.example.app:/cb"), with a fragment, or for unknown grant
  // types or scopes; for client_credentials on a public client or without a service user, and for
  // a service_user_id that is not an active user with role "service".
  RegisteredClient add(const NewOAuthClient& client);
  std::optional<OAuthClient> get(std::string_view client_id);
  std::vector<OAuthClient> list();
  bool remove(std::string_view client_id);
  // Checks the client secret in constant time (a public client must present none). AuthError
  // client_invalid otherwise (unknown client, wrong or missing secret).
  OAuthClient authenticate(std::string_view client_id, const std::optional<std::string_view>& secret);

 private:
  store::Database& db_;
  const Clock& clock_;
};

// The parameters of a browser authorization request (oauth2/authorize).
struct AuthorizationRequest {
  std::string response_type = "code";
  std::string client_id;
  std::string redirect_uri;
  std::string scope = "service";
  std::optional<std::string> credential_id;  // scope "credential"
  std::string code_challenge;
  std::string code_challenge_method = "S256";
};

struct OAuthOptions {
  std::chrono::seconds code_ttl{60};
};

class OAuthService {
 public:
  // Everything must outlive the service.
  OAuthService(store::Database& db, const Clock& clock, OAuthClients& clients, TokenService& tokens,
               OAuthOptions options = {});

  // Step 1, before showing the login page: the client exists, the redirect URI is one of its own
  // (exactly), it may use the code grant and the scope, and PKCE S256 is present. On
  // redirect_uri_invalid / client_invalid the server must NOT redirect (show an error page);
  // other failures go back on the redirect as ?error=.
  OAuthClient validate(const AuthorizationRequest& request);

  // Step 2, after the user has authenticated: a single-use code bound to client, redirect URI,
  // user, scope, credential and the PKCE challenge, valid options.code_ttl.
  // Scope "credential" (CSC oauth2code credential authorisation): the login page first runs
  // AuthorizationService::authorize_credential (PIN/OTP, hashes, numSignatures) and passes the
  // resulting Sad::id here; the unused SAD must belong to the user and the credential
  // (AuthError grant_invalid otherwise). At the code exchange that SAD is re-keyed to the
  // credential-scope access token, so the token itself is the SAD (CSC §2.4): consume_sad(token)
  // with the client id; the SAD value the page held stops working.
  // `login_epoch`: the epoch the user's password was checked at (verify_password); the code is
  // written only if the user is still active at that epoch (AuthError login_superseded otherwise)
  // and carries it to the exchange, whose tokens TokenService::issue checks against it again.
  // nullopt takes the user's current epoch (tests; no login behind the code).
  SecretString issue_code(const AuthorizationRequest& request, std::string_view user_id,
                          const std::optional<std::string>& sad_id = std::nullopt,
                          std::optional<std::int64_t> login_epoch = std::nullopt);

  // Token endpoint, grant_type=authorization_code. Client authentication first (secret for
  // confidential clients), then the code: unknown, used, expired, other client, other redirect URI
  // or failing PKCE → AuthError grant_invalid (a reused code also revokes the tokens it produced,
  // RFC 6749 §4.1.2). Scope "service" gets a refresh token when the client may refresh.
  IssuedTokens exchange_code(std::string_view client_id, const std::optional<std::string_view>& client_secret,
                             std::string_view code, std::string_view redirect_uri, std::string_view code_verifier);

  // Token endpoint, grant_type=refresh_token.
  IssuedTokens refresh(std::string_view client_id, const std::optional<std::string_view>& client_secret,
                       std::string_view refresh_token);

  // Token endpoint, grant_type=client_credentials (CSC "oauth2client", service users): a confidential
  // client bound to a service user gets a "service" access token for that user, without a refresh
  // token. `scope` empty or "service" (AuthError scope_invalid otherwise). AuthError client_invalid
  // (authentication), unauthorized_client (grant not allowed, public client, no service user),
  // user_disabled (the service user is disabled or lost its role).
  IssuedTokens client_credentials(std::string_view client_id, const std::optional<std::string_view>& client_secret,
                                  std::string_view scope = {});

  // RFC 7009 (oauth2/revoke): authenticates the client, then revokes `token` if it is an access or
  // refresh token issued to that client (a refresh token takes its grant with it). Returns false for
  // an unknown token or one of another client (nothing happens; the endpoint answers 200 anyway).
  bool revoke(std::string_view client_id, const std::optional<std::string_view>& client_secret, std::string_view token);

 private:
  store::Database& db_;
  const Clock& clock_;
  OAuthClients& clients_;
  TokenService& tokens_;
  OAuthOptions options_;
};

// Server-side tickets of the browser login page (oauth2/authorize, docs/adr/0017): after a correct
// password, when the page must ask again (a delivered OTP), the page carries a ticket instead of the
// password. "lt_" + 256 random bits, SHA-256 stored (oauth_login_tickets), bound to the user, the
// client, a digest of the authorization request and the credential transaction; short-lived, a
// bounded number of attempts, single use.
struct LoginTicket {
  std::string user_id;
  std::string client_id;
  std::optional<std::string> transaction_id;
  std::int64_t attempts = 0;  // failed second-factor attempts made with it so far
  std::int64_t login_epoch = 0;  // the user's login epoch its password check was made at
};

class LoginTickets {
 public:
  LoginTickets(store::Database& db, const Clock& clock, std::chrono::seconds ttl = std::chrono::seconds{300},
               unsigned max_attempts = 3);
  // A new ticket (deletes expired ones first), carrying the login epoch of the password check it
  // continues (AuthError login_superseded if the user is no longer active at that epoch; nullopt
  // takes the current epoch: tests).
  SecretString create(std::string_view user_id, std::string_view client_id, std::string_view request_digest,
                      const std::optional<std::string>& transaction_id,
                      std::optional<std::int64_t> login_epoch = std::nullopt);
  // The ticket's facts if it exists, is unexpired, is bound to this client and request digest and
  // has attempts left; nullopt otherwise (the caller starts again).
  std::optional<LoginTicket> check(std::string_view ticket, std::string_view client_id, std::string_view request_digest);
  // A failed attempt with it; returns false when it is now used up (deleted).
  bool fail(std::string_view ticket);
  // Single use: deletes it; false if it was already gone (a concurrent use).
  bool consume(std::string_view ticket);
  std::int64_t purge_expired();

 private:
  store::Database& db_;
  const Clock& clock_;
  std::chrono::seconds ttl_;
  unsigned max_attempts_;
};

// base64url(SHA-256(verifier)) without padding (RFC 7636 §4.2); AuthError pkce_invalid for a
// verifier that is not 43..128 characters of [A-Za-z0-9-._~].
std::string pkce_s256(std::string_view code_verifier);

}  // namespace sigil::auth
