// info, auth/login, auth/revoke.
#include "csc.hpp"
#include "sigil/api/request_actor.hpp"
#include "sigil/audit/events.hpp"
#include "sigil/auth/errors.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/common/log.hpp"
#include "sigil/store/users.hpp"

namespace sigil::api::csc::detail {
namespace {

// "AdES-B-B" ... as far as the configured sources reach (B-T needs a TSA, B-LT revocation too).
Json conformance_levels(const CscContext& ctx) {
  Json out = Json::array({"AdES-B-B"});
  const auto& src = ctx.signing.sources();
  if (src.tsa != nullptr) {
    out.push_back("AdES-B-T");
    if (src.revocation != nullptr) {
      out.push_back("AdES-B-LT");
      out.push_back("AdES-B-LTA");
    }
  }
  return out;
}

// authType, and the OAuth base URI when an authorization server is beside the CSC routes.
void add_auth_types(const CscContext& ctx, const http::Request& req, Json& out) {
  Json types = Json::array();
  if (ctx.users != nullptr) types.push_back("basic");
  if (ctx.oauth2_base) {
    types.push_back("oauth2code");
    types.push_back("oauth2client");
    std::string base = *ctx.oauth2_base;
    if (base.empty()) {
      const auto host = req.header("Host");
      base = std::string(ctx.tls ? "https://" : "http://") + sanitised(host.value_or("localhost"), 255) + "/csc/v2";
    }
    out["oauth2"] = base;
  }
  out["authType"] = std::move(types);
}

http::Response info(CscContext& ctx, http::Request& req, Call& call) {
  (void)opt_string(call.body, "lang");  // one language only; the response names it
  Json out{{"specs", call.v1 ? "1.0.4.0" : "2.0.0.2"},
           {"name", ctx.info.name},
           {"logo", ctx.info.logo},
           {"region", ctx.info.region},
           {"lang", ctx.info.lang},
           {"description", ctx.info.description},
           {"methods", served_methods(ctx, call.v1)}};
  add_auth_types(ctx, req, out);
  if (call.v1) return http::Response::json(200, out);  // v1 ends with `methods` (§4.1)
  out["signAlgorithms"] = {
      {"algos",
       {"1.2.840.113549.1.1.1", "1.2.840.113549.1.1.11", "1.2.840.113549.1.1.12", "1.2.840.113549.1.1.13",
        "1.2.840.113549.1.1.10", "1.2.840.10045.4.3.2", "1.2.840.10045.4.3.3", "1.2.840.10045.4.3.4"}}};
  // signDoc: formats[i] goes with envelope_properties[i] (docs/csc-api.md).
  out["signature_formats"] = {{"formats", {"C", "X", "P"}},
                              {"envelope_properties",
                               {{"Attached", "Detached"}, {"Enveloped", "Enveloping", "Detached"}, {"Revision"}}}};
  out["conformance_levels"] = conformance_levels(ctx);
  out["validationInfo"] = ctx.signing.sources().revocation != nullptr;
  out["asynchronousOperationMode"] = false;
  return http::Response::json(200, out);
}

// "Basic base64(user:password)" -> (user, password), or the CSC refusals.
std::pair<std::string, std::string> basic_credentials(const http::Request& req) {
  const auto h = req.header("Authorization");
  if (!h) fail("Malformed authentication parameter", 401, "invalid_request");
  std::string_view v = *h;
  if (v.size() < 6 || (v.substr(0, 6) != "Basic " && v.substr(0, 6) != "basic ")) {
    fail("Malformed authentication parameter", 401, "invalid_request");
  }
  v.remove_prefix(6);
  std::string decoded;
  try {
    const Bytes b = base64_decode(v);
    decoded.assign(b.begin(), b.end());
  } catch (const Error&) {
    fail("Malformed authentication parameter", 401, "invalid_request");
  }
  const auto colon = decoded.find(':');
  if (colon == std::string::npos || colon == 0) fail("Malformed username-password");
  return {decoded.substr(0, colon), decoded.substr(colon + 1)};
}

http::Response login(CscContext& ctx, http::Request& req, Call& call) {
  if (ctx.users == nullptr) fail("auth/login is not enabled", 501, "not_implemented");
  const Json& body = call.body;
  const bool remember = opt_bool(body, "rememberMe", false);
  auth::IssuedTokens issued;
  // Logins are security events: auth.failure (and auth.lockout) for refused passwords, auth.success
  // before a token is handed out (fail closed: no record, no usable token).
  const auto record_success = [&](const std::string& user_id, std::string method) {
    if (ctx.audit == nullptr) return;
    audit::Event e = audit::make_event(audit::type::auth_success, api::actor_of(req, user_id, {}), true);
    e.details["method"] = std::move(method);
    e.details["api"] = "csc";
    ctx.audit->append(std::move(e));
  };
  const auto record_failure = [&](audit::Actor actor, std::string method, auth::AuthFailure reason) {
    if (ctx.audit == nullptr) return;
    audit::Event f = audit::make_event(audit::type::auth_failure, std::move(actor), false);
    f.details["method"] = std::move(method);
    f.details["api"] = "csc";
    f.details["reason"] = std::string(auth::to_string(reason));
    ctx.audit->append(std::move(f));
  };
  std::string method;
  std::optional<std::string> user_id;  // known up front for a password; read from the new token for a refresh
  if (const auto refresh = opt_string(body, "refresh_token"); refresh && !req.header("Authorization")) {
    method = "refresh_token";
    if (ctx.audit != nullptr) ctx.audit->check_available();
    try {
      issued = ctx.tokens.refresh(*refresh, std::nullopt);
    } catch (const auth::AuthError& e) {
      record_failure(api::actor_of(req), method, e.failure());
      fail("Invalid refresh_token");
    }
  } else {
    method = "password";
    auto [username, password] = basic_credentials(req);
    std::int64_t epoch = 0;
    const auto result = ctx.users->verify_password(username, password, ctx.signing.clock(), ctx.login_policy, &epoch);
    secure_wipe(password.data(), password.size());
    if (result != store::VerifyResult::ok) {
      if (ctx.audit != nullptr) {
        audit::record_password_failure(*ctx.audit, api::actor_of(req, {}, sanitised(username, 64)), *ctx.users,
                                       ctx.signing.clock(), username, result, ctx.login_policy.max_failed_logins,
                                       {{"method", "password"}, {"api", "csc"}});
      }
      fail("Authentication failed", 400, "authentication_error");
    }
    const auto user = ctx.users->get_by_username(username);
    if (!user) fail("Authentication failed", 400, "authentication_error");
    if (ctx.audit != nullptr) ctx.audit->check_available();
    try {
      // Written only if no password change, disable or revocation landed since the check above.
      issued = ctx.tokens.issue(user->id, std::nullopt, "service", std::nullopt, remember, epoch);
    } catch (const auth::AuthError& e) {
      record_failure(api::actor_of(req, user->id, {}), method, e.failure());
      fail("Authentication failed", 400, "authentication_error");
    }
    user_id = user->id;
  }
  try {
    record_success(user_id ? *user_id : ctx.tokens.authenticate(issued.access_token.view()).user_id, method);
  } catch (...) {
    try {  // unrecorded: never handed out, never usable (a refresh token takes its grant with it)
      ctx.tokens.revoke(issued.refresh_token.empty() ? issued.access_token.view() : issued.refresh_token.view());
    } catch (const std::exception& e) {
      log::error("csc auth/login: could not revoke an unrecorded token: {}", e.what());
    }
    throw;
  }
  Json out{{"access_token", std::string(issued.access_token.view())}, {"expires_in", issued.expires_in}};
  if (!issued.refresh_token.empty()) out["refresh_token"] = std::string(issued.refresh_token.view());
  return http::Response::json(200, out);
}

http::Response revoke(CscContext& ctx, http::Request& req, Call& call) {
  (void)authenticate(ctx.tokens, req);
  const Json& body = call.body;
  const std::string token = req_string(body, "token");
  if (const auto hint = opt_string(body, "token_type_hint");
      hint && *hint != "access_token" && *hint != "refresh_token") {
    fail("Invalid string parameter token_type_hint");
  }
  if (!ctx.tokens.revoke(token)) fail("Invalid string parameter token");
  http::Response res;
  res.status = 204;
  res.content_type.clear();
  return res;
}

http::Response not_implemented(CscContext&, http::Request&, Call&) {
  fail("The method is not implemented", 501, "not_implemented");
}

}  // namespace

std::vector<std::string> served_methods(const CscContext& ctx, bool v1) {
  std::vector<std::string> m{"info"};
  if (ctx.users != nullptr) m.emplace_back("auth/login");
  m.emplace_back("auth/revoke");
  m.emplace_back("credentials/list");
  m.emplace_back("credentials/info");
  m.emplace_back("credentials/authorize");
  if (!v1) {
    m.emplace_back("credentials/authorizeCheck");
    m.emplace_back("credentials/getChallenge");
  }
  m.emplace_back("credentials/sendOTP");
  m.emplace_back("credentials/extendTransaction");
  m.emplace_back("signatures/signHash");
  if (!v1) m.emplace_back("signatures/signDoc");
  if (ctx.timestamper != nullptr) m.emplace_back("signatures/timestamp");
  return m;
}

void register_service(Registry& r) {
  add(r, "info", info);
  add(r, "info", info, kBoth, Audit::none, "GET");  // some v1-era clients GET it
  // Any other method under /csc/v2/ or /csc/v1/ (signPolling, oauth2/* until wired, ...): 501
  // (§13.2). Literal routes win in the router, so routes registered by others stay reachable.
  add(r, "{method}", not_implemented);
  add(r, "{group}/{method}", not_implemented);
  if (r.ctx->users != nullptr) add(r, "auth/login", login);
  add(r, "auth/revoke", revoke);
}

}  // namespace sigil::api::csc::detail
