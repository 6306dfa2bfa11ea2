// GET/POST oauth2/authorize: the browser side of the code flow (RFC 6749 §4.1, CSC §4.4).
//
// GET validates the request and shows the login page; the page posts back here with the request
// in hidden fields (re-validated on every POST), a CSRF token (double submit: the same random
// value in an HttpOnly SameSite=Strict cookie set by GET), and username + password (+ PIN/OTP).
// When a second page is needed (a delivered OTP, or a wrong PIN/OTP after a correct password), it
// carries a server-side login ticket instead of the password (auth::LoginTickets, bound to the
// user, the client and the digest of the request). See docs/adr/0017-oauth-login-page.md.
#include <algorithm>

#include "oauth_internal.hpp"
#include "sigil/auth/authorization.hpp"
#include "sigil/auth/errors.hpp"
#include "sigil/auth/tokens.hpp"
#include "sigil/common/clock.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/common/log.hpp"
#include "sigil/store/store.hpp"

namespace sigil::api::oauth::detail {
namespace {

constexpr std::string_view kCsrfCookie = "sigil_oauth_csrf";
constexpr std::size_t kMaxState = 1024;
constexpr std::size_t kMaxDescription = 500;
constexpr std::string_view kLoginFailed = "Sign-in failed. Check your username and password, or try again later.";
constexpr std::string_view kFactorWrong = "The PIN or one-time code is not correct.";
constexpr std::string_view kStartAgain = "Too many wrong attempts, or the sign-in expired. Sign in again.";

// A refusal that goes back to the client on its (validated) redirect URI (RFC 6749 §4.1.2.1).
struct Redirected : std::exception {
  std::string location;
};

std::optional<HashAlg> hash_from_oid(std::string_view oid) {
  if (oid == "2.16.840.1.101.3.4.2.1") return HashAlg::sha256;
  if (oid == "2.16.840.1.101.3.4.2.2") return HashAlg::sha384;
  if (oid == "2.16.840.1.101.3.4.2.3") return HashAlg::sha512;
  return std::nullopt;
}

std::optional<HashAlg> hash_from_size(std::size_t n) {
  for (const HashAlg h : {HashAlg::sha256, HashAlg::sha384, HashAlg::sha512}) {
    if (digest_size(h) == n) return h;
  }
  return std::nullopt;
}

// The authorization request, validated.
struct Authz {
  auth::AuthorizationRequest request;
  auth::OAuthClient client;
  std::string state;
  std::string lang = "en";
  std::string description;
  unsigned num_signatures = 1;
  std::string hashes_text;
  std::vector<Bytes> hashes;
  std::string hash_alg_oid;
  std::optional<HashAlg> hash_alg;
  bool need_pin = false;
  bool need_otp = false;

  bool credential() const { return request.scope == "credential"; }

  [[noreturn]] void refuse(std::string_view error, std::string_view error_description) const {
    Redirected r;
    r.location = append_query(request.redirect_uri, {{"error", std::string(error)},
                                                     {"error_description", std::string(error_description)},
                                                     {"state", state}});
    throw r;
  }

  // The effective parameters: echoed in the page's hidden fields and digested for the ticket.
  std::vector<std::pair<std::string, std::string>> echo() const {
    std::vector<std::pair<std::string, std::string>> out{
        {"response_type", request.response_type}, {"client_id", request.client_id},
        {"redirect_uri", request.redirect_uri},   {"scope", request.scope},
        {"code_challenge", request.code_challenge}, {"code_challenge_method", request.code_challenge_method},
        {"state", state},                          {"lang", lang},
        {"description", description}};
    if (credential()) {
      out.emplace_back("credentialID", request.credential_id.value_or(""));
      out.emplace_back("numSignatures", std::to_string(num_signatures));
      out.emplace_back("hashes", hashes_text);
      out.emplace_back("hashAlgorithmOID", hash_alg_oid);
    }
    std::erase_if(out, [](const auto& kv) { return kv.second.empty(); });
    return out;
  }

