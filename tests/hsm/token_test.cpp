#include "sigil/hsm/token.hpp"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "hsm/module.hpp"
#include "hsm/test_hooks.hpp"
#include "ossl/digest.hpp"
#include "ossl/x509.hpp"
#include "sigil/common/error.hpp"
#include "softhsm_env.hpp"

namespace sigil {
namespace {

class TokenTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { token_ = test::open_test_token().release(); }
  static void TearDownTestSuite() {
    delete token_;
    token_ = nullptr;
  }
  static hsm::Token& token() { return *token_; }
  static hsm::Token* token_;
};
hsm::Token* TokenTest::token_ = nullptr;

struct KeyCase {
  const char* spec;
  std::vector<SignatureScheme> schemes;
};

TEST_F(TokenTest, GeneratesEveryKeyTypeNonExtractableAndSignsWithEveryMechanism) {
  const KeyCase cases[] = {
      {"rsa-2048", {SignatureScheme::rsa_pkcs1, SignatureScheme::rsa_pss}},
      {"rsa-3072", {SignatureScheme::rsa_pkcs1, SignatureScheme::rsa_pss}},
      {"rsa-4096", {SignatureScheme::rsa_pkcs1, SignatureScheme::rsa_pss}},
      {"ec-p256", {SignatureScheme::ecdsa}},
      {"ec-p384", {SignatureScheme::ecdsa}},
      {"ec-p521", {SignatureScheme::ecdsa}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.spec);
    const std::string label = std::string("gen-") + c.spec;
    const auto info = token().generate_key(KeySpec::parse(c.spec), label);
    EXPECT_EQ(info.label, label);
    EXPECT_EQ(info.spec.name(), c.spec);
    EXPECT_TRUE(info.sensitive);
    EXPECT_FALSE(info.extractable);
    EXPECT_TRUE(info.local);
    EXPECT_TRUE(info.always_sensitive);
    EXPECT_TRUE(info.never_extractable);
    EXPECT_EQ(info.id_hex.size(), 32u);
    const Bytes spki = token().public_key_der(label);
    EXPECT_EQ(ossl::spki_key_spec(spki).name(), c.spec);
    for (const auto scheme : c.schemes) {
      for (const auto hash : {HashAlg::sha256, HashAlg::sha384, HashAlg::sha512}) {
        SCOPED_TRACE(std::string(scheme_name(scheme)) + "/" + std::string(hash_name(hash)));
        const Bytes digest = ossl::digest(hash, std::string_view("document to sign"));
        const Bytes sig = token().sign(label, scheme, hash, digest);
        EXPECT_TRUE(ossl::verify_digest(spki, scheme, hash, digest, sig));
        Bytes other = digest;
        other[0] ^= 1;
        EXPECT_FALSE(ossl::verify_digest(spki, scheme, hash, other, sig)) << "a signature must not verify other data";
      }
    }
  }
}

TEST_F(TokenTest, EcdsaRawOutputIsRConcatS) {
  token().generate_key(KeySpec::parse("ec-p256"), "raw-ec");
  const Bytes digest = ossl::digest(HashAlg::sha256, std::string_view("x"));
  const Bytes raw = token().sign("raw-ec", SignatureScheme::ecdsa, HashAlg::sha256, digest, true);
  ASSERT_EQ(raw.size(), 64u);
  EXPECT_TRUE(ossl::verify_digest(token().public_key_der("raw-ec"), SignatureScheme::ecdsa, HashAlg::sha256, digest,
                                  ossl::ecdsa_raw_to_der(raw)));
  EXPECT_EQ(ossl::ecdsa_der_to_raw(ossl::ecdsa_raw_to_der(raw), 32), raw);
}

TEST_F(TokenTest, RefusesMismatchedSchemeWrongDigestLengthAndUnknownKey) {
  token().generate_key(KeySpec::parse("ec-p256"), "mismatch-ec");
  const Bytes digest = ossl::digest(HashAlg::sha256, std::string_view("x"));
  try {
    token().sign("mismatch-ec", SignatureScheme::rsa_pkcs1, HashAlg::sha256, digest);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::hsm_mechanism_unsupported);
  }
  try {
    token().sign("mismatch-ec", SignatureScheme::ecdsa, HashAlg::sha384, digest);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid_argument);
  }
  try {
    token().sign("no-such-key", SignatureScheme::ecdsa, HashAlg::sha256, digest);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::hsm_key_not_found);
  }
}

TEST_F(TokenTest, DuplicateLabelRefusedListAndDelete) {
  token().generate_key(KeySpec::parse("ec-p256"), "to-delete");
  EXPECT_THROW(token().generate_key(KeySpec::parse("ec-p256"), "to-delete"), Error);
  bool listed = false;
  for (const auto& k : token().list_keys()) listed |= k.label == "to-delete";
  EXPECT_TRUE(listed);
  token().delete_key("to-delete");
  EXPECT_FALSE(token().find_key("to-delete").has_value());
  EXPECT_THROW(token().delete_key("to-delete"), Error);
  EXPECT_THROW(token().public_key_der("to-delete"), Error);
}

