#include "sigil/signing/service.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "ossl/digest.hpp"
#include "ossl/x509.hpp"
#include "sigil/audit/events.hpp"
#include "sigil/cms/cades.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"
#include "sigil/hsm/token.hpp"
#include "sigil/store/store.hpp"

namespace sigil::signing {
namespace {

ResolvedCredential parse_credential(const store::CredentialRecord& r) {
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
  const auto info = ossl::inspect_certificate(c.certs.leaf);
  c.key_spec = ossl::spki_key_spec(info.public_key_der);
  c.leaf = {info.subject, info.issuer, info.serial_hex, info.not_before, info.not_after, info.sha256_fingerprint_hex};
  return c;
}

audit::SignatureEvent signature_event(const Caller& caller, const ResolvedCredential* credential,
                                     std::string format, std::string level, std::string algorithm) {
  audit::SignatureEvent e;
  e.actor = {caller.user_id, caller.username, caller.address, caller.request_id};
  e.api = caller.api;
  if (credential != nullptr) {
    e.credential_id = credential->id;
    e.key_label = credential->key_label;
    e.certificate_sha256 = credential->leaf.sha256_hex;
    e.certificate_subject = credential->leaf.subject;
  }
  e.format = std::move(format);
  e.level = std::move(level);
  e.algorithm = std::move(algorithm);
  return e;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "sha256:<hex>" of the document as received (hash-only: the digest the client sent).
audit::DocumentRef document_ref(const Document& doc, HashAlg digest_alg) {
  audit::DocumentRef r;
  r.name = doc.name;
  if (doc.digest) {
    r.digest = std::string(hash_name(digest_alg)) + ":" + hex_encode(*doc.digest);
  } else if (!doc.path.empty()) {
    std::ifstream in(doc.path, std::ios::binary);
    r.digest = "sha256:" + hex_encode(cms::digest_stream(HashAlg::sha256, in));
  }
  return r;
}

// The document and, for a multi-document detached XAdES, every further one it covers.
void add_documents(audit::SignatureEvent& event, const Document& doc, const DocumentRequest& req) {
  event.documents.push_back(document_ref(doc, req.digest_alg));
  for (const auto& d : req.more_documents) event.documents.push_back(document_ref(d, req.digest_alg));
}

bool usable_unattended(const store::CredentialRecord& r, const Caller& caller) {
  return r.owner_user_id == caller.user_id && r.status == "active" && r.unattended;
}

}  // namespace

Caller Caller::of(const audit::Actor& actor, std::string api_family) {
  return Caller{actor.id, actor.name, actor.address, actor.request_id, std::move(api_family), {}};
}

bool ResolvedCredential::allows(SignatureScheme scheme, HashAlg hash) const {
  return std::find(algorithms.begin(), algorithms.end(), algorithm_name(scheme, hash)) != algorithms.end();
}

SignatureScheme ResolvedCredential::default_scheme() const {
  return key_spec.type == KeyType::ec ? SignatureScheme::ecdsa : SignatureScheme::rsa_pkcs1;
}

std::string algorithm_name(SignatureScheme scheme, HashAlg hash) {
  return std::string(scheme_name(scheme)) + "-" + std::string(hash_name(hash));
}

struct SigningService::ResolvedCache {
  struct Entry {
    std::string certificate_pem, chain_pem, key_label, description;
    std::vector<std::string> algorithms;
    ResolvedCredential resolved;
    bool matches(const store::CredentialRecord& r) const {
      return certificate_pem == r.certificate_pem && chain_pem == r.chain_pem && key_label == r.key_label &&
             description == r.description && algorithms == r.algorithms;
    }
  };
  struct Record {
    std::string owner_user_id;
    AttendedCredential attended;
    Clock::time_point read_at;
  };
  static constexpr std::size_t kMax = 4096;  // bounded: cleared when full (credentials are few and hot)
  std::mutex mu;
  std::unordered_map<std::string, std::shared_ptr<const Entry>> entries;
  std::unordered_map<std::string, Record> records;  // credential(), for record_ttl_
};

SigningService::SigningService(store::Store& store, hsm::Token& token, const Clock& clock, Sources sources,
                               std::filesystem::path spool_dir)
    : store_(store),
      token_(token),
      clock_(clock),
      resolved_(std::make_unique<ResolvedCache>()),
      spool_dir_(std::move(spool_dir)),
      sources_(sources),
      documents_(sources, spool_dir_) {}

SigningService::~SigningService() = default;

ResolvedCredential SigningService::resolve(const store::CredentialRecord& r) {
  {
    std::lock_guard lock(resolved_->mu);
    if (const auto it = resolved_->entries.find(r.id); it != resolved_->entries.end() && it->second->matches(r)) {
      return it->second->resolved;
    }
  }
  auto entry = std::make_shared<ResolvedCache::Entry>(
      ResolvedCache::Entry{r.certificate_pem, r.chain_pem, r.key_label, r.description, r.algorithms, parse_credential(r)});
  ResolvedCredential out = entry->resolved;
  std::lock_guard lock(resolved_->mu);
  if (resolved_->entries.size() >= ResolvedCache::kMax) resolved_->entries.clear();
  resolved_->entries[r.id] = std::move(entry);
  return out;
}

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
  auto event = signature_event(caller, &credential, "raw", "", algorithm_name(scheme, hash));
  event.documents.push_back({"", std::string(hash_name(hash)) + ":" + hex_encode(digest)});
  return audited(caller, event, [&] {
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
  });
}

std::vector<AttendedCredential> SigningService::credentials_of(const Caller& caller) {
  std::vector<AttendedCredential> out;
  for (const auto& r : store_.credentials().list(caller.user_id)) {
    if (r.owner_user_id != caller.user_id || r.certificate_pem.empty()) continue;
    out.push_back(AttendedCredential{resolve(r), r.status == "active", r.scal, r.second_factor, r.unattended});
  }
  return out;
}

AttendedCredential SigningService::credential(const Caller& caller, std::string_view credential_id) {
  const auto not_found = [&] { return Error(Errc::not_found, "no credential '" + std::string(credential_id) + "'", true); };
  const auto now = clock_.now();
  if (record_ttl_.count() > 0) {
    std::lock_guard lock(resolved_->mu);
    if (const auto it = resolved_->records.find(std::string(credential_id)); it != resolved_->records.end()) {
      if (now >= it->second.read_at && now - it->second.read_at < record_ttl_) {
        if (it->second.owner_user_id != caller.user_id) throw not_found();
        return it->second.attended;
      }
      resolved_->records.erase(it);
    }
  }
  const auto r = store_.credentials().get(credential_id);
  if (!r || r->owner_user_id != caller.user_id || r->certificate_pem.empty()) throw not_found();
  AttendedCredential out{resolve(*r), r->status == "active", r->scal, r->second_factor, r->unattended};
  if (record_ttl_.count() > 0) {
    std::lock_guard lock(resolved_->mu);
    if (resolved_->records.size() >= ResolvedCache::kMax) resolved_->records.clear();
    resolved_->records.insert_or_assign(r->id, ResolvedCache::Record{r->owner_user_id, out, now});
  }
  return out;
}

std::vector<Bytes> SigningService::sign_digests_authorized(const Caller& caller, const AttendedCredential& attended,
                                                           SignatureScheme scheme, HashAlg hash,
                                                           const std::vector<Bytes>& digests, const RecordHook* commit) {
  if (!attended.enabled) {
    throw Error(Errc::invalid_argument, "the credential '" + attended.credential.id + "' is disabled", true);
  }
  const auto& c = attended.credential;
  auto event = signature_event(caller, &c, "raw", "", algorithm_name(scheme, hash));
  for (const auto& d : digests) event.documents.push_back({"", std::string(hash_name(hash)) + ":" + hex_encode(d)});
  return audited(caller, event, [&] {
    for (const auto& d : digests) {
      if (d.size() != digest_size(hash)) {
        throw Error(Errc::invalid_argument,
                    "digest length " + std::to_string(d.size()) + " does not fit " + std::string(hash_name(hash)),
                    true);
      }
    }
    if (!c.allows(scheme, hash)) {
      throw Error(Errc::invalid_argument, "credential '" + c.id + "' does not allow " + algorithm_name(scheme, hash),
                  true);
    }
    return key_signer(c)->sign_digests(scheme, hash, digests);
  }, commit);
}

SignOutcome SigningService::sign_document(const Caller& caller, std::string_view credential_id, const Document& doc,
                                          const DocumentRequest& req, const std::filesystem::path& out,
                                          std::optional<SignatureScheme> scheme) {
  const auto credential = service_credential(caller, credential_id);
  const SignatureScheme s = scheme.value_or(credential.default_scheme());
  auto event = signature_event(caller, &credential, lower(format_name(req.format)), std::string(level_name(req.level)),
                               algorithm_name(s, req.digest_alg));
  add_documents(event, doc, req);
  return audited(caller, event, [&] {
    if (!credential.allows(s, req.digest_alg)) {
      throw Error(Errc::invalid_argument,
                  "credential '" + credential.id + "' does not allow " + algorithm_name(s, req.digest_alg), true);
    }
    auto key = key_signer(credential);
    auto outcome = documents_.sign_with_key(doc, req, credential.certs, s, *key, out);
    event.level = std::string(level_name(outcome.level));
    return outcome;
  });
}

std::vector<SignOutcome> SigningService::sign_documents_authorized(const Caller& caller, std::string_view credential_id,
                                                                   const std::vector<AuthorizedDocument>& documents,
                                                                   const std::function<void()>& authorize) {
  const auto attended = credential(caller, credential_id);
  if (!attended.enabled) {
    throw Error(Errc::invalid_argument, "the credential '" + std::string(credential_id) + "' is disabled", true);
  }
  const auto& c = attended.credential;
  for (const auto& d : documents) {
    if (!c.allows(d.scheme, d.req.digest_alg)) {
      throw Error(Errc::invalid_argument,
                  "credential '" + c.id + "' does not allow " + algorithm_name(d.scheme, d.req.digest_alg), true);
    }
  }
  std::vector<DocumentSigner::Prepared> prepared;
  prepared.reserve(documents.size());
  for (const auto& d : documents) prepared.push_back(documents_.prepare_signature(d.doc, d.req, c.certs, d.scheme));
  if (audit_ != nullptr) audit_->check_available();  // fail closed before anything is spent
  if (authorize) authorize();
  auto key = key_signer(c);
  std::vector<SignOutcome> out;
  out.reserve(documents.size());
  for (std::size_t i = 0; i < documents.size(); ++i) {
    const auto& d = documents[i];
    auto event = signature_event(caller, &c, lower(format_name(d.req.format)), std::string(level_name(d.req.level)),
                                 algorithm_name(d.scheme, d.req.digest_alg));
    event.documents.push_back(document_ref(d.doc, d.req.digest_alg));
    out.push_back(audited(caller, event, [&] {
      const auto& tbs = prepared[i].to_be_signed();
      const Bytes value = key->sign_digest(d.scheme, tbs.digest_alg, tbs.digest);
      auto outcome = documents_.finish_signature(prepared[i], value, d.out);
      event.level = std::string(level_name(outcome.level));
      return outcome;
    }));
  }
  return out;
}

RevocationData SigningService::revocation_data(const std::vector<Bytes>& chain) {
  if (sources_.revocation == nullptr) throw Error(Errc::unsupported, "no revocation source is configured", true);
  return sources_.revocation->collect(chain);
}

SignOutcome SigningService::complete_document(const Caller& caller, const Document& doc, const DocumentRequest& req,
                                              const SignerCerts& certs, SignatureScheme scheme,
                                              const Bytes& signature_value, const std::filesystem::path& out) {
  auto event = signature_event(caller, nullptr, lower(format_name(req.format)), std::string(level_name(req.level)),
                               algorithm_name(scheme, req.digest_alg));
  if (!certs.leaf.empty()) {
    event.certificate_sha256 = hex_encode(ossl::digest(HashAlg::sha256, certs.leaf));
    event.certificate_subject = ossl::inspect_certificate(certs.leaf).subject;
  }
  add_documents(event, doc, req);
  return audited(caller, event, [&] {
    auto outcome = documents_.sign_document(doc, req, certs, scheme, signature_value, out);
    event.level = std::string(level_name(outcome.level));
    return outcome;
  });
}

SignOutcome SigningService::timestamp_document(const Caller& caller, const Document& pdf, HashAlg digest_alg,
                                               const std::filesystem::path& out) {
  // No credential and no key: the record names the document and the level "DocTimeStamp".
  auto event = signature_event(caller, nullptr, "pades", "DocTimeStamp", "");
  event.documents.push_back(document_ref(pdf, digest_alg));
  return audited(caller, event, [&] { return documents_.timestamp_pdf(pdf.path, digest_alg, out); });
}

template <class Work>
auto SigningService::audited(const Caller& caller, audit::SignatureEvent& event, Work&& work,
                             const RecordHook* commit) -> decltype(work()) {
  const auto start = std::chrono::steady_clock::now();
  if (audit_ != nullptr) audit_->check_available();  // fail closed before any work
  try {
    auto result = work();
    record(caller, event, start, nullptr, commit);  // the result goes out only after this returned
    return result;
  } catch (const Error& e) {
    if (e.code() != Errc::audit_unavailable) record(caller, event, start, &e);
    throw;
  } catch (const std::exception& e) {
    const Error internal(Errc::internal, e.what());
    record(caller, event, start, &internal);
    throw;
  }
}

void SigningService::record(const Caller& caller, audit::SignatureEvent& event,
                            std::chrono::steady_clock::time_point start, const Error* error, const RecordHook* commit) {
  if (audit_ == nullptr && commit == nullptr) return;
  event.success = error == nullptr;
  event.error = error == nullptr ? "" : std::string(error->info().name);
  event.duration = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
  auto e = audit::to_event(event);
  for (const auto& [k, v] : caller.audit_details) e.details.emplace(k, v);  // never overrides the event's own
  if (commit != nullptr) {
    (*commit)(std::move(e));
  } else {
    audit_->append(std::move(e));
  }
}

std::unique_ptr<KeySigner> SigningService::key_signer(const ResolvedCredential& credential) {
  return token_.signer(credential.key_label);
}

}  // namespace sigil::signing
