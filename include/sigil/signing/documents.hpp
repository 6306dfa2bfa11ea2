// Document signatures in the three AdES formats behind one interface: the two phases
// (data_to_sign, then sign_document with the signature value), both with a key at hand, extension
// to a higher level, and the revocation policy (fail, or sign at B-T and say so).
// The API families map their DTOs onto DocumentRequest; the formats never see HTTP or credentials.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sigil/common/signing.hpp"
#include "sigil/pades/pades.hpp"
#include "sigil/xades/xades.hpp"

namespace sigil::signing {

enum class Format { cades, pades, xades };
// PAdES: enveloped. CAdES: enveloping (attached) or detached. XAdES: all three.
enum class Packaging { enveloped, enveloping, detached };
std::string_view format_name(Format f);            // "CAdES", "PAdES", "XAdES"
std::string_view packaging_name(Packaging p);      // "ENVELOPED", "ENVELOPING", "DETACHED"
Packaging parse_packaging(std::string_view name);  // DSS names, case-insensitive; public error

struct Document {
  std::filesystem::path path;  // the content on disk; empty for a digest-only (hash-only) request
  std::string name;            // shown in audit records; the XAdES detached reference name
  std::optional<Bytes> digest; // hash-only: the content's digest under DocumentRequest::digest_alg
};

struct DocumentRequest {
  Format format = Format::pades;
  SignatureLevel level = SignatureLevel::b_b;
  Packaging packaging = Packaging::enveloped;
  HashAlg digest_alg = HashAlg::sha256;
  std::chrono::system_clock::time_point signing_time{};  // the claimed signing time (DSS signingDate)
  std::optional<std::string> commitment_type;  // CAdES/PAdES: an OID; XAdES: a URI
  // Format options. The service sets signer, scheme, digest, level and time itself.
  pades::PadesParams pades;
  xades::XadesParams xades;
  // CAdES only: leave the signing-time signed attribute out (a CMS a client embeds into a PDF
  // itself: PAdES forbids it, the time goes into /M). Default false: CAdES carries it.
  bool cades_without_signing_time = false;
  // XAdES DETACHED only: further documents the same signature covers (DSS multiple-documents), one
  // ds:Reference each after the one of the Document itself (URI = name, digest over the bytes or
  // the given digest). Names must be distinct plain file names.
  std::vector<Document> more_documents;
};

struct Sources {
  Timestamper* tsa = nullptr;               // B-T and above
  RevocationSource* revocation = nullptr;   // B-LT and above
  bool degrade_without_revocation = false;  // true: sign at B-T when revocation data is unavailable
};

struct SignOutcome {
  SignatureLevel level = SignatureLevel::b_b;  // the level the output reaches
  std::vector<std::string> warnings;           // e.g. the revocation degrade
};

struct ToBeSigned {
  HashAlg digest_alg = HashAlg::sha256;
  Bytes data;    // what the signature covers (CMS signed attributes, XAdES C14N SignedInfo)
  Bytes digest;  // digest_alg(data): what a hash-only signer signs
};

class DocumentSigner {
  struct Pending;

 public:
  // Temporary files go to `spool_dir` (same file system as the outputs, for atomic renames).
  DocumentSigner(Sources sources, std::filesystem::path spool_dir);

  // Phase 1. Deterministic: the same document, request and certificates give the same bytes, so
  // phase 2 may run in another request (the DSS getDataToSign/signDocument contract).
  ToBeSigned data_to_sign(const Document& doc, const DocumentRequest& req, const SignerCerts& certs,
                          SignatureScheme scheme);
  // Phase 2: prepares again, inserts `signature_value`, lifts to req.level and writes `out`
  // atomically (a failure leaves no file behind).
  SignOutcome sign_document(const Document& doc, const DocumentRequest& req, const SignerCerts& certs,
                            SignatureScheme scheme, const Bytes& signature_value, const std::filesystem::path& out);
  // Both phases with a key at hand.
  SignOutcome sign_with_key(const Document& doc, const DocumentRequest& req, const SignerCerts& certs,
                            SignatureScheme scheme, KeySigner& key, const std::filesystem::path& out);
  // Phase 1 and phase 2 held in one object, so that a caller can prepare several documents,
  // authorise (e.g. consume a SAD), compute the signature values and then finish each one
  // (CSC signDoc). Movable; dropping it removes its temporary files.
  class Prepared {
   public:
    Prepared(Prepared&&) noexcept;
    Prepared& operator=(Prepared&&) noexcept;
    ~Prepared();
    const ToBeSigned& to_be_signed() const;

   private:
    friend class DocumentSigner;
    explicit Prepared(std::unique_ptr<Pending> p);
    std::unique_ptr<Pending> pending_;
  };
  Prepared prepare_signature(const Document& doc, const DocumentRequest& req, const SignerCerts& certs,
                             SignatureScheme scheme);
  SignOutcome finish_signature(Prepared& prepared, const Bytes& signature_value, const std::filesystem::path& out);

  // Lifts an existing signature to `level` (detached CAdES/XAdES: `detached` is the signed data).
  SignOutcome extend(Format format, const std::filesystem::path& signed_doc, SignatureLevel level,
                     const std::filesystem::path& out, const std::optional<std::filesystem::path>& detached = {});
  // The same with every detached document of a XAdES signature over several (matched by name with
  // the reference URIs; a single one also serves a reference of another name). Digest documents
  // are refused: B-LTA needs the data.
  SignOutcome extend(Format format, const std::filesystem::path& signed_doc, SignatureLevel level,
                     const std::filesystem::path& out, const std::vector<Document>& detached);

  // A PAdES document time-stamp (/DocTimeStamp, /ETSI.RFC3161, an incremental update) on a PDF,
  // signed or not, from the configured TSA (Error(unsupported) without one),
  // written atomically to `out`.
  SignOutcome timestamp_pdf(const std::filesystem::path& pdf, HashAlg digest_alg, const std::filesystem::path& out);

 private:
  Pending prepare(const Document& doc, const DocumentRequest& req, const SignerCerts& certs, SignatureScheme scheme);
  SignOutcome complete(Pending& pending, const Bytes& signature_value, const std::filesystem::path& out);
  std::filesystem::path temp_path(std::string_view suffix) const;
  SignOutcome extend_xades(const std::filesystem::path& signed_doc, SignatureLevel level,
                           const std::filesystem::path& out, const xades::ExtendParams& ep);

  Sources sources_;
  std::filesystem::path spool_dir_;
};

}  // namespace sigil::signing
