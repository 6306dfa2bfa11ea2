// OCSP client, CRL cache and Collector against make-test-pki's real OCSP responder and CRL
// distribution points. A FakeHttpServer is used only to serve a foreign (replayed) OCSP answer.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "../tsp/fake_http.hpp"
#include "ossl/software_key.hpp"
#include "pki_env.hpp"
#include "sigil/revocation/collector.hpp"

namespace sigil::test {
namespace {

const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new PkiEnvironment);

using namespace revocation;
using namespace std::chrono_literals;

std::vector<Bytes> chain_of(const std::string& leaf) {
  return {PkiEnvironment::der(leaf), PkiEnvironment::der("inter-ca.pem"), PkiEnvironment::der("root-ca.pem")};
}
std::string crl_url(const std::string& name) {
  return "http://127.0.0.1:" + std::to_string(PkiEnvironment::pki().ocsp_port()) + "/crl/" + name;
}
void write_file(const std::filesystem::path& path, const Bytes& data) {
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(data.size()));
}
std::string closed_port_url() {
  return "http://127.0.0.1:" + std::to_string(free_loopback_port()) + "/ocsp";
}

// Stops the PKI's OCSP/CRL server for the scope and starts it again afterwards.
struct ResponderDown {
  ResponderDown() { EXPECT_EQ(run_command("'" + PkiEnvironment::file("bin/stop-ocsp").string() + "'").exit_code, 0); }
  ~ResponderDown() {
    const auto r = run_command("'" + PkiEnvironment::file("bin/start-ocsp").string() + "'");
    EXPECT_EQ(r.exit_code, 0) << r.output;
  }
};

OcspOptions ocsp_options(std::string override_url = {}) {
  OcspOptions o;
  o.url_override = std::move(override_url);
  o.timeout = 3s;
  return o;
}

void OcspGoodForSignerFromADelegatedResponder(FakeClock& clock) {
  OcspClient ocsp(ocsp_options(), clock);
  const auto r = ocsp.check(PkiEnvironment::der("signer-rsa.pem"), PkiEnvironment::der("inter-ca.pem"));
  EXPECT_EQ(r.status, CertStatus::good);
  EXPECT_EQ(r.url, PkiEnvironment::pki().ocsp_url());
  EXPECT_EQ(r.responder_certificate, PkiEnvironment::der("ocsp.pem"));
  ASSERT_TRUE(r.next_update.has_value());
  EXPECT_GT(*r.next_update, clock.now());
  ASSERT_FALSE(r.response.empty());
  // Cross-check: openssl accepts the response exactly as kept for embedding.
  TempDir t;
  const auto path = t.path() / "resp.der";
  write_file(path, r.response);
  const auto v = run_command("OPENSSL_CONF=/dev/null openssl ocsp -respin '" + path.string() + "' -issuer '" +
                             PkiEnvironment::file("inter-ca.pem").string() + "' -cert '" +
                             PkiEnvironment::file("signer-rsa.pem").string() + "' -CAfile '" +
                             PkiEnvironment::file("chain.pem").string() + "' -no_nonce");
  EXPECT_EQ(v.exit_code, 0) << v.output;
  EXPECT_NE(v.output.find("Response verify OK"), std::string::npos) << v.output;
  EXPECT_NE(v.output.find(": good"), std::string::npos) << v.output;
}

void OcspReportsTheRevokedSigner(FakeClock& clock) {
  OcspClient ocsp(ocsp_options(), clock);
  const auto r = ocsp.check(PkiEnvironment::der("signer-revoked.pem"), PkiEnvironment::der("inter-ca.pem"));
  EXPECT_EQ(r.status, CertStatus::revoked);
  ASSERT_TRUE(r.revocation_time.has_value());
  EXPECT_LE(*r.revocation_time, clock.now());
}

void OcspAnswerForTheWrongIssuerIsRejected(FakeClock& clock) {
  OcspClient ocsp(ocsp_options(), clock);
  // CertID under the root: the responder (certified by the intermediate) is not authorised for it.
  EXPECT_SIGIL_ERROR(ocsp.check(PkiEnvironment::der("signer-rsa.pem"), PkiEnvironment::der("root-ca.pem")),
                     Errc::revocation_unavailable);
}

void StaleOrFutureOcspAnswerIsRejected(FakeClock& clock) {
  OcspClient ocsp(ocsp_options(), clock);
  const auto leaf = PkiEnvironment::der("signer-rsa.pem");
  const auto inter = PkiEnvironment::der("inter-ca.pem");
  clock.advance(std::chrono::hours(49));  // the responder signs with nextUpdate = now + 1 day
  try {
    ocsp.check(leaf, inter);
    ADD_FAILURE() << "stale answer accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::revocation_unavailable);
    EXPECT_NE(e.detail().find("stale"), std::string::npos) << e.detail();
  }
  clock.advance(-std::chrono::hours(50));  // an hour before the responder's thisUpdate
  try {
    ocsp.check(leaf, inter);
    ADD_FAILURE() << "future answer accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::revocation_unavailable);
    EXPECT_NE(e.detail().find("future"), std::string::npos) << e.detail();
  }
}

