#include "sigil/tsp/client.hpp"

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pkcs7.h>
#include <openssl/ts.h>

#include <ctime>
#include <string_view>

#include "ossl/digest.hpp"
#include "ossl/error.hpp"
#include "ossl/handles.hpp"
#include "ossl/x509.hpp"
#include "sigil/common/log.hpp"
#include "tsp/http_fetch.hpp"

namespace sigil::tsp {
namespace {

using ossl::Handle;
using TsReq = Handle<TS_REQ, TS_REQ_free>;
using TsResp = Handle<TS_RESP, TS_RESP_free>;
using TsVerifyCtx = Handle<TS_VERIFY_CTX, TS_VERIFY_CTX_free>;
using MsgImprint = Handle<TS_MSG_IMPRINT, TS_MSG_IMPRINT_free>;
using Algor = Handle<X509_ALGOR, X509_ALGOR_free>;
using Object = Handle<ASN1_OBJECT, ASN1_OBJECT_free>;
using Store = Handle<X509_STORE, X509_STORE_free>;
inline void free_cert_stack_shallow(STACK_OF(X509) * s) {
  sk_X509_free(s);
}
using CertStackRef = Handle<STACK_OF(X509), free_cert_stack_shallow>;

constexpr std::string_view kQueryType = "application/timestamp-query";
constexpr std::string_view kReplyType = "application/timestamp-reply";

// A reply that reached us but did not verify (as opposed to a TSA that could not be reached).
struct BadReply {
  std::string why;
};

std::vector<ossl::Cert> parse_pem_bundle(const std::string& pem, const char* what) {
  std::vector<ossl::Cert> out;
  if (pem.empty()) return out;
  std::vector<Bytes> ders;
  try {
    ders = ossl::pem_to_der_chain(pem);
  } catch (const Error& e) {
    throw Error(Errc::config_invalid, std::string(what) + ": " + e.detail());
  }
  for (const auto& der : ders) {
    const unsigned char* p = der.data();
    ossl::Cert c(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
    if (!c) throw Error(Errc::config_invalid, std::string(what) + ": unreadable certificate: " + ossl::drain_errors());
    out.push_back(std::move(c));
  }
  if (out.empty()) throw Error(Errc::config_invalid, std::string(what) + ": no certificate in the PEM bundle");
  return out;
}

Clock::time_point to_time_point(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) throw BadReply{"unreadable genTime"};
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

Bytes der_of_token(PKCS7* token) {
  unsigned char* der = nullptr;
  const int len = i2d_PKCS7(token, &der);
  if (len <= 0) ossl::fail("i2d_PKCS7");
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

std::string status_text(TS_STATUS_INFO* info) {
  const long status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(info));
  static constexpr const char* kNames[] = {"granted", "grantedWithMods",   "rejection",
                                           "waiting", "revocationWarning", "revocationNotification"};
  std::string s = status >= 0 && status <= 5 ? kNames[status] : "status " + std::to_string(status);
  if (const ASN1_BIT_STRING* fi = TS_STATUS_INFO_get0_failure_info(info)) {
    static constexpr std::pair<int, const char*> kFail[] = {{TS_INFO_BAD_ALG, "badAlg"},
                                                            {TS_INFO_BAD_REQUEST, "badRequest"},
                                                            {TS_INFO_BAD_DATA_FORMAT, "badDataFormat"},
                                                            {TS_INFO_TIME_NOT_AVAILABLE, "timeNotAvailable"},
                                                            {TS_INFO_UNACCEPTED_POLICY, "unacceptedPolicy"},
                                                            {TS_INFO_UNACCEPTED_EXTENSION, "unacceptedExtension"},
                                                            {TS_INFO_ADD_INFO_NOT_AVAILABLE, "addInfoNotAvailable"},
                                                            {TS_INFO_SYSTEM_FAILURE, "systemFailure"}};
    for (const auto& [bit, name] : kFail) {
      if (ASN1_BIT_STRING_get_bit(fi, bit) != 0) s += std::string(", ") + name;
    }
  }
  return s;
}

// The signer has an extended key usage extension that is critical and includes timeStamping
// (RFC 3161 §2.3; in trust-anchored mode OpenSSL also insists timeStamping is the only purpose).
bool has_critical_timestamping_eku(X509* cert) {
  const int idx = X509_get_ext_by_NID(cert, NID_ext_key_usage, -1);
  if (idx < 0 || X509_EXTENSION_get_critical(X509_get_ext(cert, idx)) == 0) return false;
  return (X509_get_extension_flags(cert) & EXFLAG_XKUSAGE) != 0 &&
         (X509_get_extended_key_usage(cert) & XKU_TIMESTAMP) != 0;
}

}  // namespace

struct Client::Impl {
  ClientOptions opt;
  const Clock& clock;
  std::vector<ossl::Cert> anchors;
  std::vector<ossl::Cert> intermediates;
  Object policy;

