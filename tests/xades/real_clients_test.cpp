// B-LT and B-LTA through the production sources: sigil::tsp::Client (RFC 3161) and
// sigil::revocation::Collector (OCSP, CRL fallback) against the validators' local TSA/OCSP.
#include <gtest/gtest.h>

#include <string>

#include "env.hpp"
#include "ossl/x509.hpp"
#include "sigil/common/clock.hpp"
#include "sigil/common/files.hpp"
#include "sigil/revocation/collector.hpp"
#include "sigil/revocation/crl.hpp"
#include "sigil/revocation/ocsp.hpp"
#include "sigil/tsp/client.hpp"
#include "sigil/xades/xades.hpp"

namespace sigil::xades {
namespace {

using test::XadesWorld;

TEST(XadesRealClients, EnvelopedLtaWithTspClientAndCollector) {
  auto& w = XadesWorld::get();
  SystemClock clock;
  tsp::ClientOptions to;
  to.endpoints.push_back({w.pki->tsa_url(), "", SecretString(), SecretString()});
  to.trust_anchors_pem = files::read(w.pki->trust());
  tsp::Client tsa(std::move(to), clock);
  revocation::OcspClient ocsp(revocation::OcspOptions{}, clock);  // AIA URLs of the certificates
  revocation::CrlCache crls(revocation::CrlOptions{}, clock);
  revocation::Collector collector(ocsp, crls);

  XadesParams p;
  p.signer = w.ec_certs;
  const std::string doc = "<order xmlns=\"urn:test:order\"><item sku=\"42\">tea</item></order>";
  const std::string lt = sign(doc, p, *w.ec, SignatureLevel::b_lt, {&tsa, &collector});
  const std::string lta = extend(lt, SignatureLevel::b_lta, {&tsa, &collector});
  const auto results = w.check_all({{w.write("real-clients-lt.xml", lt), "B-LT", {}},
                                    {w.write("real-clients-lta.xml", lta), "B-LTA", {}}});
  test::expect_valid(results[0], "B-LT");
  test::expect_valid(results[1], "B-LTA");
}

}  // namespace
}  // namespace sigil::xades
