// The OAuth 2.0 endpoints (RFC 6749, PKCE RFC 7636, revocation RFC 7009) for CSC apps and portals,
// served under both /csc/v2/oauth2/ and /oauth2/, and the admin routes for OAuth clients.
// docs/authentication.md ("OAuth 2.0 endpoints") and docs/adr/0017-oauth-login-page.md.
//
// - GET  oauth2/authorize: validates the request, renders a self-contained login (and, for scope
//   "credential", PIN/OTP) page; POST oauth2/authorize: the page's form -> 302 redirect_uri?code=.
// - POST oauth2/token: authorization_code (PKCE S256), refresh_token, client_credentials.
// - POST oauth2/revoke.
// Thin transport: the logic is auth::OAuthService, auth::TokenService, auth::AuthorizationService.
#pragma once

#include <chrono>
#include <string>

#include "sigil/config/config.hpp"

namespace sigil {
class Clock;
}
namespace sigil::http {
class Router;
}
namespace sigil::audit {
class Sink;
}
namespace sigil::auth {
class OAuthService;
class OAuthClients;
class TokenService;
class AuthorizationService;
}  // namespace sigil::auth
namespace sigil::store {
class Store;
class UserRepository;
}  // namespace sigil::store

namespace sigil::api::oauth {

struct OAuthContext {
  auth::OAuthService& oauth;
  auth::OAuthClients& clients;
  auth::TokenService& tokens;
  auth::AuthorizationService& authorization;
  // Users (verify_password, lockout counters), credentials (their second_factor), and the
  // database of the login tickets (oauth_login_tickets).
  store::Store& store;
  const Clock& clock;
  // auth.success/failure/lockout from the login page, oauth.code_issued, oauth.token_issued,
  // oauth.token_refused, oauth.token_revoked. Fail closed: when an append throws, the request fails
  // (and tokens issued by it are revoked). nullptr only in tools/tests that audit nothing.
  audit::Sink* audit = nullptr;
  // The password lockout policy of the login page (the same as HTTP Basic and auth/login).
  config::AuthConfig login_policy{};
  // The OTP provider of credentials delivers codes (SMS/e-mail/file): the page asks for the
  // password first, sends the code (AuthorizationService::begin) and asks for it on a second page.
  // false (TOTP/HOTP app): the OTP field is on the first page.
  bool otp_delivered = false;
  std::string service_name = "Sigil";           // shown on the page
  std::chrono::seconds ticket_ttl{300};         // the second page's login ticket
  unsigned max_ticket_attempts = 3;             // wrong PIN/OTP answers per ticket
  bool secure_cookie = true;                    // "Secure" on the CSRF cookie (false only for plain-HTTP tests)
};

// Registers GET+POST {/csc/v2,}/oauth2/authorize, POST {/csc/v2,}/oauth2/token and
// POST {/csc/v2,}/oauth2/revoke (AuthRequirement::none(): the routes authenticate clients and users
// themselves). Everything `context` refers to must outlive the router.
void register_routes(http::Router& router, OAuthContext context);

// Admin API (role admin, audited like the other admin routes):
//   POST   /api/admin/v1/oauth-clients        {name, redirect_uris[], confidential?, grant_types[]?,
//                                              scopes[]?, service_user?} -> 201 with client_secret once
//   GET    /api/admin/v1/oauth-clients        -> {"oauth_clients": [...]}
//   DELETE /api/admin/v1/oauth-clients/{id}   -> 204 (its tokens are revoked)
// Events admin.oauth_client.create / admin.oauth_client.delete. All references must outlive the router.
void register_admin_routes(http::Router& router, auth::OAuthClients& clients, store::UserRepository& users,
                           audit::Sink& audit);

}  // namespace sigil::api::oauth
