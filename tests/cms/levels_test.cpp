// Every packaging (attached, detached) x level (B-B, B-T, B-LT, B-LTA) x key type passes the
// independent validator (validate-cades --strict), and tampered copies fail it.
#include <future>
#include <sstream>

#include "cms_env.hpp"
#include "ossl/digest.hpp"
#include "test_util.hpp"

namespace sigil::cms {
namespace {

using test::CmsEnvironment;

const std::string kContent = "Sigil CAdES level test content\n" + std::string(20000, 'L') + "\nend\n";

struct Case {
  std::string signer;
  bool attached;
};

class CadesLevels : public ::testing::TestWithParam<Case> {};

struct Check {
  std::string what;
  std::filesystem::path file;
  SignatureLevel level;
  std::optional<std::filesystem::path> data;
  int expected_exit;
};

// Flips one byte of `needle`'s first occurrence in `hay`.
Bytes flip_inside(Bytes hay, const Bytes& needle, std::size_t offset) {
  const auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end());
  EXPECT_NE(it, hay.end());
  if (it != hay.end()) *(it + static_cast<std::ptrdiff_t>(offset)) ^= 0x01;
  return hay;
}

TEST_P(CadesLevels, ValidatorAcceptsEveryLevelAndRejectsTampering) {
  const Case c = GetParam();
  auto& env = CmsEnvironment::get();
  const auto& s = env.signer(c.signer);
  const auto dir = env.dir() / (c.signer + (c.attached ? "-att" : "-det"));
  std::filesystem::create_directories(dir);
  const Bytes content(kContent.begin(), kContent.end());
  const auto data = dir / "data.bin";
  test::write_file(data, content);

  SignParams p;
  p.signer = s.certs;
  p.digest_alg = s.hash;
  p.scheme = s.scheme;
  p.signing_time = std::chrono::system_clock::now();
  Bytes bb;
  if (c.attached) {
    std::istringstream in(kContent);
    std::ostringstream out;
    sign_attached(p, in, *s.key, out);
    const std::string o = out.str();
    bb.assign(o.begin(), o.end());
  } else {
    bb = sign_detached(p, ossl::digest(s.hash, kContent), *s.key);
  }
  ExtendOptions o;
  o.target = SignatureLevel::b_t;
  const Bytes bt = extend(bb, env.timestamper(), env.revocation(), o);
  o.target = SignatureLevel::b_lt;
  const Bytes blt = extend(bt, env.timestamper(), env.revocation(), o);
  o.target = SignatureLevel::b_lta;
  if (!c.attached) o.content_digest = ossl::digest(o.timestamp_alg, kContent);
  const Bytes blta = extend(blt, env.timestamper(), env.revocation(), o);

  // structure: levels and earlier attributes kept byte for byte
  EXPECT_EQ(parse(bb).level, SignatureLevel::b_b);
  EXPECT_EQ(parse(bt).level, SignatureLevel::b_t);
  EXPECT_EQ(parse(blt).level, SignatureLevel::b_lt);
  const ParsedCms pa = parse(blta);
  EXPECT_EQ(pa.level, SignatureLevel::b_lta);
  EXPECT_EQ(pa.signers.at(0).signature_timestamps.at(0).token, parse(bt).signers.at(0).signature_timestamps.at(0).token);
  EXPECT_FALSE(pa.ocsp_responses.empty());
  EXPECT_FALSE(pa.crls.empty());
  EXPECT_EQ(pa.ocsp_responses.size(), parse(blt).ocsp_responses.size());  // B-LT data not fetched twice
  EXPECT_EQ(pa.version, 5u);
  const Bytes sig_bb = parse(bb).signers.at(0).signature;
  EXPECT_EQ(pa.signers.at(0).signature, sig_bb);

  const SignatureLevel levels[] = {SignatureLevel::b_b, SignatureLevel::b_t, SignatureLevel::b_lt, SignatureLevel::b_lta};
  const Bytes* outputs[] = {&bb, &bt, &blt, &blta};
  std::vector<Check> checks;
  const std::optional<std::filesystem::path> dd = c.attached ? std::nullopt : std::optional(data);
  // Tampered copies of every level with SIGIL_CMS_FULL_MATRIX=1; by default of B-B and B-LTA (which
  // carries every lower level's attributes), to keep the binary near a minute.
  const bool full = std::getenv("SIGIL_CMS_FULL_MATRIX") != nullptr;
  for (int i = 0; i < 4; ++i) {
    const std::string name(level_name(levels[i]));
    const auto f = dir / (name + ".p7s");
    test::write_file(f, *outputs[i]);
    checks.push_back({name, f, levels[i], dd, 0});
    if (!full && i != 0 && i != 3) continue;
    // tampered signature value
    const auto fs = dir / (name + "-badsig.p7s");
    test::write_file(fs, flip_inside(*outputs[i], sig_bb, sig_bb.size() / 2));
    checks.push_back({name + " signature flipped", fs, levels[i], dd, 1});
    // tampered content
    if (c.attached) {
      const auto fc = dir / (name + "-badcontent.p7s");
      test::write_file(fc, flip_inside(*outputs[i], content, 100));
      checks.push_back({name + " content flipped", fc, levels[i], std::nullopt, 1});
    } else {
      Bytes bad = content;
      bad[100] ^= 0x01;
      const auto fd = dir / "data-bad.bin";
      test::write_file(fd, bad);
      checks.push_back({name + " content flipped", f, levels[i], fd, 1});
    }
  }
  // two validator processes at a time
  const auto run = [&checks](std::size_t i) { return test::validate_cades(checks[i].file, checks[i].level, checks[i].data); };
  for (std::size_t i = 0; i < checks.size(); i += 2) {
    auto first = std::async(std::launch::async, run, i);
    if (i + 1 < checks.size()) {
      const auto rb = run(i + 1);
      EXPECT_EQ(rb.exit_code, checks[i + 1].expected_exit) << checks[i + 1].what << "\n" << rb.output;
    }
    const auto ra = first.get();
    EXPECT_EQ(ra.exit_code, checks[i].expected_exit) << checks[i].what << "\n" << ra.output;
  }
}

SignParams params_of(const test::TestSigner& s) {
  SignParams p;
  p.signer = s.certs;
  p.digest_alg = s.hash;
  p.scheme = s.scheme;
  p.signing_time = std::chrono::system_clock::now();
  return p;
}

TEST(CadesExtend, DirectlyToLtaThenRenewedKeepsEverything) {
  auto& env = CmsEnvironment::get();
  const auto& s = env.signer("ec-p256");
  const auto dir = env.dir() / "renew";
  std::filesystem::create_directories(dir);
  const Bytes content(kContent.begin(), kContent.end());
  test::write_file(dir / "data.bin", content);
  const Bytes bb = sign_detached(params_of(s), ossl::digest(s.hash, kContent), *s.key);
  ExtendOptions o;
  o.target = SignatureLevel::b_lta;
  o.content_digest = ossl::digest(HashAlg::sha256, kContent);
  const Bytes lta1 = extend(bb, env.timestamper(), env.revocation(), o);
  const Bytes lta2 = extend(lta1, env.timestamper(), env.revocation(), o);
  const ParsedCms p1 = parse(lta1), p2 = parse(lta2);
  ASSERT_EQ(p1.signers.at(0).archive_timestamps.size(), 1u);
  ASSERT_EQ(p2.signers.at(0).archive_timestamps.size(), 2u);
  EXPECT_EQ(p2.signers[0].archive_timestamps[0].token, p1.signers[0].archive_timestamps[0].token);
  EXPECT_EQ(p2.signers[0].signature_timestamps.at(0).token, p1.signers[0].signature_timestamps.at(0).token);
  for (const auto& c : p1.crls) EXPECT_NE(std::find(p2.crls.begin(), p2.crls.end(), c), p2.crls.end());
  for (const auto& c : p1.ocsp_responses)
    EXPECT_NE(std::find(p2.ocsp_responses.begin(), p2.ocsp_responses.end(), c), p2.ocsp_responses.end());
  EXPECT_EQ(p2.signers[0].unsigned_attribute_oids,
            (std::vector<std::string>{"1.2.840.113549.1.9.16.2.14", "0.4.0.1733.2.4", "0.4.0.1733.2.4"}));
  test::write_file(dir / "lta1.p7s", lta1);
  test::write_file(dir / "lta2.p7s", lta2);
  for (const char* f : {"lta1.p7s", "lta2.p7s"}) {
    const auto r = test::validate_cades(dir / f, SignatureLevel::b_lta, dir / "data.bin");
    EXPECT_EQ(r.exit_code, 0) << f << "\n" << r.output;
  }
}

TEST(CadesExtend, ParallelSignersReachLta) {
  auto& env = CmsEnvironment::get();
  const auto& a = env.signer("rsa-pss");
  const auto& b = env.signer("ec-p384");
  const auto dir = env.dir() / "parallel";
  std::filesystem::create_directories(dir);
  std::istringstream in(kContent);
  std::ostringstream out;
  sign_attached(params_of(a), in, *a.key, out);
  const std::string first_s = out.str();
  const Bytes first(first_s.begin(), first_s.end());
  const Prepared prep = prepare_parallel(first, params_of(b), ossl::digest(b.hash, kContent));
  const Bytes both = finish_parallel(first, prep.state, b.key->sign_digest(b.scheme, b.hash, prep.digest));
  ExtendOptions o;
  o.target = SignatureLevel::b_lta;
  o.timestamp_alg = HashAlg::sha384;  // hashIndAlgorithm present in the ats-hash-index-v3
  const Bytes lta = extend(both, env.timestamper(), env.revocation(), o);
  const ParsedCms p = parse(lta);
  ASSERT_EQ(p.signers.size(), 2u);
  EXPECT_EQ(p.level, SignatureLevel::b_lta);
  EXPECT_EQ(p.signers[1].archive_timestamps.at(0).imprint_alg, HashAlg::sha384);
  EXPECT_EQ(p.signers[0].signer_info.size() > 0, true);
  test::write_file(dir / "both.p7s", both);
  test::write_file(dir / "lta.p7s", lta);
  auto r = test::validate_cades(dir / "both.p7s", SignatureLevel::b_b);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = test::validate_cades(dir / "lta.p7s", SignatureLevel::b_lta);
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

class FailingTimestamper final : public Timestamper {
 public:
  explicit FailingTimestamper(Bytes reply) : reply_(std::move(reply)) {}
  Bytes timestamp(HashAlg, const Bytes&) override {
    if (reply_.empty()) throw Error(Errc::tsa_unavailable, "no TSA");
    return reply_;
  }

 private:
  Bytes reply_;
};

TEST(CadesExtend, ErrorsAreReported) {
  auto& env = CmsEnvironment::get();
  const auto& s = env.signer("ec-p256");
  const Bytes bb = sign_detached(params_of(s), ossl::digest(s.hash, kContent), *s.key);
  ExtendOptions o;
  o.target = SignatureLevel::b_t;
  FailingTimestamper down({});
  EXPECT_SIGIL_ERROR(extend(bb, down, env.revocation(), o), Errc::tsa_unavailable);
  FailingTimestamper garbage(Bytes{0x30, 0x00});
  EXPECT_SIGIL_ERROR(extend(bb, garbage, env.revocation(), o), Errc::tsa_response_invalid);
  // a valid token over something else
  FailingTimestamper other(env.timestamper().timestamp(HashAlg::sha256, ossl::digest(HashAlg::sha256, "other")));
  EXPECT_SIGIL_ERROR(extend(bb, other, env.revocation(), o), Errc::tsa_response_invalid);
  // detached B-LTA needs the content digest, of the right length
  o.target = SignatureLevel::b_lta;
  const Bytes blt = [&] {
    ExtendOptions lt;
    lt.target = SignatureLevel::b_lt;
    return extend(bb, env.timestamper(), env.revocation(), lt);
  }();
  EXPECT_SIGIL_ERROR(extend(blt, env.timestamper(), env.revocation(), o), Errc::invalid_argument);
  o.content_digest = Bytes(20, 0);
  EXPECT_SIGIL_ERROR(extend(blt, env.timestamper(), env.revocation(), o), Errc::invalid_argument);
  // B-B "extension" changes nothing
  o.target = SignatureLevel::b_b;
  EXPECT_EQ(extend(bb, down, env.revocation(), o), bb);
}

// A CAdES made by another implementation (openssl cms -sign -cades, DER) is lifted to B-LTA.
TEST(CadesExtend, OpensslMadeCadesIsLiftedToLta) {
  auto& env = CmsEnvironment::get();
  const auto dir = env.dir() / "openssl-made";
  std::filesystem::create_directories(dir);
  const auto pki = env.pki().dir();
  const Bytes content(kContent.begin(), kContent.end());
  test::write_file(dir / "data.bin", content);
  std::ofstream(dir / "chain.pem") << ossl::der_to_pem(env.pki().inter_der()) << ossl::der_to_pem(env.pki().root_der());
  for (const bool attached : {false, true}) {
    SCOPED_TRACE(attached);
    const auto in = dir / (attached ? "att.p7s" : "det.p7s");
    const auto r = test::run_command("openssl cms -sign -binary -cades " + std::string(attached ? "-nodetach " : "") +
                                     "-in '" + (dir / "data.bin").string() + "' -signer '" + (pki / "signer-ec.pem").string() +
                                     "' -inkey '" + (pki / "signer-ec.key").string() + "' -certfile '" +
                                     (dir / "chain.pem").string() + "' -outform DER -out '" + in.string() + "'");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const Bytes original = test::read_file(in);
    const ParsedCms po = parse(original);
    ExtendOptions o;
    o.target = SignatureLevel::b_lta;
    if (!attached) o.content_digest = ossl::digest(HashAlg::sha256, kContent);
    const Bytes lta = extend(original, env.timestamper(), env.revocation(), o);
    const ParsedCms pl = parse(lta);
    EXPECT_EQ(pl.level, SignatureLevel::b_lta);
    EXPECT_EQ(pl.signers.at(0).signer_info.size() > po.signers.at(0).signer_info.size(), true);
    EXPECT_EQ(pl.signers.at(0).signature, po.signers.at(0).signature);
    const auto out = dir / (attached ? "att-lta.p7s" : "det-lta.p7s");
    test::write_file(out, lta);
    const auto v = test::validate_cades(out, SignatureLevel::b_lta,
                                        attached ? std::nullopt : std::optional(dir / "data.bin"));
    EXPECT_EQ(v.exit_code, 0) << v.output;
  }
  // BER (indefinite lengths, as openssl -stream writes) is refused, cleanly
  const auto ber = dir / "ber.p7s";
  const auto r = test::run_command("openssl cms -sign -binary -cades -nodetach -stream -in '" + (dir / "data.bin").string() +
                                   "' -signer '" + (pki / "signer-ec.pem").string() + "' -inkey '" +
                                   (pki / "signer-ec.key").string() + "' -outform DER -out '" + ber.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  ExtendOptions o;
  o.target = SignatureLevel::b_t;
  EXPECT_SIGIL_ERROR(extend(test::read_file(ber), env.timestamper(), env.revocation(), o), Errc::invalid_document);
}

INSTANTIATE_TEST_SUITE_P(AllKeys, CadesLevels,
                         ::testing::Values(Case{"rsa-pkcs1", false}, Case{"rsa-pkcs1", true}, Case{"rsa-pss", false},
                                           Case{"rsa-pss", true}, Case{"ec-p256", false}, Case{"ec-p256", true},
                                           Case{"ec-p384", false}, Case{"ec-p384", true}),
                         [](const ::testing::TestParamInfo<Case>& pi) {
                           std::string n = pi.param.signer + (pi.param.attached ? "_attached" : "_detached");
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

}  // namespace
}  // namespace sigil::cms
