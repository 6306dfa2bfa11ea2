#include "sigil/revocation/crl.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>

#include "ossl/digest.hpp"
#include "ossl/error.hpp"
#include "ossl/handles.hpp"
#include "revocation/pki_util.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/log.hpp"
#include "tsp/http_fetch.hpp"

namespace sigil::revocation {
namespace {

using Crl = ossl::Handle<X509_CRL, X509_CRL_free>;

using detail::unusable;

Crl parse_crl(const Bytes& body) {
  const unsigned char* p = body.data();
  Crl crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(body.size())));
  if (crl && p == body.data() + body.size()) return crl;
  // Some servers publish PEM although RFC 5280 §4.2.1.13 asks for DER.
  crl.reset();
  ossl::Bio bio(BIO_new_mem_buf(body.data(), static_cast<int>(body.size())));
  if (bio) crl.reset(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
  return crl;
}

Bytes crl_der(X509_CRL* crl) {
  unsigned char* der = nullptr;
  const int len = i2d_X509_CRL(crl, &der);
  if (len <= 0) ossl::fail("i2d_X509_CRL");
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

}  // namespace

struct CrlCache::Entry {
  Bytes der;
  Crl crl;  // read-only after construction (OpenSSL locks its lazy sort of the revoked list)
  Clock::time_point this_update;
  std::optional<Clock::time_point> next_update;
  Bytes issuer_der;  // the issuer whose key verified it
};

CrlCache::CrlCache(CrlOptions options, const Clock& clock) : opt_(std::move(options)), clock_(clock) {
  if (opt_.timeout.count() <= 0) throw Error(Errc::config_invalid, "crl: timeout must be positive");
}
CrlCache::~CrlCache() = default;

CrlCache::Stats CrlCache::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

void CrlCache::clear() {
  std::lock_guard lock(mu_);
  cache_.clear();
}

// Verifies that `crl` is a complete, direct CRL of `issuer` that is current at `now`.
static void verify_crl(X509_CRL* crl, X509* issuer, Clock::time_point now, std::chrono::seconds skew,
                       const std::string& where) {
  if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0) {
    unusable(where + "issued by another CA than " + detail::subject_of(issuer));
  }
  if ((X509_get_extension_flags(issuer) & EXFLAG_KUSAGE) != 0 && (X509_get_key_usage(issuer) & KU_CRL_SIGN) == 0) {
    unusable(where + "the issuer lacks keyUsage cRLSign");
  }
  EVP_PKEY* key = X509_get0_pubkey(issuer);
  if (key == nullptr || X509_CRL_verify(crl, key) != 1) unusable(where + "bad signature: " + ossl::drain_errors());
  if (X509_CRL_get_ext_by_NID(crl, NID_delta_crl, -1) >= 0) unusable(where + "delta CRLs are not supported");
  const auto this_update = detail::to_time_point(X509_CRL_get0_lastUpdate(crl));
  if (this_update > now + skew) unusable(where + "thisUpdate " + to_rfc3339(this_update) + " is in the future");
  if (const ASN1_TIME* nu = X509_CRL_get0_nextUpdate(crl)) {
    const auto next_update = detail::to_time_point(nu);
    if (next_update + skew < now) {
      unusable(where + "stale CRL: nextUpdate " + to_rfc3339(next_update) + " is before " + to_rfc3339(now));
    }
  }
}

std::shared_ptr<const CrlCache::Entry> CrlCache::entry(const std::string& url, const Bytes& issuer_der) {
  const std::string where = "CRL " + url + ": ";
  const ossl::Cert issuer = detail::parse_cert(issuer_der);
  const auto now = clock_.now();
  {
    std::lock_guard lock(mu_);
    const auto it = cache_.find(url);
    if (it != cache_.end() && it->second->next_update && now <= *it->second->next_update) {
      std::shared_ptr<const Entry> hit = it->second;
      ++stats_.hits;
      if (hit->issuer_der == issuer_der) return hit;
      // Asked for another issuer: the cached CRL must verify for this one too.
      verify_crl(hit->crl.get(), issuer.get(), now, opt_.max_clock_skew, where);
      return hit;
    }
    ++stats_.fetches;
  }
  // Download outside the lock: other URLs and cache hits are not held up by a slow server. Two
  // threads missing the same URL at once both download it; the later one's entry wins.
  net::HttpRequest http;
  http.url = url;
  http.accept = "application/pkix-crl";
  const net::HttpReply reply = detail::fetch(std::move(http), opt_, "CRL", where);
  ERR_clear_error();
  auto fresh = std::make_shared<Entry>();
  fresh->crl = parse_crl(reply.body);
  if (!fresh->crl) unusable(where + "not a CRL: " + ossl::drain_errors());
  verify_crl(fresh->crl.get(), issuer.get(), now, opt_.max_clock_skew, where);
  fresh->der = crl_der(fresh->crl.get());
  fresh->this_update = detail::to_time_point(X509_CRL_get0_lastUpdate(fresh->crl.get()));
  if (const ASN1_TIME* nu = X509_CRL_get0_nextUpdate(fresh->crl.get())) fresh->next_update = detail::to_time_point(nu);
  fresh->issuer_der = issuer_der;

  if (fresh->next_update) {  // without nextUpdate a CRL is used once, never cached
    std::lock_guard lock(mu_);
    cache_.erase(url);
    if (cache_.size() >= opt_.max_entries) {
      std::erase_if(cache_, [now](const auto& kv) { return !kv.second->next_update || *kv.second->next_update < now; });
    }
    while (!cache_.empty() && cache_.size() >= opt_.max_entries) {
      const auto soonest = std::min_element(cache_.begin(), cache_.end(), [](const auto& a, const auto& b) {
        return *a.second->next_update < *b.second->next_update;
      });
      cache_.erase(soonest);
    }
    if (opt_.max_entries > 0) cache_[url] = fresh;
  }
  return fresh;
}

Bytes CrlCache::get(const std::string& url, const Bytes& issuer_der) {
  return entry(url, issuer_der)->der;
}

CrlLookup CrlCache::check(const Bytes& cert_der, const Bytes& issuer_der) {
  const ossl::Cert cert = detail::parse_cert(cert_der);
  const auto urls = detail::crl_urls(cert.get());
  const std::string subject = detail::subject_of(cert.get());
  if (urls.empty()) unusable("CRL: no distribution point in " + subject);
  std::string failures;
  for (const auto& url : urls) {
    try {
      const auto e = entry(url, issuer_der);
      if (X509_NAME_cmp(X509_CRL_get_issuer(e->crl.get()), X509_get_issuer_name(cert.get())) != 0) {
        unusable("CRL " + url + ": not issued by the certificate's issuer");
      }
      CrlLookup out;
      out.url = url;
      out.crl = e->der;
      X509_REVOKED* revoked = nullptr;
      if (X509_CRL_get0_by_cert(e->crl.get(), &revoked, cert.get()) == 1) {
        out.status = CertStatus::revoked;
        out.revocation_time = detail::to_time_point(X509_REVOKED_get0_revocationDate(revoked));
      }
      return out;
    } catch (const Error& err) {
      log::warn("revocation: {}", err.detail());
      if (!failures.empty()) failures += "; ";
      failures += err.detail();
    }
  }
  unusable(failures);
}

}  // namespace sigil::revocation