void ReplayedOcspAnswerForAnotherRequestIsRejected(FakeClock& clock) {
  OcspClient real(ocsp_options(), clock);
  const auto other = real.check(PkiEnvironment::der("signer-ec.pem"), PkiEnvironment::der("inter-ca.pem"));
  FakeHttpServer replay({{200, "application/ocsp-response", other.response}});
  OcspClient ocsp(ocsp_options(replay.url("/ocsp")), clock);
  try {
    ocsp.check(PkiEnvironment::der("signer-rsa.pem"), PkiEnvironment::der("inter-ca.pem"));
    ADD_FAILURE() << "replayed answer accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::revocation_unavailable);
    EXPECT_NE(e.detail().find("nonce"), std::string::npos) << e.detail();
  }
}

void CollectorPrefersOcspAndUsesCrlsWhereThereIsNoResponder(FakeClock& clock) {
  OcspClient ocsp(ocsp_options(), clock);
  CrlCache crls({}, clock);
  Collector collector(ocsp, crls);
  const auto data = collector.collect(chain_of("signer-rsa.pem"));
  EXPECT_EQ(data.ocsp_responses.size(), 1u);  // the leaf
  ASSERT_EQ(data.crls.size(), 1u);            // the intermediate: no OCSP URL, root.crl
  EXPECT_EQ(data.crls[0], crls.get(crl_url("root.crl"), PkiEnvironment::der("root-ca.pem")));
  TempDir t;
  write_file(t.path() / "root.crl", data.crls[0]);
  const auto v = run_command("OPENSSL_CONF=/dev/null openssl crl -inform DER -in '" + (t.path() / "root.crl").string() +
                             "' -CAfile '" + PkiEnvironment::file("root-ca.pem").string() + "' -noout");
  EXPECT_EQ(v.exit_code, 0) << v.output;
  EXPECT_NE(v.output.find("verify OK"), std::string::npos) << v.output;
  ASSERT_EQ(data.certificates.size(), 1u);
  EXPECT_EQ(data.certificates[0], PkiEnvironment::der("ocsp.pem"));
}

void CollectorThrowsCertRevoked(FakeClock& clock) {
  OcspClient ocsp(ocsp_options(), clock);
  CrlCache crls({}, clock);
  Collector collector(ocsp, crls);
  EXPECT_SIGIL_ERROR(collector.collect(chain_of("signer-revoked.pem")), Errc::cert_revoked);
  // Revocation is never "degraded" away.
  EXPECT_SIGIL_ERROR(collect_with_policy(collector, chain_of("signer-revoked.pem"), OnUnavailable::degrade),
                     Errc::cert_revoked);
}

