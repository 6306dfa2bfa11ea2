#include "sigil/auth/authorization.hpp"

#include "sigil/auth/tokens.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/log.hpp"

namespace sigil::auth {
namespace {

constexpr std::size_t kMinPin = 4;
constexpr std::size_t kMaxPin = 64;

std::string new_id() { return hex_encode(random_bytes(16)); }

}  // namespace

std::string_view to_string(AuthEventType t) noexcept {
  switch (t) {
    case AuthEventType::otp_challenge_sent: return "otp_challenge_sent";
    case AuthEventType::second_factor_failed: return "second_factor_failed";
    case AuthEventType::transaction_voided: return "transaction_voided";
    case AuthEventType::user_locked: return "user_locked";
    case AuthEventType::user_unlocked: return "user_unlocked";
    case AuthEventType::credential_authorized: return "credential_authorized";
    case AuthEventType::sad_consumed: return "sad_consumed";
    case AuthEventType::sad_refused: return "sad_refused";
  }
  return "unknown";
}

struct AuthorizationService::Context {
  store::User user;
  store::CredentialRecord credential;
  bool need_pin = false;
  bool need_otp = false;

  otp::Subject subject() const { return otp::Subject{user.id, user.username, user.profile.email, user.profile.mobile}; }
};

AuthorizationService::AuthorizationService(store::Store& store, const Clock& clock, otp::ProviderRegistry& providers,
                                           AuthEvents& events, AuthorizationPolicy policy)
    : store_(store), clock_(clock), providers_(providers), events_(events), policy_(std::move(policy)) {}

otp::Provider& AuthorizationService::provider() {
  otp::Provider* p = providers_.find(policy_.otp_provider);
  if (p == nullptr) throw Error(Errc::config_invalid, "auth: OTP provider '" + policy_.otp_provider + "' is not registered");
  return *p;
}

AuthorizationService::Context AuthorizationService::load_context(std::string_view user_id, std::string_view credential_id) {
  auto user = store_.users().get(user_id);
  if (!user) throw AuthError(AuthFailure::credential_unknown, "unknown user " + std::string(user_id));
  if (user->status != store::UserStatus::active) throw AuthError(AuthFailure::user_disabled);
  auto credential = store_.credentials().get(credential_id);
  // A credential of someone else is reported exactly like an unknown one.
  if (!credential || credential->owner_user_id != user->id) {
    throw AuthError(AuthFailure::credential_unknown, "credential " + std::string(credential_id) + " unknown or not owned");
  }
  if (credential->status != "active") throw AuthError(AuthFailure::credential_disabled);
  Context ctx{std::move(*user), std::move(*credential)};
  const std::string& sf = ctx.credential.second_factor;
  ctx.need_pin = sf == "pin" || sf == "pin_otp";
  ctx.need_otp = sf == "otp" || sf == "pin_otp";
  return ctx;
}

std::optional<std::int64_t> AuthorizationService::locked_until(std::string_view user_id) {
  const auto row = store_.database().query_one("SELECT locked_until FROM auth_lockouts WHERE user_id = $1", {std::string(user_id)});
  if (!row || row->is_null(0) || row->get_int(0) <= to_unix(clock_.now())) return std::nullopt;
  return row->get_int(0);
}

void AuthorizationService::unlock(std::string_view user_id) {
  store_.database().exec("UPDATE auth_lockouts SET failures = 0, locked_until = NULL WHERE user_id = $1", {std::string(user_id)});
  events_.on_event(AuthEvent{AuthEventType::user_unlocked, std::string(user_id), {}, {}, std::nullopt, std::nullopt, {}, 0, std::nullopt});
}

void AuthorizationService::set_pin(std::string_view credential_id, std::string_view pin) {
  if (pin.size() < kMinPin || pin.size() > kMaxPin) throw Error(Errc::invalid_argument, "PIN must be 4..64 characters", true);
  if (!store_.credentials().get(credential_id)) throw Error(Errc::not_found, "no credential " + std::string(credential_id));
  store_.database().exec(
      "INSERT INTO credential_pins (credential_id, pin_hash, updated_at) VALUES ($1, $2, $3) "
      "ON CONFLICT (credential_id) DO UPDATE SET pin_hash = excluded.pin_hash, updated_at = excluded.updated_at",
      {std::string(credential_id), store::hash_password(pin, policy_.pin_hash), to_unix(clock_.now())});
}

bool AuthorizationService::has_pin(std::string_view credential_id) {
  return store_.database().query_one("SELECT 1 FROM credential_pins WHERE credential_id = $1", {std::string(credential_id)}).has_value();
}

std::string AuthorizationService::open_transaction(store::Database& db, std::string_view user_id,
                                                   std::string_view credential_id,
                                                   const std::optional<std::string>& requested) {
  const std::int64_t now = to_unix(clock_.now());
  if (requested) {
    const auto row = db.query_one("SELECT user_id, credential_id, state, expires_at FROM auth_transactions WHERE id = $1", {*requested});
    if (!row || row->get_text("user_id") != user_id || row->get_text("credential_id") != credential_id) {
      throw AuthError(AuthFailure::transaction_unknown, "transaction " + *requested + " unknown or not this caller's");
    }
    if (row->get_text("state") != "open" || row->get_int("expires_at") <= now) {
      throw AuthError(AuthFailure::transaction_void, "transaction " + *requested + " is " + row->get_text("state") + " or expired");
    }
    return *requested;
  }
  const auto open = db.query_one(
      "SELECT id FROM auth_transactions WHERE user_id = $1 AND credential_id = $2 AND state = 'open' AND expires_at > $3 "
      "ORDER BY created_at DESC, id LIMIT 1",
      {std::string(user_id), std::string(credential_id), now});
  if (open) return open->get_text(0);
  const std::string id = new_id();
  db.exec("INSERT INTO auth_transactions (id, user_id, credential_id, failures, state, expires_at, created_at) "
          "VALUES ($1, $2, $3, 0, 'open', $4, $5)",
          {id, std::string(user_id), std::string(credential_id), now + policy_.transaction_ttl.count(), now});
  return id;
}

TransactionInfo AuthorizationService::begin(std::string_view user_id, std::string_view credential_id) {
  const Context ctx = load_context(user_id, credential_id);
  if (const auto until = locked_until(user_id)) throw AuthError(AuthFailure::user_locked, "locked until " + std::to_string(*until));
  const std::int64_t now = to_unix(clock_.now());
  TransactionInfo info{new_id(), now + policy_.transaction_ttl.count(), {}};
  store_.database().transaction([&](store::Database& tx) {
    // One open transaction per (user, credential): a new one supersedes the previous.
    tx.exec("UPDATE auth_transactions SET state = 'void' WHERE user_id = $1 AND credential_id = $2 AND state = 'open'",
            {ctx.user.id, ctx.credential.id});
    tx.exec("INSERT INTO auth_transactions (id, user_id, credential_id, failures, state, expires_at, created_at) "
            "VALUES ($1, $2, $3, 0, 'open', $4, $5)",
            {info.id, ctx.user.id, ctx.credential.id, info.expires_at, now});
  });
  if (ctx.need_otp) {
    info.challenge = provider().challenge(ctx.subject(), info.id);
    if (info.challenge.delivered) {
      events_.on_event(AuthEvent{AuthEventType::otp_challenge_sent, ctx.user.id, ctx.credential.id, info.id, std::nullopt,
                                 std::nullopt, {}, 0, std::nullopt});
    }
  }
  return info;
}

void AuthorizationService::fail(const Context& ctx, const std::string& transaction_id, AuthFailure failure,
                                const std::optional<std::string>& client_id) {
  const std::int64_t now = to_unix(clock_.now());
  std::int64_t tx_failures = 0;
  std::int64_t user_failures = 0;
  bool voided = false;
  std::optional<std::int64_t> locked;
  store_.database().transaction([&](store::Database& tx) {
    tx.exec("UPDATE auth_transactions SET failures = failures + 1 WHERE id = $1", {transaction_id});
    const auto t = tx.query_one("SELECT failures FROM auth_transactions WHERE id = $1", {transaction_id});
    tx_failures = t ? t->get_int(0) : 0;
    if (policy_.max_attempts_per_transaction > 0 && tx_failures >= policy_.max_attempts_per_transaction) {
      voided = tx.exec("UPDATE auth_transactions SET state = 'void' WHERE id = $1 AND state = 'open'", {transaction_id}) == 1;
    }
    tx.exec("INSERT INTO auth_lockouts (user_id, failures) VALUES ($1, 1) "
            "ON CONFLICT (user_id) DO UPDATE SET failures = auth_lockouts.failures + 1",
            {ctx.user.id});
    const auto u = tx.query_one("SELECT failures FROM auth_lockouts WHERE user_id = $1", {ctx.user.id});
    user_failures = u ? u->get_int(0) : 0;
    if (policy_.max_failures_before_lock > 0 && user_failures >= policy_.max_failures_before_lock) {
      locked = now + policy_.lockout.count();
      tx.exec("UPDATE auth_lockouts SET failures = 0, locked_until = $2 WHERE user_id = $1", {ctx.user.id, *locked});
    }
  });
  log::warn("auth: {} for user {} credential {} transaction {} ({} in transaction, {} for user)", to_string(failure),
            ctx.user.username, ctx.credential.id, transaction_id, tx_failures, user_failures);
  AuthEvent e{AuthEventType::second_factor_failed, ctx.user.id, ctx.credential.id, transaction_id, client_id, failure, {},
              user_failures, std::nullopt};
  events_.on_event(e);
  if (voided) {
    e.type = AuthEventType::transaction_voided;
    e.count = tx_failures;
    events_.on_event(e);
  }
  if (locked) {
    e.type = AuthEventType::user_locked;
    e.locked_until = locked;
    events_.on_event(e);
    throw AuthError(AuthFailure::user_locked, "locked after " + std::to_string(policy_.max_failures_before_lock) + " failures");
  }
  throw AuthError(failure);
}

Sad AuthorizationService::authorize_credential(const CredentialAuthRequest& r) {
  const Context ctx = load_context(r.user_id, r.credential_id);
  if (const auto until = locked_until(r.user_id)) throw AuthError(AuthFailure::user_locked, "locked until " + std::to_string(*until));

  if (r.num_signatures < 1 || r.num_signatures > policy_.max_signatures) throw AuthError(AuthFailure::num_signatures_invalid);
  if (ctx.credential.scal == 2 && r.hashes.empty()) throw AuthError(AuthFailure::hashes_required);
  if (!r.hashes.empty()) {
    if (!r.hash_alg) throw AuthError(AuthFailure::hashes_required, "hashes without hash algorithm");
    if (r.hashes.size() > r.num_signatures) throw AuthError(AuthFailure::hash_invalid, "more hashes than numSignatures");
    for (const Bytes& h : r.hashes) {
      if (h.size() != digest_size(*r.hash_alg)) throw AuthError(AuthFailure::hash_invalid);
    }
  }
  if (ctx.need_pin && r.pin.empty()) throw AuthError(AuthFailure::pin_missing);
  if (ctx.need_otp && r.otp.empty()) throw AuthError(AuthFailure::otp_missing);

  std::string transaction_id = open_transaction(store_.database(), ctx.user.id, ctx.credential.id, r.transaction_id);

  // PIN first: a wrong PIN must not burn a delivered OTP the user still holds.
  if (ctx.need_pin) {
    const auto row = store_.database().query_one("SELECT pin_hash FROM credential_pins WHERE credential_id = $1", {ctx.credential.id});
    if (!row) throw AuthError(AuthFailure::pin_not_set);
    if (!store::verify_password_hash(row->get_text(0), r.pin.view())) fail(ctx, transaction_id, AuthFailure::pin_invalid, r.client_id);
  }
  if (ctx.need_otp) {
    const otp::VerifyResult v = provider().verify(ctx.subject(), transaction_id, r.otp);
    if (v == otp::VerifyResult::not_enrolled) throw AuthError(AuthFailure::otp_not_enrolled);
    if (v == otp::VerifyResult::no_challenge) {
      // Not a guess (nothing could succeed): refused without counting.
      throw AuthError(AuthFailure::otp_invalid, "no outstanding OTP for transaction " + transaction_id);
    }
    if (v != otp::VerifyResult::ok) {
      log::info("auth: OTP {} for transaction {}", otp::to_string(v), transaction_id);
      fail(ctx, transaction_id, AuthFailure::otp_invalid, r.client_id);
    }
  }

  const std::int64_t now = to_unix(clock_.now());
  Sad sad;
  sad.value = SecretString(random_token(32));
  sad.id = new_id();
  sad.transaction_id = transaction_id;
  sad.expires_in = policy_.sad_ttl.count();
  sad.expires_at = now + sad.expires_in;
  sad.max_uses = r.num_signatures;
  store_.database().transaction([&](store::Database& tx) {
    if (tx.exec("UPDATE auth_transactions SET state = 'done' WHERE id = $1 AND state = 'open'", {transaction_id}) != 1) {
      // Closed since this call found it. When a concurrent authorisation of the same (user,
      // credential) closed the shared implicit transaction with a success, this one's factors were
      // verified too (a delivered or TOTP code verifies once): it gets its own, done transaction.
      // A voided transaction, or one the client named, stays refused.
      const auto t = tx.query_one("SELECT state FROM auth_transactions WHERE id = $1", {transaction_id});
      if (r.transaction_id || !t || t->get_text(0) != "done") {
        throw AuthError(AuthFailure::transaction_void, "transaction closed concurrently");
      }
      transaction_id = new_id();
      sad.transaction_id = transaction_id;
      tx.exec("INSERT INTO auth_transactions (id, user_id, credential_id, failures, state, expires_at, created_at) "
              "VALUES ($1, $2, $3, 0, 'done', $4, $5)",
              {transaction_id, ctx.user.id, ctx.credential.id, now + policy_.transaction_ttl.count(), now});
    }
    tx.exec("UPDATE auth_lockouts SET failures = 0 WHERE user_id = $1", {ctx.user.id});
    tx.exec("INSERT INTO sads (id, sad_hash, transaction_id, user_id, client_id, credential_id, scal, hash_alg, max_uses, "
            "used_count, expires_at, revoked, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, 0, $11)",
            {sad.id, sha256_hex(sad.value.view()), transaction_id, ctx.user.id, store::nullable(r.client_id),
             ctx.credential.id, std::int64_t{ctx.credential.scal},
             r.hashes.empty() ? store::Value{nullptr} : store::Value{std::string(hash_name(*r.hash_alg))},
             std::int64_t{sad.max_uses}, sad.expires_at, now});
    for (std::size_t i = 0; i < r.hashes.size(); ++i) {
      tx.exec("INSERT INTO sad_hashes (sad_id, idx, hash, used) VALUES ($1, $2, $3, 0)",
              {sad.id, static_cast<std::int64_t>(i), hex_encode(r.hashes[i])});
    }
  });
  try {
    events_.on_event(AuthEvent{AuthEventType::credential_authorized, ctx.user.id, ctx.credential.id, transaction_id,
                               r.client_id, std::nullopt, sad.id, sad.max_uses, std::nullopt});
  } catch (...) {
    // Fail closed: a SAD whose issue is not in the audit trail must not be usable.
    store_.database().exec("UPDATE sads SET revoked = 1 WHERE id = $1", {sad.id});
    throw;
  }
  return sad;
}

SadSpend AuthorizationService::prepare_sad_use(std::string_view sad, const SadUse& use, bool signed_first) const {
  if (use.hashes.empty()) throw AuthError(AuthFailure::hash_invalid, "nothing to sign");
  for (const Bytes& h : use.hashes) {
    if (h.size() != digest_size(use.hash_alg)) throw AuthError(AuthFailure::hash_invalid);
  }
  SadSpend s;
  const auto k = static_cast<std::int64_t>(use.hashes.size());
  s.event = AuthEvent{AuthEventType::sad_consumed, use.user_id, use.credential_id, "", use.client_id, std::nullopt,
                      "", k, std::nullopt};
  // Every check and the spend run inside the audit log's group commit, on its writer's
  // connection, together with the sad.used record (ADR 0018, 0020): a SAD is spent exactly when
  // its use is on record, concurrent calls share one fsync, and what the caller's thread read
  // from caches (the access token, the credential) is confirmed against the store at the moment
  // of the spend.
  s.apply = [use, k, signed_first, now = to_unix(clock_.now()), sad_hash = sha256_hex(sad), outcome = s.outcome,
             transaction = s.transaction_id](store::Database& tx, AuthEvent& used_event) {
    const auto row = tx.query_one(
        "SELECT id, transaction_id, user_id, client_id, credential_id, scal, hash_alg, max_uses, used_count, expires_at, "
        "revoked FROM sads WHERE sad_hash = $1",
        {sad_hash});
    if (!row || row->get_int("revoked") != 0) throw AuthError(AuthFailure::sad_unknown, "unknown or revoked SAD");
    if (signed_first && row->get_int("scal") != 1) {
      throw AuthError(AuthFailure::sad_unknown, "a SCAL2 SAD must be spent before the key is used");
    }
    outcome->sad_id = row->get_text("id");
    *transaction = row->get_text("transaction_id");
    used_event.sad_id = outcome->sad_id;
    used_event.transaction_id = *transaction;
    if (row->get_text("user_id") != use.user_id) {
      throw AuthError(AuthFailure::sad_wrong_user, "SAD of user " + row->get_text("user_id"));
    }
    if (row->get_text("credential_id") != use.credential_id) {
      throw AuthError(AuthFailure::sad_wrong_credential, "SAD for credential " + row->get_text("credential_id"));
    }
    if (const auto client = row->opt_text("client_id"); client && client != use.client_id) {
      throw AuthError(AuthFailure::sad_wrong_client, "SAD of client " + *client);
    }
    if (now >= row->get_int("expires_at")) throw AuthError(AuthFailure::sad_expired, "SAD expired");
    const auto bound_alg = row->opt_text("hash_alg");
    if (bound_alg && *bound_alg != hash_name(use.hash_alg)) {
      throw AuthError(AuthFailure::sad_hash_not_authorized, "other hash algorithm");
    }
    const std::int64_t max_uses = row->get_int("max_uses");
    const std::int64_t used = row->get_int("used_count");
    if (used + k > max_uses) throw AuthError(AuthFailure::sad_exhausted, "SAD used up");
    if (use.token_id &&
        !tx.query_one("SELECT 1 FROM auth_tokens t JOIN users u ON u.id = t.user_id WHERE t.id = $1 AND t.kind = 'access' "
                      "AND t.revoked_at IS NULL AND t.expires_at > $2 AND u.status = 'active'",
                      {*use.token_id, now})) {
      throw AuthError(AuthFailure::token_invalid, "access token revoked or expired, or its user disabled");
    }
    if (!tx.query_one("SELECT 1 FROM credentials WHERE id = $1 AND owner_user_id = $2 AND status = 'active'",
                      {use.credential_id, use.user_id})) {
      throw AuthError(AuthFailure::credential_disabled, "credential disabled, removed or no longer the user's");
    }
    // The refusals above are repeated in the UPDATE's WHERE: SQLite holds the write lock for the
    // whole batch, but on PostgreSQL another node may spend between the SELECT and this UPDATE,
    // which then re-evaluates the WHERE against the row it commits (ADR 0018).
    if (tx.exec("UPDATE sads SET used_count = used_count + $2 "
                "WHERE id = $1 AND used_count + $2 <= max_uses AND revoked = 0 AND expires_at > $3",
                {outcome->sad_id, k, now}) != 1) {
      throw AuthError(AuthFailure::sad_exhausted, "SAD used up concurrently");
    }
    if (bound_alg) {
      // Each hash takes one unused authorised entry (a hash authorised twice may be signed twice).
      for (const Bytes& h : use.hashes) {
        if (tx.exec("UPDATE sad_hashes SET used = 1 WHERE sad_id = $1 AND idx = "
                    "(SELECT MIN(idx) FROM sad_hashes WHERE sad_id = $1 AND hash = $2 AND used = 0)",
                    {outcome->sad_id, hex_encode(h)}) != 1) {
          throw AuthError(AuthFailure::sad_hash_not_authorized, "hash not (or no longer) authorised");
        }
      }
    }
    const auto after = tx.query_one("SELECT used_count FROM sads WHERE id = $1", {outcome->sad_id});
    outcome->remaining = max_uses - (after ? after->get_int(0) : used + k);
  };
  return s;
}

void AuthorizationService::refuse_sad_use(const SadSpend& spend, const SadUse& use, const AuthError& refusal) {
  events_.on_event(AuthEvent{AuthEventType::sad_refused, use.user_id, use.credential_id, *spend.transaction_id,
                             use.client_id, refusal.failure(), spend.outcome->sad_id,
                             static_cast<std::int64_t>(use.hashes.size()), std::nullopt});
  throw AuthError(refusal.failure(), refusal.internal_detail());
}

SadConsumption AuthorizationService::consume_sad(std::string_view sad, const SadUse& use) {
  const SadSpend spend = prepare_sad_use(sad, use);
  try {
    events_.on_event_with(spend.event, spend.apply, store_.database());
  } catch (const AuthError& e) {
    refuse_sad_use(spend, use, e);  // rolled back: nothing was consumed and nothing recorded
  }
  return *spend.outcome;
}

Sad AuthorizationService::extend_sad(std::string_view sad, const SadUse& caller, const std::vector<Bytes>& new_hashes) {
  const std::int64_t now = to_unix(clock_.now());
  const auto row = store_.database().query_one(
      "SELECT id, transaction_id, user_id, client_id, credential_id, scal, hash_alg, max_uses, used_count, expires_at, revoked "
      "FROM sads WHERE sad_hash = $1",
      {sha256_hex(sad)});
  if (!row || row->get_int("revoked") != 0) throw AuthError(AuthFailure::sad_unknown);
  if (row->get_text("user_id") != caller.user_id) throw AuthError(AuthFailure::sad_wrong_user);
  if (row->get_text("credential_id") != caller.credential_id) throw AuthError(AuthFailure::sad_wrong_credential);
  const auto client = row->opt_text("client_id");
  if (client && client != caller.client_id) throw AuthError(AuthFailure::sad_wrong_client);
  if (now >= row->get_int("expires_at")) throw AuthError(AuthFailure::sad_expired);
  const std::int64_t remaining = row->get_int("max_uses") - row->get_int("used_count");
  if (remaining <= 0) throw AuthError(AuthFailure::sad_exhausted);
  auto bound_alg = row->opt_text("hash_alg");
  if (!new_hashes.empty()) {
    if (bound_alg && *bound_alg != hash_name(caller.hash_alg)) throw AuthError(AuthFailure::hash_invalid, "other hash algorithm");
    for (const Bytes& h : new_hashes) {
      if (h.size() != digest_size(caller.hash_alg)) throw AuthError(AuthFailure::hash_invalid);
    }
    bound_alg = std::string(hash_name(caller.hash_alg));
  }
  const std::string old_id = row->get_text("id");
  Sad out;
  out.value = SecretString(random_token(32));
  out.id = new_id();
  out.transaction_id = row->get_text("transaction_id");
  out.expires_in = policy_.sad_ttl.count();
  out.expires_at = now + out.expires_in;
  out.max_uses = static_cast<unsigned>(remaining);
  store_.database().transaction([&](store::Database& tx) {
    // Revoking the old SAD is the compare-and-set: of two concurrent extensions one wins, and no
    // signature slips in between (consume_sad checks revoked = 0 in its UPDATE).
    if (tx.exec("UPDATE sads SET revoked = 1 WHERE id = $1 AND revoked = 0 AND used_count = $2",
                {old_id, row->get_int("used_count")}) != 1) {
      throw AuthError(AuthFailure::sad_unknown, "SAD changed during extension");
    }
    tx.exec("INSERT INTO sads (id, sad_hash, transaction_id, user_id, client_id, credential_id, scal, hash_alg, max_uses, "
            "used_count, expires_at, revoked, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, 0, $11)",
            {out.id, sha256_hex(out.value.view()), out.transaction_id, caller.user_id, store::nullable(client),
             caller.credential_id, row->get_int("scal"), store::nullable(bound_alg), remaining, out.expires_at, now});
    std::int64_t idx = 0;
    for (const auto& h : tx.query("SELECT hash FROM sad_hashes WHERE sad_id = $1 AND used = 0 ORDER BY idx", {old_id})) {
      tx.exec("INSERT INTO sad_hashes (sad_id, idx, hash, used) VALUES ($1, $2, $3, 0)", {out.id, idx++, h.get_text(0)});
    }
    for (const Bytes& h : new_hashes) {
      tx.exec("INSERT INTO sad_hashes (sad_id, idx, hash, used) VALUES ($1, $2, $3, 0)", {out.id, idx++, hex_encode(h)});
    }
  });
  events_.on_event(AuthEvent{AuthEventType::credential_authorized, caller.user_id, caller.credential_id, out.transaction_id,
                             client, std::nullopt, out.id, remaining, std::nullopt});
  return out;
}

bool AuthorizationService::revoke_sad(std::string_view sad) {
  return store_.database().exec("UPDATE sads SET revoked = 1 WHERE sad_hash = $1", {sha256_hex(sad)}) > 0;
}

std::int64_t AuthorizationService::purge_expired() {
  const std::int64_t now = to_unix(clock_.now());
  std::int64_t n = 0;
  store_.database().transaction([&](store::Database& tx) {
    n += tx.exec("DELETE FROM sad_hashes WHERE sad_id IN (SELECT id FROM sads WHERE expires_at < $1)", {now});
    n += tx.exec("DELETE FROM sads WHERE expires_at < $1", {now});
    n += tx.exec("DELETE FROM auth_transactions WHERE expires_at < $1", {now});
  });
  return n;
}

}  // namespace sigil::auth
