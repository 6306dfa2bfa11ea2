// Recovery from the module being finalized behind the layer's back (another library in the process,
// an HSM client resetting itself): C_Finalize, then C_Initialize again or not. Every request either
// succeeds (after at most one internal retry) or fails once; nothing is signed twice; no restart.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "hsm/module.hpp"
#include "hsm/test_hooks.hpp"
#include "ossl/digest.hpp"
#include "sigil/common/error.hpp"
#include "sigil/hsm/token.hpp"
#include "softhsm_env.hpp"

namespace sigil {
namespace {

using namespace std::chrono_literals;

std::unique_ptr<hsm::Token> open_token(bool cache_session_keys = true) {
  hsm::TokenOptions o;
  o.module = test::kSoftHsmModule;
  o.label = test::kTokenLabel;
  o.user_pin = SecretString(test::kUserPin);
  o.pool_size = 8;
  o.cache_session_keys = cache_session_keys;
  return hsm::Token::open(std::move(o));
}

// "Another library in the process": its own dlopen of the same .so (the same loaded instance) and
// its own function list, with no help from the layer.
class OtherParty {
 public:
  OtherParty() {
    handle_ = ::dlopen(test::kSoftHsmModule, RTLD_NOW | RTLD_NOLOAD);
    if (handle_ == nullptr) return;
    auto get_list = reinterpret_cast<CK_C_GetFunctionList>(::dlsym(handle_, "C_GetFunctionList"));
    if (get_list != nullptr) get_list(&fn_);
  }
  ~OtherParty() {
    if (handle_ != nullptr) ::dlclose(handle_);
  }
  OtherParty(const OtherParty&) = delete;
  OtherParty& operator=(const OtherParty&) = delete;
  bool ready() const { return fn_ != nullptr; }
  CK_RV finalize() { return fn_->C_Finalize(nullptr); }
  CK_RV initialize() {
    CK_C_INITIALIZE_ARGS args{};
    args.flags = CKF_OS_LOCKING_OK;
    return fn_->C_Initialize(&args);
  }

