// /services/rest/signature/one-document: the client-orchestrated DSS flow (getDataToSign -> the
// client signs -> signDocument -> extendDocument) and, under server-signing, our one-call
// `sign-document/{alias}` for unattended credentials.
#include <memory>

#include "documents.hpp"
#include "routes.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"

namespace sigil::api::dss::detail {
namespace fs = std::filesystem;
namespace {

constexpr const char* kPrefix = "/services/rest/signature/one-document";

[[noreturn]] void bad(std::string message) { throw Error(Errc::invalid_argument, std::move(message), true); }

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
  RemoveOnExit out{output_path(svc.spool_dir())};
  const auto outcome = svc.complete_document(caller(req), doc.document(), p.request, *p.certs, alg.scheme, value, out.path);
  return signed_response(out.path, output_name(doc.document().name, p.level_name, p.request.format, p.request.packaging),
                         outcome);
}

// The detachedContents of an extendDocument request (each must carry the data).
struct DetachedContents {
  std::vector<std::unique_ptr<SpooledDocument>> spooled;
  std::vector<signing::Document> documents;
};

DetachedContents detached_contents(const Json* params, const fs::path& spool_dir) {
  DetachedContents out;
  const Json* dc = params != nullptr ? optional_member(*params, "detachedContents") : nullptr;
  if (dc == nullptr) return out;
  if (!dc->is_array()) bad("detachedContents must be an array");
  if (dc->size() > kMaxDocuments) bad("at most " + std::to_string(kMaxDocuments) + " detachedContents");
  for (const auto& item : *dc) {
    out.spooled.push_back(std::make_unique<SpooledDocument>(item, spool_dir, HashAlg::sha256));
    if (out.spooled.back()->document().path.empty()) bad("detachedContents must carry the data, not a digest");
    out.documents.push_back(out.spooled.back()->document());
  }
  return out;
}

// The timestampParameters of timestampDocument: the digest algorithm; the container form must be
// PDF (or absent): ASiC is not supported.
HashAlg timestamp_digest(const Json& body) {
  const Json* tp = optional_member(body, "timestampParameters");
  if (tp == nullptr) return HashAlg::sha256;
  if (!tp->is_object()) bad("timestampParameters must be an object");
  if (const Json* f = optional_member(*tp, "timestampContainerForm")) {
    const std::string form = f->is_string() ? f->get<std::string>() : std::string();
    if (form == "ASiC_E" || form == "ASiC_S") asic_unsupported("timestampContainerForm " + form);
    if (form != "PDF") bad("Unsupported timestampContainerForm : " + form + " (PDF)");
  }
  const Json* d = optional_member(*tp, "digestAlgorithm");
  if (d == nullptr) return HashAlg::sha256;
  if (!d->is_string()) bad("timestampParameters.digestAlgorithm must be a string");
  return parse_digest_algorithm(d->get<std::string>());
}

// {timestampParameters, toTimestampDocument} -> the PDF with a document time-stamp (PAdES
// /DocTimeStamp, /SubFilter /ETSI.RFC3161, an incremental update) from the configured TSA.
// Other content would need an ASiC container: a 400 says so. Audited by the signing service
// (signature.create, format "pades", level "DocTimeStamp").
http::Response timestamp_document(signing::SigningService& svc, http::Request& req) {
  const Json body = body_object(req);
  const HashAlg digest_alg = timestamp_digest(body);
  const SpooledDocument doc(member(body, "toTimestampDocument"), svc.spool_dir(), digest_alg);
  if (doc.document().path.empty()) bad("toTimestampDocument must carry the document, not a digest");
  if (sniff_format(doc.document().path) != signing::Format::pades) {
    asic_unsupported("a time-stamp on a document other than a PDF");
  }
  RemoveOnExit out{output_path(svc.spool_dir())};
  svc.timestamp_document(caller(req), doc.document(), digest_alg, out.path);
  std::string name = doc.document().name;
  if (const auto dot = name.rfind('.'); dot != std::string::npos && dot > 0) name.erase(dot);
  return http::Response::json(200, remote_document_from_file(out.path, name + "-timestamped.pdf"));
}

// One call with an unattended credential: getDataToSign + sign in the token + signDocument.
// The signing certificate and chain come from the credential.
http::Response sign_with_credential(signing::SigningService& svc, http::Request& req) {
  const Json body = body_object(req);
  auto p = parse_parameters(member(body, "parameters"), svc.clock().now());
  const SpooledDocument doc(member(body, "toSignDocument"), svc.spool_dir(), p.request.digest_alg);
  RemoveOnExit out{output_path(svc.spool_dir())};
  const auto outcome = svc.sign_document(caller(req), req.path_params.at("alias"), doc.document(), p.request, out.path,
                                         p.scheme);
  return signed_response(out.path, output_name(doc.document().name, p.level_name, p.request.format, p.request.packaging),
                         outcome);
}

}  // namespace

// {toExtendDocument, signatureProfile | parameters.signatureLevel, parameters.detachedContents}.
http::Response extend_document(signing::SigningService& svc, http::Request& req) {
  const Json body = body_object(req);
  std::optional<signing::Format> format;
  std::optional<SignatureLevel> level;
  const Json* params = optional_member(body, "parameters");
  if (params != nullptr) {
    if (const Json* a = optional_member(*params, "asicContainerType")) {
      asic_container_unsupported(*a);
    }
    if (const Json* l = optional_member(*params, "signatureLevel"); l != nullptr && l->is_string()) {
      const auto parsed = parse_parameters(Json{{"signatureLevel", *l}, {"signaturePackaging", "DETACHED"}}, svc.clock().now());
      format = parsed.request.format;
      level = parsed.request.level;
    }
  }
  if (const Json* profile = optional_member(body, "signatureProfile")) {
    if (!profile->is_string() || profile->get<std::string>().rfind("BASELINE_", 0) != 0) {
      bad("Unsupported signature profile (BASELINE_T, BASELINE_LT or BASELINE_LTA)");
    }
    level = parse_level(profile->get<std::string>());
  }
  if (!level) bad("One of the signatureProfile or remoteParameters.signatureLevel must be defined!");
  if (*level == SignatureLevel::b_b) bad("a signature cannot be extended to B-B");
  const SpooledDocument doc(member(body, "toExtendDocument"), svc.spool_dir(), HashAlg::sha256);
  if (doc.document().path.empty()) bad("toExtendDocument must carry the signed document, not a digest");
  const auto sniffed = sniff_format(doc.document().path);  // refuses an ASiC container
  const auto detached = detached_contents(params, svc.spool_dir());
  RemoveOnExit out{output_path(svc.spool_dir())};
  const auto outcome =
      svc.documents().extend(format.value_or(sniffed), doc.document().path, *level, out.path, detached.documents);
  std::string name = doc.document().name;
  const auto dot = name.rfind('.');
  const std::string ext = dot == std::string::npos ? "" : name.substr(dot);
  if (dot != std::string::npos) name.erase(dot);
  return signed_response(out.path, name + "-extended" + ext, outcome);
}

void register_one_document(http::Router& router, signing::SigningService& svc) {
  add(router, svc, "POST", std::string(kPrefix) + "/getDataToSign", get_data_to_sign);
  add(router, svc, "POST", std::string(kPrefix) + "/signDocument", sign_document);
  add(router, svc, "POST", std::string(kPrefix) + "/extendDocument", extend_document);
  add(router, svc, "POST", std::string(kPrefix) + "/timestampDocument", timestamp_document);
  add(router, svc, "POST", "/services/rest/server-signing/sign-document/{alias}", sign_with_credential);
}

}  // namespace sigil::api::dss::detail
