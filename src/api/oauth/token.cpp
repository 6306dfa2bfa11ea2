// POST oauth2/token (RFC 6749 §3.2, §4.1.3, §4.4, §6) and POST oauth2/revoke (RFC 7009).
//
// Parameters come form-encoded (or as a flat JSON object, as CSC v1 clients send them; the token
// endpoint also takes parameters the body lacks from the query string). Client authentication is
// HTTP Basic (RFC 6749 §2.3.1: form-encoded id and secret) or client_id/client_secret in the body,
// never both. Every issue and refusal is audited (never a secret); an issue that cannot be audited
// is revoked and answered 503 (fail closed).
#include <cctype>

#include "oauth_internal.hpp"
#include "sigil/auth/errors.hpp"
#include "sigil/auth/tokens.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/common/log.hpp"
#include "sigil/common/secure.hpp"
#include "sigil/store/store.hpp"

namespace sigil::api::oauth::detail {
namespace {

struct ClientAuth {
  std::string client_id;
  SecretString secret;
  bool has_secret = false;
  bool basic = false;

  std::optional<std::string_view> secret_view() const {
    return has_secret ? std::optional<std::string_view>(secret.view()) : std::nullopt;
  }
};

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) != std::tolower(static_cast<unsigned char>(prefix[i]))) return false;
  }
  return true;
}

ClientAuth client_auth(const http::Request& req, const Params& p) {
  ClientAuth out;
  const auto header = req.header("Authorization");
  if (header && starts_with_ci(*header, "Basic ")) {
    std::string_view v = header->substr(6);
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    Bytes raw;
    try {
      raw = base64_decode(v);
    } catch (const Error&) {
      fail("invalid_client", "Malformed client authentication", 401);
    }
    std::string creds(raw.begin(), raw.end());
    secure_wipe(raw.data(), raw.size());
    const auto colon = creds.find(':');
    std::optional<std::string> id;
    std::optional<std::string> secret;
    if (colon != std::string::npos) {
      id = http::percent_decode(std::string_view(creds).substr(0, colon), true);
      secret = http::percent_decode(std::string_view(creds).substr(colon + 1), true);
    }
    secure_wipe(creds.data(), creds.size());
    if (!id || !secret || id->empty()) {
      if (secret) secure_wipe(secret->data(), secret->size());
      fail("invalid_client", "Malformed client authentication", 401);
    }
    out.basic = true;
    out.client_id = std::move(*id);
    out.has_secret = true;
    out.secret = SecretString(std::move(*secret));
    if (p.get("client_secret")) fail("invalid_request", "Use one client authentication method");
    if (const auto body_id = p.get("client_id"); body_id && *body_id != out.client_id) {
      fail("invalid_request", "client_id does not match the client authentication");
    }
    return out;
  }
  out.client_id = p.value("client_id");
  if (p.get("client_secret")) {
    out.has_secret = true;
    out.secret = SecretString(p.value("client_secret"));
  }
  if (out.client_id.empty()) fail("invalid_client", "Client authentication required", 401);
  return out;
}

std::string username_of(const Shared& s, const std::string& user_id) {
  const auto u = s.ctx.store.users().get(user_id);
  return u ? u->username : std::string();
}

http::Response issued(Shared& s, const http::Request& req, std::string_view grant, const std::string& client_id,
                       const auth::IssuedTokens& t) {
  try {
    const auth::TokenInfo info = s.ctx.tokens.authenticate(t.access_token.view());
    audit::Event e = audit::make_event(audit::type::oauth_token_issued,
                                       actor_of(req, info.user_id, username_of(s, info.user_id)), true);
    e.details["grant_type"] = std::string(grant);
    e.details["client_id"] = client_id;
    e.details["user_id"] = info.user_id;
    e.details["scope"] = t.scope;
    e.details["grant_id"] = t.grant_id;
    e.details["token_id"] = info.id;
    e.details["refresh_token"] = t.refresh_token.empty() ? "no" : "yes";
    if (t.credential_id) e.details["credential_id"] = *t.credential_id;
    s.audit(std::move(e));
  } catch (...) {
    // Not durably recorded (or not usable): the client must not get it.
    s.ctx.tokens.revoke(t.access_token.view());
    if (!t.refresh_token.empty()) s.ctx.tokens.revoke(t.refresh_token.view());
    throw;
  }
  nlohmann::json out{{"access_token", std::string(t.access_token.view())},
                     {"token_type", "Bearer"},
                     {"expires_in", t.expires_in},
                     {"scope", t.scope}};
  if (!t.refresh_token.empty()) out["refresh_token"] = std::string(t.refresh_token.view());
  if (t.credential_id) out["credentialID"] = *t.credential_id;
  auto res = http::Response::json(200, out);
  no_store(res);
  return res;
}

