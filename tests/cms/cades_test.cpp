// Two-phase CAdES B-B: attributes, state, signature value forms, attached streaming, parallel
// signers, parsing, and robustness against malformed input.
#include <sstream>

#include "cms_env.hpp"
#include "ossl/digest.hpp"
#include "test_util.hpp"

namespace sigil::cms {
namespace {

using test::CmsEnvironment;
using test::TestSigner;

const std::string kContent = "Sigil CAdES test content\n" + std::string(5000, 'x');

Bytes content_bytes() { return Bytes(kContent.begin(), kContent.end()); }

SignParams params_for(const TestSigner& s) {
  SignParams p;
  p.signer = s.certs;
  p.digest_alg = s.hash;
  p.scheme = s.scheme;
  p.signing_time = std::chrono::system_clock::now();
  return p;
}

TEST(CadesSign, TwoPhaseDetachedVerifiesAndParses) {
  for (const auto& s : CmsEnvironment::get().signers()) {
    SCOPED_TRACE(s.name);
    SignParams p = params_for(s);
    p.commitment_type_oid = "1.2.840.113549.1.9.16.6.1";
    const Bytes cd = ossl::digest(s.hash, kContent);
    const Prepared prep = prepare(p, cd);
    EXPECT_EQ(prep.digest, ossl::digest(s.hash, prep.data_to_be_signed));
    EXPECT_EQ(prep.data_to_be_signed.at(0), 0x31);
    const Bytes sig = s.key->sign_digest(s.scheme, s.hash, prep.digest);
    const Bytes cms = finish(prep.state, sig);
    EXPECT_NO_THROW(verify(cms, content_bytes()));
    const ParsedCms pc = parse(cms);
    EXPECT_FALSE(pc.attached);
    EXPECT_EQ(pc.content_type_oid, std::string(kIdData));
    EXPECT_EQ(pc.version, 1u);
    ASSERT_EQ(pc.signers.size(), 1u);
    EXPECT_EQ(pc.signers[0].certificate, s.certs.leaf);
    EXPECT_EQ(pc.signers[0].digest_alg, s.hash);
    EXPECT_EQ(pc.signers[0].scheme, s.scheme);
    EXPECT_EQ(pc.signers[0].message_digest, cd);
    EXPECT_TRUE(pc.signers[0].signing_certificate_v2);
    EXPECT_TRUE(pc.signers[0].signing_time.has_value());
    EXPECT_EQ(pc.signers[0].commitment_type_oid, "1.2.840.113549.1.9.16.6.1");
    EXPECT_EQ(pc.level, SignatureLevel::b_b);
    EXPECT_EQ(pc.certificates.size(), 3u);
    // the wrong content does not verify
    EXPECT_SIGIL_ERROR(verify(cms, Bytes{1, 2, 3}), Errc::invalid_signature_value);
  }
}

TEST(CadesSign, AlgorithmIdentifiers) {
  const std::map<std::string, std::string> expected = {{"rsa-pkcs1", "1.2.840.113549.1.1.11"},
                                                       {"rsa-pss", "1.2.840.113549.1.1.10"},
                                                       {"ec-p256", "1.2.840.10045.4.3.2"},
                                                       {"ec-p384", "1.2.840.10045.4.3.4"}};
  for (const auto& s : CmsEnvironment::get().signers()) {
    const Bytes cms = sign_detached(params_for(s), ossl::digest(s.hash, kContent), *s.key);
    const ParsedCms pc = parse(cms);
    EXPECT_EQ(pc.signers.at(0).signature_algorithm_oid, expected.at(s.name)) << s.name;
    EXPECT_EQ(pc.digest_algorithm_oids.at(0), test::hash_oid(s.hash)) << s.name;
  }
}

TEST(CadesSign, EcdsaRawSignatureIsAcceptedAndStoredAsDer) {
  const auto& s = CmsEnvironment::get().signer("ec-p256");
  const Prepared prep = prepare(params_for(s), ossl::digest(s.hash, kContent));
  const Bytes raw = s.key->sign_digest(s.scheme, s.hash, prep.digest, true);
  ASSERT_EQ(raw.size(), 64u);
  const Bytes cms = finish(prep.state, raw);
  EXPECT_NO_THROW(verify(cms, content_bytes()));
  EXPECT_EQ(parse(cms).signers.at(0).signature.at(0), 0x30);
}

TEST(CadesSign, WrongSignatureValueIsRejected) {
  const auto& s = CmsEnvironment::get().signer("ec-p256");
  const Prepared prep = prepare(params_for(s), ossl::digest(s.hash, kContent));
  Bytes sig = s.key->sign_digest(s.scheme, s.hash, ossl::digest(s.hash, "other"));
  EXPECT_SIGIL_ERROR(finish(prep.state, sig), Errc::invalid_signature_value);
  EXPECT_SIGIL_ERROR(finish(prep.state, Bytes{}), Errc::invalid_signature_value);
  EXPECT_SIGIL_ERROR(finish(prep.state, Bytes(64, 0)), Errc::invalid_signature_value);
  // a signature by another key
  const auto& other = CmsEnvironment::get().signer("ec-p384");
  EXPECT_SIGIL_ERROR(finish(prep.state, other.key->sign_digest(SignatureScheme::ecdsa, s.hash, prep.digest)),
                     Errc::invalid_signature_value);
}

TEST(CadesSign, CorruptStateIsRejected) {
  const auto& s = CmsEnvironment::get().signer("rsa-pkcs1");
  const Prepared prep = prepare(params_for(s), ossl::digest(s.hash, kContent));
  const Bytes sig = s.key->sign_digest(s.scheme, s.hash, prep.digest);
  for (std::size_t i : {std::size_t{0}, std::size_t{7}, prep.state.size() / 2, prep.state.size() - 1}) {
    Bytes st = prep.state;
    st[i] ^= 0x01;
    EXPECT_SIGIL_ERROR(finish(st, sig), Errc::invalid_signing_state);
  }
  EXPECT_SIGIL_ERROR(finish(Bytes{}, sig), Errc::invalid_signing_state);
  EXPECT_SIGIL_ERROR(finish(Bytes(prep.state.begin(), prep.state.end() - 1), sig), Errc::invalid_signing_state);
  std::ostringstream out;
  std::istringstream in(kContent);
  Bytes st = prep.state;
  st[20] ^= 0x40;
  EXPECT_SIGIL_ERROR(finish_attached(st, sig, in, kContent.size(), out), Errc::invalid_signing_state);
}

TEST(CadesSign, BadParametersAreRejected) {
  const auto& s = CmsEnvironment::get().signer("ec-p256");
  SignParams p = params_for(s);
  EXPECT_SIGIL_ERROR(prepare(p, Bytes(20, 0)), Errc::invalid_argument);
  p.scheme = SignatureScheme::rsa_pss;
  EXPECT_SIGIL_ERROR(prepare(p, ossl::digest(s.hash, kContent)), Errc::invalid_argument);
  p = params_for(s);
  p.signer.leaf.clear();
  EXPECT_SIGIL_ERROR(prepare(p, ossl::digest(s.hash, kContent)), Errc::invalid_argument);
  p = params_for(s);
  p.signer.leaf = Bytes{0x30, 0x03, 0x02, 0x01, 0x01};
  EXPECT_SIGIL_ERROR(prepare(p, ossl::digest(s.hash, kContent)), Errc::cert_invalid);
}

TEST(CadesSign, PolicyAndNoSigningTime) {
  const auto& s = CmsEnvironment::get().signer("ec-p384");
  SignParams p = params_for(s);
  p.signing_time.reset();
  p.policy = SignaturePolicy{"1.2.3.4.5", HashAlg::sha256, ossl::digest(HashAlg::sha256, "policy"), "https://example.test/p"};
  const Bytes cms = sign_detached(p, ossl::digest(s.hash, kContent), *s.key);
  const ParsedCms pc = parse(cms);
  EXPECT_FALSE(pc.signers.at(0).signing_time.has_value());
  EXPECT_EQ(pc.signers.at(0).policy_oid, "1.2.3.4.5");
  EXPECT_NO_THROW(verify(cms, content_bytes()));
}

TEST(CadesSign, AttachedStreamsTheContent) {
  const auto& s = CmsEnvironment::get().signer("ec-p256");
  std::istringstream in(kContent);
  std::ostringstream out;
  sign_attached(params_for(s), in, *s.key, out);
  const std::string o = out.str();
  const Bytes cms(o.begin(), o.end());
  const ParsedCms pc = parse(cms);
  EXPECT_TRUE(pc.attached);
  EXPECT_EQ(pc.content, content_bytes());
  EXPECT_NO_THROW(verify(cms));

  // a stream shorter than announced, or content different from the digest, is an error
  const Prepared prep = prepare(params_for(s), ossl::digest(s.hash, kContent));
  const Bytes sig = s.key->sign_digest(s.scheme, s.hash, prep.digest);
  std::istringstream short_in(kContent.substr(0, 100));
  std::ostringstream o2;
  EXPECT_SIGIL_ERROR(finish_attached(prep.state, sig, short_in, kContent.size(), o2), Errc::invalid_argument);
  std::string other = kContent;
  other[10] ^= 1;
  std::istringstream other_in(other);
  std::ostringstream o3;
  EXPECT_SIGIL_ERROR(finish_attached(prep.state, sig, other_in, other.size(), o3), Errc::invalid_argument);
}

// An ostream that only counts: the attached output of a large content never sits in memory.
class CountingBuf : public std::streambuf {
 public:
  std::uint64_t count = 0;