TEST_F(TokenTest, EightThreadsSignConcurrentlyAndEverySignatureVerifies) {
  token().generate_key(KeySpec::parse("ec-p256"), "concurrent-ec");
  token().generate_key(KeySpec::parse("rsa-2048"), "concurrent-rsa");
  const Bytes ec_spki = token().public_key_der("concurrent-ec");
  const Bytes rsa_spki = token().public_key_der("concurrent-rsa");
  std::atomic<int> good{0}, bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        const Bytes digest = ossl::digest(HashAlg::sha256, "doc " + std::to_string(t) + "/" + std::to_string(i));
        const bool rsa = (i % 2) == 0;
        const auto scheme = rsa ? SignatureScheme::rsa_pss : SignatureScheme::ecdsa;
        const Bytes sig = token().sign(rsa ? "concurrent-rsa" : "concurrent-ec", scheme, HashAlg::sha256, digest);
        (ossl::verify_digest(rsa ? rsa_spki : ec_spki, scheme, HashAlg::sha256, digest, sig) ? good : bad)++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), 320);
  EXPECT_EQ(bad.load(), 0);
  EXPECT_LE(token().pool_stats().open_sessions, 8u);
}

// sign_many: one lease and one session for many digests; every signature verifies against its own
// digest, in order, for every scheme; a bad digest anywhere refuses the whole call before signing.
TEST_F(TokenTest, SignManySignsEveryDigestInOrder) {
  token().generate_key(KeySpec::parse("ec-p256"), "many-ec");
  token().generate_key(KeySpec::parse("rsa-2048"), "many-rsa");
  std::vector<Bytes> digests;
  for (int i = 0; i < 7; ++i) digests.push_back(ossl::digest(HashAlg::sha256, "many " + std::to_string(i)));
  const std::pair<const char*, SignatureScheme> cases[] = {{"many-ec", SignatureScheme::ecdsa},
                                                           {"many-rsa", SignatureScheme::rsa_pkcs1},
                                                           {"many-rsa", SignatureScheme::rsa_pss}};
  for (const auto& [label, scheme] : cases) {
    SCOPED_TRACE(std::string(label) + "/" + std::string(scheme_name(scheme)));
    const Bytes spki = token().public_key_der(label);
    const auto sigs = token().sign_many(label, scheme, HashAlg::sha256, digests);
    ASSERT_EQ(sigs.size(), digests.size());
    for (std::size_t i = 0; i < digests.size(); ++i) {
      EXPECT_TRUE(ossl::verify_digest(spki, scheme, HashAlg::sha256, digests[i], sigs[i])) << i;
      // Bound to its own digest: the next digest does not verify with it.
      EXPECT_FALSE(ossl::verify_digest(spki, scheme, HashAlg::sha256, digests[(i + 1) % digests.size()], sigs[i]));
    }
  }
  const auto raw = token().sign_many("many-ec", SignatureScheme::ecdsa, HashAlg::sha256, digests, true);
  for (const auto& r : raw) EXPECT_EQ(r.size(), 64u) << "raw r || s";
  EXPECT_TRUE(token().sign_many("many-ec", SignatureScheme::ecdsa, HashAlg::sha256, {}).empty());

  auto bad = digests;
  bad[4].pop_back();
  try {
    token().sign_many("many-ec", SignatureScheme::ecdsa, HashAlg::sha256, bad);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid_argument);
  }
  try {
    token().sign_many("many-ec", SignatureScheme::rsa_pss, HashAlg::sha256, digests);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::hsm_mechanism_unsupported);
  }
}

TEST_F(TokenTest, SignManyRecoversWhenSessionsAreClosedBehindThePoolsBack) {
  token().generate_key(KeySpec::parse("ec-p256"), "many-recover");
  std::vector<Bytes> digests;
  for (int i = 0; i < 5; ++i) digests.push_back(ossl::digest(HashAlg::sha256, "recover " + std::to_string(i)));
  token().sign_many("many-recover", SignatureScheme::ecdsa, HashAlg::sha256, digests);
  const auto before = token().pool_stats();
  hsm::close_all_sessions_for_test(token());
  const auto sigs = token().sign_many("many-recover", SignatureScheme::ecdsa, HashAlg::sha256, digests);
  ASSERT_EQ(sigs.size(), digests.size());
  const Bytes spki = token().public_key_der("many-recover");
  for (std::size_t i = 0; i < digests.size(); ++i) {
    EXPECT_TRUE(ossl::verify_digest(spki, SignatureScheme::ecdsa, HashAlg::sha256, digests[i], sigs[i])) << i;
  }
  EXPECT_EQ(token().pool_stats().retries, before.retries + 1);
}

// Fault injection through the module's own function table (SoftHSM2's CK_FUNCTION_LIST is one
// writable struct per loaded instance, shared with the layer): the third C_Sign of a batch finds its
// session closed under it. The batch resumes on a new session at that digest: every digest signed
// exactly once, in order.
std::atomic<int> g_sign_calls{0};
std::atomic<int> g_sign_successes{0};
CK_C_Sign g_real_sign = nullptr;
CK_C_CloseSession g_real_close = nullptr;

