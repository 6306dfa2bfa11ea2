#include "sigil/revocation/ocsp.hpp"

#include <openssl/err.h>
#include <openssl/ocsp.h>

#include "ossl/error.hpp"
#include "ossl/handles.hpp"
#include "revocation/pki_util.hpp"
#include "sigil/common/error.hpp"
#include "tsp/http_fetch.hpp"

namespace sigil::revocation {
namespace {

using ossl::Handle;
using OcspRequest = Handle<OCSP_REQUEST, OCSP_REQUEST_free>;
using OcspResponse = Handle<OCSP_RESPONSE, OCSP_RESPONSE_free>;
using OcspBasic = Handle<OCSP_BASICRESP, OCSP_BASICRESP_free>;
using OcspCertId = Handle<OCSP_CERTID, OCSP_CERTID_free>;
using Store = Handle<X509_STORE, X509_STORE_free>;

constexpr const char* kRequestType = "application/ocsp-request";
constexpr const char* kResponseType = "application/ocsp-response";

// Why an answer was not usable; becomes the detail of revocation_unavailable.
using detail::unusable;

}  // namespace

std::string_view status_name(CertStatus status) {
  switch (status) {
    case CertStatus::good:
      return "good";
    case CertStatus::revoked:
      return "revoked";
    case CertStatus::unknown:
      return "unknown";
  }
  return "unknown";
}

OcspClient::OcspClient(OcspOptions options, const Clock& clock) : opt_(std::move(options)), clock_(clock) {
  if (!opt_.url_override.empty() && !net::acceptable_url(opt_.url_override)) {
    throw Error(Errc::config_invalid, "ocsp: override URL must be http(s):// without credentials");
  }
  if (opt_.timeout.count() <= 0) throw Error(Errc::config_invalid, "ocsp: timeout must be positive");
}

std::optional<std::string> OcspClient::responder_url(const Bytes& cert_der) const {
  if (!opt_.url_override.empty()) return opt_.url_override;
  const ossl::Cert cert = detail::parse_cert(cert_der);
  auto urls = detail::ocsp_urls(cert.get());
  if (urls.empty()) return std::nullopt;
  return std::move(urls.front());
}

OcspResult OcspClient::check(const Bytes& cert_der, const Bytes& issuer_der) const {
  const ossl::Cert cert = detail::parse_cert(cert_der);
  const ossl::Cert issuer = detail::parse_cert(issuer_der);
  const std::string subject = detail::subject_of(cert.get());
  OcspResult result;
  if (!opt_.url_override.empty()) {
    result.url = opt_.url_override;
  } else {
    const auto urls = detail::ocsp_urls(cert.get());
    if (urls.empty()) unusable("OCSP: no responder URL in " + subject);
    result.url = urls.front();
  }
  const std::string where = "OCSP " + result.url + ": ";
  ERR_clear_error();

  OcspCertId id(OCSP_cert_to_id(nullptr, cert.get(), issuer.get()));  // SHA-1 CertID, as responders expect
  OcspRequest req(OCSP_REQUEST_new());
  if (!id || !req) ossl::fail("OCSP request");
  OCSP_CERTID* id_copy = OCSP_CERTID_dup(id.get());
  if (id_copy == nullptr || OCSP_request_add0_id(req.get(), id_copy) == nullptr) {
    OCSP_CERTID_free(id_copy);
    ossl::fail("OCSP_request_add0_id");
  }
  ossl::check(OCSP_request_add1_nonce(req.get(), nullptr, 16) == 1, "OCSP_request_add1_nonce");
  unsigned char* der = nullptr;
  const int len = i2d_OCSP_REQUEST(req.get(), &der);
  if (len <= 0) ossl::fail("i2d_OCSP_REQUEST");

  net::HttpRequest http;
  http.url = result.url;
  http.post = true;
  http.body.assign(der, der + len);
  OPENSSL_free(der);
  http.content_type = kRequestType;
  http.accept = kResponseType;
  const net::HttpReply reply = detail::fetch(std::move(http), opt_, "OCSP", where);
  if (reply.content_type != kResponseType) unusable(where + "content type '" + reply.content_type + "'");

  const unsigned char* p = reply.body.data();
  OcspResponse resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(reply.body.size())));
  if (!resp || p != reply.body.data() + reply.body.size())
    unusable(where + "not an OCSPResponse: " + ossl::drain_errors());
  const int rstatus = OCSP_response_status(resp.get());
  if (rstatus != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    unusable(where + "responder answered " + OCSP_response_status_str(rstatus));
  }
  OcspBasic basic(OCSP_response_get1_basic(resp.get()));
  if (!basic) unusable(where + "no BasicOCSPResponse");

  const int nonce = OCSP_check_nonce(req.get(), basic.get());
  if (nonce == 0) unusable(where + "nonce mismatch");
  if (nonce == -1 && opt_.require_nonce) unusable(where + "the responder did not echo the nonce");

  // Signed by the issuer itself, or by a responder certificate the issuer certified for
  // id-kp-OCSPSigning: OpenSSL builds the responder's chain up to the issuer, which is the only
  // anchor (partial chain), at the clock's time, then checks the delegation (ocsp_check_issuer).
  Store store(X509_STORE_new());
  if (!store) ossl::fail("X509_STORE_new");
  ossl::check(X509_STORE_add_cert(store.get(), issuer.get()) == 1, "X509_STORE_add_cert");
  X509_VERIFY_PARAM* param = X509_STORE_get0_param(store.get());
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
  X509_VERIFY_PARAM_set_time(param, std::chrono::system_clock::to_time_t(clock_.now()));
  if (OCSP_basic_verify(basic.get(), nullptr, store.get(), OCSP_NOEXPLICIT) != 1) {
    unusable(where + "signature or responder authorisation invalid: " + ossl::drain_errors());
  }

  int status = -1;
  int reason = -1;
  ASN1_GENERALIZEDTIME* revoked_at = nullptr;
  ASN1_GENERALIZEDTIME* this_update = nullptr;
  ASN1_GENERALIZEDTIME* next_update = nullptr;
  if (OCSP_resp_find_status(basic.get(), id.get(), &status, &reason, &revoked_at, &this_update, &next_update) != 1) {
    unusable(where + "no answer for the requested CertID");
  }
  result.this_update = detail::to_time_point(this_update);
  if (next_update != nullptr) result.next_update = detail::to_time_point(next_update);
  const auto now = clock_.now();
  const auto skew = opt_.max_clock_skew;
  if (result.this_update > now + skew)
    unusable(where + "thisUpdate " + to_rfc3339(result.this_update) + " is in the future");
  if (result.next_update) {
    if (*result.next_update + skew < now) {
      unusable(where + "stale answer: nextUpdate " + to_rfc3339(*result.next_update) + " is before " + to_rfc3339(now));
    }
  } else if (result.this_update + opt_.max_age + skew < now) {
    unusable(where + "stale answer: thisUpdate " + to_rfc3339(result.this_update) + " without nextUpdate");
  }

  switch (status) {
    case V_OCSP_CERTSTATUS_GOOD:
      result.status = CertStatus::good;
      break;
    case V_OCSP_CERTSTATUS_REVOKED:
      result.status = CertStatus::revoked;
      if (revoked_at != nullptr) result.revocation_time = detail::to_time_point(revoked_at);
      break;
    default:
      result.status = CertStatus::unknown;
      break;
  }
  X509* signer = nullptr;
  if (OCSP_resp_get0_signer(basic.get(), &signer, nullptr) == 1 && signer != nullptr &&
      X509_cmp(signer, issuer.get()) != 0) {
    result.responder_certificate = detail::cert_der(signer);
  }
  result.response = std::move(reply.body);
  ERR_clear_error();
  return result;
}

}  // namespace sigil::revocation