// Records a refusal; if even that cannot be written, the answer becomes 503.
OAuthError refused(Shared& s, const http::Request& req, std::string_view type, std::string_view grant,
                   const std::string& client_id, const std::exception& cause) {
  OAuthError err = token_error(cause);
  if (err.status >= 500) log::error("{} {}: {}", req.route, req.request_id, cause.what());
  if (const auto* a = dynamic_cast<const auth::AuthError*>(&cause); a != nullptr) {
    log::info("{} {}: refused, {} ({})", req.route, req.request_id, auth::to_string(a->failure()), a->internal_detail());
  }
  try {
    audit::Event e = audit::make_event(type, actor_of(req, printable(client_id)), false);
    if (!grant.empty()) e.details["grant_type"] = printable(grant);
    if (!client_id.empty()) e.details["client_id"] = printable(client_id);
    e.details["error"] = err.error;
    if (const auto* a = dynamic_cast<const auth::AuthError*>(&cause); a != nullptr) {
      e.details["reason"] = std::string(auth::to_string(a->failure()));
    }
    s.audit(std::move(e));
  } catch (const std::exception& e) {
    log::error("{} {}: refusal not audited: {}", req.route, req.request_id, e.what());
    return {503, "temporarily_unavailable", "The service is temporarily unavailable"};
  }
  return err;
}

http::Response token(Shared& s, http::Request& req) {
  std::string grant;
  std::string client_id;
  try {
    const Params p = body_params(req, true);
    grant = p.value("grant_type");
    const ClientAuth client = client_auth(req, p);
    client_id = client.client_id;
    if (grant.empty()) fail("invalid_request", "Missing grant_type");
    s.check_audit();  // fail closed before a code or refresh token is used up
    if (grant == "authorization_code") {
      const auto code = p.get("code");
      if (!code) fail("invalid_request", "Missing code");
      const auto verifier = p.get("code_verifier");
      if (!verifier) fail("invalid_request", "Missing code_verifier");
      std::string redirect_uri = p.value("redirect_uri");
      if (redirect_uri.empty()) {
        // Optional at authorize time for a client with one redirect URI, so optional here too.
        if (const auto c = s.ctx.clients.get(client_id); c && c->redirect_uris.size() == 1) redirect_uri = c->redirect_uris.front();
      }
      const auth::IssuedTokens t =
          s.ctx.oauth.exchange_code(client_id, client.secret_view(), *code, redirect_uri, *verifier);
      return issued(s, req, grant, client_id, t);
    }
    if (grant == "refresh_token") {
      const auto refresh = p.get("refresh_token");
      if (!refresh) fail("invalid_request", "Missing refresh_token");
      const auth::IssuedTokens t = s.ctx.oauth.refresh(client_id, client.secret_view(), *refresh);
      return issued(s, req, grant, client_id, t);
    }
    if (grant == "client_credentials") {
      const auth::IssuedTokens t = s.ctx.oauth.client_credentials(client_id, client.secret_view(), p.value("scope"));
      return issued(s, req, grant, client_id, t);
    }
    fail("unsupported_grant_type", "Unsupported grant_type");
  } catch (const std::exception& e) {
    return json_error(refused(s, req, audit::type::oauth_token_refused, grant, client_id, e));
  }
}

http::Response revoke(Shared& s, http::Request& req) {
  std::string client_id;
  try {
    const Params p = body_params(req, false);
    const ClientAuth client = client_auth(req, p);
    client_id = client.client_id;
    const auto token = p.get("token");
    if (!token) fail("invalid_request", "Missing (or invalid type) string parameter token");
    s.check_audit();
    // token_type_hint is only a hint (RFC 7009 §2.1): the token's own prefix says what it is.
    const bool revoked = s.ctx.oauth.revoke(client_id, client.secret_view(), *token);
    audit::Event e = audit::make_event(audit::type::oauth_token_revoked, actor_of(req, printable(client_id)), true);
    e.details["client_id"] = client_id;
    e.details["revoked"] = revoked ? "yes" : "no";
    if (const auto hint = p.get("token_type_hint")) e.details["token_type_hint"] = printable(*hint, 32);
    s.audit(std::move(e));
    http::Response res;
    res.status = 200;  // also for an unknown token (RFC 7009 §2.2)
    res.content_type.clear();
    no_store(res);
    return res;
  } catch (const std::exception& e) {
    return json_error(refused(s, req, audit::type::oauth_token_revoked, {}, client_id, e));
  }
}

}  // namespace

void register_token(http::Router& router, const SharedPtr& shared, const std::string& prefix) {
  router.add("POST", prefix + "token", http::AuthRequirement::none(), [shared](http::Request& req) { return token(*shared, req); });
  router.add("POST", prefix + "revoke", http::AuthRequirement::none(),
             [shared](http::Request& req) { return revoke(*shared, req); });
}

}  // namespace sigil::api::oauth::detail
