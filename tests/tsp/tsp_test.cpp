// RFC 3161 client against make-test-pki's real TSA (openssl ts -reply behind a loopback HTTP
// front-end). A FakeHttpServer is used only where a malformed or foreign reply is needed.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "fake_http.hpp"
#include "ossl/digest.hpp"
#include "pki_env.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/tsp/client.hpp"
#include "tsp/http_fetch.hpp"

namespace sigil::test {
namespace {

const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new PkiEnvironment);

using tsp::Client;
using tsp::ClientOptions;
using tsp::TsaEndpoint;
using namespace std::chrono_literals;

ClientOptions options(std::vector<std::string> urls, std::optional<std::string> anchors = std::nullopt) {
  ClientOptions o;
  for (auto& u : urls) o.endpoints.push_back(TsaEndpoint{std::move(u), {}, {}, {}});
  o.trust_anchors_pem = anchors ? *anchors : PkiEnvironment::pem("root-ca.pem");
  o.timeout = 5s;
  return o;
}
std::string tsa() {
  return PkiEnvironment::pki().tsa_url();
}
std::string closed_port_url() {
  return "http://127.0.0.1:" + std::to_string(free_loopback_port()) + "/tsa";
}

// `openssl ts -verify` over the token, with the PKI's root as the only trust anchor.
CommandResult openssl_verify(const Bytes& token, const Bytes& digest) {
  TempDir t;
  const auto path = t.path() / "token.tst";
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(token.data()), static_cast<std::streamsize>(token.size()));
  return run_command("OPENSSL_CONF=/dev/null openssl ts -verify -digest " + hex_encode(digest) + " -in '" +
                     path.string() + "' -token_in -CAfile '" + PkiEnvironment::file("root-ca.pem").string() +
                     "' -untrusted '" + PkiEnvironment::file("tsa-chain.pem").string() + "'");
}

// A genuine TimeStampResp from the real TSA for a request made by `openssl ts -query` (its own
// random nonce) over `digest`.
Bytes foreign_reply(const Bytes& digest) {
  TempDir t;
  const auto q = t.path() / "q.tsq";
  const auto r = run_command("OPENSSL_CONF=/dev/null openssl ts -query -sha256 -cert -digest " + hex_encode(digest) +
                             " -out '" + q.string() + "'");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  net::HttpRequest req;
  req.url = tsa();
  req.post = true;
  req.content_type = "application/timestamp-query";
  const std::string body = files::read(q);
  req.body.assign(body.begin(), body.end());
  const auto reply = net::http_exchange(req);
  EXPECT_EQ(reply.status, 200);
  return reply.body;
}

void TimestampVerifiesWithOpenssl(FakeClock& clock) {
  Client client(options({tsa()}), clock);
  for (HashAlg alg : {HashAlg::sha256, HashAlg::sha384, HashAlg::sha512}) {
    const Bytes digest = ossl::digest(alg, std::string_view("sigil time-stamp test"));
    const Bytes token = client.timestamp(alg, digest);
    ASSERT_FALSE(token.empty());
    EXPECT_EQ(token[0], 0x30);
    const auto v = openssl_verify(token, digest);
    EXPECT_EQ(v.exit_code, 0) << hash_name(alg) << ": " << v.output;
    EXPECT_NE(v.output.find("Verification: OK"), std::string::npos) << v.output;
  }
}

void WithoutTrustAnchorsTheTokenIsStillVerifiedForIntegrity(FakeClock& clock) {
  Client client(options({tsa()}, ""), clock);
  const Bytes digest = ossl::digest(HashAlg::sha256, std::string_view("integrity only"));
  EXPECT_EQ(openssl_verify(client.timestamp(HashAlg::sha256, digest), digest).exit_code, 0);
}

void PinnedTsaCertificateIsAnAnchor(FakeClock& clock) {
  Client client(options({tsa()}, PkiEnvironment::pem("tsa.pem")), clock);
  EXPECT_NO_THROW(client.timestamp(HashAlg::sha256, ossl::digest(HashAlg::sha256, std::string_view("pinned"))));
}

