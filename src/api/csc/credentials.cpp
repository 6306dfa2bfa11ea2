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

bool certificate_valid(const CscContext& ctx, const signing::AttendedCredential& a) {
  const std::string now = generalized_time(to_rfc3339(ctx.signing.clock().now()));
  return now >= generalized_time(a.credential.leaf.not_before) && now <= generalized_time(a.credential.leaf.not_after);
}

Json credential_info(const CscContext& ctx, const signing::AttendedCredential& a, const Json& options, bool v1) {
  const std::string certs = certificates_option(options);
  const bool auth_info = opt_bool(options, "authInfo", false);
  (void)opt_bool(options, "certInfo", false);  // DNs and validity are always sent (§4.9 [D])
  const auto& c = a.credential;

  Json key{{"status", a.enabled ? "enabled" : "disabled"}, {"algo", algo_oids(c)}, {"len", c.key_spec.bits}};
  if (c.key_spec.type == KeyType::ec) key["curve"] = curve_oid(c.key_spec.bits);

  const auto& ci = c.leaf;
  const std::string from = generalized_time(ci.not_before);
  const std::string to = generalized_time(ci.not_after);
  Json cert{{"status", certificate_valid(ctx, a) ? "valid" : "expired"},
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
           {"authMode", "explicit"},  // v1 name, for v1-era clients
           {"SCAL", std::to_string(a.scal)},
           {"multisign", ctx.multisign},
           {"lang", ctx.info.lang}};
  if (!v1) out["auth"] = auth;
  if (auth_info || v1) {  // v1 PIN / OTP objects (always on /csc/v1/: its schema requires them)
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

http::Response list(CscContext& ctx, http::Request& req, Call& call) {
  const Session s = authenticate(ctx, req, call);
  const Json& body = call.body;
  if (const auto user = opt_string(body, "userID"); user && *user != s.token.user_id) {
    fail("userID parameter MUST be null");
  }
  const bool with_info = !call.v1 && opt_bool(body, "credentialInfo", false);  // v1 has no credentialInfos
  const bool only_valid = !call.v1 && opt_bool(body, "onlyValid", false);
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
  call.details.emplace_back("count", std::to_string(emitted));
  return http::Response::json(200, out);
}

// The credentialID of the body, noted for the audit record.
std::string credential_id(Call& call) {
  std::string id = req_string(call.body, "credentialID");
  call.credential_id = id;
  return id;
}

http::Response info(CscContext& ctx, http::Request& req, Call& call) {
  const Session s = authenticate(ctx, req, call);
  const auto a = owned_credential(ctx, s, credential_id(call));
  return http::Response::json(200, credential_info(ctx, a, call.body, call.v1));
}

// hashes + hashAlgorithmOID (v1: hash + hashAlgo); the algorithm is required with v2 `hashes`,
// implied by the digest length with v1 `hash`.
std::pair<std::vector<Bytes>, std::optional<HashAlg>> bound_hashes(const Call& call) {
  auto hashes = opt_hashes(call.body);
  if (!hashes) return {};
  const bool infer = call.v1 || member(call.body, "hashes") == nullptr;
  const auto alg = hashes_algorithm(call.body, *hashes, infer);
  for (const auto& h : *hashes) {
    if (h.size() != digest_size(*alg)) fail("Invalid digest value length");
  }
  return {std::move(*hashes), alg};
}

// v1 (1.0.4.0) names the failing factor: invalid_pin / invalid_otp, "PIN locked" / "OTP locked".
[[noreturn]] void rethrow_v1(const auth::AuthError& e, const signing::AttendedCredential& a) {
  switch (e.failure()) {
    case auth::AuthFailure::pin_invalid: fail("The PIN is invalid", 400, "invalid_pin");
    case auth::AuthFailure::otp_invalid: fail("The OTP is invalid", 400, "invalid_otp");
    case auth::AuthFailure::user_locked: fail(has_pin(a.second_factor) ? "PIN locked" : "OTP locked");
    default: throw e;
  }
}

http::Response authorize(CscContext& ctx, http::Request& req, Call& call) {
  const Session s = authenticate(ctx, req, call);
  require_service_scope(s);
  const Json& body = call.body;
  const auto a = owned_credential(ctx, s, credential_id(call));
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
  std::tie(r.hashes, r.hash_alg) = bound_hashes(call);
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
  call.details.emplace_back("num_signatures", std::to_string(r.num_signatures));
  call.details.emplace_back("hash_count", std::to_string(r.hashes.size()));
  auth::Sad sad;
  try {
    sad = ctx.authorization.authorize_credential(r);
  } catch (const auth::AuthError& e) {
    if (call.v1) rethrow_v1(e, a);
    throw;
  }
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

http::Response get_challenge(CscContext& ctx, http::Request& req, Call& call) {
  const Session s = authenticate(ctx, req, call);
  const std::string credential = credential_id(call);
  return challenge(ctx, s, credential, req_string(call.body, "authObjectID"));
}

http::Response send_otp(CscContext& ctx, http::Request& req, Call& call) {
  const Session s = authenticate(ctx, req, call);
  return challenge(ctx, s, credential_id(call), "OTP");
}

// Authorisation is synchronous here (authorize never answers 202), so no handle is ever pending:
// every handle is unknown (§4.11).
http::Response authorize_check(CscContext& ctx, http::Request& req, Call& call) {
  const Session s = authenticate(ctx, req, call);
  require_service_scope(s);
  (void)req_string(call.body, "handle");
  fail("Invalid parameter handle");
}

http::Response extend(CscContext& ctx, http::Request& req, Call& call) {
  const Session s = authenticate(ctx, req, call);
  require_service_scope(s);
  const Json& body = call.body;
  const auto a = owned_credential(ctx, s, credential_id(call));
  const std::string sad = req_string(body, "SAD");
  auto [hashes, alg] = bound_hashes(call);
  auth::SadUse use;
  use.user_id = s.token.user_id;
  use.client_id = s.token.client_id;
  use.credential_id = a.credential.id;
  use.hash_alg = alg.value_or(HashAlg::sha256);
  const auto fresh = ctx.authorization.extend_sad(sad, use, hashes);
  return http::Response::json(200, {{"SAD", std::string(fresh.value.view())}, {"expiresIn", fresh.expires_in}});
}

}  // namespace

void register_credentials(Registry& r) {
  add(r, "credentials/list", list, kBoth, Audit::access);
  add(r, "credentials/info", info, kBoth, Audit::access);
  add(r, "credentials/authorize", authorize, kBoth, Audit::access);
  add(r, "credentials/authorizeCheck", authorize_check, kV2, Audit::access);
  add(r, "credentials/getChallenge", get_challenge, kV2, Audit::access);
  add(r, "credentials/sendOTP", send_otp, kBoth, Audit::access);
  add(r, "credentials/extendTransaction", extend, kBoth, Audit::access);
}

}  // namespace sigil::api::csc::detail
