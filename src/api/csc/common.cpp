#include <algorithm>
#include <cctype>

#include "csc.hpp"
#include "sigil/asn1/der.hpp"
#include "sigil/audit/events.hpp"
#include "sigil/auth/errors.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/common/log.hpp"
#include "sigil/http/json.hpp"

namespace sigil::api::csc::detail {

void fail(std::string description, int status, std::string error) {
  throw CscError(status, std::move(error), std::move(description));
}

namespace {

struct FailureRow {
  auth::AuthFailure failure;
  int status;
  std::string_view error;
};

// AuthFailure -> CSC status and `error` (§3.3). The description is auth::public_message().
constexpr FailureRow kFailures[] = {
    {auth::AuthFailure::sad_unknown, 400, "invalid_request"},
    {auth::AuthFailure::sad_expired, 400, "invalid_request"},
    {auth::AuthFailure::sad_exhausted, 400, "invalid_request"},
    {auth::AuthFailure::sad_wrong_user, 400, "invalid_request"},
    {auth::AuthFailure::sad_wrong_credential, 400, "invalid_request"},
    {auth::AuthFailure::sad_wrong_client, 400, "invalid_request"},
    {auth::AuthFailure::sad_hash_not_authorized, 400, "invalid_request"},
    {auth::AuthFailure::credential_unknown, 400, "invalid_request"},
    {auth::AuthFailure::credential_disabled, 400, "invalid_request"},
    {auth::AuthFailure::num_signatures_invalid, 400, "invalid_request"},
    {auth::AuthFailure::hashes_required, 400, "invalid_request"},
    {auth::AuthFailure::hash_invalid, 400, "invalid_request"},
    {auth::AuthFailure::pin_missing, 400, "invalid_request"},
    {auth::AuthFailure::otp_missing, 400, "invalid_request"},
    {auth::AuthFailure::pin_invalid, 400, "invalid_authentication_data"},
    {auth::AuthFailure::otp_invalid, 400, "invalid_authentication_data"},
    {auth::AuthFailure::otp_not_enrolled, 400, "invalid_request"},
    {auth::AuthFailure::pin_not_set, 400, "invalid_request"},
    {auth::AuthFailure::transaction_unknown, 400, "invalid_request"},
    {auth::AuthFailure::transaction_void, 400, "invalid_request"},
    {auth::AuthFailure::user_locked, 400, "invalid_request"},
    {auth::AuthFailure::user_disabled, 400, "invalid_request"},
    {auth::AuthFailure::token_invalid, 401, "invalid_token"},
    {auth::AuthFailure::token_expired, 401, "expired_token"},
    {auth::AuthFailure::client_invalid, 401, "invalid_client"},
    {auth::AuthFailure::unauthorized_client, 401, "unauthorized_client"},
    {auth::AuthFailure::grant_invalid, 400, "invalid_grant"},
    {auth::AuthFailure::scope_invalid, 400, "invalid_scope"},
    {auth::AuthFailure::redirect_uri_invalid, 400, "invalid_request"},
    {auth::AuthFailure::pkce_invalid, 400, "invalid_request"},
    {auth::AuthFailure::login_superseded, 400, "invalid_grant"},
};

}  // namespace

CscError csc_error(const std::exception& ex) {
  if (const auto* c = dynamic_cast<const CscError*>(&ex); c != nullptr) return *c;
  if (const auto* a = dynamic_cast<const auth::AuthError*>(&ex); a != nullptr) {
    for (const auto& row : kFailures) {
      if (row.failure == a->failure()) {
        return {row.status, std::string(row.error), std::string(auth::public_message(a->failure()))};
      }
    }
    return {400, "invalid_request", std::string(auth::public_message(a->failure()))};
  }
  if (const auto* e = dynamic_cast<const Error*>(&ex); e != nullptr) {
    switch (e->code()) {
      case Errc::invalid_argument:
      case Errc::invalid_json:
      case Errc::json_too_deep:
      case Errc::bad_request:
      case Errc::unsupported:
        return {400, "invalid_request", e->public_description()};
      case Errc::not_found: return {400, "invalid_request", "Invalid parameter credentialID"};
      case Errc::payload_too_large: return {413, "invalid_request", e->public_description()};
      case Errc::overloaded: return {503, "temporarily_unavailable", e->public_description()};
      default: {
        const auto& info = e->info();
        const int status = info.http_status >= 500 ? info.http_status : 400;
        return {status, status >= 500 ? std::string(info.oauth_error.empty() ? "server_error" : info.oauth_error)
                                      : std::string("invalid_request"),
                e->public_description()};
      }
    }
  }
  return {500, "server_error", "Internal server error"};
}

http::Response error_response(const CscError& e) {
  Json body{{"error", e.error}};
  if (!e.description.empty()) body["error_description"] = e.description;
  auto res = http::Response::json(e.status, body);
  if (e.status == 401) res.set_header("WWW-Authenticate", "Bearer realm=\"sigil\", error=\"" + e.error + "\"");
  return res;
}

Session authenticate(auth::TokenService& tokens, const http::Request& req) {
  const auto h = req.header("Authorization");
  if (!h) fail("Missing authorization header", 401, "invalid_request");
  std::string_view v = *h;
  auto starts_ci = [](std::string_view s, std::string_view p) {
    return s.size() >= p.size() &&
           std::equal(p.begin(), p.end(), s.begin(), [](char a, char b) { return std::tolower(a) == std::tolower(b); });
  };
  if (!starts_ci(v, "Bearer")) fail("Malformed authorization header", 401, "invalid_request");
  v.remove_prefix(6);
  if (!v.empty() && v.front() == ':') v.remove_prefix(1);  // "Bearer: x" (authone client)
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (v.empty()) fail("Malformed authorization header", 401, "invalid_request");
  Session s;
  s.token = tokens.authenticate(v, auth::TokenService::Read::cached);  // signing re-checks it (ADR 0020)
  s.access_token = std::string(v);
  s.caller.user_id = s.token.user_id;
  s.caller.username = s.token.user_id;
  s.caller.address = req.remote_address;
  s.caller.request_id = req.request_id;
  s.caller.api = "csc";
  return s;
}

std::string sanitised(std::string_view s, std::size_t max) {
  std::string out;
  for (char c : s) {
    if (out.size() == max) {
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u >= 0x20 && u < 0x7f ? c : '?');
  }
  return out;
}

namespace {

// lang: an RFC 5646 tag has letters, digits and '-' only (at most 35 characters).
std::string language_tag(std::string_view s) {
  std::string out;
  for (char c : s.substr(0, 35)) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-') out.push_back(c);
  }
  return out;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> Call::context_details() const {
  std::vector<std::pair<std::string, std::string>> d;
  d.emplace_back("csc_method", method);
  d.emplace_back("csc_version", v1 ? "v1" : "v2");
  if (client_id) d.emplace_back("client_id", sanitised(*client_id, 128));
  // clientData (also the typo client_Data seen in real clients); never interpreted.
  for (const char* name : {"clientData", "client_Data"}) {
    const auto it = body.find(name);
    if (it != body.end() && it->is_string()) {
      d.emplace_back("client_data", sanitised(it->get_ref<const std::string&>(), 256));
      break;
    }
  }
  if (const auto it = body.find("lang"); it != body.end() && it->is_string()) {
    d.emplace_back("lang", language_tag(it->get_ref<const std::string&>()));
  }
  return d;
}

Session authenticate(CscContext& ctx, const http::Request& req, Call& call) {
  Session s = authenticate(ctx.tokens, req);
  call.user_id = s.token.user_id;
  call.client_id = s.token.client_id;
  s.caller.audit_details = call.context_details();
  return s;
}

std::optional<HashAlg> hashes_algorithm(const Json& body, const std::vector<Bytes>& hashes, bool infer) {
  if (hashes.empty()) return std::nullopt;
  auto oid = opt_string(body, "hashAlgorithmOID");
  if (!oid) oid = opt_string(body, "hashAlgo");  // v1
  if (oid) {
    const auto alg = hash_from_oid(*oid);
    if (!alg) fail("Invalid parameter hashAlgorithmOID");
    return alg;
  }
  if (!infer) fail("Missing (or invalid type) string parameter hashAlgorithmOID");
  // v1 sends `hash` without an algorithm: SHA-256/384/512 by the digest length.
  switch (hashes.front().size()) {
    case 32: return HashAlg::sha256;
    case 48: return HashAlg::sha384;
    case 64: return HashAlg::sha512;
    default: fail("Invalid digest value length");
  }
}

Json body_object(const http::Request& req) {
  if (req.body.empty() && req.body_file.empty()) return Json::object();
  Json j = req.json_body();
  if (j.is_null()) return Json::object();
  if (!j.is_object()) fail("The request body must be a JSON object");
  return j;
}

const Json* member(const Json& o, std::string_view name) {
  const auto it = o.find(std::string(name));
  if (it == o.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<std::string> opt_string(const Json& o, std::string_view name) {
  const Json* m = member(o, name);
  if (m == nullptr) return std::nullopt;
  if (!m->is_string()) fail("Invalid string parameter " + std::string(name));
  return m->get<std::string>();
}

std::string req_string(const Json& o, std::string_view name) {
  const Json* m = member(o, name);
  if (m == nullptr || !m->is_string() || m->get_ref<const std::string&>().empty()) {
    fail("Missing (or invalid type) string parameter " + std::string(name));
  }
  return m->get<std::string>();
}

bool opt_bool(const Json& o, std::string_view name, bool fallback) {
  const Json* m = member(o, name);
  if (m == nullptr) return fallback;
  if (m->is_boolean()) return m->get<bool>();
  if (m->is_string()) {
    const auto& s = m->get_ref<const std::string&>();
    if (s == "true" || s == "TRUE" || s == "True") return true;
    if (s == "false" || s == "FALSE" || s == "False") return false;
  }
  fail("Invalid boolean parameter " + std::string(name));
}

std::optional<long long> opt_integer(const Json& o, std::string_view name) {
  const Json* m = member(o, name);
  if (m == nullptr) return std::nullopt;
  if (m->is_number_integer()) return m->get<long long>();
  if (m->is_string()) {
    const auto& s = m->get_ref<const std::string&>();
    if (!s.empty() && s.size() < 12 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return std::stoll(s);
    }
  }
  fail("Missing (or invalid type) integer parameter " + std::string(name));
}

std::optional<std::vector<Bytes>> opt_hashes(const Json& o) {
  const char* name = "hashes";
  const Json* m = member(o, "hashes");
  if (m == nullptr) {
    m = member(o, "hash");  // v1 shape
    name = "hash";
  }
  if (m == nullptr) return std::nullopt;
  if (m->is_string()) {  // a single hash (lenient)
    Json a = Json::array({*m});
    Json wrapped{{name, a}};
    return opt_hashes(wrapped);
  }
  if (!m->is_array()) fail(std::string("Missing (or invalid type) array parameter ") + name);
  if (m->empty()) fail("Empty hash array");
  if (m->size() > 1000) fail("Too many hashes");
  std::vector<Bytes> out;
  for (const auto& h : *m) {
    if (!h.is_string() || h.get_ref<const std::string&>().empty()) fail("Invalid Base64 hash string parameter");
    try {
      out.push_back(base64_decode(h.get_ref<const std::string&>()));
    } catch (const Error&) {
      fail("Invalid Base64 hash string parameter");
    }
  }
  return out;
}

// ---- OIDs ----

namespace {
constexpr std::string_view kSha256 = "2.16.840.1.101.3.4.2.1";
constexpr std::string_view kSha384 = "2.16.840.1.101.3.4.2.2";
constexpr std::string_view kSha512 = "2.16.840.1.101.3.4.2.3";
constexpr std::string_view kRsaEncryption = "1.2.840.113549.1.1.1";
constexpr std::string_view kRsaPss = "1.2.840.113549.1.1.10";
constexpr std::string_view kMgf1 = "1.2.840.113549.1.1.8";
constexpr std::string_view kEcPublicKey = "1.2.840.10045.2.1";

struct AlgoRow {
  std::string_view oid;
  SignatureScheme scheme;
  HashAlg hash;
};
constexpr AlgoRow kAlgos[] = {
    {"1.2.840.113549.1.1.11", SignatureScheme::rsa_pkcs1, HashAlg::sha256},
    {"1.2.840.113549.1.1.12", SignatureScheme::rsa_pkcs1, HashAlg::sha384},
    {"1.2.840.113549.1.1.13", SignatureScheme::rsa_pkcs1, HashAlg::sha512},
    {"1.2.840.10045.4.3.2", SignatureScheme::ecdsa, HashAlg::sha256},
    {"1.2.840.10045.4.3.3", SignatureScheme::ecdsa, HashAlg::sha384},
    {"1.2.840.10045.4.3.4", SignatureScheme::ecdsa, HashAlg::sha512},
};

// RSASSA-PSS-params (RFC 4055): hash and MGF1 hash must agree, salt = hash length, trailer 1.
HashAlg parse_pss_params(const Bytes& der) {
  try {
    asn1::Reader top(der);
    const auto seq = top.next(asn1::tag::kSequence, "RSASSA-PSS-params");
    top.expect_done("RSASSA-PSS-params");
    asn1::Reader r = top.enter(seq);
    std::optional<HashAlg> hash;
    std::optional<HashAlg> mgf_hash;
    long long salt = 20;
    auto alg_id_hash = [](const asn1::Element& alg) -> std::optional<HashAlg> {
      asn1::Reader a(alg.value);
      return hash_from_oid(asn1::read_oid(a.next(asn1::tag::kOid, "algorithm")));
    };
    if (auto e = r.optional(asn1::tag::context(0))) {
      asn1::Reader in = r.enter(*e);
      hash = alg_id_hash(in.next(asn1::tag::kSequence, "hashAlgorithm"));
      if (!hash) fail("RSASSA-PSS: unsupported hash algorithm in signAlgoParams");
    }
    if (auto e = r.optional(asn1::tag::context(1))) {
      asn1::Reader in = r.enter(*e);
      const auto mgf = in.next(asn1::tag::kSequence, "maskGenAlgorithm");
      asn1::Reader m = in.enter(mgf);
      if (asn1::read_oid(m.next(asn1::tag::kOid, "mgf")) != kMgf1) fail("RSASSA-PSS: only MGF1 is supported");
      mgf_hash = alg_id_hash(m.next(asn1::tag::kSequence, "mgf1 hash"));
    }
    if (auto e = r.optional(asn1::tag::context(2))) {
      asn1::Reader in = r.enter(*e);
      const auto i = in.next(asn1::tag::kInteger, "saltLength");
      if (i.value.size() > 2) fail("RSASSA-PSS: unsupported salt length");
      salt = 0;
      for (auto b : i.value) salt = salt * 256 + b;
    }
    if (auto e = r.optional(asn1::tag::context(3))) {
      asn1::Reader in = r.enter(*e);
      const auto t = in.next(asn1::tag::kInteger, "trailerField");
      if (t.value.size() != 1 || t.value[0] != 1) fail("RSASSA-PSS: trailerField must be 1");
    }
    if (!hash) fail("RSASSA-PSS: SHA-1 is not supported; name SHA-256, SHA-384 or SHA-512 in signAlgoParams");
    if (!mgf_hash || *mgf_hash != *hash) fail("RSASSA-PSS: MGF1 must use the same hash as the signature");
    if (salt != static_cast<long long>(digest_size(*hash))) {
      fail("RSASSA-PSS: only a salt length equal to the hash length (" + std::to_string(digest_size(*hash)) +
           ") is supported");
    }
    return *hash;
  } catch (const CscError&) {
    throw;
  } catch (const std::exception&) {
    fail("Invalid parameter signAlgoParams");
  }
}

}  // namespace

std::optional<HashAlg> hash_from_oid(std::string_view oid) {
  if (oid == kSha256) return HashAlg::sha256;
  if (oid == kSha384) return HashAlg::sha384;
  if (oid == kSha512) return HashAlg::sha512;
  return std::nullopt;
}

std::string_view hash_oid(HashAlg h) {
  switch (h) {
    case HashAlg::sha256: return kSha256;
    case HashAlg::sha384: return kSha384;
    case HashAlg::sha512: return kSha512;
  }
  return kSha256;
}

SignAlgo resolve_sign_algo(const Json& body) {
  const std::string algo = req_string(body, "signAlgo");
  auto named = opt_string(body, "hashAlgorithmOID");
  if (!named) named = opt_string(body, "hashAlgo");  // v1
  std::optional<HashAlg> given;
  if (named) {
    given = hash_from_oid(*named);
    if (!given) fail("Invalid parameter hashAlgorithmOID");
  }
  for (const auto& row : kAlgos) {
    if (row.oid == algo) {
      if (given && *given != row.hash) fail("String parameter hashAlgorithmOID contradicts with signAlgo parameter");
      return {row.scheme, row.hash};
    }
  }
  if (algo == kRsaEncryption || algo == kEcPublicKey) {
    if (!given) fail("Missing (or invalid type) string parameter hashAlgorithmOID");
    return {algo == kRsaEncryption ? SignatureScheme::rsa_pkcs1 : SignatureScheme::ecdsa, *given};
  }
  if (algo == kRsaPss) {
    const auto params = opt_string(body, "signAlgoParams");
    if (!params) {
      if (!given) fail("Missing (or invalid type) string parameter signAlgoParams");
      return {SignatureScheme::rsa_pss, *given};  // lenient: MGF1 with the same hash, salt = hash length
    }
    Bytes der;
    try {
      der = base64_decode(*params);
    } catch (const Error&) {
      fail("Invalid parameter signAlgoParams");
    }
    const HashAlg h = parse_pss_params(der);
    if (given && *given != h) fail("String parameter hashAlgorithmOID contradicts with signAlgoParams");
    return {SignatureScheme::rsa_pss, h};
  }
  fail("Invalid parameter signAlgo");
}

std::vector<std::string> algo_oids(const signing::ResolvedCredential& c) {
  std::vector<std::string> out;
  auto push = [&out](std::string_view oid) {
    if (std::find(out.begin(), out.end(), oid) == out.end()) out.emplace_back(oid);
  };
  for (const auto& row : kAlgos) {
    if (c.allows(row.scheme, row.hash)) push(row.oid);
  }
  for (HashAlg h : {HashAlg::sha256, HashAlg::sha384, HashAlg::sha512}) {
    if (c.allows(SignatureScheme::rsa_pss, h)) push(kRsaPss);
    if (c.allows(SignatureScheme::rsa_pkcs1, h)) push(kRsaEncryption);
  }
  return out;
}

namespace {

// "credentials/list" -> "csc.credentials.list".
std::string event_type(const std::string& method) {
  std::string t = "csc." + method;
  std::replace(t.begin(), t.end(), '/', '.');
  return t;
}

void record(CscContext& ctx, const Call& call, const http::Request& req, const CscError* error) {
  audit::Actor actor{call.user_id, call.user_id, req.remote_address, req.request_id};
  auto e = audit::make_event(event_type(call.method), actor, error == nullptr);
  e.details["api"] = "csc";
  for (const auto& [k, v] : call.context_details()) e.details[k] = v;
  if (!call.credential_id.empty()) e.details["credential_id"] = sanitised(call.credential_id, 128);
  for (const auto& [k, v] : call.details) e.details[k] = v;
  if (error != nullptr) e.details["error"] = error->error;
  ctx.audit->append(std::move(e));
}

}  // namespace

void add(Registry& r, const std::string& method, Handler h, unsigned versions, Audit audit, const char* verb) {
  for (const bool v1 : {false, true}) {
    if ((versions & (v1 ? kV1 : kV2)) == 0) continue;
    const std::string pattern = std::string(v1 ? "/csc/v1/" : "/csc/v2/") + method;
    if (r.routes != nullptr) r.routes->push_back(std::string(verb) + " " + pattern);
    auto ctx = r.ctx;
    r.router.add(verb, pattern, http::AuthRequirement::none(), [ctx, h, v1, audit](http::Request& req) {
      Call call;
      call.v1 = v1;
      call.method = req.route.substr(8);  // after "/csc/vN/"
      const bool audited = audit != Audit::none && ctx->audit != nullptr;
      try {
        if (audited) ctx->audit->check_available();  // fail closed before any work
        call.body = body_object(req);
        auto res = h(*ctx, req, call);
        if (audited && !call.user_id.empty() && !(audit == Audit::signature && call.signed_ok)) {
          record(*ctx, call, req, nullptr);  // the answer leaves only after the record is durable
        }
        return res;
      } catch (const std::exception& e) {
        CscError ce = csc_error(e);
        const auto* err = dynamic_cast<const Error*>(&e);
        const bool audit_down = err != nullptr && err->code() == Errc::audit_unavailable;
        if (audited && !call.user_id.empty() && !audit_down && !call.signed_ok) {
          try {
            record(*ctx, call, req, &ce);
          } catch (const std::exception& ae) {
            ce = csc_error(ae);  // the refusal becomes "audit unavailable"
          }
        }
        if (ce.status >= 500 && ce.status != 501) log::error("csc {} {}: {}", req.request_id, req.route, e.what());
        return error_response(ce);
      }
    });
  }
}

namespace {

void register_all(Registry& r) {
  register_service(r);
  register_credentials(r);
  register_signatures(r);
  register_sign_doc(r);
}

}  // namespace

}  // namespace sigil::api::csc::detail

namespace sigil::api::csc {

void register_routes(http::Router& router, CscContext context) {
  detail::Registry r{router, std::make_shared<CscContext>(std::move(context))};
  detail::register_all(r);
}

std::vector<std::string> route_list(const CscContext& context) {
  http::Router scratch;
  std::vector<std::string> routes;
  detail::Registry r{scratch, std::make_shared<CscContext>(context), &routes};
  detail::register_all(r);
  return routes;
}

}  // namespace sigil::api::csc
