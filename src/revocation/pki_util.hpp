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

}  // namespace sigil::revocation::detail
