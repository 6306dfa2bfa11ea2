#include "pades/cms_inspect.hpp"

#include <openssl/cms.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <algorithm>

#include "ossl/error.hpp"
#include "ossl/handles.hpp"
#include "sigil/common/error.hpp"

namespace sigil::pades::detail {
namespace {

using Cms = ossl::Handle<CMS_ContentInfo, CMS_ContentInfo_free>;

ossl::Cert parse_cert(const Bytes& der) {
  const unsigned char* p = der.data();
  return ossl::Cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
}

Bytes cert_der(X509* x) {
  const int n = i2d_X509(x, nullptr);
  if (n <= 0) return {};
  Bytes b(static_cast<std::size_t>(n));
  unsigned char* p = b.data();
  i2d_X509(x, &p);
  return b;
}

}  // namespace

std::size_t der_length(const Bytes& der) {
  if (der.size() < 2 || der[0] != 0x30) throw Error(Errc::invalid_document, "/Contents is not a DER SEQUENCE");
  std::size_t len = der[1];
  std::size_t hdr = 2;
  if (len & 0x80) {
    const std::size_t n = len & 0x7f;
    if (n == 0 || n > 4 || der.size() < 2 + n) throw Error(Errc::invalid_document, "bad DER length in /Contents");
    len = 0;
    for (std::size_t i = 0; i < n; ++i) len = (len << 8) | der[2 + i];
    hdr += n;
  }
  if (hdr + len > der.size()) throw Error(Errc::invalid_document, "truncated CMS in /Contents");
  return hdr + len;
}

CmsContents inspect_cms(const Bytes& padded) {
  const std::size_t n = der_length(padded);
  const unsigned char* p = padded.data();
  Cms cms(d2i_CMS_ContentInfo(nullptr, &p, static_cast<long>(n)));
  if (!cms) {
    ossl::drain_errors();
    throw Error(Errc::invalid_document, "unparsable CMS");
  }
  CmsContents out;
  ossl::CertStack certs(CMS_get1_certs(cms.get()));
  STACK_OF(CMS_SignerInfo)* sis = CMS_get0_SignerInfos(cms.get());
  if (certs) {
    for (int i = 0; i < sk_X509_num(certs.get()); ++i) out.certs.push_back(cert_der(sk_X509_value(certs.get(), i)));
  }
  if (sis != nullptr && sk_CMS_SignerInfo_num(sis) > 0) {
    CMS_SignerInfo* si = sk_CMS_SignerInfo_value(sis, 0);
    if (certs) {
      for (int i = 0; i < sk_X509_num(certs.get()); ++i) {
        if (CMS_SignerInfo_cert_cmp(si, sk_X509_value(certs.get(), i)) == 0) {
          out.signer = cert_der(sk_X509_value(certs.get(), i));
          break;
        }
      }
    }
    const int nid = NID_id_smime_aa_timeStampToken;
    for (int idx = CMS_unsigned_get_attr_by_NID(si, nid, -1); idx >= 0;
         idx = CMS_unsigned_get_attr_by_NID(si, nid, idx)) {
      X509_ATTRIBUTE* attr = CMS_unsigned_get_attr(si, idx);
      for (int k = 0; k < X509_ATTRIBUTE_count(attr); ++k) {
        ASN1_TYPE* t = X509_ATTRIBUTE_get0_type(attr, k);
        if (t == nullptr || t->type != V_ASN1_SEQUENCE) continue;
        const ASN1_STRING* s = t->value.sequence;
        out.timestamps.emplace_back(ASN1_STRING_get0_data(s), ASN1_STRING_get0_data(s) + ASN1_STRING_length(s));
      }
    }
  }
  ossl::drain_errors();
  return out;
}

std::vector<Bytes> build_chain(const Bytes& leaf, const std::vector<Bytes>& pool) {
  std::vector<Bytes> chain{leaf};
  std::vector<ossl::Cert> parsed;
  for (const auto& c : pool) parsed.push_back(parse_cert(c));
  ossl::Cert cur = parse_cert(leaf);
  if (!cur) throw Error(Errc::cert_invalid, "unparsable certificate");
  for (int depth = 0; depth < 8; ++depth) {
    if (X509_check_issued(cur.get(), cur.get()) == X509_V_OK) break;  // self-signed
    bool found = false;
    for (std::size_t i = 0; i < parsed.size(); ++i) {
      if (parsed[i] && X509_check_issued(parsed[i].get(), cur.get()) == X509_V_OK) {
        if (std::find(chain.begin(), chain.end(), pool[i]) != chain.end()) break;
        chain.push_back(pool[i]);
        cur = parse_cert(pool[i]);
        found = true;
        break;
      }
    }
    if (!found) break;
  }
  ossl::drain_errors();
  return chain;
}

}  // namespace sigil::pades::detail