void CertificateRevokedAfterIssuanceIsSeenAtOnce(FakeClock& clock) {
  auto key = ossl::SoftwareKey::generate(KeySpec::parse("ec-p256"));
  const Bytes leaf = PkiEnvironment::pki().issue(*key, "Soon Revoked");
  OcspClient ocsp(ocsp_options(), clock);
  CrlCache crls({}, clock);
  Collector collector(ocsp, crls);
  const std::vector<Bytes> chain{leaf, PkiEnvironment::der("inter-ca.pem"), PkiEnvironment::der("root-ca.pem")};
  EXPECT_NO_THROW(collector.collect(chain));
  const auto pem = PkiEnvironment::pki().dir() / "soon-revoked.pem";
  std::ofstream(pem) << ossl::der_to_pem(leaf);
  const auto r = run_command("'" + PkiEnvironment::file("bin/revoke").string() + "' '" + pem.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_SIGIL_ERROR(collector.collect(chain), Errc::cert_revoked);
}

// A certificate the CA signed outside its database (openssl x509 -req): the responder answers a
// verified "unknown", and the collector falls back to the CRL.
void OcspUnknownFallsBackToCrls(FakeClock& clock) {
  const auto dir = PkiEnvironment::pki().dir().string();
  const auto r = run_command(
      "(cd '" + dir +
      "' && export OPENSSL_CONF=/dev/null && "
      "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout run/unknown.key "
      "-subj '/CN=Not In The Index' -out run/unknown.csr && "
      "openssl x509 -req -in run/unknown.csr -CA inter-ca.pem -CAkey inter-ca.key -set_serial 0x7e57 -days 30 "
      "-extfile inter/ca.cnf -extensions v3_signer -out run/unknown.pem)");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const Bytes leaf = ossl::read_certificate(files::read(PkiEnvironment::pki().dir() / "run/unknown.pem"));
  OcspClient ocsp(ocsp_options(), clock);
  EXPECT_EQ(ocsp.check(leaf, PkiEnvironment::der("inter-ca.pem")).status, CertStatus::unknown);
  CrlCache crls({}, clock);
  Collector collector(ocsp, crls);
  const auto data = collector.collect({leaf, PkiEnvironment::der("inter-ca.pem"), PkiEnvironment::der("root-ca.pem")});
  EXPECT_TRUE(data.ocsp_responses.empty());
  EXPECT_EQ(data.crls.size(), 2u);
}

void OcspDownFallsBackToCrls(FakeClock& clock) {
  OcspClient ocsp(ocsp_options(closed_port_url()), clock);
  CrlCache crls({}, clock);
  Collector collector(ocsp, crls);
  const auto data = collector.collect(chain_of("signer-ec.pem"));
  EXPECT_TRUE(data.ocsp_responses.empty());
  EXPECT_EQ(data.crls.size(), 2u);  // inter.crl for the leaf, root.crl for the intermediate
  EXPECT_TRUE(data.certificates.empty());
  // ... and a CRL says revoked just as well.
  EXPECT_SIGIL_ERROR(collector.collect(chain_of("signer-revoked.pem")), Errc::cert_revoked);
}

void BothDownIsRevocationUnavailable(FakeClock& clock) {
  OcspClient ocsp(ocsp_options(), clock);
  CrlCache crls({}, clock);
  Collector collector(ocsp, crls);
  ResponderDown down;
  try {
    collector.collect(chain_of("signer-rsa.pem"));
    ADD_FAILURE() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::revocation_unavailable);
    EXPECT_NE(e.detail().find("Test Signer RSA"), std::string::npos) << e.detail();
    EXPECT_NE(e.detail().find("OCSP"), std::string::npos) << e.detail();
    EXPECT_NE(e.detail().find("CRL"), std::string::npos) << e.detail();
  }
  EXPECT_FALSE(collect_with_policy(collector, chain_of("signer-rsa.pem"), OnUnavailable::degrade).has_value());
  EXPECT_SIGIL_ERROR(collect_with_policy(collector, chain_of("signer-rsa.pem"), OnUnavailable::fail),
                     Errc::revocation_unavailable);
}

void CrlCacheHitsUntilNextUpdateThenRefetches(FakeClock& clock) {
  CrlCache crls({}, clock);
  const auto url = crl_url("inter.crl");
  const auto inter = PkiEnvironment::der("inter-ca.pem");
  const Bytes first = crls.get(url, inter);
  EXPECT_EQ(crls.get(url, inter), first);
  EXPECT_EQ(crls.stats().fetches, 1u);
  EXPECT_EQ(crls.stats().hits, 1u);

  // The CA publishes a new CRL (valid 60 days); the cached one (30 days) is still current.
  const auto dir = PkiEnvironment::pki().dir().string();
  const auto r = run_command("(cd '" + dir +
                             "' && export OPENSSL_CONF=/dev/null && openssl ca -gencrl -config inter/ca.cnf "
                             "-cert inter/ca.pem -keyfile inter/ca.key -crlexts crl_ext -crldays 60 -out inter.crl && "
                             "openssl crl -in inter.crl -outform DER -out inter.crl.der)");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(crls.get(url, inter), first);
  EXPECT_EQ(crls.stats().fetches, 1u);

  clock.advance(std::chrono::hours(24 * 31));  // past the first CRL's nextUpdate
  const Bytes second = crls.get(url, inter);
  EXPECT_NE(second, first);
  EXPECT_EQ(crls.stats().fetches, 2u);
  EXPECT_EQ(crls.get(url, inter), second);
  EXPECT_EQ(crls.stats().hits, 3u);
}

void StaleCrlIsRejected(FakeClock& clock) {
  clock.advance(std::chrono::hours(24 * 400));
  CrlCache crls({}, clock);
  try {
    crls.get(crl_url("root.crl"), PkiEnvironment::der("root-ca.pem"));
    ADD_FAILURE() << "stale CRL accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::revocation_unavailable);
    EXPECT_NE(e.detail().find("stale"), std::string::npos) << e.detail();
  }
}

void CrlMustBeSignedByTheGivenIssuer(FakeClock& clock) {
  CrlCache crls({}, clock);
  EXPECT_SIGIL_ERROR(crls.get(crl_url("inter.crl"), PkiEnvironment::der("root-ca.pem")), Errc::revocation_unavailable);
  EXPECT_SIGIL_ERROR(crls.get(crl_url("inter.crl"), PkiEnvironment::der("other-root-ca.pem")),
                     Errc::revocation_unavailable);
  // A good fetch is cached; asking for it with a wrong issuer afterwards still fails.
  EXPECT_NO_THROW(crls.get(crl_url("inter.crl"), PkiEnvironment::der("inter-ca.pem")));
  EXPECT_SIGIL_ERROR(crls.get(crl_url("inter.crl"), PkiEnvironment::der("root-ca.pem")), Errc::revocation_unavailable);
}

