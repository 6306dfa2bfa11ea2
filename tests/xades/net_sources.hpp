// Test-only Timestamper and RevocationSource over OpenSSL + libcurl against the validators' local
// TSA / OCSP responder (until sigil::tsp::Client and sigil::revocation::Collector land).
#pragma once

#include <string>

#include "sigil/common/signing.hpp"

namespace sigil::test {

class NetTimestamper final : public Timestamper {
 public:
  explicit NetTimestamper(std::string url) : url_(std::move(url)) {}
  Bytes timestamp(HashAlg alg, const Bytes& digest) override;
  int calls = 0;

 private:
  std::string url_;
};

// OCSP for certificates issued by an intermediate, the root's CRL for certificates the root issued.
class NetRevocation final : public RevocationSource {
 public:
  NetRevocation(std::string ocsp_url, std::string root_crl_url)
      : ocsp_url_(std::move(ocsp_url)), root_crl_url_(std::move(root_crl_url)) {}
  RevocationData collect(const std::vector<Bytes>& chain) override;

 private:
  std::string ocsp_url_;
  std::string root_crl_url_;
};

}  // namespace sigil::test