  Impl(ClientOptions o, const Clock& c) : opt(std::move(o)), clock(c) {
    if (opt.endpoints.empty()) throw Error(Errc::config_invalid, "tsp: no TSA URL configured");
    for (std::size_t i = 0; i < opt.endpoints.size(); ++i) {
      // The URL itself is not echoed: it may hold the very credentials it must not hold.
      if (!net::acceptable_url(opt.endpoints[i].url)) {
        throw Error(Errc::config_invalid,
                    "tsp: TSA URL #" + std::to_string(i + 1) + " must be http(s):// without user:password@ in it");
      }
    }
    if (opt.timeout.count() <= 0) throw Error(Errc::config_invalid, "tsp: timeout must be positive");
    if (!opt.policy_oid.empty()) {
      policy.reset(OBJ_txt2obj(opt.policy_oid.c_str(), 1));
      if (!policy) throw Error(Errc::config_invalid, "tsp: policy '" + opt.policy_oid + "' is not a dotted OID");
    }
    anchors = parse_pem_bundle(opt.trust_anchors_pem, "tsp: trust anchors");
    intermediates = parse_pem_bundle(opt.intermediates_pem, "tsp: intermediates");
  }

  TsReq make_request(HashAlg alg, const Bytes& digest) const {
    TsReq req(TS_REQ_new());
    MsgImprint imprint(TS_MSG_IMPRINT_new());
    Algor algo(X509_ALGOR_new());
    if (!req || !imprint || !algo) ossl::fail("TS_REQ_new");
    ossl::check(X509_ALGOR_set0(algo.get(), OBJ_nid2obj(EVP_MD_get_type(ossl::md(alg))), V_ASN1_NULL, nullptr) == 1,
                "X509_ALGOR_set0");
    ossl::check(TS_MSG_IMPRINT_set_algo(imprint.get(), algo.get()) == 1, "TS_MSG_IMPRINT_set_algo");
    ossl::check(TS_MSG_IMPRINT_set_msg(imprint.get(), const_cast<unsigned char*>(digest.data()),
                                       static_cast<int>(digest.size())) == 1,
                "TS_MSG_IMPRINT_set_msg");
    ossl::check(TS_REQ_set_version(req.get(), 1) == 1, "TS_REQ_set_version");
    ossl::check(TS_REQ_set_msg_imprint(req.get(), imprint.get()) == 1, "TS_REQ_set_msg_imprint");
    if (policy) ossl::check(TS_REQ_set_policy_id(req.get(), policy.get()) == 1, "TS_REQ_set_policy_id");
    // 64 random bits, with the top bit set so the nonce always has its full size.
    Bytes n = random_bytes(8);
    n[0] |= 0x80;
    ossl::BigNum bn(BN_bin2bn(n.data(), static_cast<int>(n.size()), nullptr));
    ossl::Asn1Int nonce(bn ? BN_to_ASN1_INTEGER(bn.get(), nullptr) : nullptr);
    if (!nonce) ossl::fail("nonce");
    ossl::check(TS_REQ_set_nonce(req.get(), nonce.get()) == 1, "TS_REQ_set_nonce");
    ossl::check(TS_REQ_set_cert_req(req.get(), 1) == 1, "TS_REQ_set_cert_req");
    return req;
  }

