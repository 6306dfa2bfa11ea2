#include "ossl/x509.hpp"

#include <openssl/pem.h>

#include <ctime>

#include "ossl/digest.hpp"
#include "ossl/error.hpp"
#include "ossl/handles.hpp"
#include "sigil/common/clock.hpp"
#include "sigil/common/encoding.hpp"

namespace sigil::ossl {
namespace {

PKey parse_spki(const Bytes& der) {
  const unsigned char* p = der.data();
  PKey key(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (!key) fail("invalid public key", Errc::invalid_argument);
  return key;
}

Bytes spki_of(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key, &der);
  if (len <= 0) fail("i2d_PUBKEY");
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

// "CN=a,O=b,C=DE" -> X509_NAME (escaping of ',' is not supported: demo and admin-typed names).
Name parse_name(const std::string& dn) {
  Name name(X509_NAME_new());
  std::size_t start = 0;
  while (start < dn.size()) {
    std::size_t end = dn.find(',', start);
    if (end == std::string::npos) end = dn.size();
    std::string part = dn.substr(start, end - start);
    while (!part.empty() && part.front() == ' ') part.erase(part.begin());
    const auto eq = part.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw Error(Errc::invalid_argument, "malformed distinguished name '" + dn + "'", true);
    }
    const std::string key = part.substr(0, eq);
    const std::string value = part.substr(eq + 1);
    if (X509_NAME_add_entry_by_txt(name.get(), key.c_str(), MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1, 0) != 1) {
      throw Error(Errc::invalid_argument, "unknown attribute '" + key + "' in distinguished name", true);
    }
    start = end + 1;
  }
  return name;
}

std::string name_to_string(const X509_NAME* name) {
  Bio bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

int signature_nid(KeyType type, HashAlg hash) {
  if (type == KeyType::ec) {
    return hash == HashAlg::sha256 ? NID_ecdsa_with_SHA256 : hash == HashAlg::sha384 ? NID_ecdsa_with_SHA384 : NID_ecdsa_with_SHA512;
  }
  return hash == HashAlg::sha256 ? NID_sha256WithRSAEncryption
         : hash == HashAlg::sha384 ? NID_sha384WithRSAEncryption
                                   : NID_sha512WithRSAEncryption;
}

// AlgorithmIdentifier: RSA PKCS#1 v1.5 carries a NULL parameter, ECDSA none (RFC 5758 §3.2).
void set_algorithm(X509_ALGOR* alg, KeyType type, HashAlg hash) {
  const int param_type = type == KeyType::rsa ? V_ASN1_NULL : V_ASN1_UNDEF;
  check(X509_ALGOR_set0(alg, OBJ_nid2obj(signature_nid(type, hash)), param_type, nullptr) == 1, "X509_ALGOR_set0");
}

Bytes algorithm_der(KeyType type, HashAlg hash) {
  Handle<X509_ALGOR, X509_ALGOR_free> alg(X509_ALGOR_new());
  set_algorithm(alg.get(), type, hash);
  unsigned char* der = nullptr;
  const int len = i2d_X509_ALGOR(alg.get(), &der);
  if (len <= 0) fail("i2d_X509_ALGOR");
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

void append_der_length(Bytes& out, std::size_t len) {
  if (len < 0x80) {
    out.push_back(static_cast<std::uint8_t>(len));
    return;
  }
  Bytes be;
  for (std::size_t v = len; v != 0; v >>= 8) be.insert(be.begin(), static_cast<std::uint8_t>(v & 0xff));
  out.push_back(static_cast<std::uint8_t>(0x80 | be.size()));
  out.insert(out.end(), be.begin(), be.end());
}

// SEQUENCE { tbs, AlgorithmIdentifier, BIT STRING signature } — the shape shared by
// Certificate, CertificationRequest and CertificateList.
Bytes assemble_signed(const Bytes& tbs, KeyType type, HashAlg hash, KeySigner& signer) {
  const SignatureScheme scheme = type == KeyType::ec ? SignatureScheme::ecdsa : SignatureScheme::rsa_pkcs1;
  const Bytes sig = signer.sign_digest(scheme, hash, digest(hash, tbs));
  Bytes body = tbs;
  const Bytes alg = algorithm_der(type, hash);
  body.insert(body.end(), alg.begin(), alg.end());
  body.push_back(0x03);
  append_der_length(body, sig.size() + 1);
  body.push_back(0x00);  // no unused bits
  body.insert(body.end(), sig.begin(), sig.end());
  Bytes out = {0x30};
  append_der_length(out, body.size());
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  Ext ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext) fail("extension " + std::string(OBJ_nid2sn(nid)) + "=" + value, Errc::invalid_argument);
  check(X509_add_ext(cert, ext.get(), -1) == 1, "X509_add_ext");
}

void add_profile_extensions(X509* cert, X509* issuer, const CertTemplate& t) {
  add_ext(cert, cert, NID_subject_key_identifier, "hash");
  add_ext(cert, issuer, NID_authority_key_identifier, "keyid:always");
  switch (t.profile) {
    case CertProfile::root_ca:
      add_ext(cert, issuer, NID_basic_constraints, "critical,CA:TRUE");
      add_ext(cert, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
      break;
    case CertProfile::issuing_ca:
      add_ext(cert, issuer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
      add_ext(cert, issuer, NID_key_usage, "critical,keyCertSign,cRLSign");
      break;
    case CertProfile::signer:
      add_ext(cert, issuer, NID_basic_constraints, "critical,CA:FALSE");
      add_ext(cert, issuer, NID_key_usage, "critical,digitalSignature,nonRepudiation");
      break;
    case CertProfile::tsa:
      add_ext(cert, issuer, NID_basic_constraints, "critical,CA:FALSE");
      add_ext(cert, issuer, NID_key_usage, "critical,digitalSignature");
      add_ext(cert, issuer, NID_ext_key_usage, "critical,timeStamping");
      break;
    case CertProfile::ocsp:
      add_ext(cert, issuer, NID_basic_constraints, "critical,CA:FALSE");
      add_ext(cert, issuer, NID_key_usage, "critical,digitalSignature");
      add_ext(cert, issuer, NID_ext_key_usage, "OCSPSigning");
      add_ext(cert, issuer, NID_id_pkix_OCSP_noCheck, "ignored");
      break;
    case CertProfile::tls_server:
      add_ext(cert, issuer, NID_basic_constraints, "critical,CA:FALSE");
      add_ext(cert, issuer, NID_key_usage, "critical,digitalSignature,keyEncipherment");
      add_ext(cert, issuer, NID_ext_key_usage, "serverAuth");
      break;
    case CertProfile::tls_client:
      add_ext(cert, issuer, NID_basic_constraints, "critical,CA:FALSE");
      add_ext(cert, issuer, NID_key_usage, "critical,digitalSignature");
      add_ext(cert, issuer, NID_ext_key_usage, "clientAuth");
      break;
  }
  std::string san;
  for (const auto& d : t.dns_names) san += (san.empty() ? "" : ",") + std::string("DNS:") + d;
  for (const auto& ip : t.ip_addresses) san += (san.empty() ? "" : ",") + std::string("IP:") + ip;
  if (!san.empty()) add_ext(cert, issuer, NID_subject_alt_name, san);
  std::string aia;
  if (!t.ocsp_url.empty()) aia = "OCSP;URI:" + t.ocsp_url;
  if (!t.ca_issuers_url.empty()) aia += (aia.empty() ? "" : ",") + std::string("caIssuers;URI:") + t.ca_issuers_url;
  if (!aia.empty()) add_ext(cert, issuer, NID_info_access, aia);
  if (!t.crl_url.empty()) add_ext(cert, issuer, NID_crl_distribution_points, "URI:" + t.crl_url);
}

Cert parse_cert_der(const Bytes& der) {
  const unsigned char* p = der.data();
  Cert cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert || p != der.data() + der.size()) fail("invalid certificate", Errc::cert_invalid);
  return cert;
}

}  // namespace

std::string common_name(const Bytes& der) {
  const unsigned char* p = der.data();
  const Cert cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert || p != der.data() + der.size()) {
    drain_errors();
    return {};
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  const int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) return {};
  const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  unsigned char* utf8 = nullptr;
  const int n = ASN1_STRING_to_UTF8(&utf8, s);
  if (n < 0) {
    drain_errors();
    return {};
  }
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

Bytes issue_certificate(const CertTemplate& t, const Bytes& issuer_cert_der, KeySigner& issuer_key, HashAlg hash) {
  Cert cert(X509_new());
  check(X509_set_version(cert.get(), X509_VERSION_3) == 1, "X509_set_version");
  // 16 random bytes, top bit cleared: positive, unpredictable serial (CA/B Forum style).
  Bytes serial = random_bytes(16);
  serial[0] &= 0x7f;
  serial[0] |= 0x01;
  BigNum bn(BN_bin2bn(serial.data(), static_cast<int>(serial.size()), nullptr));
  Asn1Int asn1_serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  check(asn1_serial && X509_set_serialNumber(cert.get(), asn1_serial.get()) == 1, "serial");
  Name subject = parse_name(t.subject);
  check(X509_set_subject_name(cert.get(), subject.get()) == 1, "subject");
  check(ASN1_TIME_set(X509_getm_notBefore(cert.get()), std::chrono::system_clock::to_time_t(t.not_before)) != nullptr,
        "notBefore");
  check(ASN1_TIME_set(X509_getm_notAfter(cert.get()), std::chrono::system_clock::to_time_t(t.not_after)) != nullptr,
        "notAfter");
  PKey pub = parse_spki(t.public_key_der);
  check(X509_set_pubkey(cert.get(), pub.get()) == 1, "X509_set_pubkey");

  Cert issuer_cert;
  X509* issuer = cert.get();
  if (!issuer_cert_der.empty()) {
    issuer_cert = parse_cert_der(issuer_cert_der);
    issuer = issuer_cert.get();
  }
  check(X509_set_issuer_name(cert.get(), X509_get_subject_name(issuer)) == 1, "issuer");
  add_profile_extensions(cert.get(), issuer, t);

  const KeyType signer_type = issuer_key.key_type();
  // The tbs signature field must equal the outer one; OpenSSL only exposes it const.
  set_algorithm(const_cast<X509_ALGOR*>(X509_get0_tbs_sigalg(cert.get())), signer_type, hash);
  unsigned char* tbs = nullptr;
  const int tbs_len = i2d_re_X509_tbs(cert.get(), &tbs);
  if (tbs_len <= 0) fail("i2d_re_X509_tbs");
  const Bytes tbs_der(tbs, tbs + tbs_len);
  OPENSSL_free(tbs);
  Bytes der = assemble_signed(tbs_der, signer_type, hash, issuer_key);
  parse_cert_der(der);  // round-trip: what we return must parse
  return der;
}

Bytes create_csr(const std::string& subject, KeySigner& key, HashAlg hash) {
  Req req(X509_REQ_new());
  check(X509_REQ_set_version(req.get(), 0) == 1, "X509_REQ_set_version");
  Name name = parse_name(subject);
  check(X509_REQ_set_subject_name(req.get(), name.get()) == 1, "subject");
  PKey pub = parse_spki(key.public_key_der());
  check(X509_REQ_set_pubkey(req.get(), pub.get()) == 1, "X509_REQ_set_pubkey");
  unsigned char* tbs = nullptr;
  const int tbs_len = i2d_re_X509_REQ_tbs(req.get(), &tbs);
  if (tbs_len <= 0) fail("i2d_re_X509_REQ_tbs");
  const Bytes tbs_der(tbs, tbs + tbs_len);
  OPENSSL_free(tbs);
  return assemble_signed(tbs_der, key.key_type(), hash, key);
}

CsrInfo read_csr(const std::string& pem_or_der) {
  Req req;
  if (pem_or_der.find("-----BEGIN") != std::string::npos) {
    Bio bio(BIO_new_mem_buf(pem_or_der.data(), static_cast<int>(pem_or_der.size())));
    req.reset(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  } else {
    const auto* p = reinterpret_cast<const unsigned char*>(pem_or_der.data());
    req.reset(d2i_X509_REQ(nullptr, &p, static_cast<long>(pem_or_der.size())));
  }
  if (!req) fail("invalid certificate request", Errc::cert_invalid);
  EVP_PKEY* pub = X509_REQ_get0_pubkey(req.get());
  if (pub == nullptr || X509_REQ_verify(req.get(), pub) != 1) fail("certificate request signature invalid", Errc::cert_invalid);
  return {name_to_string(X509_REQ_get_subject_name(req.get())), spki_of(pub)};
}

CertInfo inspect_certificate(const Bytes& der) {
  Cert cert = parse_cert_der(der);
  CertInfo info;
  info.subject = name_to_string(X509_get_subject_name(cert.get()));
  info.issuer = name_to_string(X509_get_issuer_name(cert.get()));
  BigNum bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr));
  char* hex = BN_bn2hex(bn.get());
  info.serial_hex = hex;
  OPENSSL_free(hex);
  auto to_text = [](const ASN1_TIME* t) {
    std::tm tm{};
    if (ASN1_TIME_to_tm(t, &tm) != 1) return std::string();
    return to_rfc3339(std::chrono::system_clock::from_time_t(timegm(&tm)));
  };
  info.not_before = to_text(X509_get0_notBefore(cert.get()));
  info.not_after = to_text(X509_get0_notAfter(cert.get()));
  info.sha256_fingerprint_hex = hex_encode(digest(HashAlg::sha256, der));
  info.public_key_der = spki_of(X509_get0_pubkey(cert.get()));
  info.is_ca = X509_check_ca(cert.get()) != 0;
  return info;
}

std::string der_to_pem(const Bytes& der, const char* label) {
  std::string b64 = base64_encode(der);
  std::string out = std::string("-----BEGIN ") + label + "-----\n";
  for (std::size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  out += std::string("-----END ") + label + "-----\n";
  return out;
}

std::vector<Bytes> pem_to_der_chain(const std::string& pem) {
  std::vector<Bytes> out;
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  while (true) {
    Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) break;
    unsigned char* der = nullptr;
    const int len = i2d_X509(cert.get(), &der);
    if (len <= 0) fail("i2d_X509");
    out.emplace_back(der, der + len);
    OPENSSL_free(der);
  }
  drain_errors();  // PEM_read_bio_X509 queues "no start line" at the end of input
  return out;
}

Bytes read_certificate(const std::string& pem_or_der) {
  if (pem_or_der.find("-----BEGIN") != std::string::npos) {
    auto chain = pem_to_der_chain(pem_or_der);
    if (chain.empty()) throw Error(Errc::cert_invalid, "no certificate in PEM input", true);
    return chain.front();
  }
  Bytes der(pem_or_der.begin(), pem_or_der.end());
  parse_cert_der(der);
  return der;
}

bool certificate_matches_key(const Bytes& cert_der, const Bytes& spki_der) {
  return inspect_certificate(cert_der).public_key_der == spki_der;
}

}  // namespace sigil::ossl