 protected:
  int_type overflow(int_type c) override {
    if (c != traits_type::eof()) ++count;
    return c;
  }
  std::streamsize xsputn(const char*, std::streamsize n) override {
    count += static_cast<std::uint64_t>(n);
    return n;
  }
};
// An istream of `size` bytes of a repeating pattern, generated on the fly.
class PatternBuf : public std::streambuf {
 public:
  explicit PatternBuf(std::uint64_t size) : left_(size) {}

 protected:
  int_type underflow() override {
    if (left_ == 0) return traits_type::eof();
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left_, sizeof buf_));
    for (std::size_t i = 0; i < n; ++i) buf_[i] = static_cast<char>('a' + (pos_++ % 26));
    left_ -= n;
    setg(buf_, buf_, buf_ + n);
    return traits_type::to_int_type(buf_[0]);
  }

 private:
  char buf_[8192];
  std::uint64_t left_;
  std::uint64_t pos_ = 0;
};

TEST(CadesSign, LargeAttachedContentHasExactDefiniteLengths) {
  const auto& s = CmsEnvironment::get().signer("ec-p256");
  const std::uint64_t size = 64ull * 1024 * 1024 + 3;  // 64 MiB
  PatternBuf pb(size);
  std::istream in(&pb);
  const Bytes d = digest_stream(s.hash, in);
  const Prepared prep = prepare(params_for(s), d);
  const Bytes sig = s.key->sign_digest(s.scheme, s.hash, prep.digest);
  PatternBuf pb2(size);
  std::istream in2(&pb2);
  CountingBuf cb;
  std::ostream out(&cb);
  finish_attached(prep.state, sig, in2, size, out);
  // detached CMS + the content and its two extra headers ([0] and OCTET STRING, 6 bytes each) and
  // the larger outer length fields
  const Bytes detached = finish(prep.state, sig);
  EXPECT_GT(cb.count, size);
  EXPECT_LT(cb.count, size + detached.size() + 40);
}

