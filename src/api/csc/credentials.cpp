// credentials/list, info, authorize, getChallenge (+ v1 sendOTP), extendTransaction.
#include <algorithm>

#include "csc.hpp"
#include "ossl/x509.hpp"
#include "sigil/auth/authorization.hpp"
#include "sigil/common/clock.hpp"
#include "sigil/common/encoding.hpp"

namespace sigil::api::csc::detail {
namespace {

// "2026-11-22T18:00:00Z" (RFC 3339) -> "20261122180000Z" (GeneralizedTime, §1).
std::string generalized_time(std::string_view rfc3339) {
  std::string out;
  for (char c : rfc3339) {
    if (c == '.' || c == '+' || (c == 'Z' && !out.empty())) break;
    if (c >= '0' && c <= '9') out.push_back(c);
  }
  out.resize(14, '0');
  return out + "Z";
}

std::string_view curve_oid(unsigned bits) {
  switch (bits) {
    case 256: return "1.2.840.10045.3.1.7";
    case 384: return "1.3.132.0.34";
    case 521: return "1.3.132.0.35";
    default: return {};
  }
}

bool has_pin(const std::string& factor) { return factor == "pin" || factor == "pin_otp"; }
bool has_otp(const std::string& factor) { return factor == "otp" || factor == "pin_otp"; }

void require_service_scope(const Session& s) {
  if (s.credential_scope()) fail("The access token is bound to one credential", 401, "invalid_token");
}

std::string certificates_option(const Json& o) {
  const auto c = opt_string(o, "certificates");
  if (!c) return "single";
  if (*c != "none" && *c != "single" && *c != "chain") fail("Invalid parameter certificates");
  return *c;
}

}  // namespace

signing::AttendedCredential owned_credential(CscContext& ctx, const Session& s, const std::string& id) {
  if (s.credential_scope() && s.token.credential_id != id) fail("Invalid parameter credentialID");
  try {
    return ctx.signing.credential(s.caller, id);
  } catch (const Error& e) {
    if (e.code() == Errc::not_found) fail("Invalid parameter credentialID");
    throw;
  }
}

Json credential_info(const CscContext& ctx, const signing::AttendedCredential& a, const Json& options) {
  const std::string certs = certificates_option(options);
  const bool auth_info = opt_bool(options, "authInfo", false);
  (void)opt_bool(options, "certInfo", false);  // DNs and validity are always sent (§4.9 [D])
  const auto& c = a.credential;

  Json key{{"status", a.enabled ? "enabled" : "disabled"}, {"algo", algo_oids(c)}, {"len", c.key_spec.bits}};
  if (c.key_spec.type == KeyType::ec) key["curve"] = curve_oid(c.key_spec.bits);

  const auto ci = ossl::inspect_certificate(c.certs.leaf);
  const std::string from = generalized_time(ci.not_before);
  const std::string to = generalized_time(ci.not_after);
  const std::string now = generalized_time(to_rfc3339(ctx.signing.clock().now()));
  Json cert{{"status", (now < from || now > to) ? "expired" : "valid"},
            {"issuerDN", ci.issuer},
            {"subjectDN", ci.subject},
            {"serialNumber", ci.serial_hex},
            {"validFrom", from},
            {"validTo", to}};
  if (certs != "none") {
    Json list = Json::array({base64_encode(c.certs.leaf)});
    if (certs == "chain") {
      for (const auto& i : c.certs.issuers) list.push_back(base64_encode(i));
    }
    cert["certificates"] = list;
  }

  Json objects = Json::array();
  std::vector<std::string> ids;
  if (has_pin(a.second_factor)) {
    objects.push_back({{"type", "Password"}, {"id", "PIN"}, {"format", "A"}, {"label", "PIN"},
                       {"description", "Signature PIN"}});
    ids.emplace_back("PIN");
  }
  if (has_otp(a.second_factor)) {
    if (ctx.otp_delivered) {
      objects.push_back({{"type", "ChallengeResponse"}, {"id", "OTP"}, {"format", "N"}, {"label", "OTP"},
                         {"description", "One-time code sent after credentials/getChallenge"}});
    } else {
      objects.push_back({{"type", "Password"}, {"id", "OTP"}, {"format", "N"}, {"generator", "totp"},
                         {"label", "OTP"}, {"description", "Code of the authenticator app"}});
    }
    ids.emplace_back("OTP");
  }
  Json auth{{"mode", "explicit"}, {"objects", objects}};
  if (!ids.empty()) auth["expression"] = ids.size() == 2 ? "PIN AND OTP" : ids.front();

  Json out{{"description", c.description},
           {"key", key},
           {"cert", cert},
           {"auth", auth},
           {"authMode", "explicit"},  // v1 name, for v1-era clients
           {"SCAL", std::to_string(a.scal)},
           {"multisign", ctx.multisign},
           {"lang", ctx.info.lang}};
  if (auth_info) {  // v1 PIN / OTP objects
    out["PIN"] = {{"presence", has_pin(a.second_factor) ? "true" : "false"}, {"format", "A"}, {"label", "PIN"}};
    out["OTP"] = {{"presence", has_otp(a.second_factor) ? "true" : "false"},
                  {"type", ctx.otp_delivered ? "online" : "offline"},
                  {"format", "N"},
                  {"provider", ctx.otp_delivered ? "sigil" : "totp"},
                  {"ID", "OTP"}};
  }
  return out;
}

namespace {

http::Response list(CscContext& ctx, http::Request& req) {
  const Session s = authenticate(ctx.tokens, req);
  const Json body = body_object(req);
  if (const auto user = opt_string(body, "userID"); user && *user != s.token.user_id) {
    fail("userID parameter MUST be null");
  }
  const bool with_info = opt_bool(body, "credentialInfo", false);
  const bool only_valid = opt_bool(body, "onlyValid", false);
  (void)certificates_option(body);
  const auto max_results = opt_integer(body, "maxResults");
  if (max_results && *max_results < 1) fail("Invalid parameter maxResults");
  std::size_t offset = 0;
  if (const auto page = opt_string(body, "pageToken")) {
    try {
      std::size_t used = 0;
      offset = std::stoul(*page, &used);
      if (used != page->size()) throw 0;
    } catch (...) {
      fail("Invalid parameter pageToken");
    }
  }

  std::vector<signing::AttendedCredential> all;
  for (auto& a : ctx.signing.credentials_of(s.caller)) {
    if (s.credential_scope() && a.credential.id != s.token.credential_id) continue;
    all.push_back(std::move(a));
  }
  Json ids = Json::array();
  Json infos = Json::array();
  std::size_t i = 0;
  std::size_t emitted = 0;
  bool more = false;
  for (const auto& a : all) {
    Json info = credential_info(ctx, a, body);
    if (only_valid && (!a.enabled || info["cert"]["status"] != "valid")) continue;
    if (i++ < offset) continue;
    if (max_results && emitted == static_cast<std::size_t>(*max_results)) {
      more = true;
      break;
    }
    ++emitted;
    ids.push_back(a.credential.id);
    if (with_info) {
      info["credentialID"] = a.credential.id;
      infos.push_back(std::move(info));
    }
  }
  Json out{{"credentialIDs", ids}};
  if (with_info) out["credentialInfos"] = infos;
  if (only_valid) out["onlyValid"] = true;
  if (more) out["nextPageToken"] = std::to_string(offset + emitted);
  return http::Response::json(200, out);
}

http::Response info(CscContext& ctx, http::Request& req) {
  const Session s = authenticate(ctx.tokens, req);
  const Json body = body_object(req);
  const auto a = owned_credential(ctx, s, req_string(body, "credentialID"));
  return http::Response::json(200, credential_info(ctx, a, body));
}

// hashes + hashAlgorithmOID (v1: hash + hashAlgo); the algorithm is required with hashes.
std::pair<std::vector<Bytes>, std::optional<HashAlg>> bound_hashes(const Json& body) {
  auto hashes = opt_hashes(body);
  if (!hashes) return {};
  auto oid = opt_string(body, "hashAlgorithmOID");
  if (!oid) oid = opt_string(body, "hashAlgo");
  if (!oid) fail("Missing (or invalid type) string parameter hashAlgorithmOID");
  const auto alg = hash_from_oid(*oid);
  if (!alg) fail("Invalid parameter hashAlgorithmOID");
  for (const auto& h : *hashes) {
    if (h.size() != digest_size(*alg)) fail("Invalid digest value length");
  }
  return {std::move(*hashes), alg};
}

http::Response authorize(CscContext& ctx, http::Request& req) {
  const Session s = authenticate(ctx.tokens, req);
  require_service_scope(s);
  const Json body = body_object(req);
  const auto a = owned_credential(ctx, s, req_string(body, "credentialID"));
  if (!a.enabled) fail("The credential identified by credentialID is disabled");
  const auto n = opt_integer(body, "numSignatures");
  if (!n) fail("Missing (or invalid type) integer parameter numSignatures");
  if (*n < 1) fail("Invalid value for parameter numSignatures");
  if (*n > static_cast<long long>(ctx.multisign)) fail("Numbers of signatures is too high");

  auth::CredentialAuthRequest r;
  r.user_id = s.token.user_id;
  r.client_id = s.token.client_id;
  r.credential_id = a.credential.id;
  r.num_signatures = static_cast<unsigned>(*n);
  std::tie(r.hashes, r.hash_alg) = bound_hashes(body);
  if (const Json* data = member(body, "authData")) {
    if (!data->is_array()) fail("Invalid parameter authData");
    for (const auto& d : *data) {
      if (!d.is_object()) fail("Invalid parameter authData");
      const auto id = opt_string(d, "id");
      const auto value = opt_string(d, "value");
      if (!id) fail("Invalid parameter authData");
      if (*id == "PIN" && value) {
        r.pin = SecretString(*value);
      } else if (*id == "OTP" && value) {
        r.otp = SecretString(*value);
      } else if (*id != "PIN" && *id != "OTP") {
        fail("Invalid parameter authData");
      }
    }
  }
  if (r.pin.empty()) {
    if (const auto pin = opt_string(body, "PIN")) r.pin = SecretString(*pin);  // v1
  }
  if (r.otp.empty()) {
    if (const auto otp = opt_string(body, "OTP")) {
      r.otp = SecretString(*otp);  // v1
    } else if (const auto header = req.header("x-otp")) {
      r.otp = SecretString(std::string(*header));
    }
  }
  (void)opt_string(body, "description");
  const auto sad = ctx.authorization.authorize_credential(r);
  return http::Response::json(200, {{"SAD", std::string(sad.value.view())}, {"expiresIn", sad.expires_in}});
}

http::Response challenge(CscContext& ctx, const Session& s, const std::string& credential_id,
                         const std::string& object) {
  require_service_scope(s);
  const auto a = owned_credential(ctx, s, credential_id);
  if (object != "OTP" || !has_otp(a.second_factor) || !ctx.otp_delivered) fail("Invalid parameter authObjectID");
  if (!a.enabled) fail("The credential identified by credentialID is disabled");
  (void)ctx.authorization.begin(s.token.user_id, a.credential.id);
  http::Response res;
  res.status = 204;
  res.content_type.clear();
  return res;
}

http::Response get_challenge(CscContext& ctx, http::Request& req) {
  const Session s = authenticate(ctx.tokens, req);
  const Json body = body_object(req);
  const std::string credential = req_string(body, "credentialID");
  return challenge(ctx, s, credential, req_string(body, "authObjectID"));
}

http::Response send_otp(CscContext& ctx, http::Request& req) {
  const Session s = authenticate(ctx.tokens, req);
  const Json body = body_object(req);
  return challenge(ctx, s, req_string(body, "credentialID"), "OTP");
}

http::Response extend(CscContext& ctx, http::Request& req) {
  const Session s = authenticate(ctx.tokens, req);
  require_service_scope(s);
  const Json body = body_object(req);
  const auto a = owned_credential(ctx, s, req_string(body, "credentialID"));
  const std::string sad = req_string(body, "SAD");
  auto [hashes, alg] = bound_hashes(body);
  auth::SadUse use;
  use.user_id = s.token.user_id;
  use.client_id = s.token.client_id;
  use.credential_id = a.credential.id;
  use.hash_alg = alg.value_or(HashAlg::sha256);
  const auto fresh = ctx.authorization.extend_sad(sad, use, hashes);
  return http::Response::json(200, {{"SAD", std::string(fresh.value.view())}, {"expiresIn", fresh.expires_in}});
}

}  // namespace

void register_credentials(http::Router& router, const std::shared_ptr<CscContext>& ctx) {
  add(router, ctx, "credentials/list", list);
  add(router, ctx, "credentials/info", info);
  add(router, ctx, "credentials/authorize", authorize);
  add(router, ctx, "credentials/getChallenge", get_challenge);
  add(router, ctx, "credentials/sendOTP", send_otp);
  add(router, ctx, "credentials/extendTransaction", extend);
}

}  // namespace sigil::api::csc::detail
