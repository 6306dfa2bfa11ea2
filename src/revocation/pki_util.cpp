#include "revocation/pki_util.hpp"

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509v3.h>

#include <ctime>

#include "ossl/error.hpp"
#include "tsp/http_fetch.hpp"

namespace sigil::revocation::detail {

ossl::Cert parse_cert(const Bytes& der) {
  const unsigned char* p = der.data();
  ossl::Cert c(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!c || p != der.data() + der.size()) ossl::fail("not a DER certificate", Errc::invalid_argument);
  return c;
}

Bytes cert_der(X509* cert) {
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert, &der);
  if (len <= 0) ossl::fail("i2d_X509");
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

std::string subject_of(const X509* cert) {
  ossl::Bio bio(BIO_new(BIO_s_mem()));
  if (!bio) return "?";
  X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

Clock::time_point to_time_point(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) throw Error(Errc::revocation_unavailable, "unreadable time");
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

std::vector<std::string> ocsp_urls(X509* cert) {
  std::vector<std::string> out;
  STACK_OF(OPENSSL_STRING)* list = X509_get1_ocsp(cert);
  for (int i = 0; i < sk_OPENSSL_STRING_num(list); ++i) {
    std::string u = sk_OPENSSL_STRING_value(list, i);
    if (net::acceptable_url(u)) out.push_back(std::move(u));
  }
  X509_email_free(list);
  return out;
}

std::vector<std::string> crl_urls(X509* cert) {
  std::vector<std::string> out;
  auto* dps = static_cast<STACK_OF(DIST_POINT)*>(X509_get_ext_d2i(cert, NID_crl_distribution_points, nullptr, nullptr));
  for (int i = 0; i < sk_DIST_POINT_num(dps); ++i) {
    const DIST_POINT* dp = sk_DIST_POINT_value(dps, i);
    // Full names only; a CRL issuer other than the certificate's issuer (indirect CRL) is not supported.
    if (dp->distpoint == nullptr || dp->distpoint->type != 0 || dp->CRLissuer != nullptr) continue;
    const GENERAL_NAMES* names = dp->distpoint->name.fullname;
    for (int j = 0; j < sk_GENERAL_NAME_num(names); ++j) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, j);
      if (gn->type != GEN_URI) continue;
      const ASN1_IA5STRING* uri = gn->d.uniformResourceIdentifier;
      std::string u(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                    static_cast<std::size_t>(ASN1_STRING_length(uri)));
      if (net::acceptable_url(u)) out.push_back(std::move(u));
    }
  }
  sk_DIST_POINT_pop_free(dps, DIST_POINT_free);
  return out;
}

void unusable(const std::string& what) { throw Error(Errc::revocation_unavailable, what); }

net::HttpReply exchange(net::HttpRequest http, std::string_view kind, const std::string& where) {
  net::HttpReply reply;
  try {
    reply = net::http_exchange(http);
  } catch (const Error& e) {
    unusable(std::string(kind) + ": " + e.detail());
  }
  if (reply.status != 200) unusable(where + "HTTP status " + std::to_string(reply.status));
  return reply;
}

}  // namespace sigil::revocation::detail