TEST(CadesSign, DigestStream) {
  std::istringstream in(kContent);
  EXPECT_EQ(digest_stream(HashAlg::sha384, in), ossl::digest(HashAlg::sha384, kContent));
  std::istringstream empty;
  EXPECT_EQ(digest_stream(HashAlg::sha256, empty), ossl::digest(HashAlg::sha256, ""));
}

TEST(CadesParallel, SecondSignerKeepsTheFirstByteIdentical) {
  const auto& a = CmsEnvironment::get().signer("rsa-pkcs1");
  const auto& b = CmsEnvironment::get().signer("ec-p384");
  for (const bool attached : {false, true}) {
    SCOPED_TRACE(attached);
    Bytes first;
    if (attached) {
      std::istringstream in(kContent);
      std::ostringstream out;
      sign_attached(params_for(a), in, *a.key, out);
      const std::string o = out.str();
      first.assign(o.begin(), o.end());
    } else {
      first = sign_detached(params_for(a), ossl::digest(a.hash, kContent), *a.key);
    }
    const Prepared prep = prepare_parallel(first, params_for(b), ossl::digest(b.hash, kContent));
    const Bytes sig = b.key->sign_digest(b.scheme, b.hash, prep.digest);
    EXPECT_SIGIL_ERROR(finish(prep.state, sig), Errc::invalid_signing_state);
    EXPECT_SIGIL_ERROR(finish_parallel(sign_detached(params_for(a), ossl::digest(a.hash, "x"), *a.key), prep.state, sig),
                       Errc::invalid_signing_state);
    const Bytes both = finish_parallel(first, prep.state, sig);
    const ParsedCms p1 = parse(first), p2 = parse(both);
    ASSERT_EQ(p2.signers.size(), 2u);
    EXPECT_EQ(p2.signers[0].signer_info, p1.signers[0].signer_info);
    EXPECT_EQ(p2.digest_algorithm_oids.size(), 2u);
    EXPECT_EQ(p2.certificates.size(), 4u);  // two leaves, intermediate, root
    EXPECT_EQ(p2.attached, attached);
    EXPECT_NO_THROW(verify(both, content_bytes()));
    // attached: the digest must match the encapsulated content
    if (attached)
      EXPECT_SIGIL_ERROR(prepare_parallel(first, params_for(b), ossl::digest(b.hash, "other")), Errc::invalid_argument);
  }
}

