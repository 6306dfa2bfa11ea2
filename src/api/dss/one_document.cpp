// /services/rest/signature/one-document: the client-orchestrated DSS flow (getDataToSign -> the
// client signs -> signDocument -> extendDocument) and, under server-signing, our one-call
// `sign-document/{alias}` for unattended credentials.
#include <fstream>

#include "documents.hpp"
#include "routes.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/secure.hpp"

namespace sigil::api::dss::detail {
namespace fs = std::filesystem;
namespace {

constexpr const char* kPrefix = "/services/rest/signature/one-document";

[[noreturn]] void bad(std::string message) { throw Error(Errc::invalid_argument, std::move(message), true); }

fs::path output_path(signing::SigningService& svc) { return svc.spool_dir() / ("dss-" + random_token(12) + ".out"); }

http::Response signed_response(const fs::path& out, const std::string& name, const signing::SignOutcome& outcome) {
  auto res = http::Response::json(200, remote_document_from_file(out, name));
  res.set_header("X-Sigil-Signature-Level", std::string(level_name(outcome.level)));
  for (const auto& w : outcome.warnings) res.headers.emplace_back("X-Sigil-Warning", w);
  return res;
}

// Removes a file on every path out (the output of a failed signature never lingers).
struct RemoveOnExit {
  fs::path path;
  ~RemoveOnExit() {
    std::error_code ec;
    fs::remove(path, ec);
  }
};

http::Response get_data_to_sign(signing::SigningService& svc, http::Request& req) {
  const Json body = body_object(req);
  auto p = parse_parameters(member(body, "parameters"), svc.clock().now());
  if (!p.certs) bad("signingCertificate must be defined!");
  const SpooledDocument doc(member(body, "toSignDocument"), svc.spool_dir(), p.request.digest_alg);
  const auto scheme = p.scheme.value_or(default_scheme_for(p.certs->leaf));
  const auto tbs = svc.documents().data_to_sign(doc.document(), p.request, *p.certs, scheme);
  return http::Response::json(200, Json{{"bytes", base64_encode(tbs.data)}});
}

http::Response sign_document(signing::SigningService& svc, http::Request& req) {
  const Json body = body_object(req);
  auto p = parse_parameters(member(body, "parameters"), svc.clock().now());
  if (!p.certs) bad("signingCertificate must be defined!");
  const Json& sv = member(body, "signatureValue");
  const auto alg = parse_signature_algorithm(string_member(sv, "algorithm"));
  if (alg.hash != p.request.digest_alg) bad("signatureValue.algorithm does not match parameters.digestAlgorithm");
  const Bytes value = base64_member(sv, "value");
  const SpooledDocument doc(member(body, "toSignDocument"), svc.spool_dir(), p.request.digest_alg);
  RemoveOnExit out{output_path(svc)};
  const auto outcome = svc.complete_document(caller(req), doc.document(), p.request, *p.certs, alg.scheme, value, out.path);
  return signed_response(out.path, output_name(doc.document().name, p.level_name, p.request.format, p.request.packaging),
                         outcome);
}

// The format of a signed document when the request does not say: PDF, XML, else CMS.
signing::Format sniff_format(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  char head[8] = {};
  in.read(head, sizeof head);
  const std::string_view h(head, static_cast<std::size_t>(in.gcount()));
  if (h.rfind("%PDF-", 0) == 0) return signing::Format::pades;
  const auto first = h.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
  if (first != std::string_view::npos && h[first] == '<') return signing::Format::xades;
  return signing::Format::cades;
}

http::Response extend_document(signing::SigningService& svc, http::Request& req) {
  const Json body = body_object(req);
  std::optional<signing::Format> format;
  std::optional<SignatureLevel> level;
  std::string level_text;
  const Json* params = optional_member(body, "parameters");
  if (params != nullptr) {
    if (const Json* l = optional_member(*params, "signatureLevel"); l != nullptr && l->is_string()) {
      const auto parsed = parse_parameters(Json{{"signatureLevel", *l}, {"signaturePackaging", "DETACHED"}}, svc.clock().now());
      format = parsed.request.format;
      level = parsed.request.level;
      level_text = parsed.level_name;
    }
  }
  if (const Json* profile = optional_member(body, "signatureProfile")) {
    if (!profile->is_string() || profile->get<std::string>().rfind("BASELINE_", 0) != 0) {
      bad("Unsupported signature profile (BASELINE_T, BASELINE_LT or BASELINE_LTA)");
    }
    level = parse_level(profile->get<std::string>());
    level_text = profile->get<std::string>();
  }
  if (!level) bad("One of the signatureProfile or remoteParameters.signatureLevel must be defined!");
  if (*level == SignatureLevel::b_b) bad("a signature cannot be extended to B-B");
  const SpooledDocument doc(member(body, "toExtendDocument"), svc.spool_dir(), HashAlg::sha256);
  if (doc.document().path.empty()) bad("toExtendDocument must carry the signed document, not a digest");
  std::optional<SpooledDocument> detached;
  if (params != nullptr) {
    if (const Json* dc = optional_member(*params, "detachedContents"); dc != nullptr && dc->is_array() && !dc->empty()) {
      detached.emplace((*dc)[0], svc.spool_dir(), HashAlg::sha256);
      if (detached->document().path.empty()) bad("detachedContents must carry the data, not a digest");
    }
  }
  const auto f = format.value_or(sniff_format(doc.document().path));
  RemoveOnExit out{output_path(svc)};
  const auto outcome = svc.documents().extend(
      f, doc.document().path, *level, out.path,
      detached ? std::optional<fs::path>(detached->document().path) : std::nullopt);
  std::string name = doc.document().name;
  const auto dot = name.rfind('.');
  const std::string ext = dot == std::string::npos ? "" : name.substr(dot);
  if (dot != std::string::npos) name.erase(dot);
  return signed_response(out.path, name + "-extended" + ext, outcome);
}

// One call with an unattended credential: getDataToSign + sign in the token + signDocument.
// The signing certificate and chain come from the credential.
http::Response sign_with_credential(signing::SigningService& svc, http::Request& req) {
  const Json body = body_object(req);
  auto p = parse_parameters(member(body, "parameters"), svc.clock().now());
  const SpooledDocument doc(member(body, "toSignDocument"), svc.spool_dir(), p.request.digest_alg);
  RemoveOnExit out{output_path(svc)};
  const auto outcome = svc.sign_document(caller(req), req.path_params.at("alias"), doc.document(), p.request, out.path,
                                         p.scheme);
  return signed_response(out.path, output_name(doc.document().name, p.level_name, p.request.format, p.request.packaging),
                         outcome);
}

}  // namespace

void register_one_document(http::Router& router, signing::SigningService& svc) {
  add(router, svc, "POST", std::string(kPrefix) + "/getDataToSign", get_data_to_sign);
  add(router, svc, "POST", std::string(kPrefix) + "/signDocument", sign_document);
  add(router, svc, "POST", std::string(kPrefix) + "/extendDocument", extend_document);
  add(router, svc, "POST", "/services/rest/server-signing/sign-document/{alias}", sign_with_credential);
}

}  // namespace sigil::api::dss::detail
