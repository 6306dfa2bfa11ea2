// POST /api/v1/sign?profile=NAME[&name=FILE]: the one call of a back office. The request body is
// the document itself (any content type; spooled to disk by the server when large), the profile
// from the configuration says how to sign it, and the response body is the signed document.
#include "routes.hpp"
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

}  // namespace

http::Response sign_raw(signing::SigningService& svc, const std::vector<signing::Profile>& profiles,
                        http::Request& req) {
  const auto profile_name = req.query_param("profile");
  if (!profile_name || profile_name->empty()) {
    throw Error(Errc::invalid_argument, "query parameter 'profile' is required", true);
  }
  const auto& profile = signing::find_profile(profiles, *profile_name);
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
  request.signing_time = std::chrono::time_point_cast<std::chrono::seconds>(svc.clock().now());
  const fs::path out = svc.spool_dir() / ("raw-" + random_token(12) + ".out");
  struct Cleanup {
    fs::path a, b;
    ~Cleanup() {
      std::error_code ec;
      if (!a.empty()) fs::remove(a, ec);
      fs::remove(b, ec);
    }
  } cleanup{own, out};
  const auto outcome = svc.sign_document(caller(req), profile.credential_id, doc, request, out, profile.scheme);
  auto res = http::Response::text(200, files::read(out), content_type(request));
  res.set_header("X-Sigil-Signature-Level", std::string(level_name(outcome.level)));
  for (const auto& w : outcome.warnings) res.headers.emplace_back("X-Sigil-Warning", w);
  return res;
}

void register_raw_sign(http::Router& router, signing::SigningService& svc, std::vector<signing::Profile> profiles) {
  auto shared = std::make_shared<const std::vector<signing::Profile>>(std::move(profiles));
  router.add("POST", "/api/v1/sign", http::AuthRequirement::authenticated(),
             [&svc, shared](http::Request& req) { return sign_raw(svc, *shared, req); });
}

}  // namespace sigil::api::dss::detail
