// The built-in RFC 3161 TSA: openssl ts accepts its replies, bad requests are rejected with the
// right PKIFailureInfo, and a CAdES time-stamped by it passes validate-cades.
#include "sigil/tsa/tsa.hpp"

#include <set>
#include <sstream>

#include "../cms/cms_env.hpp"
#include "ossl/digest.hpp"
#include "test_util.hpp"

namespace sigil::tsa {
namespace {

using test::CmsEnvironment;
constexpr const char* kPolicy = "1.3.6.1.4.1.99999.7.1";

TimeStampAuthority make_tsa(TsaOptions o = {}) {
  if (o.policy_oid.empty()) o.policy_oid = kPolicy;
  auto& env = CmsEnvironment::get();
  return TimeStampAuthority(env.tsa_key(), env.tsa_certs(), std::move(o));
}

std::filesystem::path work_dir(const std::string& name) {
  const auto d = CmsEnvironment::get().dir() / name;
  std::filesystem::create_directories(d);
  return d;
}

std::string q(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

// (status, failure-info BIT STRING contents) of a TimeStampResp.
std::pair<std::uint64_t, Bytes> status_of(const Bytes& resp) {
  using namespace asn1;
  Reader top(resp);
  Reader r = top.enter(top.next(tag::kSequence, "resp"));
  Reader st = r.enter(r.next(tag::kSequence, "status"));
  const auto status = read_uint(st.next(tag::kInteger, "status"));
  st.optional(tag::kSequence);
  Bytes bits;
  if (auto b = st.optional(tag::kBitString)) bits = b->value_bytes();
  return {status, bits};
}

// TSTInfo serialNumber of a token.
Bytes serial_of(const Bytes& token) {
  using namespace asn1;
  const cms::ParsedCms p = cms::parse(token);
  Reader top(p.content);
  Reader r = top.enter(top.next(tag::kSequence, "TSTInfo"));
  r.next();
  r.next();
  r.next();
  return r.next(tag::kInteger, "serial").raw_bytes();
}

TEST(Tsa, OpensslAcceptsTheReply) {
  auto tsa = make_tsa();
  const auto d = work_dir("openssl");
  auto& pki = CmsEnvironment::get().pki();
  test::write_file(d / "data.txt", Bytes{'h', 'e', 'l', 'l', 'o'});
  std::ofstream(d / "chain.pem") << ossl::der_to_pem(CmsEnvironment::get().tsa_certs().leaf)
                                 << ossl::der_to_pem(pki.inter_der());
  for (const char* alg : {"-sha256", "-sha384", "-sha512"}) {
    SCOPED_TRACE(alg);
    const auto rq = test::run_command("openssl ts -query -data " + q(d / "data.txt") + " " + alg + " -cert -out " +
                                      q(d / "q.tsq"));
    ASSERT_EQ(rq.exit_code, 0) << rq.output;
    const Bytes resp = tsa.respond(test::read_file(d / "q.tsq"));
    test::write_file(d / "r.tsr", resp);
    const auto text = test::run_command("openssl ts -reply -in " + q(d / "r.tsr") + " -text");
    EXPECT_EQ(text.exit_code, 0) << text.output;
    EXPECT_NE(text.output.find("Status: Granted."), std::string::npos) << text.output;
    EXPECT_NE(text.output.find("Policy OID: 1.3.6.1.4.1.99999.7.1"), std::string::npos) << text.output;
    EXPECT_NE(text.output.find("Nonce: 0x"), std::string::npos) << text.output;
    EXPECT_NE(text.output.find("Accuracy: 0x01 seconds"), std::string::npos) << text.output;
    const auto v = test::run_command("openssl ts -verify -queryfile " + q(d / "q.tsq") + " -in " + q(d / "r.tsr") +
                                     " -CAfile " + q(pki.trust()) + " -untrusted " + q(d / "chain.pem"));
    EXPECT_EQ(v.exit_code, 0) << v.output;
    EXPECT_NE(v.output.find("Verification: OK"), std::string::npos) << v.output;
    const auto vd = test::run_command("openssl ts -verify -data " + q(d / "data.txt") + " -in " + q(d / "r.tsr") +
                                      " -CAfile " + q(pki.trust()) + " -untrusted " + q(d / "chain.pem"));
    EXPECT_EQ(vd.exit_code, 0) << vd.output;
  }
  // a token over other data does not verify
  test::write_file(d / "other.txt", Bytes{'x'});
  const auto bad = test::run_command("openssl ts -verify -data " + q(d / "other.txt") + " -in " + q(d / "r.tsr") +
                                     " -CAfile " + q(pki.trust()) + " -untrusted " + q(d / "chain.pem"));
  EXPECT_NE(bad.exit_code, 0);
}

TEST(Tsa, CertReqFalseOmitsCertificatesAndNonceIsEchoed) {
  auto tsa = make_tsa();
  const Bytes digest = ossl::digest(HashAlg::sha256, "abc");
  const Bytes nonce{0x01, 0x23, 0x45, 0x67, 0x89};
  const auto [status, token] = test::split_tsr(tsa.respond(test::make_tsq(HashAlg::sha256, digest, nonce, false)));
  EXPECT_EQ(status, 0u);
  const cms::ParsedCms p = cms::parse(token);
  EXPECT_TRUE(p.certificates.empty());
  EXPECT_EQ(p.content_type_oid, std::string(cms::kIdCtTstInfo));
  EXPECT_EQ(p.version, 3u);
  ASSERT_EQ(p.signers.size(), 1u);
  EXPECT_TRUE(p.signers[0].signing_certificate_v2);
  EXPECT_FALSE(p.signers[0].signing_time.has_value());
  const Bytes nonce_der = asn1::integer_from_unsigned(nonce);
  EXPECT_NE(std::search(p.content.begin(), p.content.end(), nonce_der.begin(), nonce_der.end()), p.content.end());
  const auto [s2, with_certs] = test::split_tsr(tsa.respond(test::make_tsq(HashAlg::sha256, digest, nonce, true)));
  EXPECT_EQ(cms::parse(with_certs).certificates.size(), 3u);
  EXPECT_NO_THROW(cms::verify(with_certs));
}

TEST(Tsa, InjectedClockAndSerialSource) {
  test::FakeClock clock;
  TsaOptions o;
  o.clock = &clock;
  o.accuracy = std::chrono::milliseconds(1500);
  std::uint8_t next = 0;
  o.serial_source = [&next] { return Bytes{0x7f, ++next}; };
  auto tsa = make_tsa(o);
  const Bytes token = tsa.timestamp(HashAlg::sha384, ossl::digest(HashAlg::sha384, "x"));
  const cms::ParsedCms p = cms::parse(token);
  EXPECT_EQ(cms::parse(token).signers.size(), 1u);
  // genTime from the injected clock
  using namespace asn1;
  Reader top(p.content);
  Reader r = top.enter(top.next(tag::kSequence, "TSTInfo"));
  r.next();
  r.next();
  r.next();
  EXPECT_EQ(r.next(tag::kInteger, "serial").raw_bytes(), (Bytes{0x02, 0x02, 0x7f, 0x01}));
  EXPECT_EQ(read_time(r.next(tag::kGeneralizedTime, "genTime")), clock.now());
  EXPECT_EQ(r.next(tag::kSequence, "accuracy").raw_bytes(), (Bytes{0x30, 0x07, 0x02, 0x01, 0x01, 0x80, 0x02, 0x01, 0xf4}));
  EXPECT_SIGIL_ERROR(tsa.timestamp(HashAlg::sha256, Bytes(31, 0)), Errc::invalid_argument);
}

TEST(Tsa, SerialNumbersAreUnique) {
  auto tsa = make_tsa();
  std::set<Bytes> serials;
  for (int i = 0; i < 40; ++i) serials.insert(serial_of(tsa.timestamp(HashAlg::sha256, ossl::digest(HashAlg::sha256, "s"))));
  EXPECT_EQ(serials.size(), 40u);
}

TEST(Tsa, BadRequestsAreRejectedWithFailureInfo) {
  TsaOptions o;
  o.accepted_hashes = {HashAlg::sha256, HashAlg::sha384};
  auto tsa = make_tsa(o);
  const Bytes d256 = ossl::digest(HashAlg::sha256, "r");
  const Bytes kBadAlg{0x07, 0x80}, kBadRequest{0x05, 0x20}, kBadDataFormat{0x02, 0x04}, kUnacceptedPolicy{0x00, 0x00, 0x01};
  struct Case {
    std::string what;
    Bytes request;
    Bytes bits;
  };
  using namespace asn1;
  const Bytes sha1_req = sequence({integer(1), sequence({sequence({oid("1.3.14.3.2.26"), null()}), octet_string(Bytes(20, 1))})});
  const Bytes v2_req = sequence({integer(2), sequence({sequence({oid(test::hash_oid(HashAlg::sha256))}), octet_string(d256)})});
  const std::vector<Case> cases = {
      {"sha1", sha1_req, kBadAlg},
      {"sha512 not accepted", test::make_tsq(HashAlg::sha512, ossl::digest(HashAlg::sha512, "r"), {1}), kBadAlg},
      {"version 2", v2_req, kBadRequest},
      {"digest length", test::make_tsq(HashAlg::sha256, Bytes(20, 1), {1}), kBadDataFormat},
      {"garbage", Bytes{0x30, 0x03, 0x01, 0x02}, kBadDataFormat},
      {"empty", Bytes{}, kBadDataFormat},
      {"trailing data", concat({test::make_tsq(HashAlg::sha256, d256, {1}), Bytes{0}}), kBadDataFormat},
      {"policy", test::make_tsq(HashAlg::sha256, d256, {1}, true, "1.2.3.4"), kUnacceptedPolicy},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    const auto [status, bits] = status_of(tsa.respond(c.request));
    EXPECT_EQ(status, 2u);
    EXPECT_EQ(bits, c.bits);
  }
  // the right policy is accepted
  EXPECT_EQ(status_of(tsa.respond(test::make_tsq(HashAlg::sha256, d256, {1}, true, kPolicy))).first, 0u);
  // truncations of a good request never crash and are rejected
  const Bytes good = test::make_tsq(HashAlg::sha256, d256, {1, 2, 3});
  for (std::size_t n = 0; n < good.size(); ++n)
    EXPECT_EQ(status_of(tsa.respond(Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n)))).first, 2u);
  // openssl prints the rejection
  const auto d = work_dir("reject");
  test::write_file(d / "r.tsr", tsa.respond(sha1_req));
  const auto text = test::run_command("openssl ts -reply -in " + q(d / "r.tsr") + " -text");
  EXPECT_NE(text.output.find("Status: Rejected"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("unrecognized or unsupported algorithm identifier"), std::string::npos) << text.output;
}

TEST(Tsa, ConstructorChecksTheCertificate) {
  auto& env = CmsEnvironment::get();
  TsaOptions o;
  o.policy_oid = kPolicy;
  const auto& signer = env.signer("ec-p256");
  // a signing certificate (no EKU timeStamping)
  EXPECT_SIGIL_ERROR(TimeStampAuthority(*signer.key, signer.certs, o), Errc::cert_invalid);
  // the TSA certificate with another key
  EXPECT_SIGIL_ERROR(TimeStampAuthority(*signer.key, env.tsa_certs(), o), Errc::cert_key_mismatch);
  o.policy_oid.clear();
  EXPECT_SIGIL_ERROR(TimeStampAuthority(env.tsa_key(), env.tsa_certs(), o), Errc::invalid_argument);
}

TEST(Tsa, CadesTimeStampedByTheBuiltInTsaValidates) {
  auto& env = CmsEnvironment::get();
  auto tsa = make_tsa();
  const auto d = work_dir("cades");
  const auto& s = env.signer("ec-p384");
  const std::string content = "time-stamped by the built-in TSA\n";
  test::write_file(d / "data.txt", Bytes(content.begin(), content.end()));
  cms::SignParams p;
  p.signer = s.certs;
  p.digest_alg = s.hash;
  p.scheme = s.scheme;
  p.signing_time = std::chrono::system_clock::now();
  const Bytes bb = cms::sign_detached(p, ossl::digest(s.hash, content), *s.key);
  const Bytes bt = cms::add_signature_timestamp(bb, tsa);
  test::write_file(d / "bt.p7s", bt);
  const auto r = test::validate_cades(d / "bt.p7s", SignatureLevel::b_t, d / "data.txt");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  // and all the way to B-LTA with the built-in TSA (revocation from the PKI's responder)
  cms::ExtendOptions o;
  o.target = SignatureLevel::b_lta;
  o.content_digest = ossl::digest(HashAlg::sha256, content);
  test::write_file(d / "blta.p7s", cms::extend(bt, tsa, env.revocation(), o));
  const auto r2 = test::validate_cades(d / "blta.p7s", SignatureLevel::b_lta, d / "data.txt");
  EXPECT_EQ(r2.exit_code, 0) << r2.output;
}

}  // namespace
}  // namespace sigil::tsa
