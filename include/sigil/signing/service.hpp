// The signing core's service layer: who may sign with which credential, and the signature itself.
// Every API family (DSS-style, CSC, Sign Service) calls this; it calls the token (hsm), the store
// and the format engines. It knows nothing about HTTP.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sigil/common/clock.hpp"
#include "sigil/common/crypto_types.hpp"
#include "sigil/common/signing.hpp"
#include "sigil/signing/documents.hpp"

namespace sigil::hsm {
class Token;
}
namespace sigil::store {
class Store;
}

namespace sigil::signing {

// The authenticated caller, as the API layer established it.
struct Caller {
  std::string user_id;
  std::string username;
  std::string address;  // client address, for the audit trail
};

// A credential resolved for signing: its key, certificates and the algorithms it allows.
struct ResolvedCredential {
  std::string id;
  std::string key_label;
  std::string description;
  KeySpec key_spec;
  SignerCerts certs;                     // leaf + chain as stored for the credential
  std::vector<std::string> algorithms;   // "rsa-pkcs1-sha256", "ecdsa-sha384", ...

  bool allows(SignatureScheme scheme, HashAlg hash) const;
  // The scheme a format uses when the caller names none: RSA -> PKCS#1 v1.5, EC -> ECDSA.
  SignatureScheme default_scheme() const;
};

// "rsa-pkcs1-sha256" for (rsa_pkcs1, sha256).
std::string algorithm_name(SignatureScheme scheme, HashAlg hash);

class SigningService {
 public:
  // All references must outlive the service. `sources` serve B-T and above; temporary files go
  // to `spool_dir`.
  SigningService(store::Store& store, hsm::Token& token, const Clock& clock, Sources sources = {},
                 std::filesystem::path spool_dir = std::filesystem::temp_directory_path());

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

  // A document signed with an unattended credential, written atomically to `out`. `scheme`
  // defaults to the key's (RSA PKCS#1 v1.5, ECDSA); the credential must allow it with req.digest_alg.
  SignOutcome sign_document(const Caller& caller, std::string_view credential_id, const Document& doc,
                            const DocumentRequest& req, const std::filesystem::path& out,
                            std::optional<SignatureScheme> scheme = std::nullopt);

  // The format engines for client-held keys (DSS getDataToSign / signDocument / extendDocument).
  DocumentSigner& documents() { return documents_; }

  // The KeySigner of a resolved credential (for the format engines' one-shot paths).
  std::unique_ptr<KeySigner> key_signer(const ResolvedCredential& credential);

  const Clock& clock() const { return clock_; }
  const std::filesystem::path& spool_dir() const { return spool_dir_; }

 private:
  store::Store& store_;
  hsm::Token& token_;
  const Clock& clock_;
  std::filesystem::path spool_dir_;
  DocumentSigner documents_;
};

}  // namespace sigil::signing
