#include "net_sources.hpp"

#include <curl/curl.h>
#include <openssl/ocsp.h>
#include <openssl/rand.h>
#include <openssl/ts.h>
#include <openssl/x509.h>

#include <memory>

#include "ossl/digest.hpp"
#include "ossl/handles.hpp"
#include "sigil/common/error.hpp"

namespace sigil::test {
namespace {

std::size_t collect_body(char* p, std::size_t size, std::size_t n, void* user) {
  static_cast<std::string*>(user)->append(p, size * n);
  return size * n;
}

Bytes http(const std::string& url, const std::string& content_type, const Bytes* body, Errc fail) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> c(curl_easy_init(), curl_easy_cleanup);
  std::string out;
  curl_slist* headers = nullptr;
  curl_easy_setopt(c.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(c.get(), CURLOPT_TIMEOUT, 20L);
  curl_easy_setopt(c.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c.get(), CURLOPT_WRITEFUNCTION, collect_body);
  curl_easy_setopt(c.get(), CURLOPT_WRITEDATA, &out);
  if (body != nullptr) {
    headers = curl_slist_append(headers, ("Content-Type: " + content_type).c_str());
    curl_easy_setopt(c.get(), CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c.get(), CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(c.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(body->size()));
  }
  const CURLcode rc = curl_easy_perform(c.get());
  long status = 0;
  curl_easy_getinfo(c.get(), CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK || status != 200) {
    throw Error(fail, url + ": " + curl_easy_strerror(rc) + " status " + std::to_string(status));
  }
  return Bytes(out.begin(), out.end());
}

template <typename T, typename F>
Bytes der_of(T* obj, F fn) {
  const int n = fn(obj, nullptr);
  if (n <= 0) throw Error(Errc::crypto, "i2d failed");
  Bytes out(static_cast<std::size_t>(n));
  unsigned char* p = out.data();
  fn(obj, &p);
  return out;
}

ossl::Cert cert(const Bytes& der) {
  const unsigned char* p = der.data();
  ossl::Cert c(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!c) throw Error(Errc::cert_invalid, "bad certificate");
  return c;
}

}  // namespace

Bytes NetTimestamper::timestamp(HashAlg alg, const Bytes& digest) {
  ++calls;
  ossl::Handle<TS_REQ, TS_REQ_free> req(TS_REQ_new());
  TS_REQ_set_version(req.get(), 1);
  ossl::Handle<TS_MSG_IMPRINT, TS_MSG_IMPRINT_free> mi(TS_MSG_IMPRINT_new());
  ossl::Handle<X509_ALGOR, X509_ALGOR_free> algor(X509_ALGOR_new());
  X509_ALGOR_set_md(algor.get(), ossl::md(alg));
  TS_MSG_IMPRINT_set_algo(mi.get(), algor.get());
  TS_MSG_IMPRINT_set_msg(mi.get(), const_cast<unsigned char*>(digest.data()), static_cast<int>(digest.size()));
  TS_REQ_set_msg_imprint(req.get(), mi.get());
  TS_REQ_set_cert_req(req.get(), 1);
  const Bytes body = der_of(req.get(), [](TS_REQ* r, unsigned char** p) { return i2d_TS_REQ(r, p); });
  const Bytes reply = http(url_, "application/timestamp-query", &body, Errc::tsa_unavailable);
  const unsigned char* p = reply.data();
  ossl::Handle<TS_RESP, TS_RESP_free> resp(d2i_TS_RESP(nullptr, &p, static_cast<long>(reply.size())));
  if (!resp) throw Error(Errc::tsa_response_invalid, "not a TimeStampResp");
  const long status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(TS_RESP_get_status_info(resp.get())));
  if (status != 0 && status != 1) throw Error(Errc::tsa_response_invalid, "TSA refused: " + std::to_string(status));
  PKCS7* token = TS_RESP_get_token(resp.get());
  return der_of(token, [](PKCS7* t, unsigned char** q) { return i2d_PKCS7(t, q); });
}

RevocationData NetRevocation::collect(const std::vector<Bytes>& chain) {
  RevocationData out;
  for (std::size_t i = 0; i + 1 < chain.size(); ++i) {
    const ossl::Cert c = cert(chain[i]);
    const ossl::Cert issuer = cert(chain[i + 1]);
    if (X509_check_issued(c.get(), c.get()) == X509_V_OK) break;
    if (X509_check_issued(issuer.get(), issuer.get()) == X509_V_OK) {
      out.crls.push_back(http(root_crl_url_, "", nullptr, Errc::revocation_unavailable));
      continue;
    }
    ossl::Handle<OCSP_REQUEST, OCSP_REQUEST_free> req(OCSP_REQUEST_new());
    OCSP_CERTID* id = OCSP_cert_to_id(EVP_sha1(), c.get(), issuer.get());
    OCSP_request_add0_id(req.get(), id);
    const Bytes body = der_of(req.get(), [](OCSP_REQUEST* r, unsigned char** p) { return i2d_OCSP_REQUEST(r, p); });
    Bytes reply = http(ocsp_url_, "application/ocsp-request", &body, Errc::revocation_unavailable);
    const unsigned char* p = reply.data();
    ossl::Handle<OCSP_RESPONSE, OCSP_RESPONSE_free> resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(reply.size())));
    if (!resp || OCSP_response_status(resp.get()) != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
      throw Error(Errc::revocation_unavailable, "OCSP responder failed");
    }
    ossl::Handle<OCSP_BASICRESP, OCSP_BASICRESP_free> basic(OCSP_response_get1_basic(resp.get()));
    if (basic) {
      const STACK_OF(X509)* certs = OCSP_resp_get0_certs(basic.get());
      for (int k = 0; k < sk_X509_num(certs); ++k) {
        out.certificates.push_back(der_of(sk_X509_value(certs, k), [](X509* x, unsigned char** q) { return i2d_X509(x, q); }));
      }
    }
    out.ocsp_responses.push_back(std::move(reply));
  }
  return out;
}

}  // namespace sigil::test