void ChainProblemsAreReported(FakeClock& clock) {
  OcspClient ocsp(ocsp_options(), clock);
  CrlCache crls({}, clock);
  Collector collector(ocsp, crls);
  EXPECT_SIGIL_ERROR(collector.collect({}), Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(collector.collect({PkiEnvironment::der("signer-rsa.pem"), PkiEnvironment::der("root-ca.pem")}),
                     Errc::invalid_argument);
  // Without the root the intermediate's status cannot be established.
  EXPECT_SIGIL_ERROR(collector.collect({PkiEnvironment::der("signer-rsa.pem"), PkiEnvironment::der("inter-ca.pem")}),
                     Errc::revocation_unavailable);
  // No AIA, no CRL-DP.
  EXPECT_SIGIL_ERROR(
      collector.collect({PkiEnvironment::der("other-signer.pem"), PkiEnvironment::der("other-root-ca.pem")}),
      Errc::revocation_unavailable);
  // A root alone needs nothing.
  EXPECT_TRUE(collector.collect({PkiEnvironment::der("root-ca.pem")}).crls.empty());
}

void ConcurrentCollectionsShareTheCache(FakeClock& clock) {
  OcspClient ocsp(ocsp_options(), clock);
  CrlCache crls({}, clock);
  Collector collector(ocsp, crls);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      try {
        const auto data = collector.collect(chain_of(t % 2 == 0 ? "signer-rsa.pem" : "signer-ec.pem"));
        if (data.ocsp_responses.size() == 1 && data.crls.size() == 1) ++ok;
      } catch (const Error& e) {
        ADD_FAILURE() << e.detail();
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 4);
  EXPECT_LE(crls.stats().fetches, 4u);
}

using Case = void (*)(FakeClock&);
#define CASE(fn)                 \
  std::pair<const char*, Case> { \
#fn, &fn                     \
  }

// Each TEST runs in its own process under ctest, and each process builds its own PKI (seconds), so
// the cases are grouped: one TEST per theme, one fresh wall-clock-synced FakeClock per case.
// The PKI is made first: its root is valid from the moment it is made, and the clock must not
// lag behind that.
void run(std::initializer_list<std::pair<const char*, Case>> cases, bool needs_pki = true) {
  if (needs_pki) (void)PkiEnvironment::pki();
  for (const auto& [name, fn] : cases) {
    SCOPED_TRACE(name);
    FakeClock clock;
    sync_to_wall_clock(clock);
    try {
      fn(clock);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "exception: " << e.what();
    }
  }
}

TEST(Revocation, Ocsp) {
  run({CASE(OcspGoodForSignerFromADelegatedResponder), CASE(OcspReportsTheRevokedSigner),
       CASE(OcspAnswerForTheWrongIssuerIsRejected), CASE(StaleOrFutureOcspAnswerIsRejected),
       CASE(ReplayedOcspAnswerForAnotherRequestIsRejected)});
}
TEST(Revocation, Collector) {
  run({CASE(CollectorPrefersOcspAndUsesCrlsWhereThereIsNoResponder), CASE(CollectorThrowsCertRevoked),
       CASE(CertificateRevokedAfterIssuanceIsSeenAtOnce), CASE(ChainProblemsAreReported),
       CASE(ConcurrentCollectionsShareTheCache)});
}
TEST(Revocation, Fallback) {
  run({CASE(OcspDownFallsBackToCrls), CASE(OcspUnknownFallsBackToCrls), CASE(BothDownIsRevocationUnavailable)});
}
TEST(Revocation, CrlCache) {
  run({CASE(CrlCacheHitsUntilNextUpdateThenRefetches), CASE(StaleCrlIsRejected),
       CASE(CrlMustBeSignedByTheGivenIssuer)});
}

TEST(RevocationPolicy, ParsesAndNames) {  // needs no PKI
  EXPECT_EQ(parse_on_unavailable("fail"), OnUnavailable::fail);
  EXPECT_EQ(parse_on_unavailable("degrade"), OnUnavailable::degrade);
  EXPECT_EQ(on_unavailable_name(OnUnavailable::degrade), "degrade");
  EXPECT_SIGIL_ERROR(parse_on_unavailable("ignore"), Errc::config_invalid);
  EXPECT_EQ(status_name(CertStatus::revoked), "revoked");
}

}  // namespace
}  // namespace sigil::test