  std::string digest() const {
    std::string canonical;
    for (const auto& [name, value] : echo()) {
      canonical += name;
      canonical += '\0';
      canonical += value;
      canonical += '\0';
    }
    return auth::sha256_hex(canonical);
  }
};

std::string_view redirect_error(auth::AuthFailure f) {
  using F = auth::AuthFailure;
  switch (f) {
    case F::scope_invalid: return "invalid_scope";
    case F::unauthorized_client: return "unauthorized_client";
    case F::pkce_invalid:
    case F::credential_unknown:
    case F::credential_disabled:
    case F::num_signatures_invalid:
    case F::hashes_required:
    case F::hash_invalid: return "invalid_request";
    default: return "access_denied";
  }
}

Authz parse_request(Shared& s, const Params& p) {
  Authz a;
  a.request.client_id = p.value("client_id");
  if (a.request.client_id.empty()) fail("invalid_request", "Missing client_id");
  a.request.redirect_uri = p.value("redirect_uri");
  if (a.request.redirect_uri.empty()) {
    // RFC 6749 §3.1.2.3: optional when the client registered exactly one.
    if (const auto c = s.ctx.clients.get(a.request.client_id); c && c->redirect_uris.size() == 1) {
      a.request.redirect_uri = c->redirect_uris.front();
    }
  }
  a.request.response_type = p.value("response_type");
  a.request.scope = p.get("scope") ? p.value("scope") : "service";
  if (const auto c = p.get("credentialID")) a.request.credential_id = std::string(*c);
  a.request.code_challenge = p.value("code_challenge");
  a.request.code_challenge_method = p.get("code_challenge_method") ? p.value("code_challenge_method") : "plain";
  a.state = p.value("state");
  if (a.state.size() > kMaxState) fail("invalid_request", "Parameter state too long");
  try {
    a.client = s.ctx.oauth.validate(a.request);
  } catch (const auth::AuthError& e) {
    if (e.failure() == auth::AuthFailure::client_invalid) fail("invalid_client", "Unknown client");
    if (e.failure() == auth::AuthFailure::redirect_uri_invalid) {
      fail("invalid_request", "The redirect_uri is missing or not registered for this client");
    }
    // The client and its redirect URI are known good from here on: errors go back to it.
    if (a.request.response_type != "code") a.refuse("unsupported_response_type", "response_type must be code");
    a.refuse(redirect_error(e.failure()), auth::public_message(e.failure()));
  }
  if (const auto lang = p.value("lang"); !lang.empty() && lang.size() <= 35 &&
                                         std::all_of(lang.begin(), lang.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; })) {
    a.lang = lang;
  }
  a.description = p.value("description").substr(0, kMaxDescription);
  if (!a.credential()) return a;

  if (const auto n = p.get("numSignatures")) {
    if (n->empty() || n->size() > 6 || !std::all_of(n->begin(), n->end(), [](char c) { return c >= '0' && c <= '9'; })) {
      a.refuse("invalid_request", "Invalid value for parameter numSignatures");
    }
    a.num_signatures = static_cast<unsigned>(std::stoul(std::string(*n)));
  }
  a.hashes_text = p.get("hashes") ? p.value("hashes") : p.value("hash");  // v1: hash
  for (std::string_view rest = a.hashes_text; !rest.empty();) {
    const auto comma = rest.find(',');
    const std::string_view h = rest.substr(0, comma);
    rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma + 1);
    try {
      a.hashes.push_back(base64_decode(h));
    } catch (const Error&) {
      a.refuse("invalid_request", "Invalid Base64 hash string parameter");
    }
    if (a.hashes.back().empty()) a.refuse("invalid_request", "Invalid Base64 hash string parameter");
  }
  a.hash_alg_oid = p.value("hashAlgorithmOID");
  if (!a.hash_alg_oid.empty()) {
    a.hash_alg = hash_from_oid(a.hash_alg_oid);
    if (!a.hash_alg) a.refuse("invalid_request", "Invalid parameter hashAlgorithmOID");
  } else if (!a.hashes.empty()) {
    a.hash_alg = hash_from_size(a.hashes.front().size());  // v1 has no hashAlgorithmOID
    if (!a.hash_alg) a.refuse("invalid_request", "Missing (or invalid type) string parameter hashAlgorithmOID");
  }
  // Which fields the page needs. The owner is checked once the user is known (same answer for an
  // unknown credential as for someone else's).
  const auto cred = s.ctx.store.credentials().get(*a.request.credential_id);
  if (!cred || cred->status != "active") a.refuse("invalid_request", "Invalid parameter credentialID");
  a.need_pin = cred->second_factor == "pin" || cred->second_factor == "pin_otp";
  a.need_otp = cred->second_factor == "otp" || cred->second_factor == "pin_otp";
  return a;
}

// What a ticket is bound to: the request and the browser (its CSRF token), so a ticket copied out
// of one browser's page is useless in another.
std::string bound_digest(const Authz& a, std::string_view csrf) {
  return auth::sha256_hex(a.digest() + ":" + std::string(csrf));
}

