// Certificates for token keys: CSRs, imports with chain checks, and demo-CA issuance.
#include <chrono>
#include <filesystem>

#include "ossl/x509.hpp"
#include "rules.hpp"
#include "sigil/admin/service.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/files.hpp"

namespace sigil::admin {
namespace {

constexpr std::size_t kMaxSubject = 1024;
constexpr int kMaxDays = 3650;
constexpr const char* kDemoIssuingLabel = "demo-issuing-ca";

bool blank(const std::string& s) {
  return s.find_first_not_of(" \t\r\n") == std::string::npos;
}

void check_subject(const std::string& subject) {
  if (blank(subject) || subject.size() > kMaxSubject) {
    throw Error(Errc::invalid_argument, "subject must be a distinguished name like \"CN=Alice,O=Example,C=EU\"", true);
  }
}

// Parses input a client sent; every parser failure becomes one public cert_invalid message (the
// OpenSSL error text stays internal).
template <typename F>
auto parse_or_reject(const char* what, F&& parse) {
  try {
    return parse();
  } catch (const Error&) {
    throw Error(Errc::cert_invalid, std::string(what) + " is not a valid X.509 certificate (PEM or DER)", true);
  }
}

ossl::CertProfile parse_profile(const std::string& name) {
  if (name == "signer") return ossl::CertProfile::signer;
  if (name == "tsa") return ossl::CertProfile::tsa;
  if (name == "ocsp") return ossl::CertProfile::ocsp;
  if (name == "tls_client") return ossl::CertProfile::tls_client;
  throw Error(Errc::invalid_argument, "profile must be one of signer, tsa, ocsp, tls_client", true);
}

std::string read_demo_file(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) {
    throw Error(Errc::unsupported, "the demo CA is not set up on this server (run sigilctl init)", true);
  }
  return files::read(path);
}

}  // namespace

std::string AdminService::create_csr(const std::string& label, const std::string& subject) {
  get_key(label);
  check_subject(subject);
  auto signer = token_.signer(label);
  return ossl::der_to_pem(ossl::create_csr(subject, *signer), "CERTIFICATE REQUEST");
}

KeyView AdminService::import_certificate(const std::string& label, const std::string& certificate,
                                         const std::string& chain) {
  const KeyView view = get_key(label);
  if (blank(certificate)) throw Error(Errc::invalid_argument, "certificate is empty", true);

  // The leaf is the first certificate; further PEM blocks in the same text count as chain.
  std::vector<Bytes> chain_der;
  const Bytes leaf = parse_or_reject("certificate", [&] {
    if (certificate.find("-----BEGIN") == std::string::npos) return ossl::read_certificate(certificate);
    auto all = ossl::pem_to_der_chain(certificate);
    if (all.empty()) throw Error(Errc::cert_invalid, "no certificate");
    chain_der.assign(all.begin() + 1, all.end());
    return all.front();
  });
  if (!blank(chain)) {
    auto more = ossl::pem_to_der_chain(chain);
    if (more.empty()) throw Error(Errc::cert_invalid, "chain is not a list of PEM certificates", true);
    chain_der.insert(chain_der.end(), more.begin(), more.end());
  }

  const auto leaf_info = parse_or_reject("certificate", [&] { return ossl::inspect_certificate(leaf); });
  if (leaf_info.public_key_der != token_.public_key_der(label)) {
    throw Error(Errc::cert_key_mismatch, "the certificate's public key is not the public key of '" + label + "'", true);
  }
  // Structural chain checks: each chain certificate is a CA and each link names its issuer. Path
  // validation against trust anchors (and revocation) belongs to the signing/validation side.
  std::string issuer = leaf_info.issuer;
  std::string chain_pem;
  for (std::size_t i = 0; i < chain_der.size(); ++i) {
    const auto ca = parse_or_reject("chain", [&] { return ossl::inspect_certificate(chain_der[i]); });
    const std::string which = "chain certificate " + std::to_string(i + 1);
    if (!ca.is_ca) throw Error(Errc::cert_invalid, which + " (" + ca.subject + ") is not a CA certificate", true);
    if (ca.subject != issuer) {
      throw Error(Errc::cert_invalid,
                  which + " (" + ca.subject + ") is not the issuer of the certificate before it (" + issuer + ")",
                  true);
    }
    issuer = ca.issuer;
    chain_pem += ossl::der_to_pem(chain_der[i]);
  }

  store::KeyRecord row;
  row.label = label;
  row.token_label = token_.label();
  row.key_id_hex = view.key.id_hex;
  row.key_spec = view.key.spec.name();
  store_.keys().set_certificate(row, {ossl::der_to_pem(leaf), chain_pem, leaf_info.subject, leaf_info.not_after});
  return get_key(label);
}

KeyView AdminService::issue_with_demo_ca(const std::string& label, const CertificateIssue& issue,
                                         const std::string& pki_dir) {
  get_key(label);
  check_subject(issue.subject);
  if (issue.days < 1 || issue.days > kMaxDays) {
    throw Error(Errc::invalid_argument, "days must be between 1 and " + std::to_string(kMaxDays), true);
  }
  const auto profile = parse_profile(issue.profile);
  const std::filesystem::path dir(pki_dir);
  const std::string issuing_pem = read_demo_file(dir / "issuing-ca.pem");
  const std::string root_pem = read_demo_file(dir / "root-ca.pem");
  if (!token_.find_key(kDemoIssuingLabel)) {
    throw Error(Errc::unsupported, "the demo issuing CA key is not in the token (run sigilctl init)", true);
  }

  ossl::CertTemplate t;
  t.subject = issue.subject;
  t.public_key_der = token_.public_key_der(label);
  t.profile = profile;
  // Back-date an hour so relying parties with a slightly slow clock accept it at once.
  t.not_before = clock_.now() - std::chrono::hours(1);
  t.not_after = clock_.now() + std::chrono::hours(24) * issue.days;
  auto ca = token_.signer(kDemoIssuingLabel);
  const Bytes der = ossl::issue_certificate(t, ossl::read_certificate(issuing_pem), *ca);
  // Through import_certificate, so issued certificates pass the same checks as imported ones.
  return import_certificate(label, ossl::der_to_pem(der), issuing_pem + root_pem);
}

}  // namespace sigil::admin
