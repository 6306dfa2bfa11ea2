// The signing core's service layer: who may sign with which credential, and the signature itself.
// Every API family (DSS-style, CSC, Sign Service) calls this; it calls the token (hsm), the store
// and the format engines. It knows nothing about HTTP.
#pragma once

#include <chrono>
#include <functional>
#include <utility>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sigil/common/clock.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/crypto_types.hpp"
#include "sigil/common/signing.hpp"
#include "sigil/signing/documents.hpp"

namespace sigil::hsm {
class Token;
}
namespace sigil::store {
class Store;
struct CredentialRecord;
}
namespace sigil::audit {
struct Actor;
struct Event;
class Sink;
struct SignatureEvent;
}

namespace sigil::signing {

// The authenticated caller, as the API layer established it.
struct Caller {
  std::string user_id;
  std::string username;
  std::string address;     // client address, for the audit trail
  std::string request_id;  // for the audit trail
  std::string api = "dss"; // API family: "dss" | "csc" | "signservice"
  // Extra details the API layer adds to every signature.create record of this call (e.g. CSC
  // client_id, client_data, lang). Identifiers only, never secrets; empty = none.
  std::vector<std::pair<std::string, std::string>> audit_details;

  // The caller an API front-end acts for: the audit actor of the request (api::actor_of) and the
  // API family.
  static Caller of(const audit::Actor& actor, std::string api_family);
};

// One document of a batch signed with an attended credential (CSC signDoc).
struct AuthorizedDocument {
  Document doc;
  DocumentRequest req;
  SignatureScheme scheme = SignatureScheme::ecdsa;
  std::filesystem::path out;  // where the signed document / signature goes (atomically)
};

// A credential resolved for signing: its key, certificates and the algorithms it allows.
struct ResolvedCredential {
  std::string id;
  std::string key_label;
  std::string description;
  KeySpec key_spec;
  SignerCerts certs;                     // leaf + chain as stored for the credential
  std::vector<std::string> algorithms;   // "rsa-pkcs1-sha256", "ecdsa-sha384", ...
  // The leaf certificate's facts, parsed once: the service caches resolved credentials, so a call
  // does not decode the certificate (OpenSSL 3's decoder costs more than an ECDSA signature).
  struct LeafFacts {
    std::string subject, issuer, serial_hex;
    std::string not_before, not_after;  // RFC 3339
    std::string sha256_hex;
  };
  LeafFacts leaf;

  bool allows(SignatureScheme scheme, HashAlg hash) const;
  // The scheme a format uses when the caller names none: RSA -> PKCS#1 v1.5, EC -> ECDSA.
  SignatureScheme default_scheme() const;
};

// A credential as an attended (CSC) API shows it: the resolved credential plus its policy facts.
struct AttendedCredential {
  ResolvedCredential credential;
  bool enabled = false;        // status "active"
  int scal = 2;                // 1 | 2
  std::string second_factor;   // none | pin | otp | pin_otp
  bool unattended = false;
};

// "rsa-pkcs1-sha256" for (rsa_pkcs1, sha256).
std::string algorithm_name(SignatureScheme scheme, HashAlg hash);

class SigningService {
 public:
  // All references must outlive the service. `sources` serve B-T and above; temporary files go
  // to `spool_dir`.
  SigningService(store::Store& store, hsm::Token& token, const Clock& clock, Sources sources = {},
                 std::filesystem::path spool_dir = std::filesystem::temp_directory_path());
  ~SigningService();
  SigningService(const SigningService&) = delete;
  SigningService& operator=(const SigningService&) = delete;

  // Unattended (server-signing) credentials the caller owns and may use without a second factor:
  // active, `unattended`, owned by the caller. Others are invisible (not_found, never forbidden,
  // so ids of other users' credentials do not leak).
  std::vector<ResolvedCredential> service_credentials(const Caller& caller);
  ResolvedCredential service_credential(const Caller& caller, std::string_view credential_id);

  // A signature over a digest with an unattended credential. ECDSA output is DER unless raw_ecdsa.
  // Throws Error(invalid_argument, public) when the digest length does not fit `hash` or the
  // credential does not allow the algorithm.
  Bytes sign_digest(const Caller& caller, std::string_view credential_id, SignatureScheme scheme, HashAlg hash,
                    const Bytes& digest, bool raw_ecdsa = false);

  // Attended signing (CSC): every credential with a certificate the caller owns, active or
  // disabled; others are invisible. credential(): Error(not_found, public) when not the caller's;
  // it reuses a record it read for the record cache's time (set_record_cache_ttl). What it said
  // about status and ownership is confirmed when the SAD is spent (AuthorizationService::consume_sad).
  std::vector<AttendedCredential> credentials_of(const Caller& caller);
  AttendedCredential credential(const Caller& caller, std::string_view credential_id);

