// /services/rest/signature/multiple-documents: one detached XAdES signature over several
// documents (one ds:Reference per document, URI = its name, digest over its bytes or the digest a
// digest document gives). DSS wraps CAdES/PAdES over several documents (and XAdES on request) in
// an ASiC container; Sigil has no ASiC yet, so those answer a 400 that says so.
#include <memory>

#include "documents.hpp"
#include "routes.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"

namespace sigil::api::dss::detail {
namespace fs = std::filesystem;
namespace {

constexpr const char* kPrefix = "/services/rest/signature/multiple-documents";

[[noreturn]] void bad(std::string message) { throw Error(Errc::invalid_argument, std::move(message), true); }

// The parameters of a multiple-documents signature: XAdES DETACHED with a signing certificate.
ParsedParameters multi_parameters(const Json& body, const signing::SigningService& svc) {
  auto p = parse_parameters(member(body, "parameters"), svc.clock().now());
  if (p.request.format != signing::Format::xades) {
    asic_unsupported(std::string(signing::format_name(p.request.format)) + " over several documents");
  }
  if (p.request.packaging != signing::Packaging::detached) {
    bad("several documents are signed DETACHED (signaturePackaging " +
        std::string(signing::packaging_name(p.request.packaging)) + " is for one document)");
  }
  if (!p.certs) bad("signingCertificate must be defined!");
  return p;
}

// toSignDocuments: spooled (or digest) documents; the first is the request's Document, the others
// go to DocumentRequest::more_documents.
class Documents {
 public:
  Documents(const Json& body, const fs::path& spool_dir, signing::DocumentRequest& req) {
    const Json& list = member(body, "toSignDocuments");
    if (!list.is_array() || list.empty()) bad("toSignDocuments must be a non-empty array");
    if (list.size() > kMaxDocuments) bad("at most " + std::to_string(kMaxDocuments) + " toSignDocuments");
    for (const auto& item : list) spooled_.push_back(std::make_unique<SpooledDocument>(item, spool_dir, req.digest_alg));
    for (std::size_t i = 1; i < spooled_.size(); ++i) req.more_documents.push_back(spooled_[i]->document());
  }
  const signing::Document& first() const { return spooled_.front()->document(); }

 private:
  std::vector<std::unique_ptr<SpooledDocument>> spooled_;
};

http::Response get_data_to_sign(signing::SigningService& svc, http::Request& req) {
  const Json body = body_object(req);
  auto p = multi_parameters(body, svc);
  const Documents docs(body, svc.spool_dir(), p.request);
  const auto scheme = p.scheme.value_or(default_scheme_for(p.certs->leaf));
  const auto tbs = svc.documents().data_to_sign(docs.first(), p.request, *p.certs, scheme);
  return http::Response::json(200, Json{{"bytes", base64_encode(tbs.data)}});
}

http::Response sign_document(signing::SigningService& svc, http::Request& req) {
  const Json body = body_object(req);
  auto p = multi_parameters(body, svc);
  const Json& sv = member(body, "signatureValue");
  const auto alg = parse_signature_algorithm(string_member(sv, "algorithm"));
  if (alg.hash != p.request.digest_alg) bad("signatureValue.algorithm does not match parameters.digestAlgorithm");
  const Bytes value = base64_member(sv, "value");
  const Documents docs(body, svc.spool_dir(), p.request);
  RemoveOnExit out{output_path(svc.spool_dir())};
  // Audited as one signature.create record listing every document.
  const auto outcome = svc.complete_document(caller(req), docs.first(), p.request, *p.certs, alg.scheme, value, out.path);
  return signed_response(out.path, output_name(docs.first().name, p.level_name, p.request.format, p.request.packaging),
                         outcome);
}

// DSS always builds an ASiC container (ASiC-E by default) to time-stamp several documents.
http::Response timestamp_documents(signing::SigningService&, http::Request& req) {
  (void)body_object(req);
  asic_unsupported("a time-stamp over several documents");
}

}  // namespace

void register_multiple_documents(http::Router& router, signing::SigningService& svc) {
  // DSS names phase 1 getDataToSignMultiple; getDataToSign is accepted too.
  add(router, svc, "POST", std::string(kPrefix) + "/getDataToSignMultiple", get_data_to_sign);
  add(router, svc, "POST", std::string(kPrefix) + "/getDataToSign", get_data_to_sign);
  add(router, svc, "POST", std::string(kPrefix) + "/signDocument", sign_document);
  add(router, svc, "POST", std::string(kPrefix) + "/extendDocument", extend_document);
  add(router, svc, "POST", std::string(kPrefix) + "/timestampDocument", timestamp_documents);
}

}  // namespace sigil::api::dss::detail
