// The session-key cache (TokenOptions::cache_session_keys): signatures through the session-object
// copy verify, the copy is as protected as the token key, it heals after the sessions die, and it
// never outlives the key it was copied from.
#include <gtest/gtest.h>

#include <cstring>

#include "hsm/module.hpp"
#include "hsm/test_hooks.hpp"
#include "ossl/digest.hpp"
#include "ossl/x509.hpp"
#include "sigil/common/error.hpp"
#include "sigil/hsm/token.hpp"
#include "softhsm_env.hpp"

namespace sigil {
namespace {

std::unique_ptr<hsm::Token> open_token(bool cache, std::chrono::milliseconds recheck = std::chrono::seconds(1)) {
  hsm::TokenOptions o;
  o.module = test::kSoftHsmModule;
  o.label = test::kTokenLabel;
  o.user_pin = SecretString(test::kUserPin);
  o.pool_size = 4;
  o.cache_session_keys = cache;
  o.session_key_recheck = recheck;
  return hsm::Token::open(std::move(o));
}

Errc sign_error(hsm::Token& token, const std::string& label) {
  try {
    token.sign(label, SignatureScheme::ecdsa, HashAlg::sha256, ossl::digest(HashAlg::sha256, std::string_view("x")));
  } catch (const Error& e) {
    return e.code();
  }
  return Errc{};
}

bool signs_and_verifies(hsm::Token& token, const std::string& label, SignatureScheme scheme) {
  const Bytes digest = ossl::digest(HashAlg::sha256, "document for " + label);
  const Bytes sig = token.sign(label, scheme, HashAlg::sha256, digest);
  return ossl::verify_digest(token.public_key_der(label), scheme, HashAlg::sha256, digest, sig);
}

TEST(SessionKeys, SignaturesThroughTheCopyVerifyAndTheCopyIsAsProtectedAsTheTokenKey) {
  auto token = open_token(true);
  const std::pair<const char*, SignatureScheme> cases[] = {{"rsa-2048", SignatureScheme::rsa_pkcs1},
                                                           {"rsa-2048", SignatureScheme::rsa_pss},
                                                           {"ec-p256", SignatureScheme::ecdsa},
                                                           {"ec-p384", SignatureScheme::ecdsa}};
  for (const auto& [spec, scheme] : cases) {
    SCOPED_TRACE(std::string(spec) + "/" + std::string(scheme_name(scheme)));
    const std::string label = std::string("sk-") + spec + "-" + std::string(scheme_name(scheme));
    token->generate_key(KeySpec::parse(spec), label);
    EXPECT_TRUE(signs_and_verifies(*token, label, scheme));
    const auto copy = hsm::session_key_for_test(*token, label);
    ASSERT_TRUE(copy.has_value()) << "no session copy was made";
    EXPECT_TRUE(copy->current);
    EXPECT_FALSE(copy->token);
    EXPECT_TRUE(copy->private_);
    EXPECT_TRUE(copy->sensitive);
    EXPECT_FALSE(copy->extractable);
    EXPECT_TRUE(copy->sign);
    EXPECT_FALSE(copy->secret_readable) << "the private value of the copy must not be readable";
    EXPECT_TRUE(signs_and_verifies(*token, label, scheme)) << "second signature (cached copy)";
    EXPECT_EQ(hsm::session_key_for_test(*token, label)->handle, copy->handle) << "the copy is reused";
  }
}

TEST(SessionKeys, CopiesAreNotListedAndDoNotMakeLabelsAmbiguous) {
  auto token = open_token(true);
  token->generate_key(KeySpec::parse("ec-p256"), "sk-listed");
  ASSERT_TRUE(signs_and_verifies(*token, "sk-listed", SignatureScheme::ecdsa));
  ASSERT_TRUE(hsm::session_key_for_test(*token, "sk-listed").has_value());
  int listed = 0;
  for (const auto& k : token->list_keys()) listed += k.label == "sk-listed" ? 1 : 0;
  EXPECT_EQ(listed, 1);
  const auto found = token->find_key("sk-listed");  // would throw on two private keys with the label
  ASSERT_TRUE(found.has_value());
  EXPECT_TRUE(found->sensitive);
  EXPECT_NO_THROW(token->public_key_der("sk-listed"));
}

TEST(SessionKeys, RecoversWhenEverySessionIncludingTheKeyHolderIsClosed) {
  auto token = open_token(true);
  token->generate_key(KeySpec::parse("ec-p256"), "sk-recover");
  ASSERT_TRUE(signs_and_verifies(*token, "sk-recover", SignatureScheme::ecdsa));
  const auto before = hsm::session_key_for_test(*token, "sk-recover");
  ASSERT_TRUE(before.has_value());
  const auto stats = token->pool_stats();

  hsm::close_all_sessions_for_test(*token);  // closes the holder (its copies die) and logs out
  EXPECT_TRUE(signs_and_verifies(*token, "sk-recover", SignatureScheme::ecdsa));
  // One failed attempt (the dead session), healed by one retry: neither the stale copy nor the stale
  // token handle failed a second time.
  EXPECT_EQ(token->pool_stats().retries, stats.retries + 1);

  // The retry signed with the token object; the next signature recreates the copy in a new holder
  // and uses it from then on, with no further retries.
  EXPECT_TRUE(signs_and_verifies(*token, "sk-recover", SignatureScheme::ecdsa));
  const auto after = hsm::session_key_for_test(*token, "sk-recover");
  ASSERT_TRUE(after.has_value());
  EXPECT_TRUE(after->current);
  EXPECT_NE(after->handle, before->handle);
  EXPECT_FALSE(after->token);
  EXPECT_TRUE(after->sensitive);
  EXPECT_FALSE(after->extractable);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(signs_and_verifies(*token, "sk-recover", SignatureScheme::ecdsa));
  EXPECT_EQ(token->pool_stats().retries, stats.retries + 1);
  token->check_ready();
}

TEST(SessionKeys, DeleteKeyDropsTheCopy) {
  auto token = open_token(true);
  token->generate_key(KeySpec::parse("ec-p256"), "sk-delete");
  ASSERT_TRUE(signs_and_verifies(*token, "sk-delete", SignatureScheme::ecdsa));
  ASSERT_TRUE(hsm::session_key_for_test(*token, "sk-delete").has_value());
  token->delete_key("sk-delete");
  EXPECT_FALSE(hsm::session_key_for_test(*token, "sk-delete").has_value());
  EXPECT_EQ(sign_error(*token, "sk-delete"), Errc::hsm_key_not_found);
  EXPECT_FALSE(token->find_key("sk-delete").has_value());
  // A new key under the same label is a different key: its own copy, its own signatures.
  token->generate_key(KeySpec::parse("ec-p256"), "sk-delete");
  EXPECT_TRUE(signs_and_verifies(*token, "sk-delete", SignatureScheme::ecdsa));
}

TEST(SessionKeys, AKeyDeletedElsewhereStopsSigningAtTheNextRecheck) {
  // Another Token on the same slot stands in for another process (sigilctl key delete): it deletes
  // the token object, which it cannot see the first token's copy of.
  auto signer = open_token(true, std::chrono::milliseconds(0));
  auto admin = open_token(false);
  signer->generate_key(KeySpec::parse("ec-p256"), "sk-elsewhere");
  ASSERT_TRUE(signs_and_verifies(*signer, "sk-elsewhere", SignatureScheme::ecdsa));
  ASSERT_TRUE(hsm::session_key_for_test(*signer, "sk-elsewhere").has_value());
  admin->delete_key("sk-elsewhere");
  EXPECT_EQ(sign_error(*signer, "sk-elsewhere"), Errc::hsm_key_not_found);
  EXPECT_FALSE(hsm::session_key_for_test(*signer, "sk-elsewhere").has_value());
}

TEST(SessionKeys, OffMeansTheTokenObjectSigns) {
  auto token = open_token(false);
  token->generate_key(KeySpec::parse("rsa-2048"), "sk-off");
  EXPECT_TRUE(signs_and_verifies(*token, "sk-off", SignatureScheme::rsa_pss));
  EXPECT_FALSE(hsm::session_key_for_test(*token, "sk-off").has_value());
  hsm::close_all_sessions_for_test(*token);
  EXPECT_TRUE(signs_and_verifies(*token, "sk-off", SignatureScheme::rsa_pss));
}

// A key the token will not copy (CKA_COPYABLE=false) is signed with as a token object.
TEST(SessionKeys, ANonCopyableKeyFallsBackToTheTokenObject) {
  auto token = open_token(true);
  auto module = hsm::Module::load(test::kSoftHsmModule);  // the process's shared instance
  CK_FUNCTION_LIST* fn = module->fn();
  std::optional<CK_SLOT_ID> slot;
  for (const auto id : module->slots(true)) {
    CK_TOKEN_INFO ti{};
    if (fn->C_GetTokenInfo(id, &ti) == CKR_OK && hsm::trim_padded(ti.label, sizeof ti.label) == test::kTokenLabel) {
      slot = id;
    }
  }
  ASSERT_TRUE(slot.has_value());
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  ASSERT_EQ(fn->C_OpenSession(*slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s), CKR_OK);
  CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
  const Bytes curve = ossl::ec_curve_oid_der(256);
  const char label[] = "sk-not-copyable";
  CK_ATTRIBUTE pub[] = {{CKA_TOKEN, &yes, 1},
                        {CKA_VERIFY, &yes, 1},
                        {CKA_EC_PARAMS, const_cast<std::uint8_t*>(curve.data()), curve.size()},
                        {CKA_LABEL, const_cast<char*>(label), std::strlen(label)}};
  CK_ATTRIBUTE priv[] = {{CKA_TOKEN, &yes, 1},
                         {CKA_PRIVATE, &yes, 1},
                         {CKA_SENSITIVE, &yes, 1},
                         {CKA_EXTRACTABLE, &no, 1},
                         {CKA_SIGN, &yes, 1},
                         {CKA_COPYABLE, &no, 1},
                         {CKA_LABEL, const_cast<char*>(label), std::strlen(label)}};
  CK_MECHANISM mech{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
  CK_OBJECT_HANDLE hpub = CK_INVALID_HANDLE, hpriv = CK_INVALID_HANDLE;
  // The token session is logged in already (login state is per application).
  ASSERT_EQ(fn->C_GenerateKeyPair(s, &mech, pub, 4, priv, 7, &hpub, &hpriv), CKR_OK);
  fn->C_CloseSession(s);

  EXPECT_TRUE(signs_and_verifies(*token, label, SignatureScheme::ecdsa));
  EXPECT_FALSE(hsm::session_key_for_test(*token, label).has_value());
  EXPECT_TRUE(signs_and_verifies(*token, label, SignatureScheme::ecdsa));
}

}  // namespace
}  // namespace sigil