CK_RV failing_third_sign(CK_SESSION_HANDLE s, CK_BYTE_PTR data, CK_ULONG len, CK_BYTE_PTR sig, CK_ULONG_PTR sig_len) {
  if (++g_sign_calls == 3) g_real_close(s);  // the session dies half-way through the batch
  const CK_RV rv = g_real_sign(s, data, len, sig, sig_len);
  if (rv == CKR_OK && sig != nullptr) ++g_sign_successes;
  return rv;
}

TEST_F(TokenTest, SignManyResumesMidBatchWithoutSigningTwice) {
  token().generate_key(KeySpec::parse("ec-p256"), "many-resume");
  std::vector<Bytes> digests;
  for (int i = 0; i < 6; ++i) digests.push_back(ossl::digest(HashAlg::sha256, "resume " + std::to_string(i)));
  (void)token().sign("many-resume", SignatureScheme::ecdsa, HashAlg::sha256, digests.front());  // warm the cache

  void* so = ::dlopen(test::kSoftHsmModule, RTLD_NOW | RTLD_NOLOAD);
  ASSERT_NE(so, nullptr);
  auto get_list = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(so, "C_GetFunctionList"));
  CK_FUNCTION_LIST_PTR fl = nullptr;
  ASSERT_EQ(get_list(&fl), CKR_OK);
  g_real_sign = fl->C_Sign;
  g_real_close = fl->C_CloseSession;
  g_sign_calls = 0;
  g_sign_successes = 0;
  const auto before = token().pool_stats();
  fl->C_Sign = &failing_third_sign;
  std::vector<Bytes> sigs;
  try {
    sigs = token().sign_many("many-resume", SignatureScheme::ecdsa, HashAlg::sha256, digests);
  } catch (...) {
    fl->C_Sign = g_real_sign;
    ::dlclose(so);
    throw;
  }
  fl->C_Sign = g_real_sign;
  ::dlclose(so);

  EXPECT_EQ(g_sign_calls.load(), 7);      // six signatures and the one that met the closed session
  EXPECT_EQ(g_sign_successes.load(), 6);  // none made twice
  EXPECT_EQ(token().pool_stats().retries, before.retries + 1);
  ASSERT_EQ(sigs.size(), digests.size());
  const Bytes spki = token().public_key_der("many-resume");
  for (std::size_t i = 0; i < digests.size(); ++i) {
    EXPECT_TRUE(ossl::verify_digest(spki, SignatureScheme::ecdsa, HashAlg::sha256, digests[i], sigs[i])) << i;
  }
}

TEST_F(TokenTest, RecoversWhenSessionsAreClosedBehindThePoolsBack) {
  token().generate_key(KeySpec::parse("ec-p256"), "recover-ec");
  const Bytes digest = ossl::digest(HashAlg::sha256, std::string_view("x"));
  token().sign("recover-ec", SignatureScheme::ecdsa, HashAlg::sha256, digest);
  const auto before = token().pool_stats();
  hsm::close_all_sessions_for_test(token());  // also logs the application out
  const Bytes sig = token().sign("recover-ec", SignatureScheme::ecdsa, HashAlg::sha256, digest);
  EXPECT_TRUE(ossl::verify_digest(token().public_key_der("recover-ec"), SignatureScheme::ecdsa, HashAlg::sha256,
                                  digest, sig));
  EXPECT_GT(token().pool_stats().retries, before.retries);
  token().check_ready();
}

TEST(TokenOpen, WrongPinIsAClearErrorAndDoesNotLockTheToken) {
  for (int i = 0; i < 3; ++i) {
    hsm::TokenOptions o;
    o.module = test::kSoftHsmModule;
    o.label = test::kTokenLabel;
    o.user_pin = SecretString("wrong-pin");
    try {
      hsm::Token::open(std::move(o));
      FAIL() << "wrong PIN accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::hsm_pin_incorrect);
      EXPECT_EQ(std::string(e.what()).find("wrong-pin"), std::string::npos) << "PIN leaked into the message";
    }
  }
  auto ok = test::open_test_token();
  ok->check_ready();
}

TEST(TokenOpen, UnknownTokenAndBadModuleAreExplained) {
  hsm::TokenOptions o;
  o.module = test::kSoftHsmModule;
  o.label = "no-such-token";
  o.user_pin = SecretString("x");
  try {
    hsm::Token::open(std::move(o));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::hsm_token_not_found);
    EXPECT_NE(e.detail().find(test::kTokenLabel), std::string::npos) << "should list the tokens it found";
  }
  hsm::TokenOptions m;
  m.module = "/nonexistent/libpkcs11.so";
  m.label = "x";
  try {
    hsm::Token::open(std::move(m));
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::hsm_module_load);
  }
}

TEST(TokenSlots, ListsTheTestToken) {
  bool found = false;
  for (const auto& s : hsm::list_slots(test::kSoftHsmModule)) found |= s.token_label == test::kTokenLabel;
  EXPECT_TRUE(found);
  EXPECT_THROW(hsm::init_token(test::kSoftHsmModule, test::kTokenLabel, SecretString("a"), SecretString("b")), Error);
}

}  // namespace
}  // namespace sigil