 private:
  void* handle_ = nullptr;
  CK_FUNCTION_LIST* fn_ = nullptr;
};

bool signs_and_verifies(hsm::Token& token, const std::string& label, SignatureScheme scheme,
                        const std::string& text = "reinit") {
  const Bytes digest = ossl::digest(HashAlg::sha256, text + " " + label);
  const Bytes sig = token.sign(label, scheme, HashAlg::sha256, digest);
  return ossl::verify_digest(token.public_key_der(label), scheme, HashAlg::sha256, digest, sig);
}

TEST(ModuleReinit, FinalizedAndReinitialisedElsewhereHealsWithOneRetry) {
  auto token = open_token();
  OtherParty other;  // after the token: RTLD_NOLOAD, the instance the token loaded
  ASSERT_TRUE(other.ready());
  token->generate_key(KeySpec::parse("ec-p256"), "ri-single-ec");
  token->generate_key(KeySpec::parse("rsa-2048"), "ri-single-rsa");
  ASSERT_TRUE(signs_and_verifies(*token, "ri-single-ec", SignatureScheme::ecdsa));
  ASSERT_TRUE(signs_and_verifies(*token, "ri-single-rsa", SignatureScheme::rsa_pss));
  const auto before = token->pool_stats();

  ASSERT_EQ(other.finalize(), CKR_OK);
  ASSERT_EQ(other.initialize(), CKR_OK);
  // No CKR_CRYPTOKI_NOT_INITIALIZED here, only dead sessions: the sentinel tells the layer the
  // instance changed, so it drops every handle instead of reusing numbers the new instance reuses.
  EXPECT_TRUE(signs_and_verifies(*token, "ri-single-ec", SignatureScheme::ecdsa));
  const auto after = token->pool_stats();
  EXPECT_EQ(after.retries, before.retries + 1);
  EXPECT_EQ(after.recoveries, before.recoveries + 1);
  EXPECT_EQ(after.module_reinitializations, before.module_reinitializations + 1);

  // Everything else works again without further retries.
  EXPECT_TRUE(signs_and_verifies(*token, "ri-single-rsa", SignatureScheme::rsa_pkcs1));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(signs_and_verifies(*token, "ri-single-ec", SignatureScheme::ecdsa));
  EXPECT_TRUE(token->find_key("ri-single-rsa").has_value());
  EXPECT_FALSE(token->mechanisms().empty());
  token->check_ready();
  EXPECT_EQ(token->pool_stats().retries, after.retries);
  const auto copy = hsm::session_key_for_test(*token, "ri-single-ec");
  ASSERT_TRUE(copy.has_value()) << "the session key copy is made again in the new instance";
  EXPECT_TRUE(copy->current);
  EXPECT_FALSE(copy->token);
  EXPECT_FALSE(copy->extractable);
}

TEST(ModuleReinit, FinalizedAndLeftUninitialisedTheLayerReinitialisesOnceForEveryToken) {
  auto token = open_token();
  auto second = open_token(false);  // shares the module: one re-initialisation serves both
  OtherParty other;
  ASSERT_TRUE(other.ready());
  token->generate_key(KeySpec::parse("ec-p256"), "ri-fin-ec");
  ASSERT_TRUE(signs_and_verifies(*token, "ri-fin-ec", SignatureScheme::ecdsa));
  ASSERT_TRUE(signs_and_verifies(*second, "ri-fin-ec", SignatureScheme::ecdsa));
  const auto before = token->pool_stats();
  const auto before_second = second->pool_stats();

  ASSERT_EQ(other.finalize(), CKR_OK);
  EXPECT_TRUE(signs_and_verifies(*token, "ri-fin-ec", SignatureScheme::ecdsa));  // CKR_CRYPTOKI_NOT_INITIALIZED, healed
  const auto after = token->pool_stats();
  EXPECT_EQ(after.retries, before.retries + 1);
  EXPECT_EQ(after.recoveries, before.recoveries + 1);
  EXPECT_EQ(after.module_reinitializations, before.module_reinitializations + 1);

  // The second token learns from the epoch before it touches a stale handle: no failure at all.
  EXPECT_TRUE(signs_and_verifies(*second, "ri-fin-ec", SignatureScheme::ecdsa));
  const auto after_second = second->pool_stats();
  EXPECT_EQ(after_second.retries, before_second.retries);
  EXPECT_EQ(after_second.recoveries, before_second.recoveries + 1);
  EXPECT_EQ(after_second.module_reinitializations, after.module_reinitializations);
  second->check_ready();
  token->check_ready();
}

// Four threads sign continuously with EC and RSA keys while a fifth resets the module three times.
// The resets go through the test hook, which waits until none of the layer's calls is inside the
// module: SoftHSM2 frees its state in C_Finalize, so a finalize in the middle of a call is a
// use-after-free inside SoftHSM2 itself, which no caller can prevent (see docs/adr/0003).
void sign_under_resets(bool initialize_again) {
  auto token = open_token();
  const std::pair<const char*, SignatureScheme> keys[] = {{"ec-p256", SignatureScheme::ecdsa},
                                                          {"rsa-2048", SignatureScheme::rsa_pss},
                                                          {"ec-p384", SignatureScheme::ecdsa},
                                                          {"rsa-2048", SignatureScheme::rsa_pkcs1}};
  std::vector<std::string> labels;
  std::vector<Bytes> spkis;
  const std::string prefix = initialize_again ? "ri-load-" : "ri-load-fin-";
  for (std::size_t k = 0; k < std::size(keys); ++k) {
    labels.push_back(prefix + std::to_string(k));
    token->generate_key(KeySpec::parse(keys[k].first), labels.back());
    spkis.push_back(token->public_key_der(labels.back()));
  }
  const auto before = token->pool_stats();

  constexpr int kThreads = 4;
  constexpr int kResets = 3;
  std::atomic<bool> stop{false};
  std::atomic<int> signed_ok{0}, bad_signatures{0};
  std::vector<int> failures(kThreads, 0);
  std::vector<std::string> first_error(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; !stop.load(); ++i) {
        const std::size_t k = static_cast<std::size_t>(t + i) % std::size(keys);
        const Bytes digest = ossl::digest(HashAlg::sha256, "load " + std::to_string(t) + "/" + std::to_string(i));
        try {
          const Bytes sig = token->sign(labels[k], keys[k].second, HashAlg::sha256, digest);
          (ossl::verify_digest(spkis[k], keys[k].second, HashAlg::sha256, digest, sig) ? signed_ok : bad_signatures)++;
        } catch (const Error& e) {
          if (failures[t]++ == 0) first_error[t] = e.detail();
        }
      }
    });
  }
  std::thread resetter([&] {
    for (int r = 0; r < kResets; ++r) {
      std::this_thread::sleep_for(200ms);
      hsm::finalize_module_for_test(test::kSoftHsmModule, initialize_again);
    }
  });
  resetter.join();
  std::this_thread::sleep_for(1200ms);  // ~2 s of signing in all
  stop = true;
  for (auto& th : threads) th.join();

  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], 0) << "thread " << t << ": " << first_error[t];
  EXPECT_EQ(bad_signatures.load(), 0);
  EXPECT_GT(signed_ok.load(), 4 * kThreads);
  const auto after = token->pool_stats();
  // Exactly one re-initialisation per reset, however many threads saw it fail.
  EXPECT_EQ(after.module_reinitializations, before.module_reinitializations + kResets);
  EXPECT_EQ(after.recoveries, before.recoveries + kResets);
  EXPECT_GE(after.retries, before.retries + kResets);
  EXPECT_LE(after.open_sessions, 8u);
  // And the layer is fully usable afterwards, with no restart.
  for (std::size_t k = 0; k < std::size(keys); ++k) {
    EXPECT_TRUE(signs_and_verifies(*token, labels[k], keys[k].second, "after"));
  }
  token->check_ready();
}

TEST(ModuleReinit, UnderLoadFinalizedAndReinitialisedThreeTimesNoRequestFails) { sign_under_resets(true); }

TEST(ModuleReinit, UnderLoadFinalizedAndLeftUninitialisedThreeTimesNoRequestFails) { sign_under_resets(false); }

}  // namespace
}  // namespace sigil