void WrongTrustAnchorIsAnInvalidReply(FakeClock& clock) {
  Client client(options({tsa()}, PkiEnvironment::pem("other-root-ca.pem")), clock);
  EXPECT_SIGIL_ERROR(client.timestamp(HashAlg::sha256, Bytes(32, 1)), Errc::tsa_response_invalid);
}

void RequestedPolicyIsHonouredOrTheReplyRefused(FakeClock& clock) {
  auto ok = options({tsa()});
  ok.policy_oid = "1.3.6.1.4.1.99999.2.1";  // ts.cnf default_policy
  EXPECT_NO_THROW(Client(std::move(ok), clock).timestamp(HashAlg::sha256, Bytes(32, 2)));
  auto other = options({tsa()});
  other.policy_oid = "1.2.3.4.5";
  Client refused(std::move(other), clock);
  try {
    refused.timestamp(HashAlg::sha256, Bytes(32, 2));
    ADD_FAILURE() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::tsa_response_invalid) << e.detail();
    EXPECT_NE(e.detail().find("unacceptedPolicy"), std::string::npos) << e.detail();
  }
}

void GenTimeFarFromTheClockIsRejected(FakeClock& /*clock*/) {
  FakeClock future;               // 2027: far from the TSA's wall-clock genTime
  auto o = options({tsa()}, "");  // no anchors: the certificates' validity is not what fails here
  Client client(std::move(o), future);
  try {
    client.timestamp(HashAlg::sha256, Bytes(32, 3));
    ADD_FAILURE() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::tsa_response_invalid);
    EXPECT_NE(e.detail().find("genTime"), std::string::npos) << e.detail();
  }
}

void DigestLengthMustMatchTheAlgorithm(FakeClock& clock) {
  Client client(options({"http://127.0.0.1:1/tsa"}, ""), clock);
  EXPECT_SIGIL_ERROR(client.timestamp(HashAlg::sha384, Bytes(32, 0)), Errc::invalid_argument);
}

void ConfigurationIsChecked(FakeClock& clock) {
  EXPECT_SIGIL_ERROR(Client(options({}, ""), clock), Errc::config_invalid);
  try {
    Client(options({"http://127.0.0.1:1/tsa", "http://user:pw-secret@127.0.0.1:1/tsa"}, ""), clock);
    ADD_FAILURE() << "credentials in a URL accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::config_invalid);
    EXPECT_NE(e.detail().find("#2"), std::string::npos) << e.detail();
    EXPECT_EQ(e.detail().find("pw-secret"), std::string::npos) << e.detail();
  }
  EXPECT_SIGIL_ERROR(Client(options({"ftp://127.0.0.1/tsa"}, ""), clock), Errc::config_invalid);
  auto bad_policy = options({"http://127.0.0.1:1/tsa"}, "");
  bad_policy.policy_oid = "not an oid";
  EXPECT_SIGIL_ERROR(Client(std::move(bad_policy), clock), Errc::config_invalid);
  EXPECT_SIGIL_ERROR(
      Client(options({"http://127.0.0.1:1/tsa"}, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
             clock),
      Errc::config_invalid);
}

void FailsOverToTheNextUrl(FakeClock& clock) {
  FakeHttpServer wrong_type({{200, "text/html", {'<', 'h', '>'}}});
  const auto not_found = "http://127.0.0.1:" + std::to_string(PkiEnvironment::pki().ocsp_port()) + "/no-tsa-here";
  Client client(options({closed_port_url(), not_found, wrong_type.url(), tsa()}), clock);
  const Bytes digest = ossl::digest(HashAlg::sha256, std::string_view("failover"));
  EXPECT_EQ(openssl_verify(client.timestamp(HashAlg::sha256, digest), digest).exit_code, 0);
  EXPECT_EQ(wrong_type.requests().size(), 1u);
}

void RedirectsAreNotFollowed(FakeClock& clock) {
  FakeHttpServer redirect({{302, "text/plain", {}}});
  Client client(options({redirect.url()}), clock);
  try {
    client.timestamp(HashAlg::sha256, Bytes(32, 9));
    ADD_FAILURE() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::tsa_unavailable);
    EXPECT_NE(e.detail().find("HTTP status 302"), std::string::npos) << e.detail();
  }
}

