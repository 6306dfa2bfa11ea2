// Credential authorisation: second-factor policies, attempt counters and lockouts, SAD issue and
// every SAD misuse.
#include <gtest/gtest.h>

#include <atomic>
#include <regex>
#include <thread>

#include "auth_fixture.hpp"
#include "sigil/auth/tokens.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/otp/otp.hpp"

namespace sigil::auth::test {
namespace {

Bytes digest(char fill, std::size_t n = 32) { return Bytes(n, static_cast<std::uint8_t>(fill)); }

class AuthorizationTest : public AuthStoreTest {
 protected:
  AuthorizationTest() : enrolments_(db(), clock_, box_) {
    providers_.add(std::make_shared<otp::EnrolledCodeProvider>(enrolments_, otp::OtpKind::totp));
    channels_.add(std::make_shared<otp::FileChannel>(outbox(), "file", "mobile"));
    otp::DeliveredOptions d;
    d.name = "sms";
    d.channel = "file";
    providers_.add(std::make_shared<otp::DeliveredCodeProvider>(db(), clock_, box_, channels_, d));
    policy_.max_attempts_per_transaction = 3;
    policy_.max_failures_before_lock = 5;
    policy_.lockout = std::chrono::seconds{600};
    policy_.pin_hash = store::PasswordParams{1, 1024, 1};
    service_ = std::make_unique<AuthorizationService>(*store_, clock_, providers_, events_, policy_);
  }

  std::filesystem::path outbox() const { return dir_.path() / "outbox.txt"; }
  Bytes enrol_totp(const std::string& user) {
    const std::string uri = enrolments_.enrol(user, user, otp::OtpKind::totp).uri;
    std::smatch m;
    std::regex_search(uri, m, std::regex("secret=([A-Z2-7]+)"));
    return otp::base32_decode(m[1].str());
  }
  std::string totp_now(const Bytes& seed) { return otp::totp(seed, to_unix(clock_.now())); }

  static CredentialAuthRequest request(const std::string& user, const std::string& cred, unsigned n,
                                       std::vector<Bytes> hashes = {}) {
    CredentialAuthRequest r;
    r.user_id = user;
    r.credential_id = cred;
    r.num_signatures = n;
    r.hashes = std::move(hashes);
    if (!r.hashes.empty()) r.hash_alg = HashAlg::sha256;
    return r;
  }
  static SadUse use(const std::string& user, const std::string& cred, std::vector<Bytes> hashes) {
    return SadUse{user, std::nullopt, cred, std::move(hashes), HashAlg::sha256, std::nullopt};
  }

