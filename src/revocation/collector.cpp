#include "sigil/revocation/collector.hpp"

#include <openssl/x509v3.h>

#include <algorithm>

#include "revocation/pki_util.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/log.hpp"

namespace sigil::revocation {
namespace {

void add_unique(std::vector<Bytes>& list, Bytes item) {
  if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(std::move(item));
}

std::string revoked_detail(const std::string& subject, const char* source,
                           const std::optional<Clock::time_point>& when) {
  return subject + " is revoked" + (when ? " since " + to_rfc3339(*when) : std::string()) + " (" + source + ")";
}

}  // namespace

std::string_view on_unavailable_name(OnUnavailable p) {
  return p == OnUnavailable::fail ? "fail" : "degrade";
}

OnUnavailable parse_on_unavailable(std::string_view text) {
  if (text == "fail") return OnUnavailable::fail;
  if (text == "degrade") return OnUnavailable::degrade;
  throw Error(Errc::config_invalid, "on_unavailable must be 'fail' or 'degrade', not '" + std::string(text) + "'");
}

Collector::Collector(const OcspClient& ocsp, CrlCache& crls, CollectorOptions options)
    : ocsp_(ocsp), crls_(crls), opt_(options) {
  if (!opt_.use_ocsp && !opt_.use_crl) throw Error(Errc::config_invalid, "revocation: neither OCSP nor CRLs enabled");
}

RevocationData Collector::collect(const std::vector<Bytes>& chain) {
  if (chain.empty()) throw Error(Errc::invalid_argument, "revocation: empty chain");
  std::vector<ossl::Cert> certs;
  certs.reserve(chain.size());
  for (const auto& der : chain) certs.push_back(detail::parse_cert(der));

  RevocationData out;
  for (std::size_t i = 0; i < certs.size(); ++i) {
    X509* cert = certs[i].get();
    if ((X509_get_extension_flags(cert) & EXFLAG_SS) != 0) break;  // a root: nothing to check
    const std::string subject = detail::subject_of(cert);
    if (i + 1 >= certs.size()) {
      throw Error(Errc::revocation_unavailable, subject + ": its issuer is not in the chain");
    }
    if (X509_check_issued(certs[i + 1].get(), cert) != X509_V_OK) {
      throw Error(Errc::invalid_argument,
                  "revocation: " + subject + " is not issued by the next certificate of the chain");
    }
    const Bytes& issuer = chain[i + 1];
    std::string failures;
    bool done = false;
    if (opt_.use_ocsp && !ocsp_.responder_url(chain[i])) {
      failures = "OCSP: no responder URL";  // common for CA certificates: CRLs are the normal path
    } else if (opt_.use_ocsp) {
      try {
        OcspResult r = ocsp_.check(chain[i], issuer);
        if (r.status == CertStatus::revoked) {
          throw Error(Errc::cert_revoked, revoked_detail(subject, "OCSP", r.revocation_time));
        }
        if (r.status == CertStatus::good) {
          add_unique(out.ocsp_responses, std::move(r.response));
          if (!r.responder_certificate.empty() &&
              std::find(chain.begin(), chain.end(), r.responder_certificate) == chain.end()) {
            add_unique(out.certificates, std::move(r.responder_certificate));
          }
          done = true;
        } else {
          failures = "OCSP " + r.url + ": status unknown";
        }
      } catch (const Error& e) {
        if (e.code() == Errc::cert_revoked) throw;
        failures = e.detail();
      }
      if (!done) log::warn("revocation: {}: {}; trying CRLs", subject, failures);
    }
    if (!done && opt_.use_crl) {
      try {
        CrlLookup l = crls_.check(chain[i], issuer);
        if (l.status == CertStatus::revoked) {
          throw Error(Errc::cert_revoked, revoked_detail(subject, l.url.c_str(), l.revocation_time));
        }
        add_unique(out.crls, std::move(l.crl));
        done = true;
      } catch (const Error& e) {
        if (e.code() == Errc::cert_revoked) throw;
        failures += (failures.empty() ? "" : "; ") + e.detail();
      }
    }
    if (!done) throw Error(Errc::revocation_unavailable, subject + ": " + std::move(failures));
  }
  return out;
}

std::optional<RevocationData> collect_with_policy(RevocationSource& source, const std::vector<Bytes>& chain,
                                                  OnUnavailable policy) {
  try {
    return source.collect(chain);
  } catch (const Error& e) {
    if (e.code() != Errc::revocation_unavailable || policy == OnUnavailable::fail) throw;
    log::warn("revocation data unavailable, degrading to B-T: {}", e.detail());
    return std::nullopt;
  }
}

}  // namespace sigil::revocation