  // Signatures over digests with an active credential the caller owns, one per digest, in order.
  // `attended` is what credential() returned for this caller (ownership is checked there). The
  // caller (the CSC layer) must have consumed the SAD for exactly these digests first
  // (AuthorizationService::consume_sad), or commit the spend with the record (SCAL1, below); this
  // checks status, digest lengths and the algorithm (Error(invalid_argument, public)) but not the
  // second factor. Audited as one
  // signature.create event (format "raw") listing every digest, like sign_digest.
  // With `commit`, the signature.create record goes to it instead of the service's sink: it must
  // make the record durable together with whatever belongs in the same commit (a SCAL1 SAD's
  // spend, ADR 0021) or throw; the signatures are returned only after it returned, and a failure
  // is recorded through the service's sink as usual.
  using RecordHook = std::function<void(audit::Event signature_record)>;
  std::vector<Bytes> sign_digests_authorized(const Caller& caller, const AttendedCredential& attended,
                                             SignatureScheme scheme, HashAlg hash, const std::vector<Bytes>& digests,
                                             const RecordHook* commit = nullptr);

  // Documents signed with an active credential the caller owns (attended, CSC signDoc). Every
  // document is prepared first (format and parameter errors surface here, before anything is
  // spent); then `authorize` runs once (the CSC layer consumes the SAD for these documents; if it
  // throws, nothing is signed); then each document is signed and finished. Each document is one
  // signature.create record (fail closed: the audit sink is checked before `authorize`). Refusals:
  // Error(not_found) not the caller's, Error(invalid_argument, public) disabled or algorithm not
  // allowed.
  std::vector<SignOutcome> sign_documents_authorized(const Caller& caller, std::string_view credential_id,
                                                     const std::vector<AuthorizedDocument>& documents,
                                                     const std::function<void()>& authorize);

  // The time-stamp and revocation sources the service signs with (what levels it can reach).
  const Sources& sources() const { return sources_; }
  // Revocation material for `chain` (leaf first) from the configured source (CSC validationInfo).
  // Error(unsupported, public) when no revocation source is configured.
  RevocationData revocation_data(const std::vector<Bytes>& chain);

  // A document signed with an unattended credential, written atomically to `out`. `scheme`
  // defaults to the key's (RSA PKCS#1 v1.5, ECDSA); the credential must allow it with req.digest_alg.
  SignOutcome sign_document(const Caller& caller, std::string_view credential_id, const Document& doc,
                            const DocumentRequest& req, const std::filesystem::path& out,
                            std::optional<SignatureScheme> scheme = std::nullopt);

  // The format engines for client-held keys (DSS getDataToSign / signDocument / extendDocument).
  DocumentSigner& documents() { return documents_; }

  // Phase 2 of a document signature whose value a client computed (DSS signDocument), audited
  // like every other signature.
  SignOutcome complete_document(const Caller& caller, const Document& doc, const DocumentRequest& req,
                                const SignerCerts& certs, SignatureScheme scheme, const Bytes& signature_value,
                                const std::filesystem::path& out);

  // A PAdES document time-stamp (DSS timestampDocument) on `pdf` from the configured TSA, written
  // atomically to `out`; audited as signature.create with format "pades", level "DocTimeStamp" and
  // no credential.
  SignOutcome timestamp_document(const Caller& caller, const Document& pdf, HashAlg digest_alg,
                                 const std::filesystem::path& out);

  // Every signature is recorded here before its result is returned (fail closed: when the record
  // cannot be written the operation fails with audit_unavailable). Null: no audit (unit tests).
  void set_audit(audit::Sink* sink) { audit_ = sink; }
  // How long credential() reuses a credential record it read (0, the default: read every call).
  void set_record_cache_ttl(std::chrono::milliseconds ttl) { record_ttl_ = ttl; }

  // The KeySigner of a resolved credential (for the format engines' one-shot paths).
  std::unique_ptr<KeySigner> key_signer(const ResolvedCredential& credential);

  const Clock& clock() const { return clock_; }
  const std::filesystem::path& spool_dir() const { return spool_dir_; }

 private:
  store::Store& store_;
  hsm::Token& token_;
  const Clock& clock_;
  // Runs `work` and records its outcome (success or the error) as a signature.create event.
  // `commit`, when given, makes the success record durable instead of the sink (failures always
  // go to the sink).
  template <class Work>
  auto audited(const Caller& caller, audit::SignatureEvent& event, Work&& work, const RecordHook* commit = nullptr)
      -> decltype(work());
  void record(const Caller& caller, audit::SignatureEvent& event, std::chrono::steady_clock::time_point start,
              const Error* error, const RecordHook* commit = nullptr);

  // Parsed credentials by id, reused while the stored record (certificate, chain, key, algorithms)
  // is unchanged; and credential()'s records, for record_ttl_.
  struct ResolvedCache;
  std::chrono::milliseconds record_ttl_{0};
  std::unique_ptr<ResolvedCache> resolved_;
  ResolvedCredential resolve(const store::CredentialRecord& r);

  std::filesystem::path spool_dir_;
  Sources sources_;
  DocumentSigner documents_;
  audit::Sink* audit_ = nullptr;
};

}  // namespace sigil::signing
