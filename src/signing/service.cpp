#include "sigil/signing/service.hpp"

#include <algorithm>

#include "ossl/x509.hpp"
#include "sigil/common/error.hpp"
#include "sigil/hsm/token.hpp"
#include "sigil/store/store.hpp"

namespace sigil::signing {
namespace {

ResolvedCredential resolve(const store::CredentialRecord& r) {
  ResolvedCredential c;
  c.id = r.id;
  c.key_label = r.key_label;
  c.description = r.description;
  c.algorithms = r.algorithms;
  if (r.certificate_pem.empty()) {
    throw Error(Errc::cert_invalid, "credential " + r.id + " has no certificate", false);
  }
  c.certs.leaf = ossl::read_certificate(r.certificate_pem);
  if (!r.chain_pem.empty()) c.certs.issuers = ossl::pem_to_der_chain(r.chain_pem);
  c.key_spec = ossl::spki_key_spec(ossl::inspect_certificate(c.certs.leaf).public_key_der);
  return c;
}

bool usable_unattended(const store::CredentialRecord& r, const Caller& caller) {
  return r.owner_user_id == caller.user_id && r.status == "active" && r.unattended;
}

}  // namespace

bool ResolvedCredential::allows(SignatureScheme scheme, HashAlg hash) const {
  return std::find(algorithms.begin(), algorithms.end(), algorithm_name(scheme, hash)) != algorithms.end();
}

SignatureScheme ResolvedCredential::default_scheme() const {
  return key_spec.type == KeyType::ec ? SignatureScheme::ecdsa : SignatureScheme::rsa_pkcs1;
}

std::string algorithm_name(SignatureScheme scheme, HashAlg hash) {
  return std::string(scheme_name(scheme)) + "-" + std::string(hash_name(hash));
}

SigningService::SigningService(store::Store& store, hsm::Token& token, const Clock& clock, Sources sources,
                               std::filesystem::path spool_dir)
    : store_(store), token_(token), clock_(clock), spool_dir_(std::move(spool_dir)), documents_(sources, spool_dir_) {}

std::vector<ResolvedCredential> SigningService::service_credentials(const Caller& caller) {
  std::vector<ResolvedCredential> out;
  for (const auto& r : store_.credentials().list(caller.user_id)) {
    if (usable_unattended(r, caller) && !r.certificate_pem.empty()) out.push_back(resolve(r));
  }
  return out;
}

ResolvedCredential SigningService::service_credential(const Caller& caller, std::string_view credential_id) {
  const auto r = store_.credentials().get(credential_id);
  if (!r || !usable_unattended(*r, caller)) {
    throw Error(Errc::not_found, "no usable unattended credential '" + std::string(credential_id) + "'", true);
  }
  return resolve(*r);
}

Bytes SigningService::sign_digest(const Caller& caller, std::string_view credential_id, SignatureScheme scheme,
                                  HashAlg hash, const Bytes& digest, bool raw_ecdsa) {
  const auto credential = service_credential(caller, credential_id);
  if (digest.size() != digest_size(hash)) {
    throw Error(Errc::invalid_argument,
                "digest length " + std::to_string(digest.size()) + " does not fit " + std::string(hash_name(hash)),
                true);
  }
  if (!credential.allows(scheme, hash)) {
    throw Error(Errc::invalid_argument,
                "credential '" + credential.id + "' does not allow " + algorithm_name(scheme, hash), true);
  }
  return key_signer(credential)->sign_digest(scheme, hash, digest, raw_ecdsa);
}

SignOutcome SigningService::sign_document(const Caller& caller, std::string_view credential_id, const Document& doc,
                                          const DocumentRequest& req, const std::filesystem::path& out,
                                          std::optional<SignatureScheme> scheme) {
  const auto credential = service_credential(caller, credential_id);
  const SignatureScheme s = scheme.value_or(credential.default_scheme());
  if (!credential.allows(s, req.digest_alg)) {
    throw Error(Errc::invalid_argument,
                "credential '" + credential.id + "' does not allow " + algorithm_name(s, req.digest_alg), true);
  }
  auto key = key_signer(credential);
  return documents_.sign_with_key(doc, req, credential.certs, s, *key, out);
}

std::unique_ptr<KeySigner> SigningService::key_signer(const ResolvedCredential& credential) {
  return token_.signer(credential.key_label);
}

}  // namespace sigil::signing
