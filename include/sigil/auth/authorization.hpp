// Credential authorisation: the per-credential second-factor policy (none | pin | otp | pin_otp),
// attempt counters and lockouts, and the Signature Activation Data (SAD) it yields.
//
// All state is in the store, so it holds across restarts and nodes:
// - a transaction (auth_transactions) collects the attempts for one authorisation; N wrong attempts
//   void it; a delivered OTP is bound to it;
// - M second-factor failures of a user (auth_lockouts) lock the user for a configured time;
// - a SAD (sads, sad_hashes) is bound to the user, the credential, the client and a number of
//   signatures, and (SCAL2, or whenever hashes are given) to the exact hashes it may sign; it is
//   consumed by atomic UPDATEs
//   (... WHERE used_count + k <= max_uses), so it cannot be used beyond its count anywhere.
// PINs and OTPs travel as SecretString, are compared in constant time and are never logged or
// put in events.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sigil/auth/errors.hpp"
#include "sigil/common/clock.hpp"
#include "sigil/common/crypto_types.hpp"
#include "sigil/common/secure.hpp"
#include "sigil/otp/provider.hpp"
#include "sigil/store/password.hpp"
#include "sigil/store/store.hpp"

namespace sigil::auth {

struct AuthorizationPolicy {
  std::string otp_provider = "totp";             // the provider credentials with an OTP factor use
  unsigned max_attempts_per_transaction = 3;     // N: wrong attempts that void a transaction
  unsigned max_failures_before_lock = 5;         // M: wrong attempts (any transaction) that lock the user
  std::chrono::seconds lockout{900};             // T
  std::chrono::seconds transaction_ttl{300};
  std::chrono::seconds sad_ttl{300};
  unsigned max_signatures = 100;                 // `multisign`
  store::PasswordParams pin_hash;                // Argon2id cost of new PIN hashes
};

// Hook points for the audit log (the daemon implements this with audit::AuditLog). on_event runs
// synchronously before the caller gets its answer; if it throws (audit unavailable), the
// operation fails with that error - fail closed. Events never carry a PIN, an OTP or a SAD.
enum class AuthEventType {
  otp_challenge_sent,
  second_factor_failed,  // failure says which (pin_invalid, otp_invalid, ...)
  transaction_voided,
  user_locked,
  user_unlocked,
  credential_authorized,  // a SAD was issued
  sad_consumed,
  sad_refused,
};
std::string_view to_string(AuthEventType t) noexcept;

struct AuthEvent {
  AuthEventType type;
  std::string user_id;
  std::string credential_id;
  std::string transaction_id;
  std::optional<std::string> client_id;
  std::optional<AuthFailure> failure;
  std::string sad_id;         // public id of the SAD record, never the SAD value
  std::int64_t count = 0;     // signatures authorised / consumed; failures so far
  std::optional<std::int64_t> locked_until;
};

class AuthEvents {
 public:
  virtual ~AuthEvents() = default;
  virtual void on_event(const AuthEvent& event) = 0;
  // The store writes an event reports (`apply`) and the event itself, atomically where the sink
  // can: the audit log runs apply inside the group commit that makes the record durable (one
  // shared fsync for every concurrent SAD use). apply may complete the event (ids it found); the
  // record is made from the event as apply left it. If apply throws, nothing is written and the
  // exception propagates. This default runs apply in its own transaction, then on_event.
  using Apply = std::function<void(store::Database&, AuthEvent&)>;
  virtual void on_event_with(const AuthEvent& event, const Apply& apply, store::Database& db) {
    AuthEvent e = event;
    db.transaction([&](store::Database& tx) { apply(tx, e); });
    on_event(e);
  }
};

// An AuthEvents that records nothing (tests, tools).
class NoAuthEvents final : public AuthEvents {
 public:
  void on_event(const AuthEvent&) override {}
};

struct TransactionInfo {
  std::string id;
  std::int64_t expires_at = 0;
  otp::Challenge challenge;
};

struct CredentialAuthRequest {
  std::string user_id;                        // the service-authenticated caller
  std::optional<std::string> client_id;       // OAuth client of the access token, if any
  std::string credential_id;
  std::optional<std::string> transaction_id;  // from begin(); else the open one is used / created
  SecretString pin;                           // empty = not given
  SecretString otp;                           // empty = not given (JSON body or x-otp header)
  unsigned num_signatures = 1;
  std::vector<Bytes> hashes;                  // required for SCAL2; binds the SAD when given
  std::optional<HashAlg> hash_alg;            // required with hashes
};

struct Sad {
  SecretString value;  // opaque; give it to the client once
  std::string id;      // public id (audit, logs)
  std::string transaction_id;
  std::int64_t expires_at = 0;
  std::int64_t expires_in = 0;
  unsigned max_uses = 0;
};

struct SadUse {
  std::string user_id;
  std::optional<std::string> client_id;
  std::string credential_id;
  std::vector<Bytes> hashes;  // the digests about to be signed (one signature each)
  HashAlg hash_alg = HashAlg::sha256;
  // The access token the caller presented (TokenInfo::id): the spend confirms it is still valid
  // (not revoked or expired, its user active) against the store, as the caller's check may have
  // come from TokenService's cache.
  std::optional<std::string> token_id;
};

struct SadConsumption {
  std::string sad_id;
  std::int64_t remaining = 0;
};

// A SAD use prepared for a commit the caller makes (SCAL1 signHash puts it into the commit of the
// signature's own record, ADR 0021). Nothing is read or written until `apply` runs.
struct SadSpend {
  AuthEvent event;          // sad_consumed; apply fills in the SAD's id and transaction
  AuthEvents::Apply apply;  // every check and the UPDATEs; throws AuthError, then nothing is spent
  // What apply found: the SAD's ids as soon as it is found (also for a refusal), the budget left.
  std::shared_ptr<SadConsumption> outcome = std::make_shared<SadConsumption>();
  std::shared_ptr<std::string> transaction_id = std::make_shared<std::string>();
};

class AuthorizationService {
 public:
  // Everything must outlive the service. `providers` must hold policy.otp_provider when a credential
  // needs an OTP (checked when used, so a deployment without OTP credentials needs none).
  AuthorizationService(store::Store& store, const Clock& clock, otp::ProviderRegistry& providers, AuthEvents& events,
                       AuthorizationPolicy policy = {});

