// POST /api/v1/sign?profile=NAME[&name=FILE]: the one call of a back office. The request body is
// the document itself (any content type; spooled to disk by the server when large), the profile
// from the configuration says how to sign it, and the response body is the signed document.
// GET /api/v1/profiles[/{name}]: the profiles the caller may use (their credential is one of the
// caller's unattended credentials), read-only and without secrets, so that a client can prepare
// documents locally and send only digests (`sigilctl sign --hash-only`).
#include "routes.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/files.hpp"
#include "sigil/common/secure.hpp"

namespace sigil::api::dss::detail {
namespace fs = std::filesystem;
namespace {

std::string content_type(const signing::DocumentRequest& r) {
  switch (r.format) {
    case signing::Format::pades: return "application/pdf";
    case signing::Format::xades: return "application/xml";
    case signing::Format::cades:
      return r.packaging == signing::Packaging::detached ? "application/pkcs7-signature" : "application/pkcs7-mime";
  }
  return "application/octet-stream";
}

std::string_view c14n_name(xades::C14n c) { return c == xades::C14n::inclusive ? "inclusive" : "exclusive"; }

std::string_view policy_hash_name(xades::PolicyHashAlg a) {
  switch (a) {
    case xades::PolicyHashAlg::sha1: return "SHA1";
    case xades::PolicyHashAlg::sha256: return "SHA256";
    case xades::PolicyHashAlg::sha384: return "SHA384";
    case xades::PolicyHashAlg::sha512: return "SHA512";
  }
  return "SHA256";
}

Json appearance_json(const pades::Appearance& a) {
  Json j = {{"page", a.page},   {"x", a.x},           {"y", a.y},       {"width", a.width},
            {"height", a.height}, {"text", a.free_text}, {"fromTop", a.y_from_top}};
  if (!a.lines.empty()) j["lines"] = a.lines;
  if (a.image) j["image"] = true;
  if (a.font) j["embeddedFont"] = a.font->stem().string();
  return j;
}

Json pades_json(const pades::PadesParams& p) {
  Json out = {{"reason", p.reason}, {"location", p.location}, {"contactInfo", p.contact_info},
              {"fieldName", p.field_name}, {"certification", p.certification}};
  if (p.appearance) out["appearance"] = appearance_json(*p.appearance);
  return out;
}

Json xades_json(const xades::XadesParams& x) {
  Json out = {{"c14n", c14n_name(x.c14n)}};
  if (x.commitment_type) out["commitmentType"] = *x.commitment_type;
  if (x.policy) {
    out["policy"] = {{"identifier", x.policy->identifier},
                     {"description", x.policy->description},
                     {"hashAlgorithm", policy_hash_name(x.policy->hash_alg)},
                     {"hash", base64_encode(x.policy->hash)},
                     {"uri", x.policy->uri}};
  }
  return out;
}

// What a client needs to reproduce the profile's signature locally; nothing secret.
Json profile_json(const signing::Profile& p, const signing::ResolvedCredential& credential) {
  const auto& r = p.request;
  const SignatureAlgorithm alg{p.scheme.value_or(credential.default_scheme()), r.digest_alg, false};
  Json out = {{"name", p.name},
              {"format", signing::format_name(r.format)},
              {"level", level_name(r.level)},
              {"packaging", signing::packaging_name(r.packaging)},
              {"digestAlgorithm", digest_algorithm_name(r.digest_alg)},
              {"credential", p.credential_id},
              {"signatureAlgorithm", signature_algorithm_name(alg)}};
  if (r.commitment_type) out["commitmentType"] = *r.commitment_type;
  if (r.format == signing::Format::pades) out["pades"] = pades_json(r.pades);
  if (r.format == signing::Format::xades) out["xades"] = xades_json(r.xades);
  return out;
}

// The profile as the caller sees it, or nothing when its credential is not one of the caller's.
std::optional<Json> usable_profile(signing::SigningService& svc, const signing::Caller& who,
                                   const signing::Profile& p) {
  if (p.credential_id.empty()) return std::nullopt;  // a Sign Service profile: no credential of its own
  try {
    return profile_json(p, svc.service_credential(who, p.credential_id));
  } catch (const Error& e) {
    if (e.code() == Errc::not_found) return std::nullopt;
    throw;
  }
}

http::Response list_profiles(signing::SigningService& svc, const std::vector<signing::Profile>& profiles,
                             const http::Request& req) {
  const auto who = caller(req);
  Json out = Json::array();
  for (const auto& p : profiles) {
    if (auto j = usable_profile(svc, who, p)) out.push_back(std::move(*j));
  }
  return http::Response::json(200, Json{{"profiles", out}});
}

http::Response get_profile(signing::SigningService& svc, const std::vector<signing::Profile>& profiles,
                           const http::Request& req) {
  const auto& p = signing::find_profile(profiles, req.path_params.at("name"));
  auto j = usable_profile(svc, caller(req), p);
  // Like credentials: a profile on someone else's credential is invisible (404, never 403).
  if (!j) throw Error(Errc::not_found, "no signing profile named '" + p.name + "'", true);
  return http::Response::json(200, *j);
}

}  // namespace

http::Response sign_raw(signing::SigningService& svc, const std::vector<signing::Profile>& profiles,
                        const signing::AppearanceTemplates& appearances, http::Request& req) {
  const auto profile_name = req.query_param("profile");
  if (!profile_name || profile_name->empty()) {
    throw Error(Errc::invalid_argument, "query parameter 'profile' is required", true);
  }
  const auto& profile = signing::find_profile(profiles, *profile_name);
  if (profile.credential_id.empty()) {
    throw Error(Errc::invalid_argument,
                "profile '" + profile.name + "' has no credential: it serves the Sign Service, where each signer signs with their own",
                true);
  }
  if (req.body_size == 0) throw Error(Errc::invalid_argument, "the request body (the document) is empty", true);

  // The document: the server's spool file when the body was large, else a spool file of our own.
  signing::Document doc;
  fs::path own;
  if (!req.body_file.empty()) {
    doc.path = req.body_file;
  } else {
    own = svc.spool_dir() / ("raw-" + random_token(12) + ".in");
    files::write_atomic(own, req.body, 0600);
    doc.path = own;
  }
  const auto name = req.query_param("name");
  doc.name = name ? std::string(*name) : "document";

  signing::DocumentRequest request = profile.request;
  // ?appearance=NAME picks a configured visible-signature template (none: invisible).
  if (const auto a = req.query_param("appearance"); a && !a->empty()) signing::apply_appearance(request, appearances, *a);
  // The password of an encrypted PDF travels in a header (never in the URL, which access logs keep).
  if (const auto pw = req.header("X-Sigil-Pdf-Password"); pw && !pw->empty()) {
    if (request.format != signing::Format::pades) {
      throw Error(Errc::invalid_argument, "X-Sigil-Pdf-Password applies to PAdES profiles only", true);
    }
    request.pades.password = std::make_shared<const SecretString>(std::string(*pw));
  }
  request.signing_time = std::chrono::time_point_cast<std::chrono::seconds>(svc.clock().now());
  const fs::path out = svc.spool_dir() / ("raw-" + random_token(12) + ".out");
  struct Cleanup {
    fs::path a, b;
    ~Cleanup() {
      std::error_code ec;
      if (!a.empty()) fs::remove(a, ec);
      if (!b.empty()) fs::remove(b, ec);
    }
  } cleanup{own, out};
  const auto outcome = svc.sign_document(caller(req), profile.credential_id, doc, request, out, profile.scheme);
  // Streamed from disk by the server, which deletes it once sent: a 1 GB PDF is never in memory.
  auto res = http::Response::file(200, out, content_type(request), true);
  cleanup.b.clear();
  res.set_header("X-Sigil-Signature-Level", std::string(level_name(outcome.level)));
  for (const auto& w : outcome.warnings) res.headers.emplace_back("X-Sigil-Warning", w);
  return res;
}

void register_raw_sign(http::Router& router, signing::SigningService& svc, std::vector<signing::Profile> profiles,
                       signing::AppearanceTemplates appearances) {
  auto shared = std::make_shared<const std::vector<signing::Profile>>(std::move(profiles));
  auto templates = std::make_shared<const signing::AppearanceTemplates>(std::move(appearances));
  router.add("POST", "/api/v1/sign", http::AuthRequirement::authenticated(),
             [&svc, shared, templates](http::Request& req) { return sign_raw(svc, *shared, *templates, req); });
  router.add("GET", "/api/v1/appearances", http::AuthRequirement::authenticated(), [templates](http::Request&) {
    Json list = Json::array();
    for (const auto& [name, a] : *templates) {
      Json j = appearance_json(a);
      j["name"] = name;
      list.push_back(std::move(j));
    }
    return http::Response::json(200, Json{{"appearances", list}});
  });
  router.add("GET", "/api/v1/profiles", http::AuthRequirement::authenticated(),
             [&svc, shared](http::Request& req) { return list_profiles(svc, *shared, req); });
  router.add("GET", "/api/v1/profiles/{name}", http::AuthRequirement::authenticated(),
             [&svc, shared](http::Request& req) { return get_profile(svc, *shared, req); });
}

}  // namespace sigil::api::dss::detail
