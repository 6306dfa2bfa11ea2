#include "internal.hpp"

#include <openssl/cms.h>
#include <openssl/x509.h>

#include <algorithm>

#include "ossl/digest.hpp"
#include "ossl/error.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/secure.hpp"

namespace sigil::xades::detail {
namespace {

constexpr const char* kC14n = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
constexpr const char* kExcC14n = "http://www.w3.org/2001/10/xml-exc-c14n#";

Bytes der_length(std::size_t n) {
  if (n < 0x80) return {static_cast<std::uint8_t>(n)};
  Bytes len;
  for (std::size_t v = n; v > 0; v >>= 8) len.insert(len.begin(), static_cast<std::uint8_t>(v & 0xff));
  len.insert(len.begin(), static_cast<std::uint8_t>(0x80 | len.size()));
  return len;
}

Bytes der_tlv(std::uint8_t tag, const Bytes& content) {
  Bytes out{tag};
  const Bytes len = der_length(content.size());
  out.insert(out.end(), len.begin(), len.end());
  out.insert(out.end(), content.begin(), content.end());
  return out;
}

template <typename T, typename F>
Bytes i2d(const T* obj, F fn) {
  const int n = fn(obj, nullptr);
  if (n <= 0) ossl::fail("i2d");
  Bytes out(static_cast<std::size_t>(n));
  unsigned char* p = out.data();
  fn(obj, &p);
  return out;
}

Bytes cert_der(X509* c) {
  return i2d(c, [](const X509* x, unsigned char** p) { return i2d_X509(x, p); });
}

}  // namespace

std::string c14n_uri(C14n alg) { return alg == C14n::exclusive ? kExcC14n : kC14n; }

C14n parse_c14n_uri(std::string_view uri) {
  if (uri == kExcC14n) return C14n::exclusive;
  if (uri == kC14n) return C14n::inclusive;
  throw Error(Errc::unsupported, "canonicalisation " + std::string(uri) + " is not supported", true);
}

std::string digest_uri(HashAlg alg) {
  switch (alg) {
    case HashAlg::sha256: return "http://www.w3.org/2001/04/xmlenc#sha256";
    case HashAlg::sha384: return "http://www.w3.org/2001/04/xmldsig-more#sha384";
    case HashAlg::sha512: return "http://www.w3.org/2001/04/xmlenc#sha512";
  }
  throw Error(Errc::invalid_argument, "unknown hash");
}

HashAlg parse_digest_uri(std::string_view uri) {
  for (HashAlg a : {HashAlg::sha256, HashAlg::sha384, HashAlg::sha512}) {
    if (uri == digest_uri(a)) return a;
  }
  throw Error(Errc::unsupported, "digest method " + std::string(uri) + " is not supported", true);
}

std::string policy_digest_uri(PolicyHashAlg alg) {
  switch (alg) {
    case PolicyHashAlg::sha1: return "http://www.w3.org/2000/09/xmldsig#sha1";
    case PolicyHashAlg::sha256: return digest_uri(HashAlg::sha256);
    case PolicyHashAlg::sha384: return digest_uri(HashAlg::sha384);
    case PolicyHashAlg::sha512: return digest_uri(HashAlg::sha512);
  }
  throw Error(Errc::invalid_argument, "unknown policy hash");
}

std::string signature_uri(SignatureScheme scheme, HashAlg hash) {
  const std::string h(hash_name(hash));
  switch (scheme) {
    case SignatureScheme::rsa_pkcs1: return "http://www.w3.org/2001/04/xmldsig-more#rsa-" + h;
    case SignatureScheme::ecdsa: return "http://www.w3.org/2001/04/xmldsig-more#ecdsa-" + h;
    case SignatureScheme::rsa_pss: break;
  }
  throw Error(Errc::unsupported, "XAdES with RSASSA-PSS is not supported yet", true);
}

Hasher::Hasher(HashAlg alg) : ctx_(EVP_MD_CTX_new()) {
  ossl::check(ctx_ && EVP_DigestInit_ex(ctx_.get(), ossl::md(alg), nullptr) == 1, "EVP_DigestInit_ex");
}
void Hasher::update(const std::uint8_t* p, std::size_t n) {
  ossl::check(EVP_DigestUpdate(ctx_.get(), p, n) == 1, "EVP_DigestUpdate");
}
Bytes Hasher::final() {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int n = 0;
  ossl::check(EVP_DigestFinal_ex(ctx_.get(), out.data(), &n) == 1, "EVP_DigestFinal_ex");
  out.resize(n);
  return out;
}

ossl::Cert parse_cert(const Bytes& der, const char* what) {
  const unsigned char* p = der.data();
  ossl::Cert c(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!c || p != der.data() + der.size()) {
    ossl::drain_errors();
    throw Error(Errc::cert_invalid, std::string(what) + " is not a DER X.509 certificate", true);
  }
  return c;
}

std::string issuer_serial_v2(const Bytes& der) {
  const ossl::Cert c = parse_cert(der, "signer certificate");
  const Bytes name = i2d(X509_get_issuer_name(c.get()),
                         [](const X509_NAME* n, unsigned char** p) { return i2d_X509_NAME(n, p); });
  const Bytes serial = i2d(X509_get0_serialNumber(c.get()),
                           [](const ASN1_INTEGER* i, unsigned char** p) { return i2d_ASN1_INTEGER(i, p); });
  // GeneralNames ::= SEQUENCE OF GeneralName; directoryName [4] EXPLICIT Name.
  Bytes body = der_tlv(0x30, der_tlv(0xa4, name));
  body.insert(body.end(), serial.begin(), serial.end());
  const Bytes issuer_serial = der_tlv(0x30, body);
  return base64_encode(issuer_serial);
}

std::vector<Bytes> build_chain(const Bytes& leaf, const std::vector<Bytes>& pool) {
  std::vector<ossl::Cert> certs;
  for (const auto& d : pool) certs.push_back(parse_cert(d, "chain certificate"));
  std::vector<Bytes> chain{leaf};
  ossl::Cert cur = parse_cert(leaf, "certificate");
  for (std::size_t guard = 0; guard < 10; ++guard) {
    if (X509_check_issued(cur.get(), cur.get()) == X509_V_OK) break;  // self-signed: done
    const X509* issuer = nullptr;
    for (const auto& c : certs) {
      if (X509_check_issued(c.get(), cur.get()) == X509_V_OK) {
        issuer = c.get();
        break;
      }
    }
    if (issuer == nullptr) break;
    const Bytes d = cert_der(const_cast<X509*>(issuer));
    if (std::find(chain.begin(), chain.end(), d) != chain.end()) break;
    chain.push_back(d);
    cur = parse_cert(d, "certificate");
  }
  return chain;
}

std::vector<Bytes> timestamp_tsa_chain(const Bytes& token, const std::vector<Bytes>& extra_pool) {
  const unsigned char* p = token.data();
  ossl::Handle<CMS_ContentInfo, CMS_ContentInfo_free> cms(
      d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(token.size())));
  if (!cms) ossl::fail("time-stamp token is not a CMS ContentInfo", Errc::tsa_response_invalid);
  ossl::CertStack certs(CMS_get1_certs(cms.get()));
  STACK_OF(CMS_SignerInfo)* sis = CMS_get0_SignerInfos(cms.get());
  if (sis == nullptr || sk_CMS_SignerInfo_num(sis) != 1) {
    throw Error(Errc::tsa_response_invalid, "time-stamp token without exactly one SignerInfo");
  }
  CMS_SignerInfo* si = sk_CMS_SignerInfo_value(sis, 0);
  std::vector<Bytes> pool = extra_pool;
  Bytes tsa;
  for (int i = 0; certs && i < sk_X509_num(certs.get()); ++i) {
    X509* c = sk_X509_value(certs.get(), i);
    Bytes d = cert_der(c);
    if (tsa.empty() && CMS_SignerInfo_cert_cmp(si, c) == 0) tsa = d;
    pool.push_back(std::move(d));
  }
  ossl::drain_errors();
  if (tsa.empty()) return {};  // token without the TSA certificate: nothing we can chain
  return build_chain(tsa, pool);
}

std::string fresh_id(const std::vector<std::string>& taken) {
  for (;;) {
    std::string id = "id-" + hex_encode(random_bytes(8));
    const bool clash = std::any_of(taken.begin(), taken.end(),
                                   [&](const std::string& t) { return t.rfind(id, 0) == 0; });
    if (!clash) return id;
  }
}

}  // namespace sigil::xades::detail
