// The session-key cache (TokenOptions::cache_session_keys): signatures through the session-object
// copy verify, the copy is as protected as the token key, it heals after the sessions die, and it
// never outlives the key it was copied from.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "hsm/module.hpp"
#include "hsm/test_hooks.hpp"
#include "ossl/digest.hpp"
#include "ossl/x509.hpp"
#include "sigil/common/error.hpp"
#include "sigil/hsm/token.hpp"
#include "softhsm_env.hpp"

namespace sigil {
namespace {

std::unique_ptr<hsm::Token> open_token(bool cache, std::chrono::milliseconds recheck = std::chrono::seconds(1),
                                       unsigned copies = 0) {
  hsm::TokenOptions o;
  o.module = test::kSoftHsmModule;
  o.label = test::kTokenLabel;
  o.user_pin = SecretString(test::kUserPin);
  o.pool_size = 4;
  o.cache_session_keys = cache;
  o.session_key_recheck = recheck;
  o.session_key_copies = copies;
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

// The module instance the tokens share and the slot of the test token.
std::pair<std::shared_ptr<hsm::Module>, CK_SLOT_ID> test_slot() {
  auto module = hsm::Module::load(test::kSoftHsmModule);
  for (const auto id : module->slots(true)) {
    CK_TOKEN_INFO ti{};
    if (module->fn()->C_GetTokenInfo(id, &ti) == CKR_OK &&
        hsm::trim_padded(ti.label, sizeof ti.label) == test::kTokenLabel) {
      return {module, id};
    }
  }
  throw std::runtime_error("test token not found");
}

// Session objects (our copies) labelled `label`, seen from a session of our own.
std::size_t session_objects_labelled(const std::string& label) {
  auto [module, slot] = test_slot();
  CK_FUNCTION_LIST* fn = module->fn();
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  if (fn->C_OpenSession(slot, CKF_SERIAL_SESSION, nullptr, nullptr, &s) != CKR_OK) throw std::runtime_error("session");
  CK_BBOOL no = CK_FALSE;
  CK_ATTRIBUTE tmpl[] = {{CKA_TOKEN, &no, 1}, {CKA_LABEL, const_cast<char*>(label.data()), label.size()}};
  std::size_t n = 0;
  CK_OBJECT_HANDLE batch[16];
  CK_ULONG got = 0;
  fn->C_FindObjectsInit(s, tmpl, 2);
  while (fn->C_FindObjects(s, batch, 16, &got) == CKR_OK && got > 0) n += got;
  fn->C_FindObjectsFinal(s);
  fn->C_CloseSession(s);
  return n;
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

// Several copies per key (session_key_copies), so that concurrent signatures use different objects:
// each is as protected as the token key, signatures spread over them verify, and deleting the key
// destroys them all.
TEST(SessionKeys, SeveralCopiesAreAllProtectedUsedAndDestroyed) {
  auto token = open_token(true, std::chrono::seconds(1), 3);  // pool of 4
  token->generate_key(KeySpec::parse("ec-p256"), "sk-several");
  ASSERT_TRUE(signs_and_verifies(*token, "sk-several", SignatureScheme::ecdsa));
  const auto copies = hsm::session_key_for_test(*token, "sk-several");
  ASSERT_TRUE(copies.has_value());
  ASSERT_EQ(copies->handles.size(), 3u);
  EXPECT_EQ(std::set<unsigned long>(copies->handles.begin(), copies->handles.end()).size(), 3u);
  EXPECT_FALSE(copies->token);
  EXPECT_TRUE(copies->private_);
  EXPECT_TRUE(copies->sensitive);
  EXPECT_FALSE(copies->extractable);
  EXPECT_FALSE(copies->secret_readable);
  EXPECT_EQ(session_objects_labelled("sk-several"), 3u);

  std::atomic<int> verified{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) verified += signs_and_verifies(*token, "sk-several", SignatureScheme::ecdsa) ? 1 : 0;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(verified.load(), 30);
  EXPECT_EQ(hsm::session_key_for_test(*token, "sk-several")->handles, copies->handles) << "the copies are reused";

  token->delete_key("sk-several");
  EXPECT_EQ(session_objects_labelled("sk-several"), 0u) << "a copy outlived its key";
  EXPECT_EQ(sign_error(*token, "sk-several"), Errc::hsm_key_not_found);
}

TEST(SessionKeys, CopiesAreAtMostThePoolSizeAndAtLeastOne) {
  auto many = open_token(true, std::chrono::seconds(1), 64);  // pool of 4
  many->generate_key(KeySpec::parse("ec-p256"), "sk-many");
  ASSERT_TRUE(signs_and_verifies(*many, "sk-many", SignatureScheme::ecdsa));
  EXPECT_EQ(hsm::session_key_for_test(*many, "sk-many")->handles.size(), 4u);
  auto one = open_token(true, std::chrono::seconds(1), 1);
  ASSERT_TRUE(signs_and_verifies(*one, "sk-many", SignatureScheme::ecdsa));
  EXPECT_EQ(hsm::session_key_for_test(*one, "sk-many")->handles.size(), 1u);
  auto automatic = open_token(true);  // 0: one per pool session
  ASSERT_TRUE(signs_and_verifies(*automatic, "sk-many", SignatureScheme::ecdsa));
  EXPECT_EQ(hsm::session_key_for_test(*automatic, "sk-many")->handles.size(), 4u);
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
  auto [module, slot] = test_slot();  // the process's shared instance
  CK_FUNCTION_LIST* fn = module->fn();
  CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
  ASSERT_EQ(fn->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, nullptr, nullptr, &s), CKR_OK);
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
