// Small OpenSSL helpers shared by the OCSP client, the CRL cache and the collector (internal).
#pragma once

#include <openssl/x509.h>

#include <chrono>
#include <string>
#include <vector>

#include "ossl/handles.hpp"
#include "sigil/common/clock.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/secure.hpp"
#include "tsp/http_fetch.hpp"

namespace sigil::revocation::detail {

// DER certificate -> X509; throws Error(invalid_argument).
ossl::Cert parse_cert(const Bytes& der);
Bytes cert_der(X509* cert);
// RFC 2253 subject, for error details and logs.
std::string subject_of(const X509* cert);
// ASN1_TIME -> time point; throws Error(revocation_unavailable) on an unreadable time.
Clock::time_point to_time_point(const ASN1_TIME* t);
// http(s) URIs of the certificate's AIA OCSP entries / CRL distribution points, in order.
std::vector<std::string> ocsp_urls(X509* cert);
std::vector<std::string> crl_urls(X509* cert);

// Error(revocation_unavailable) with `what` as its detail.
[[noreturn]] void unusable(const std::string& what);

// One download for a revocation source: `http` with the source's transport options (timeout,
// reply bound, proxy, CA file) applied. A transport failure is unusable("<kind>: <cause>"), a
// status other than 200 unusable("<where>HTTP status N").
net::HttpReply exchange(net::HttpRequest http, std::string_view kind, const std::string& where);
template <class Options>
net::HttpReply fetch(net::HttpRequest http, const Options& o, std::string_view kind, const std::string& where) {
  http.timeout = o.timeout;
  http.max_reply_bytes = o.max_reply_bytes;
  http.proxy = o.proxy;
  http.ca_file = o.tls_ca_file;
  return exchange(std::move(http), kind, where);
}

}  // namespace sigil::revocation::detail