  // Credential PINs (Argon2id). set_pin: 4..64 characters; Error(not_found) for an unknown credential.
  void set_pin(std::string_view credential_id, std::string_view pin);
  bool has_pin(std::string_view credential_id);

  // Opens a transaction for (user, credential) and, when the credential needs an OTP and the
  // provider delivers codes, sends one bound to it (CSC getChallenge / sendOTP).
  TransactionInfo begin(std::string_view user_id, std::string_view credential_id);

  // CSC credentials/authorize: validates the request, checks the factors the credential's policy
  // demands, counts failures (transaction void at N, user locked at M), and on success issues a SAD.
  // Refusals are AuthError (see errors.hpp).
  Sad authorize_credential(const CredentialAuthRequest& request);

  // Consumes one signature per hash from the SAD, atomically; refusals: sad_unknown, sad_wrong_user,
  // sad_wrong_credential, sad_wrong_client, sad_expired, sad_hash_not_authorized, sad_exhausted,
  // token_invalid (use.token_id no longer valid), credential_disabled (the credential is disabled,
  // gone or no longer the user's). On refusal nothing is consumed. Every check reads the store
  // inside the commit that spends the SAD, so it holds at the moment the key may be used.
  SadConsumption consume_sad(std::string_view sad, const SadUse& use);
  // consume_sad in two steps, for a caller that commits the spend with records of its own:
  // prepare_sad_use checks what needs no store (hash lengths: AuthError hash_invalid, not
  // recorded); when `apply` threw AuthError in that commit, refuse_sad_use records sad.refused and
  // rethrows it. `signed_first`: the caller signs before it commits the spend, which only a SCAL1
  // SAD allows (apply refuses any other with sad_unknown); a SCAL2 SAD must be spent before the
  // key is used (consume_sad).
  SadSpend prepare_sad_use(std::string_view sad, const SadUse& use, bool signed_first = false) const;
  [[noreturn]] void refuse_sad_use(const SadSpend& spend, const SadUse& use, const AuthError& refusal);
  // CSC credentials/extendTransaction: a fresh SAD of the same transaction for the signatures left
  // (the budget never grows), valid sad_ttl from now, bound to the old SAD's unused hashes plus
  // `new_hashes` (e.g. the next PAdES signature's hash); the old SAD is revoked. Refusals as for
  // consume_sad (sad_unknown, sad_wrong_*, sad_expired, sad_exhausted) and hash_invalid.
  Sad extend_sad(std::string_view sad, const SadUse& caller, const std::vector<Bytes>& new_hashes = {});
  // Invalidates a SAD (e.g. the transaction was cancelled); false if unknown.
  bool revoke_sad(std::string_view sad);

  // Second-factor lockout state of a user, and the administrator's unlock.
  std::optional<std::int64_t> locked_until(std::string_view user_id);
  void unlock(std::string_view user_id);

  // Deletes expired transactions and SADs (and their hashes); returns rows deleted.
  std::int64_t purge_expired();

 private:
  struct Context;
  Context load_context(std::string_view user_id, std::string_view credential_id);
  std::string open_transaction(store::Database& db, std::string_view user_id, std::string_view credential_id,
                               const std::optional<std::string>& requested);
  [[noreturn]] void fail(const Context& ctx, const std::string& transaction_id, AuthFailure failure,
                         const std::optional<std::string>& client_id);
  otp::Provider& provider();

  store::Store& store_;
  const Clock& clock_;
  otp::ProviderRegistry& providers_;
  AuthEvents& events_;
  AuthorizationPolicy policy_;
};

}  // namespace sigil::auth
