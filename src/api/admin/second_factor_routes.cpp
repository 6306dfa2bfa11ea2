// /users/{username}/otp, /users/{username}/second-factor, /credentials/{id}/pin: the second factor
// of signers, administered. Seeds and PINs pass through here once and are never logged or audited.
#include "routes.hpp"
#include "sigil/auth/authorization.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/secure.hpp"
#include "sigil/otp/totp.hpp"

namespace sigil::api::admin::detail {
namespace {

otp::OtpEnrolments& enrolments(const Context& ctx) {
  if (ctx.second_factor.enrolments == nullptr) {
    throw Error(Errc::unsupported, "OTP enrolment needs the OTP key: set [auth] key_file (sigilctl init creates it)",
                true);
  }
  return *ctx.second_factor.enrolments;
}

auth::AuthorizationService& authorization(const Context& ctx) {
  if (ctx.second_factor.authorization == nullptr) throw Error(Errc::unsupported, "credential authorisation is not configured", true);
  return *ctx.second_factor.authorization;
}

otp::OtpKind parse_kind(const std::string& kind) {
  if (kind == "totp") return otp::OtpKind::totp;
  if (kind == "hotp") return otp::OtpKind::hotp;
  throw Error(Errc::invalid_argument, "kind must be \"totp\" or \"hotp\"", true);
}

http::Response enrol(const Context& ctx, http::Request& req) {
  const auto user = find_user(ctx, param(req, "username"));
  const Fields f(body_object(req));
  const std::string kind = f.optional_string("kind").value_or("totp");
  otp::EnrolmentOptions o;
  o.issuer = ctx.second_factor.otp_issuer;
  if (const auto digits = f.optional_int("digits", 6, 8)) o.digits = static_cast<unsigned>(*digits);
  auto e = enrolments(ctx).enrol(user.id, user.username, parse_kind(kind), o);
  Json out{{"id", e.id}, {"user", user.username}, {"kind", kind}, {"uri", e.uri}, {"confirmed", e.confirmed}};
  if (!e.qr_png.empty()) out["qr_png"] = base64_encode(e.qr_png);
  http::Response res = json(201, out);
  secure_wipe(e.uri.data(), e.uri.size());
  res.headers.emplace_back("Cache-Control", "no-store");
  return res;
}

http::Response unenrol(const Context& ctx, http::Request& req) {
  const auto user = find_user(ctx, param(req, "username"));
  if (!enrolments(ctx).remove(user.id, parse_kind(param(req, "kind")))) {
    throw Error(Errc::not_found, "user '" + user.username + "' has no " + param(req, "kind") + " enrolment", true);
  }
  return no_content();
}

http::Response status(const Context& ctx, http::Request& req) {
  const auto user = find_user(ctx, param(req, "username"));
  Json enrolled = Json::array();
  if (ctx.second_factor.enrolments != nullptr) {
    for (const auto kind : {otp::OtpKind::totp, otp::OtpKind::hotp}) {
      if (ctx.second_factor.enrolments->enrolled(user.id, kind)) enrolled.push_back(kind == otp::OtpKind::totp ? "totp" : "hotp");
    }
  }
  Json out{{"user", user.username}, {"enrolled", enrolled}, {"locked_until", nullptr}};
  if (const auto until = authorization(ctx).locked_until(user.id)) {
    out["locked_until"] = to_rfc3339(Clock::time_point(std::chrono::seconds(*until)));
  }
  return json(200, out);
}

http::Response unlock(const Context& ctx, http::Request& req) {
  const auto user = find_user(ctx, param(req, "username"));
  authorization(ctx).unlock(user.id);
  return json(200, Json{{"user", user.username}, {"locked_until", nullptr}});
}

http::Response set_pin(const Context& ctx, http::Request& req) {
  Json body = body_object(req);
  const auto it = body.find("pin");
  if (it == body.end() || !it->is_string()) throw Error(Errc::invalid_argument, "field 'pin' (string) is required", true);
  auto& text = it->get_ref<std::string&>();
  const SecretString pin(text);
  secure_wipe(text.data(), text.size());
  authorization(ctx).set_pin(param(req, "id"), pin.view());
  return no_content();
}

}  // namespace

void register_second_factor_routes(http::Router& router, const ContextPtr& ctx) {
  add(router, ctx, "POST", "/users/{username}/otp", enrol, "admin.user.otp_enrol");
  add(router, ctx, "DELETE", "/users/{username}/otp/{kind}", unenrol, "admin.user.otp_remove");
  add(router, ctx, "GET", "/users/{username}/second-factor", status);
  add(router, ctx, "POST", "/users/{username}/second-factor/unlock", unlock, "admin.user.second_factor_unlock");
  add(router, ctx, "PUT", "/credentials/{id}/pin", set_pin, "admin.credential.pin_set");
}

}  // namespace sigil::api::admin::detail
