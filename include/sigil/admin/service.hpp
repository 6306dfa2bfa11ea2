// Administration as plain, transport-neutral functions: the admin REST API (api/admin) and
// `sigilctl --local` both call these, and tests call them directly. Every mutating call takes the
// acting principal (for the audit log, issue 8) and validates its input with public messages.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sigil/common/clock.hpp"
#include "sigil/common/crypto_types.hpp"
#include "sigil/hsm/token.hpp"
#include "sigil/store/store.hpp"

namespace sigil::admin {

// A key as the administrator sees it: the token's facts plus the certificate imported for it.
struct KeyView {
  hsm::KeyInfo key;
  std::optional<std::string> certificate_pem;  // leaf
  std::optional<std::string> chain_pem;        // intermediates (and optionally the root), leaf excluded
  std::optional<std::string> subject;
  std::optional<std::string> not_after;        // RFC 3339
};

enum class SecondFactor { none, pin, otp, pin_otp };
enum class CredentialStatus { active, disabled };
std::string_view to_string(SecondFactor f);
SecondFactor parse_second_factor(std::string_view s);  // throws Error(invalid_argument), public

// Signature algorithms a credential may use, named "<scheme>-<hash>": "rsa-pkcs1-sha256",
// "rsa-pss-sha384", "ecdsa-sha256", ... Defaults: every scheme/hash the key type supports.
struct Credential {
  std::string id;                // "cred_<random>"
  std::string owner_user_id;
  std::string owner_username;
  std::string key_label;
  std::string description;
  std::vector<std::string> algorithms;
  int scal = 2;                  // 1 or 2
  SecondFactor second_factor = SecondFactor::otp;
  bool unattended = false;       // a service user may sign without a second factor
  CredentialStatus status = CredentialStatus::active;
  std::string certificate_pem;   // copied from the key at creation / refreshed on cert import
  std::string chain_pem;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;
};

struct NewCredential {
  std::string owner_username;
  std::string key_label;
  std::string description;
  std::vector<std::string> algorithms;  // empty = all the key supports
  int scal = 2;
  SecondFactor second_factor = SecondFactor::otp;
  bool unattended = false;
};

struct CertificateIssue {
  std::string subject;                  // "CN=Alice,O=Example,C=EU"
  int days = 365;
  std::string profile = "signer";       // signer | tsa | ocsp | tls_client
};

class AdminService {
 public:
  AdminService(store::Store& store, hsm::Token& token, const Clock& clock);

  // Keys (in the token; certificate metadata in the store).
  KeyView generate_key(const std::string& label, const KeySpec& spec);
  std::vector<KeyView> list_keys();
  KeyView get_key(const std::string& label);                  // hsm_key_not_found
  void delete_key(const std::string& label);                  // refused while a credential uses it
  std::string create_csr(const std::string& label, const std::string& subject);  // PEM
  // Imports a certificate (PEM or DER) plus optional chain for a key; refuses a certificate whose
  // public key differs from the key's (Errc::cert_key_mismatch).
  KeyView import_certificate(const std::string& label, const std::string& certificate, const std::string& chain = {});
  // Development: have the demo issuing CA in the token certify the key (pki_dir holds issuing-ca.pem).
  KeyView issue_with_demo_ca(const std::string& label, const CertificateIssue& issue, const std::string& pki_dir);

  // Credentials.
  Credential create_credential(const NewCredential& c);       // key must have a certificate
  std::vector<Credential> list_credentials(const std::optional<std::string>& owner_username = {});
  Credential get_credential(const std::string& id);
  Credential assign_credential(const std::string& id, const std::string& owner_username);
  Credential set_credential_status(const std::string& id, CredentialStatus status);

  // A key the service must never delete nor bind to a credential: the audit log's checkpoint key
  // (a credential on it would let its owner sign forged checkpoints). Call before serving.
  void protect_key(std::string label, std::string reason);

  store::Store& store() { return store_; }
  hsm::Token& token() { return token_; }

 private:
  store::Store& store_;
  hsm::Token& token_;
  const Clock& clock_;
  std::map<std::string, std::string> protected_keys_;  // label -> why

  void check_not_protected(const std::string& label) const;
};

}  // namespace sigil::admin