bool well_formed_csrf(std::string_view v) {
  return v.size() >= 16 && v.size() <= 64 && std::all_of(v.begin(), v.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
         });
}

PageModel page_for(const Shared& s, const http::Request& req, const Authz& a, const std::string& csrf) {
  PageModel m;
  m.action = req.path;
  m.service_name = s.ctx.service_name;
  m.client_name = a.client.name;
  m.lang = a.lang;
  m.credential_scope = a.credential();
  m.credential_id = a.request.credential_id.value_or("");
  m.num_signatures = a.num_signatures;
  m.hash_count = a.hashes.size();
  m.description = a.description;
  m.hidden = a.echo();
  m.hidden.emplace_back("csrf", csrf);
  return m;
}

// Step 1: username + password, plus the factors that can be typed at once (PIN, an app's OTP).
http::Response login_page(const Shared& s, const http::Request& req, const Authz& a, const std::string& csrf, int status,
                          std::string_view message = {}, std::string username = {}) {
  PageModel m = page_for(s, req, a, csrf);
  const bool two_steps = a.need_otp && s.ctx.otp_delivered;
  m.ask_pin = a.need_pin && !two_steps;
  m.ask_otp = a.need_otp && !two_steps;
  m.message = std::string(message);
  m.username = std::move(username);
  return render_page(status, m);
}

// Step 2: the credential's factors, with the ticket instead of the password.
http::Response factor_page(const Shared& s, const http::Request& req, const Authz& a, const std::string& csrf,
                           std::string_view ticket, int status, std::string_view message, bool otp_sent) {
  PageModel m = page_for(s, req, a, csrf);
  m.hidden.emplace_back("ticket", std::string(ticket));
  m.ask_password = false;
  m.ask_pin = a.need_pin;
  m.ask_otp = a.need_otp;
  m.otp_sent = otp_sent;
  m.message = std::string(message);
  return render_page(status, m);
}

// auth.failure (and auth.lockout when this failure locked the account), as the daemon's Basic login.
void audit_login_failure(const Shared& s, const http::Request& req, const Authz& a, const std::string& username,
                         store::VerifyResult result) {
  if (s.ctx.audit == nullptr) return;
  audit::record_password_failure(*s.ctx.audit, actor_of(req, {}, printable(username)), s.ctx.store.users(), s.ctx.clock,
                                 username, result, s.ctx.login_policy.max_failed_logins,
                                 {{"method", "oauth_page"}, {"client_id", a.client.client_id}});
}

// The code, audited, and the redirect back to the client.
http::Response issue_code(const Shared& s, const http::Request& req, const Authz& a, const store::User& user,
                          std::int64_t login_epoch, const std::optional<std::string>& sad_id) {
  s.check_audit();
  const SecretString code = s.ctx.oauth.issue_code(a.request, user.id, sad_id, login_epoch);
  audit::Event e = audit::make_event(audit::type::oauth_code_issued, actor_of(req, user.id, user.username), true);
  e.details["client_id"] = a.client.client_id;
  e.details["scope"] = a.request.scope;
  if (a.credential()) {
    e.details["credential_id"] = *a.request.credential_id;
    e.details["num_signatures"] = std::to_string(a.num_signatures);
    if (sad_id) e.details["sad_id"] = *sad_id;
  }
  s.audit(std::move(e));  // throws: the code is never shown, so it cannot be used (fail closed)
  http::Response res;
  res.status = 302;
  res.content_type.clear();
  res.set_header("Location", append_query(a.request.redirect_uri, {{"code", std::string(code.view())}, {"state", a.state}}));
  no_store(res);
  return res;
}

bool retryable(auth::AuthFailure f) {
  using F = auth::AuthFailure;
  return f == F::pin_invalid || f == F::otp_invalid || f == F::pin_missing || f == F::otp_missing;
}

