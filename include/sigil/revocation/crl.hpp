// CRL fetcher with an in-memory cache keyed by URL (RFC 5280): a CRL is fetched from the
// certificate's CRL distribution points, verified with the issuer's key, checked for freshness at
// the injected clock, and served from the cache until its nextUpdate. Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "sigil/common/clock.hpp"
#include "sigil/common/secure.hpp"
#include "sigil/revocation/ocsp.hpp"

namespace sigil::revocation {

struct CrlOptions {
  std::chrono::milliseconds timeout{10'000};  // per download
  std::size_t max_reply_bytes = 10u << 20;    // a bigger CRL is refused
  std::chrono::seconds max_clock_skew{300};   // tolerance on thisUpdate / nextUpdate
  std::size_t max_entries = 256;              // cached URLs; past it, expired then soonest-expiring go first
  std::optional<std::string> proxy;
  std::string tls_ca_file;
};

struct CrlLookup {
  CertStatus status = CertStatus::good;  // good or revoked
  std::string url;                       // the distribution point used
  Bytes crl;                             // DER CertificateList
  std::optional<Clock::time_point> revocation_time;
};

class CrlCache {
 public:
  CrlCache(CrlOptions options, const Clock& clock);
  ~CrlCache();
  CrlCache(const CrlCache&) = delete;
  CrlCache& operator=(const CrlCache&) = delete;

  // The current CRL (DER) at `url`, issued and signed by `issuer_der`: from the cache while
  // clock <= nextUpdate, else downloaded and verified. Throws Error(revocation_unavailable).
  Bytes get(const std::string& url, const Bytes& issuer_der);

  // Status of `cert_der` from the first of its CRL distribution points (http/https) that yields a
  // valid CRL of `issuer_der`. Throws Error(revocation_unavailable) when none does.
  CrlLookup check(const Bytes& cert_der, const Bytes& issuer_der);

  struct Stats {
    std::uint64_t fetches = 0;  // downloads attempted
    std::uint64_t hits = 0;     // answers from the cache
  };
  Stats stats() const;
  void clear();

 private:
  struct Entry;
  std::shared_ptr<const Entry> entry(const std::string& url, const Bytes& issuer_der);

  CrlOptions opt_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<const Entry>> cache_;
  Stats stats_;
};

}  // namespace sigil::revocation