  otp::OtpEnrolments enrolments_;
  otp::ProviderRegistry providers_;
  otp::ChannelRegistry channels_;
  RecordingEvents events_;
  AuthorizationPolicy policy_;
  std::unique_ptr<AuthorizationService> service_;
};

TEST_F(AuthorizationTest, Scal1SadAllowsExactlyNumSignatures) {
  const std::string cred = credential(alice_, "none", 1);
  const Sad sad = service_->authorize_credential(request(alice_, cred, 3));
  EXPECT_EQ(sad.expires_in, 300);
  EXPECT_EQ(sad.max_uses, 3u);
  EXPECT_EQ(service_->consume_sad(sad.value.view(), use(alice_, cred, {digest('a'), digest('b')})).remaining, 1);
  EXPECT_AUTH_FAILURE(service_->consume_sad(sad.value.view(), use(alice_, cred, {digest('c'), digest('d')})),
                      AuthFailure::sad_exhausted);
  EXPECT_EQ(service_->consume_sad(sad.value.view(), use(alice_, cred, {digest('c')})).remaining, 0);
  EXPECT_AUTH_FAILURE(service_->consume_sad(sad.value.view(), use(alice_, cred, {digest('e')})), AuthFailure::sad_exhausted);
  EXPECT_EQ(events_.count(AuthEventType::credential_authorized), 1u);
  EXPECT_EQ(events_.count(AuthEventType::sad_consumed), 2u);
  EXPECT_EQ(events_.count(AuthEventType::sad_refused), 2u);
}

TEST_F(AuthorizationTest, Scal2SadCoversOnlyItsHashes) {
  const Bytes seed = enrol_totp(alice_);
  const std::string cred = credential(alice_, "otp", 2);
  CredentialAuthRequest r = request(alice_, cred, 2, {digest('1'), digest('2')});
  r.otp = SecretString(totp_now(seed));
  const Sad sad = service_->authorize_credential(r);
  EXPECT_EQ(sad.max_uses, 2u);
  const auto s = sad.value.view();
  EXPECT_AUTH_FAILURE(service_->consume_sad(s, use(alice_, cred, {digest('3')})), AuthFailure::sad_hash_not_authorized);
  // An authorised hash together with a foreign one: refused as a whole, nothing consumed.
  EXPECT_AUTH_FAILURE(service_->consume_sad(s, use(alice_, cred, {digest('1'), digest('3')})),
                      AuthFailure::sad_hash_not_authorized);
  SadUse other_alg = use(alice_, cred, {digest('1', 48)});
  other_alg.hash_alg = HashAlg::sha384;
  EXPECT_AUTH_FAILURE(service_->consume_sad(s, other_alg), AuthFailure::sad_hash_not_authorized);
  EXPECT_EQ(service_->consume_sad(s, use(alice_, cred, {digest('1')})).remaining, 1);
  EXPECT_AUTH_FAILURE(service_->consume_sad(s, use(alice_, cred, {digest('1')})), AuthFailure::sad_hash_not_authorized);
  EXPECT_EQ(service_->consume_sad(s, use(alice_, cred, {digest('2')})).remaining, 0);
  EXPECT_AUTH_FAILURE(service_->consume_sad(s, use(alice_, cred, {digest('2')})), AuthFailure::sad_exhausted);
}

TEST_F(AuthorizationTest, ExtendTransactionBindsTheNextHashWithoutGrowingTheBudget) {
  const std::string cred = credential(alice_, "none", 2);
  // PAdES with two signatures: the second hash is known only after the first signature.
  const Sad first = service_->authorize_credential(request(alice_, cred, 2, {digest('1')}));
  EXPECT_EQ(first.max_uses, 2u);
  EXPECT_EQ(service_->consume_sad(first.value.view(), use(alice_, cred, {digest('1')})).remaining, 1);
  EXPECT_AUTH_FAILURE(service_->consume_sad(first.value.view(), use(alice_, cred, {digest('2')})),
                      AuthFailure::sad_hash_not_authorized);
  const Sad second = service_->extend_sad(first.value.view(), use(alice_, cred, {}), {digest('2')});
  EXPECT_EQ(second.transaction_id, first.transaction_id);
  EXPECT_EQ(second.max_uses, 1u);
  EXPECT_AUTH_FAILURE(service_->consume_sad(first.value.view(), use(alice_, cred, {digest('2')})), AuthFailure::sad_unknown);
  EXPECT_AUTH_FAILURE(service_->extend_sad(second.value.view(), use(bob_, cred, {}), {}), AuthFailure::sad_wrong_user);
  EXPECT_EQ(service_->consume_sad(second.value.view(), use(alice_, cred, {digest('2')})).remaining, 0);
  EXPECT_AUTH_FAILURE(service_->extend_sad(second.value.view(), use(alice_, cred, {}), {digest('3')}), AuthFailure::sad_exhausted);
}

TEST_F(AuthorizationTest, EverySadMisuseIsRefusedWithItsOwnFailure) {
  const std::string cred = credential(alice_, "none", 1);
  const std::string other_cred = credential(alice_, "none", 1);
  CredentialAuthRequest r = request(alice_, cred, 5);
  r.client_id = "cl_portal";
  const Sad sad = service_->authorize_credential(r);
  const auto s = sad.value.view();
  SadUse good = use(alice_, cred, {digest('a')});
  good.client_id = "cl_portal";

  SadUse u = good;
  u.user_id = bob_;
  EXPECT_AUTH_FAILURE(service_->consume_sad(s, u), AuthFailure::sad_wrong_user);
  u = good;
  u.credential_id = other_cred;
  EXPECT_AUTH_FAILURE(service_->consume_sad(s, u), AuthFailure::sad_wrong_credential);
  u = good;
  u.client_id = "cl_other";
  EXPECT_AUTH_FAILURE(service_->consume_sad(s, u), AuthFailure::sad_wrong_client);
  u.client_id.reset();
  EXPECT_AUTH_FAILURE(service_->consume_sad(s, u), AuthFailure::sad_wrong_client);
  EXPECT_AUTH_FAILURE(service_->consume_sad("forged-sad", good), AuthFailure::sad_unknown);
  std::string tampered(s);
  tampered[0] = tampered[0] == 'A' ? 'B' : 'A';
  EXPECT_AUTH_FAILURE(service_->consume_sad(tampered, good), AuthFailure::sad_unknown);
  u = good;
  u.hashes = {digest('a', 31)};
  EXPECT_AUTH_FAILURE(service_->consume_sad(s, u), AuthFailure::hash_invalid);

  EXPECT_EQ(service_->consume_sad(s, good).remaining, 4);  // none of the refusals consumed anything
  clock_.advance(std::chrono::seconds{300});
  EXPECT_AUTH_FAILURE(service_->consume_sad(s, good), AuthFailure::sad_expired);

  const Sad second = service_->authorize_credential(r);
  EXPECT_TRUE(service_->revoke_sad(second.value.view()));
  EXPECT_AUTH_FAILURE(service_->consume_sad(second.value.view(), good), AuthFailure::sad_unknown);
  // The public face: CSC wording, registry code 400 invalid_request.
  try {
    service_->consume_sad(s, good);
  } catch (const AuthError& e) {
    EXPECT_EQ(e.public_description(), "SAD expired");
    EXPECT_EQ(e.info().http_status, 400);
  }
}

TEST_F(AuthorizationTest, ConcurrentConsumersNeverExceedTheCount) {
  const std::string cred = credential(alice_, "none", 1);
  const Sad sad = service_->authorize_credential(request(alice_, cred, 3));
  const std::string value(sad.value.view());
  std::atomic<int> ok{0};
  std::atomic<int> refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      try {
        service_->consume_sad(value, use(alice_, cred, {digest(static_cast<char>('a' + i))}));
        ++ok;
      } catch (const AuthError& e) {
        if (e.failure() == AuthFailure::sad_exhausted) ++refused;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 3);
  EXPECT_EQ(refused.load(), 5);
}

TEST_F(AuthorizationTest, ConcurrentAuthorisationsOfOneCredentialAllSucceed) {
  // Calls without a transaction id share the open implicit transaction of (user, credential); the
  // one that loses the race to close it still gets its SAD (its factors were checked).
  const std::string cred = credential(alice_, "none", 1);
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 15; ++j) {
        try {
          (void)service_->authorize_credential(request(alice_, cred, 1));
          ++ok;
        } catch (const std::exception&) {
          ++failed;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(ok.load(), 120);
  EXPECT_EQ(db().query_one("SELECT COUNT(DISTINCT transaction_id) FROM sads")->get_int(0), 120);
}

TEST_F(AuthorizationTest, PinPolicy) {
  const std::string cred = credential(alice_, "pin", 1);
  EXPECT_AUTH_FAILURE(service_->authorize_credential(request(alice_, cred, 1)), AuthFailure::pin_missing);
  CredentialAuthRequest r = request(alice_, cred, 1);
  r.pin = SecretString("1234");
  EXPECT_AUTH_FAILURE(service_->authorize_credential(r), AuthFailure::pin_not_set);
  service_->set_pin(cred, "1234");
  EXPECT_TRUE(service_->has_pin(cred));
  EXPECT_SIGIL_ERROR(service_->set_pin(cred, "12"), Errc::invalid_argument);
  CredentialAuthRequest wrong = request(alice_, cred, 1);
  wrong.pin = SecretString("9999");
  EXPECT_AUTH_FAILURE(service_->authorize_credential(wrong), AuthFailure::pin_invalid);
  EXPECT_NO_THROW(service_->authorize_credential(r));
  // The PIN is stored as an Argon2id hash only.
  const auto row = db().query_one("SELECT pin_hash FROM credential_pins WHERE credential_id = $1", {cred});
  EXPECT_TRUE(row->get_text(0).starts_with("$argon2id$"));
}

TEST_F(AuthorizationTest, PinAndOtpPolicyNeedsBoth) {
  const Bytes seed = enrol_totp(alice_);
  const std::string cred = credential(alice_, "pin_otp", 1);
  service_->set_pin(cred, "2468");
  CredentialAuthRequest r = request(alice_, cred, 1);
  r.pin = SecretString("2468");
  EXPECT_AUTH_FAILURE(service_->authorize_credential(r), AuthFailure::otp_missing);
  r.otp = SecretString(totp_now(seed));
  CredentialAuthRequest bad_pin = request(alice_, cred, 1);
  bad_pin.pin = SecretString("0000");
  bad_pin.otp = SecretString(totp_now(seed));
  EXPECT_AUTH_FAILURE(service_->authorize_credential(bad_pin), AuthFailure::pin_invalid);
  // The wrong PIN did not burn the TOTP step.
  EXPECT_NO_THROW(service_->authorize_credential(r));
}

TEST_F(AuthorizationTest, ReplayedOtpIsRefused) {
  const Bytes seed = enrol_totp(alice_);
  const std::string cred = credential(alice_, "otp", 1);
  CredentialAuthRequest r = request(alice_, cred, 1);
  r.otp = SecretString(totp_now(seed));
  EXPECT_NO_THROW(service_->authorize_credential(r));
  CredentialAuthRequest again = request(alice_, cred, 1);
  again.otp = SecretString(totp_now(seed));
  EXPECT_AUTH_FAILURE(service_->authorize_credential(again), AuthFailure::otp_invalid);
  EXPECT_EQ(events_.count(AuthEventType::second_factor_failed), 1u);
}

TEST_F(AuthorizationTest, WrongAttemptsVoidTheTransaction) {
  const Bytes seed = enrol_totp(alice_);
  const std::string cred = credential(alice_, "otp", 1);
  const TransactionInfo tx = service_->begin(alice_, cred);
  EXPECT_FALSE(tx.challenge.delivered);
  CredentialAuthRequest wrong = request(alice_, cred, 1);
  wrong.transaction_id = tx.id;
  wrong.otp = SecretString("000000");
  if (totp_now(seed) == "000000") wrong.otp = SecretString("111111");
  for (int i = 0; i < 3; ++i) EXPECT_AUTH_FAILURE(service_->authorize_credential(wrong), AuthFailure::otp_invalid);
  EXPECT_EQ(events_.count(AuthEventType::transaction_voided), 1u);
  CredentialAuthRequest right = request(alice_, cred, 1);
  right.transaction_id = tx.id;
  right.otp = SecretString(totp_now(seed));
  EXPECT_AUTH_FAILURE(service_->authorize_credential(right), AuthFailure::transaction_void);
  // A new transaction works.
  right.transaction_id.reset();
  EXPECT_NO_THROW(service_->authorize_credential(right));
  // A transaction of another credential or user is not usable.
  const std::string bob_cred = credential(bob_, "none", 1);
  CredentialAuthRequest foreign = request(bob_, bob_cred, 1);
  foreign.transaction_id = service_->begin(alice_, cred).id;
  EXPECT_AUTH_FAILURE(service_->authorize_credential(foreign), AuthFailure::transaction_unknown);
}

TEST_F(AuthorizationTest, RepeatedFailuresLockTheUserForTheConfiguredTime) {
  const Bytes seed = enrol_totp(alice_);
  const std::string cred = credential(alice_, "otp", 1);
  CredentialAuthRequest wrong = request(alice_, cred, 1);
  wrong.otp = SecretString(totp_now(seed) == "000000" ? "111111" : "000000");
  for (int i = 0; i < 4; ++i) EXPECT_AUTH_FAILURE(service_->authorize_credential(wrong), AuthFailure::otp_invalid);
  EXPECT_AUTH_FAILURE(service_->authorize_credential(wrong), AuthFailure::user_locked);  // the 5th
  EXPECT_EQ(events_.count(AuthEventType::user_locked), 1u);
  ASSERT_TRUE(service_->locked_until(alice_));
  EXPECT_EQ(*service_->locked_until(alice_), to_unix(clock_.now()) + 600);

  CredentialAuthRequest right = request(alice_, cred, 1);
  right.otp = SecretString(totp_now(seed));
  EXPECT_AUTH_FAILURE(service_->authorize_credential(right), AuthFailure::user_locked);
  EXPECT_AUTH_FAILURE(service_->begin(alice_, cred), AuthFailure::user_locked);
  clock_.advance(std::chrono::seconds{600});
  EXPECT_FALSE(service_->locked_until(alice_));
  right.otp = SecretString(totp_now(seed));
  EXPECT_NO_THROW(service_->authorize_credential(right));

  // Lock again, then an administrator unlocks.
  clock_.advance(std::chrono::seconds{30});
  wrong.otp = SecretString(totp_now(seed) == "000000" ? "111111" : "000000");
  for (int i = 0; i < 5; ++i) {
    try {
      service_->authorize_credential(wrong);
    } catch (const AuthError&) {
    }
  }
  EXPECT_TRUE(service_->locked_until(alice_));
  service_->unlock(alice_);
  EXPECT_EQ(events_.count(AuthEventType::user_unlocked), 1u);
  right.otp = SecretString(totp_now(seed));
  EXPECT_NO_THROW(service_->authorize_credential(right));
  // Bob is not affected by Alice's lock.
  EXPECT_FALSE(service_->locked_until(bob_));
}

TEST_F(AuthorizationTest, DeliveredOtpEndToEndThroughTheFileChannel) {
  AuthorizationPolicy sms = policy_;
  sms.otp_provider = "sms";
  AuthorizationService service(*store_, clock_, providers_, events_, sms);
  const std::string cred = credential(alice_, "otp", 2);
  const TransactionInfo tx = service.begin(alice_, cred);
  EXPECT_TRUE(tx.challenge.delivered);
  EXPECT_EQ(events_.count(AuthEventType::otp_challenge_sent), 1u);
  std::ifstream in(outbox());
  std::string expires, txid, recipient, code;
  in >> expires >> txid >> recipient >> code;
  EXPECT_EQ(txid, tx.id);
  EXPECT_EQ(recipient, "+15550100");

  CredentialAuthRequest r = request(alice_, cred, 1, {digest('x')});
  r.transaction_id = tx.id;
  r.otp = SecretString(code);
  const Sad sad = service.authorize_credential(r);
  EXPECT_EQ(sad.transaction_id, tx.id);
  EXPECT_EQ(service.consume_sad(sad.value.view(), use(alice_, cred, {digest('x')})).remaining, 0);

  // The code was single use and bound to that transaction.
  CredentialAuthRequest replay = request(alice_, cred, 1, {digest('y')});
  replay.otp = SecretString(code);
  EXPECT_AUTH_FAILURE(service.authorize_credential(replay), AuthFailure::otp_invalid);
}

TEST_F(AuthorizationTest, RequestValidation) {
  const std::string cred2 = credential(alice_, "none", 2);
  const std::string cred1 = credential(alice_, "none", 1);
  EXPECT_AUTH_FAILURE(service_->authorize_credential(request(alice_, cred1, 0)), AuthFailure::num_signatures_invalid);
  EXPECT_AUTH_FAILURE(service_->authorize_credential(request(alice_, cred1, 101)), AuthFailure::num_signatures_invalid);
  EXPECT_AUTH_FAILURE(service_->authorize_credential(request(alice_, cred2, 1)), AuthFailure::hashes_required);
  EXPECT_AUTH_FAILURE(service_->authorize_credential(request(alice_, cred2, 1, {digest('a', 20)})), AuthFailure::hash_invalid);
  EXPECT_AUTH_FAILURE(service_->authorize_credential(request(alice_, cred2, 1, {digest('a'), digest('b')})),
                      AuthFailure::hash_invalid);
  EXPECT_AUTH_FAILURE(service_->authorize_credential(request(bob_, cred1, 1)), AuthFailure::credential_unknown);
  EXPECT_AUTH_FAILURE(service_->authorize_credential(request(alice_, "cred_nope", 1)), AuthFailure::credential_unknown);
  const std::string disabled = credential(alice_, "none", 1, "disabled");
  EXPECT_AUTH_FAILURE(service_->authorize_credential(request(alice_, disabled, 1)), AuthFailure::credential_disabled);
  const std::string otp_cred = credential(bob_, "otp", 1);
  CredentialAuthRequest r = request(bob_, otp_cred, 1);
  r.otp = SecretString("123456");
  EXPECT_AUTH_FAILURE(service_->authorize_credential(r), AuthFailure::otp_not_enrolled);
  store_->users().set_status(bob_, store::UserStatus::disabled);
  EXPECT_AUTH_FAILURE(service_->authorize_credential(r), AuthFailure::user_disabled);
}

TEST_F(AuthorizationTest, AuditFailureLeavesNoUsableSad) {
  const std::string cred = credential(alice_, "none", 1);
  events_.fail_next = true;
  EXPECT_SIGIL_ERROR(service_->authorize_credential(request(alice_, cred, 1)), Errc::audit_unavailable);
  const auto row = db().query_one("SELECT COUNT(*) FROM sads WHERE revoked = 0");
  EXPECT_EQ(row->get_int(0), 0);
}

// The spend reads the SAD, the caller's access token and the credential inside the commit that
// records it, so what a caller's thread took from a cache (TokenService, SigningService) is
// confirmed against the store before the key is used; a refusal spends nothing.
TEST_F(AuthorizationTest, SpendRechecksTokenAndCredentialAgainstTheStore) {
  TokenService tokens(db(), clock_);
  const std::string cred = credential(alice_, "none", 1);
  const Sad sad = service_->authorize_credential(request(alice_, cred, 10));
  const IssuedTokens t = tokens.issue(alice_, std::nullopt, "service");
  SadUse u = use(alice_, cred, {digest('a')});
  u.token_id = tokens.authenticate(t.access_token.view(), TokenService::Read::cached).id;
  EXPECT_EQ(service_->consume_sad(sad.value.view(), u).remaining, 9);

  // Revoked behind the cache's back (another process): refused, nothing spent, the refusal recorded.
  db().exec("UPDATE auth_tokens SET revoked_at = 1 WHERE token_hash = $1", {sha256_hex(t.access_token.view())});
  EXPECT_NO_THROW(tokens.authenticate(t.access_token.view(), TokenService::Read::cached));  // still cached
  EXPECT_AUTH_FAILURE(service_->consume_sad(sad.value.view(), u), AuthFailure::token_invalid);
  EXPECT_EQ(db().query_one("SELECT used_count FROM sads WHERE id = $1", {sad.id})->get_int(0), 1);
  EXPECT_EQ(events_.events.back().type, AuthEventType::sad_refused);
  EXPECT_EQ(events_.events.back().sad_id, sad.id);

  // The user disabled: the token no longer counts either.
  const IssuedTokens t2 = tokens.issue(alice_, std::nullopt, "service");
  u.token_id = tokens.authenticate(t2.access_token.view()).id;
  store_->users().set_status(alice_, store::UserStatus::disabled);
  EXPECT_AUTH_FAILURE(service_->consume_sad(sad.value.view(), u), AuthFailure::token_invalid);
  store_->users().set_status(alice_, store::UserStatus::active);
  EXPECT_EQ(service_->consume_sad(sad.value.view(), u).remaining, 8);

  // The credential disabled, or given to someone else.
  store_->credentials().set_status(cred, "disabled");
  EXPECT_AUTH_FAILURE(service_->consume_sad(sad.value.view(), u), AuthFailure::credential_disabled);
  store_->credentials().set_status(cred, "active");
  db().exec("UPDATE credentials SET owner_user_id = $1 WHERE id = $2", {bob_, cred});
  EXPECT_AUTH_FAILURE(service_->consume_sad(sad.value.view(), u), AuthFailure::credential_disabled);
  db().exec("UPDATE credentials SET owner_user_id = $1 WHERE id = $2", {alice_, cred});
  EXPECT_EQ(service_->consume_sad(sad.value.view(), u).remaining, 7);

  // The sad.used record names the SAD and its transaction, which only the spend read.
  const AuthEvent& used = events_.events.back();
  EXPECT_EQ(used.type, AuthEventType::sad_consumed);
  EXPECT_EQ(used.sad_id, sad.id);
  EXPECT_EQ(used.transaction_id, sad.transaction_id);

  // Signing before the spend (prepare_sad_use(..., signed_first)) is for SCAL1 SADs only.
  const std::string cred2 = credential(alice_, "none", 2);
  const Sad scal2 = service_->authorize_credential(request(alice_, cred2, 1, {digest('z')}));
  const SadSpend early = service_->prepare_sad_use(scal2.value.view(), use(alice_, cred2, {digest('z')}), true);
  EXPECT_AUTH_FAILURE(events_.on_event_with(early.event, early.apply, db()), AuthFailure::sad_unknown);
  EXPECT_EQ(db().query_one("SELECT used_count FROM sads WHERE id = $1", {scal2.id})->get_int(0), 0);
  const SadSpend scal1 = service_->prepare_sad_use(sad.value.view(), u, true);
  events_.on_event_with(scal1.event, scal1.apply, db());
  EXPECT_EQ(scal1.outcome->remaining, 6);
}

TEST_F(AuthorizationTest, PurgeRemovesExpiredState) {
  const std::string cred = credential(alice_, "none", 1);
  service_->authorize_credential(request(alice_, cred, 1));
  clock_.advance(std::chrono::seconds{3600});
  EXPECT_GE(service_->purge_expired(), 2);
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM sads")->get_int(0), 0);
}

}  // namespace
}  // namespace sigil::auth::test