// Credential authorisation (PIN/OTP), then the code bound to the SAD. A wrong factor shows the
// factor page again (with a ticket: never the password again); a void transaction starts over.
http::Response authorize_and_issue(Shared& s, const http::Request& req, const Authz& a, const store::User& user,
                                   std::int64_t login_epoch, const std::string& csrf,
                                   const std::optional<std::string>& transaction_id, const Params& f,
                                   std::optional<std::string_view> ticket) {
  auth::CredentialAuthRequest r;
  r.user_id = user.id;
  r.client_id = a.client.client_id;
  r.credential_id = *a.request.credential_id;
  r.transaction_id = transaction_id;
  r.pin = SecretString(f.value("pin"));
  r.otp = SecretString(f.value("otp"));
  r.num_signatures = a.num_signatures;
  r.hashes = a.hashes;
  r.hash_alg = a.hash_alg;
  std::optional<auth::Sad> sad;
  try {
    sad = s.ctx.authorization.authorize_credential(r);
  } catch (const auth::AuthError& e) {
    if (retryable(e.failure())) {
      if (ticket) {
        if (!s.tickets.fail(*ticket)) return login_page(s, req, a, csrf, 400, kStartAgain, user.username);
        return factor_page(s, req, a, csrf, *ticket, 400, kFactorWrong, false);
      }
      const SecretString fresh =
          s.tickets.create(user.id, a.client.client_id, bound_digest(a, csrf), transaction_id, login_epoch);
      return factor_page(s, req, a, csrf, fresh.view(), 400, kFactorWrong, false);
    }
    if (e.failure() == auth::AuthFailure::transaction_void || e.failure() == auth::AuthFailure::transaction_unknown) {
      if (ticket) s.tickets.consume(*ticket);
      return login_page(s, req, a, csrf, 400, kStartAgain, user.username);
    }
    throw;
  }
  if (ticket && !s.tickets.consume(*ticket)) {
    s.ctx.authorization.revoke_sad(sad->value.view());  // a concurrent POST with the same ticket won
    fail("invalid_request", "This sign-in was already completed");
  }
  try {
    return issue_code(s, req, a, user, login_epoch, sad->id);
  } catch (...) {
    s.ctx.authorization.revoke_sad(sad->value.view());  // no code, so the SAD must not outlive it
    throw;
  }
}

http::Response with_cookie(http::Response res, const Shared& s, const std::string& prefix, const std::string& csrf) {
  std::string c = std::string(kCsrfCookie) + "=" + csrf + "; Path=" + prefix + "; Max-Age=1800; HttpOnly; SameSite=Strict";
  if (s.ctx.secure_cookie) c += "; Secure";
  res.set_header("Set-Cookie", c);
  return res;
}

// Errors of the request itself (before the client and redirect URI are trusted) are pages; after
// that, refusals go back on the redirect URI.
template <class F>
http::Response guarded(const http::Request& req, F&& body) {
  try {
    return body();
  } catch (const Redirected& r) {
    http::Response res;
    res.status = 302;
    res.content_type.clear();
    res.set_header("Location", r.location);
    no_store(res);
    return res;
  } catch (const OAuthError& e) {
    return error_page(e.status, "Sign-in request refused", e.description);
  } catch (const Error& e) {
    if (e.info().http_status >= 500) log::error("oauth2/authorize {}: {} ({})", req.request_id, e.info().name, e.detail());
    return error_page(e.info().http_status >= 500 ? e.info().http_status : 400, "Sign-in unavailable",
                      e.info().http_status >= 500 ? std::string(e.info().public_message) : e.public_description());
  } catch (const std::exception& e) {
    log::error("oauth2/authorize {}: {}", req.request_id, e.what());
    return error_page(500, "Sign-in unavailable", "Internal server error");
  }
}

// After validation: AuthErrors and server failures go back to the client as ?error=.
template <class F>
http::Response validated(const Authz& a, const http::Request& req, F&& body) {
  try {
    return body();
  } catch (const Redirected&) {
    throw;
  } catch (const OAuthError&) {
    throw;
  } catch (const auth::AuthError& e) {
    log::info("oauth2/authorize {}: refused, {} ({})", req.request_id, auth::to_string(e.failure()), e.internal_detail());
    a.refuse(redirect_error(e.failure()), auth::public_message(e.failure()));
  } catch (const Error& e) {
    log::error("oauth2/authorize {}: {} ({})", req.request_id, e.info().name, e.detail());
    const bool busy = e.code() == Errc::audit_unavailable || e.code() == Errc::overloaded || e.code() == Errc::store_unavailable;
    a.refuse(busy ? "temporarily_unavailable" : "server_error", e.info().public_message);
  }
}

http::Response get_authorize(Shared& s, http::Request& req, const std::string& prefix) {
  const Params p = query_params(req);
  const Authz a = parse_request(s, p);
  std::string csrf = cookie(req, kCsrfCookie).value_or("");
  if (!well_formed_csrf(csrf)) csrf = random_token(24);
  return with_cookie(login_page(s, req, a, csrf, 200), s, prefix, csrf);
}