// ---------------------------------------------------------------- malformed input
TEST(CadesRobustness, GarbageAndTruncatedCmsNeverCrash) {
  const auto& s = CmsEnvironment::get().signer("ec-p256");
  const Bytes good = sign_detached(params_for(s), ossl::digest(s.hash, kContent), *s.key);
  auto& tsa = CmsEnvironment::get().timestamper();
  auto& rev = CmsEnvironment::get().revocation();
  const int ts_before = tsa.count();
  const auto expect_clean = [&](const Bytes& b) {
    for (int f = 0; f < 4; ++f) {
      try {
        switch (f) {
          case 0: parse(b); break;
          case 1: verify(b, content_bytes()); break;
          case 2: {
            ExtendOptions o;
            o.target = SignatureLevel::b_b;
            extend(b, tsa, rev, o);
            break;
          }
          case 3: prepare_parallel(b, params_for(s), ossl::digest(s.hash, kContent)); break;
        }
      } catch (const Error& e) {
        EXPECT_TRUE(e.code() == Errc::invalid_document || e.code() == Errc::invalid_signature_value ||
                    e.code() == Errc::cert_invalid || e.code() == Errc::unsupported || e.code() == Errc::invalid_argument)
            << e.info().name << " " << e.detail();
      }
    }
  };
  for (std::size_t n = 0; n < good.size(); n += 7) expect_clean(Bytes(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(n)));
  for (std::size_t i = 0; i < good.size(); i += 3) {
    Bytes c = good;
    c[i] ^= 0xa5;
    expect_clean(c);
  }
  Bytes junk = random_bytes(4096);
  expect_clean(junk);
  junk[0] = 0x30;
  junk[1] = 0x82;
  expect_clean(junk);
  // deep nesting
  Bytes deep = asn1::null();
  for (int i = 0; i < 200; ++i) deep = asn1::sequence({deep});
  expect_clean(deep);
  EXPECT_SIGIL_ERROR(parse(Bytes{}), Errc::invalid_document);
  EXPECT_EQ(tsa.count(), ts_before);  // B-B extension never asks the TSA
}

}  // namespace
}  // namespace sigil::cms
