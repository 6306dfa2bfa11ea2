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

}  // namespace sigil::api::dss
