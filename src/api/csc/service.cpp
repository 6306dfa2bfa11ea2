// info, auth/login, auth/revoke.
#include "csc.hpp"
#include "sigil/auth/errors.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/store/users.hpp"

namespace sigil::api::csc::detail {
namespace {

std::vector<std::string> methods(const CscContext& ctx) {
  std::vector<std::string> m{"info"};
  if (ctx.users != nullptr) m.emplace_back("auth/login");
  for (const char* s : {"auth/revoke", "credentials/list", "credentials/info", "credentials/authorize",
                        "credentials/getChallenge", "credentials/sendOTP", "credentials/extendTransaction",
                        "signatures/signHash"}) {
    m.emplace_back(s);
  }
  if (ctx.timestamper != nullptr) m.emplace_back("signatures/timestamp");
  return m;
}

http::Response info(CscContext& ctx, http::Request& req) {
  const Json body = body_object(req);
  const auto lang = opt_string(body, "lang");
  Json out{{"specs", "2.0.0.2"},
           {"name", ctx.info.name},
           {"logo", ctx.info.logo},
           {"region", ctx.info.region},
           {"lang", ctx.info.lang},
           {"description", ctx.info.description},
           {"authType", ctx.users != nullptr ? Json::array({"basic"}) : Json::array()},
           {"methods", methods(ctx)},
           {"signAlgorithms",
            {{"algos",
              {"1.2.840.113549.1.1.1", "1.2.840.113549.1.1.11", "1.2.840.113549.1.1.12", "1.2.840.113549.1.1.13",
               "1.2.840.113549.1.1.10", "1.2.840.10045.4.3.2", "1.2.840.10045.4.3.3", "1.2.840.10045.4.3.4"}}}},
           {"signature_formats", {{"formats", Json::array()}, {"envelope_properties", Json::array()}}},
           {"conformance_levels", Json::array()}};
  (void)lang;  // one language only; the response names it
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

http::Response login(CscContext& ctx, http::Request& req) {
  if (ctx.users == nullptr) fail("auth/login is not enabled", 501, "not_implemented");
  const Json body = body_object(req);
  const bool remember = opt_bool(body, "rememberMe", false);
  auth::IssuedTokens issued;
  if (const auto refresh = opt_string(body, "refresh_token"); refresh && !req.header("Authorization")) {
    try {
      issued = ctx.tokens.refresh(*refresh, std::nullopt);
    } catch (const auth::AuthError&) {
      fail("Invalid refresh_token");
    }
  } else {
    const auto [username, password] = basic_credentials(req);
    const auto result = ctx.users->verify_password(username, password, ctx.signing.clock(), ctx.login_policy);
    if (result != store::VerifyResult::ok) fail("Authentication failed", 400, "authentication_error");
    const auto user = ctx.users->get_by_username(username);
    if (!user) fail("Authentication failed", 400, "authentication_error");
    issued = ctx.tokens.issue(user->id, std::nullopt, "service", std::nullopt, remember);
  }
  Json out{{"access_token", std::string(issued.access_token.view())}, {"expires_in", issued.expires_in}};
  if (!issued.refresh_token.empty()) out["refresh_token"] = std::string(issued.refresh_token.view());
  return http::Response::json(200, out);
}

http::Response revoke(CscContext& ctx, http::Request& req) {
  (void)authenticate(ctx.tokens, req);
  const Json body = body_object(req);
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

}  // namespace

http::Response not_implemented(CscContext&, http::Request&) {
  fail("The method is not implemented", 501, "not_implemented");
}

void register_service(http::Router& router, const std::shared_ptr<CscContext>& ctx) {
  add(router, ctx, "info", info);
  add(router, ctx, "info", info, "GET");  // some v1-era clients GET it
  // Any other method under /csc/v2/ (signDoc, oauth2/*, ...): 501 (§13.2). Literal routes win.
  add(router, ctx, "{method}", not_implemented);
  add(router, ctx, "{group}/{method}", not_implemented);
  add(router, ctx, "auth/login", login);
  add(router, ctx, "auth/revoke", revoke);
}

}  // namespace sigil::api::csc::detail
