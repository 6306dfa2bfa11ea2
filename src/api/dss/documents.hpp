// RemoteSignatureParameters / RemoteDocument -> the signing core's DocumentRequest and Document.
// Internal to sigil_api_dss.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "dto.hpp"
#include "sigil/signing/documents.hpp"

namespace sigil::api::dss {

struct ParsedParameters {
  signing::DocumentRequest request;
  std::optional<SignerCerts> certs;             // signingCertificate + certificateChain, when given
  std::optional<SignatureScheme> scheme;        // from encryptionAlgorithm, when given
  std::string level_name;                       // "PAdES_BASELINE_B", for output names
};

// `parameters` of a DSS request. `now` is the signing date when blevelParams.signingDate is absent.
ParsedParameters parse_parameters(const Json& parameters, std::chrono::system_clock::time_point now);

// A RemoteDocument spooled to a file of its own (removed with the object), or a digest document.
class SpooledDocument {
 public:
  SpooledDocument(const Json& remote_document, const std::filesystem::path& spool_dir, HashAlg expected_digest_alg);
  ~SpooledDocument();
  SpooledDocument(const SpooledDocument&) = delete;
  SpooledDocument& operator=(const SpooledDocument&) = delete;
  const signing::Document& document() const { return doc_; }

 private:
  signing::Document doc_;
};

// An output file read back as a RemoteDocument {bytes, digestAlgorithm: null, name}, then removed.
Json remote_document_from_file(const std::filesystem::path& file, const std::string& name);

// "sample.pdf" + PAdES_BASELINE_B -> "sample-signed-pades-baseline-b.pdf" (the DSS naming).
std::string output_name(const std::string& input_name, const std::string& level_name, signing::Format format,
                        signing::Packaging packaging, const std::string& verb = "signed");

// The scheme of a key type when nothing else says (RSA -> PKCS#1 v1.5, EC -> ECDSA).
SignatureScheme default_scheme_for(const Bytes& leaf_der);

// A fresh output path in the service's spool directory.
std::filesystem::path output_path(const std::filesystem::path& spool_dir);

// Removes a file on every path out (the output of a failed signature never lingers).
struct RemoveOnExit {
  std::filesystem::path path;
  ~RemoveOnExit();
};

// 200 with the output file as a RemoteDocument, X-Sigil-Signature-Level and X-Sigil-Warning.
http::Response signed_response(const std::filesystem::path& out, const std::string& name,
                               const signing::SignOutcome& outcome);

// The format of a signed document when the request does not say: PDF, XML, else CMS. An ASiC
// container (a ZIP) is refused with Error(unsupported, public).
signing::Format sniff_format(const std::filesystem::path& file);

// Error(unsupported, public) "<what> needs an ASiC container, which Sigil does not support yet".
[[noreturn]] void asic_unsupported(const std::string& what);
// The same for a request naming parameters.asicContainerType.
[[noreturn]] void asic_container_unsupported(const Json& asic_container_type);

}  // namespace sigil::api::dss