void UrlsAreChecked(FakeClock& /*clock*/) {
  EXPECT_TRUE(net::acceptable_url("http://127.0.0.1:8080/tsa"));
  EXPECT_TRUE(net::acceptable_url("HTTPS://tsa.example/"));
  EXPECT_TRUE(net::acceptable_url("http://tsa.example/path?with@at"));
  EXPECT_FALSE(net::acceptable_url("http://user:pw@tsa.example/"));
  EXPECT_FALSE(net::acceptable_url("file:///etc/passwd"));
  EXPECT_FALSE(net::acceptable_url("http://"));
  EXPECT_FALSE(net::acceptable_url("http://tsa.example/a b"));
  net::HttpRequest req;
  req.url = "gopher://127.0.0.1/";
  EXPECT_SIGIL_ERROR(net::http_exchange(req), Errc::invalid_argument);
}

void HungTsaTimesOutAndTheNextOneAnswers(FakeClock& clock) {
  const auto hung = FakeHttpServer::black_hole();
  auto o = options({hung->url(), tsa()});
  o.timeout = 700ms;
  Client client(std::move(o), clock);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_NO_THROW(client.timestamp(HashAlg::sha256, Bytes(32, 4)));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 4s);
}

void AllDownIsTsaUnavailableWithinTheTimeout(FakeClock& clock) {
  const auto hung = FakeHttpServer::black_hole();
  const auto closed = closed_port_url();
  auto o = options({closed, hung->url()});
  o.timeout = 500ms;
  Client client(std::move(o), clock);
  const auto start = std::chrono::steady_clock::now();
  try {
    client.timestamp(HashAlg::sha256, Bytes(32, 5));
    ADD_FAILURE() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::tsa_unavailable);
    EXPECT_NE(e.detail().find(closed), std::string::npos) << e.detail();
    EXPECT_NE(e.detail().find(hung->url()), std::string::npos) << e.detail();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

void GarbageReplyIsInvalid(FakeClock& clock) {
  FakeHttpServer garbage({{200, "application/timestamp-reply", {0x30, 0x03, 0x02, 0x01}}});
  Client client(options({garbage.url()}), clock);
  EXPECT_SIGIL_ERROR(client.timestamp(HashAlg::sha256, Bytes(32, 6)), Errc::tsa_response_invalid);
}

void ReplyForAnotherDigestIsRejected(FakeClock& clock) {
  FakeHttpServer replay({{200, "application/timestamp-reply", foreign_reply(Bytes(32, 0xAA))}});
  Client client(options({replay.url()}), clock);
  try {
    client.timestamp(HashAlg::sha256, Bytes(32, 0xBB));
    ADD_FAILURE() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::tsa_response_invalid);
    EXPECT_NE(e.detail().find("message imprint"), std::string::npos) << e.detail();
  }
}

void ReplyWithAnotherNonceIsRejected(FakeClock& clock) {
  const Bytes digest(32, 0xCC);
  FakeHttpServer replay({{200, "application/timestamp-reply", foreign_reply(digest)}});  // same imprint
  Client client(options({replay.url(), replay.url()}), clock);
  try {
    client.timestamp(HashAlg::sha256, digest);
    ADD_FAILURE() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::tsa_response_invalid);
    EXPECT_NE(e.detail().find("nonce"), std::string::npos) << e.detail();
  }
}

void OversizedReplyIsCutOff(FakeClock& clock) {
  FakeHttpServer big({{200, "application/timestamp-reply", Bytes(2u << 20, 0x30)}});
  auto o = options({big.url()});
  o.max_reply_bytes = 64 * 1024;
  Client client(std::move(o), clock);
  try {
    client.timestamp(HashAlg::sha256, Bytes(32, 7));
    ADD_FAILURE() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::tsa_unavailable);
    EXPECT_NE(e.detail().find("larger than"), std::string::npos) << e.detail();
  }
}