http::Response post_authorize(Shared& s, http::Request& req) {
  const Params f = body_params(req, false);
  const auto csrf_cookie = cookie(req, kCsrfCookie);
  const auto csrf_field = f.get("csrf");
  if (!csrf_cookie || !csrf_field || !well_formed_csrf(*csrf_cookie) || !constant_time_equal(*csrf_cookie, *csrf_field)) {
    return error_page(403, "Sign-in form expired",
                      "The sign-in form has expired or was not opened in this browser (cookies must be enabled).");
  }
  const std::string csrf = *csrf_cookie;
  const Authz a = parse_request(s, f);
  std::optional<store::User> signing_in;  // once known, for the record of a superseded sign-in
  // The user's password, status or sessions changed while this sign-in was under way (an
  // administrator's reset or disable): nothing was issued; recorded, and back to the sign-in form.
  const auto superseded = [&](const auth::AuthError& e) {
    audit::Event r = audit::make_event(audit::type::auth_failure,
                                       signing_in ? actor_of(req, signing_in->id, signing_in->username) : actor_of(req),
                                       false);
    r.details["method"] = "oauth_page";
    r.details["client_id"] = a.client.client_id;
    r.details["reason"] = std::string(auth::to_string(e.failure()));
    s.audit(std::move(r));
    return login_page(s, req, a, csrf, 400, kStartAgain, signing_in ? signing_in->username : std::string());
  };
  return validated(a, req, [&]() -> http::Response {
    try {
      if (const auto ticket = f.get("ticket")) {
        const auto t = a.credential() ? s.tickets.check(*ticket, a.client.client_id, bound_digest(a, csrf)) : std::nullopt;
        if (!t) return login_page(s, req, a, csrf, 400, kStartAgain);
        const auto user = s.ctx.store.users().get(t->user_id);
        if (!user) return login_page(s, req, a, csrf, 400, kStartAgain);
        signing_in = user;
        if (user->login_epoch != t->login_epoch) {  // changed since its password was checked
          s.tickets.consume(*ticket);
          throw auth::AuthError(auth::AuthFailure::login_superseded, "login ticket of an older login epoch");
        }
        return authorize_and_issue(s, req, a, *user, t->login_epoch, csrf, t->transaction_id, f, *ticket);
      }
      const std::string username = printable(f.value("username"), 128);
      const auto password = f.get("password");
      if (username.empty() || !password) return login_page(s, req, a, csrf, 400, "Enter your username and password.", username);
      std::int64_t epoch = 0;  // what the login issues is refused if the user changes meanwhile
      const auto result = s.ctx.store.users().verify_password(username, *password, s.ctx.clock, s.ctx.login_policy, &epoch);
      const auto user = result == store::VerifyResult::ok ? s.ctx.store.users().get_by_username(username) : std::nullopt;
      if (!user) {
        audit_login_failure(s, req, a, username, result);
        return login_page(s, req, a, csrf, 400, kLoginFailed, username);
      }
      signing_in = user;
      if (user->login_epoch != epoch) {  // before anything is sent or authorised (an OTP, a SAD)
        throw auth::AuthError(auth::AuthFailure::login_superseded, "the user changed during the password check");
      }
      audit::Event ok = audit::make_event(audit::type::auth_success, actor_of(req, user->id, user->username), true);
      ok.details["method"] = "oauth_page";
      ok.details["client_id"] = a.client.client_id;
      s.audit(std::move(ok));
      if (!a.credential()) return issue_code(s, req, a, *user, epoch, std::nullopt);
      if (a.need_otp && s.ctx.otp_delivered) {
        const auth::TransactionInfo tx = s.ctx.authorization.begin(user->id, *a.request.credential_id);
        const SecretString ticket = s.tickets.create(user->id, a.client.client_id, bound_digest(a, csrf), tx.id, epoch);
        return factor_page(s, req, a, csrf, ticket.view(), 200, {}, tx.challenge.delivered);
      }
      return authorize_and_issue(s, req, a, *user, epoch, csrf, std::nullopt, f, std::nullopt);
    } catch (const auth::AuthError& e) {
      if (e.failure() != auth::AuthFailure::login_superseded) throw;
      return superseded(e);
    }
  });
}

}  // namespace

void register_authorize(http::Router& router, const SharedPtr& shared, const std::string& prefix) {
  router.add("GET", prefix + "authorize", http::AuthRequirement::none(), [shared, prefix](http::Request& req) {
    return guarded(req, [&] { return get_authorize(*shared, req, prefix); });
  });
  router.add("POST", prefix + "authorize", http::AuthRequirement::none(), [shared](http::Request& req) {
    return guarded(req, [&] { return post_authorize(*shared, req); });
  });
}

}  // namespace sigil::api::oauth::detail