  // Verifies `body` as the reply to `req`; returns the DER TimeStampToken or throws BadReply.
  Bytes verify(TS_REQ* req, const Bytes& body) const {
    const unsigned char* p = body.data();
    TsResp resp(d2i_TS_RESP(nullptr, &p, static_cast<long>(body.size())));
    if (!resp) throw BadReply{"not a TimeStampResp: " + ossl::drain_errors()};
    if (p != body.data() + body.size()) throw BadReply{"trailing bytes after the TimeStampResp"};
    TS_STATUS_INFO* info = TS_RESP_get_status_info(resp.get());
    const long status = ASN1_INTEGER_get(TS_STATUS_INFO_get0_status(info));
    if (status != 0 && status != 1) throw BadReply{"TSA refused: " + status_text(info)};
    PKCS7* token = TS_RESP_get_token(resp.get());
    TS_TST_INFO* tst = TS_RESP_get_tst_info(resp.get());
    if (token == nullptr || tst == nullptr || !PKCS7_type_is_signed(token)) throw BadReply{"granted without a token"};

    // Untrusted certificates: those in the token plus the configured intermediates.
    ossl::CertStack untrusted(sk_X509_new_null());
    if (!untrusted) ossl::fail("sk_X509_new_null");
    const auto push = [&](X509* c) {
      X509_up_ref(c);
      if (sk_X509_push(untrusted.get(), c) <= 0) {
        X509_free(c);
        ossl::fail("sk_X509_push");
      }
    };
    if (STACK_OF(X509)* inside = token->d.sign->cert) {
      for (int i = 0; i < sk_X509_num(inside); ++i) push(sk_X509_value(inside, i));
    }
    for (const auto& c : intermediates) push(c.get());

    CertStackRef signers(PKCS7_get0_signers(token, untrusted.get(), 0));
    if (!signers || sk_X509_num(signers.get()) != 1) {
      throw BadReply{"the token does not name exactly one signer certificate that is available: " +
                     ossl::drain_errors()};
    }
    X509* signer = sk_X509_value(signers.get(), 0);
    if (!has_critical_timestamping_eku(signer)) throw BadReply{"the TSA certificate lacks a critical timeStamping EKU"};

    // Trust: the configured anchors, or the signer itself (integrity only). Partial chains allowed
    // so that a pinned TSA or issuing CA certificate is an anchor on its own.
    Store store(X509_STORE_new());
    if (!store) ossl::fail("X509_STORE_new");
    if (anchors.empty()) {
      ossl::check(X509_STORE_add_cert(store.get(), signer) == 1, "X509_STORE_add_cert");
    } else {
      for (const auto& a : anchors) ossl::check(X509_STORE_add_cert(store.get(), a.get()) == 1, "X509_STORE_add_cert");
    }
    X509_VERIFY_PARAM* param = X509_STORE_get0_param(store.get());
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
    X509_VERIFY_PARAM_set_time(param, std::chrono::system_clock::to_time_t(clock.now()));

    TsVerifyCtx ctx(TS_REQ_to_TS_VERIFY_CTX(req, nullptr));  // imprint, nonce, version, policy if requested
    if (!ctx) ossl::fail("TS_REQ_to_TS_VERIFY_CTX");
    TS_VERIFY_CTX_add_flags(ctx.get(), TS_VFY_SIGNATURE);
    TS_VERIFY_CTX_set_store(ctx.get(), store.release());  // owned by ctx from here on
    TS_VERIFY_CTX_set_certs(ctx.get(), untrusted.release());
    if (TS_RESP_verify_response(ctx.get(), resp.get()) != 1) {
      throw BadReply{"verification failed: " + ossl::drain_errors()};
    }

    const auto gen = to_time_point(TS_TST_INFO_get_time(tst));
    const auto now = clock.now();
    if (gen > now + opt.max_clock_skew || gen < now - opt.max_clock_skew) {
      throw BadReply{"genTime " + to_rfc3339(gen) + " is more than " + std::to_string(opt.max_clock_skew.count()) +
                     " s away from " + to_rfc3339(now)};
    }
    return der_of_token(token);
  }
};

Client::Client(ClientOptions options, const Clock& clock) : impl_(std::make_unique<Impl>(std::move(options), clock)) {}
Client::~Client() = default;

Bytes Client::timestamp(HashAlg alg, const Bytes& digest) {
  if (digest.size() != digest_size(alg)) {
    throw Error(Errc::invalid_argument,
                "digest of " + std::to_string(digest.size()) + " bytes for " + std::string(hash_name(alg)));
  }
  const auto& opt = impl_->opt;
  TsReq req = impl_->make_request(alg, digest);
  unsigned char* der = nullptr;
  const int len = i2d_TS_REQ(req.get(), &der);
  if (len <= 0) ossl::fail("i2d_TS_REQ");
  net::HttpRequest http;
  http.body.assign(der, der + len);
  OPENSSL_free(der);
  http.post = true;
  http.content_type = kQueryType;
  http.accept = kReplyType;
  http.timeout = opt.timeout;
  http.max_reply_bytes = opt.max_reply_bytes;
  http.proxy = opt.proxy;
  http.ca_file = opt.tls_ca_file;

  std::string failures;
  bool all_bad_replies = true;
  for (const auto& endpoint : opt.endpoints) {
    std::string why;
    bool bad_reply = false;
    try {
      http.url = endpoint.url;
      http.username = endpoint.username;
      http.password = endpoint.username.empty() ? nullptr : &endpoint.password;
      http.bearer = endpoint.username.empty() && !endpoint.bearer.empty() ? &endpoint.bearer : nullptr;
      const net::HttpReply reply = net::http_exchange(http);
      if (reply.status != 200) {
        why = "HTTP status " + std::to_string(reply.status);
      } else if (reply.content_type != kReplyType && reply.content_type != "application/timestamp-response") {
        why = "content type '" + reply.content_type + "'";
      } else {
        ERR_clear_error();
        return impl_->verify(req.get(), reply.body);
      }
    } catch (const BadReply& b) {
      why = "invalid reply: " + b.why;
      bad_reply = true;
    } catch (const Error& e) {
      why = e.detail();
    }
    ERR_clear_error();
    all_bad_replies = all_bad_replies && bad_reply;
    log::warn("tsp: TSA {} passed over: {}", endpoint.url, why);
    if (!failures.empty()) failures += "; ";
    failures += endpoint.url + ": " + why;
  }
  throw Error(all_bad_replies ? Errc::tsa_response_invalid : Errc::tsa_unavailable,
              "no TSA produced a valid time-stamp: " + failures);
}

}  // namespace sigil::tsp