// A TSA that answers 401: the credentials of `endpoint` went out as `expected_header`, and the error
// the client throws names the status but never the secret.
void expect_credentials_sent_never_in_errors(FakeClock& clock, std::string user, SecretString password,
                                             SecretString bearer, const std::string& expected_header,
                                             const std::string& secret) {
  FakeHttpServer denied({{401, "text/plain", {'n', 'o'}}});
  ClientOptions o = options({});
  o.trust_anchors_pem.clear();
  o.endpoints.push_back(TsaEndpoint{denied.url(), std::move(user), std::move(password), std::move(bearer)});
  Client client(std::move(o), clock);
  try {
    client.timestamp(HashAlg::sha256, Bytes(32, 8));
    ADD_FAILURE() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::tsa_unavailable);
    EXPECT_NE(e.detail().find("401"), std::string::npos) << e.detail();
    EXPECT_EQ(e.detail().find(secret), std::string::npos);
  }
  ASSERT_EQ(denied.requests().size(), 1u);
  EXPECT_NE(denied.requests()[0].find(expected_header), std::string::npos) << denied.requests()[0];
  EXPECT_NE(denied.requests()[0].find("Content-Type: application/timestamp-query"), std::string::npos);
}

void BasicAuthIsSentButNeverInErrors(FakeClock& clock) {
  expect_credentials_sent_never_in_errors(clock, "alice", SecretString("s3cret-pw"), {},
                                          "Authorization: Basic " + base64_encode(as_bytes("alice:s3cret-pw")),
                                          "s3cret");
}

void BearerTokenIsSentButNeverInErrors(FakeClock& clock) {
  expect_credentials_sent_never_in_errors(clock, {}, {}, SecretString("sk_test-api-key"),
                                          "Authorization: Bearer sk_test-api-key", "sk_test");
}

void ConcurrentRequestsEachGetTheirOwnToken(FakeClock& clock) {
  Client client(options({tsa()}), clock);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2; ++i) {
        try {
          client.timestamp(HashAlg::sha256, Bytes(32, static_cast<std::uint8_t>(t * 16 + i)));
          ++ok;
        } catch (const Error& e) {
          ADD_FAILURE() << e.detail();
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 8);
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

TEST(Tsp, ValidReplies) {
  run({CASE(TimestampVerifiesWithOpenssl), CASE(WithoutTrustAnchorsTheTokenIsStillVerifiedForIntegrity),
       CASE(PinnedTsaCertificateIsAnAnchor), CASE(ConcurrentRequestsEachGetTheirOwnToken)});
}
TEST(Tsp, InvalidReplies) {
  run({CASE(WrongTrustAnchorIsAnInvalidReply), CASE(RequestedPolicyIsHonouredOrTheReplyRefused),
       CASE(GenTimeFarFromTheClockIsRejected), CASE(GarbageReplyIsInvalid), CASE(ReplyForAnotherDigestIsRejected),
       CASE(ReplyWithAnotherNonceIsRejected)});
}
TEST(Tsp, Failover) {
  run({CASE(FailsOverToTheNextUrl), CASE(HungTsaTimesOutAndTheNextOneAnswers),
       CASE(AllDownIsTsaUnavailableWithinTheTimeout), CASE(OversizedReplyIsCutOff),
       CASE(BasicAuthIsSentButNeverInErrors), CASE(BearerTokenIsSentButNeverInErrors),
       CASE(RedirectsAreNotFollowed)});
}
TEST(Tsp, ArgumentsAndConfiguration) {  // needs no PKI
  run({CASE(ConfigurationIsChecked), CASE(DigestLengthMustMatchTheAlgorithm), CASE(UrlsAreChecked)}, false);
}

}  // namespace
}  // namespace sigil::test
