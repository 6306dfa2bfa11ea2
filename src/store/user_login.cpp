// UserRepository::verify_password: the password check with lockout, kept apart from plain CRUD.
#include "sigil/common/error.hpp"
#include "sigil/common/secure.hpp"
#include "sigil/store/users.hpp"

namespace sigil::store {

const std::string& UserRepository::dummy_hash() {
  // Made once, with this repository's parameters, so checking it costs what a real check costs.
  std::call_once(dummy_once_, [this] { dummy_hash_ = hash_password(random_token(16), params_); });
  return dummy_hash_;
}

VerifyResult UserRepository::verify_password(std::string_view username, std::string_view password, const Clock& clock,
                                             const config::AuthConfig& auth, std::int64_t* login_epoch) {
  std::optional<Row> row;
  try {
    row = db_.query_one("SELECT id, status, password_hash, failed_logins, locked_until, login_epoch FROM users WHERE username = $1",
                        {normalize_username(username)});
  } catch (const Error& e) {
    if (e.code() != Errc::invalid_argument) throw;  // a malformed name is just an unknown user
  }
  if (!row) {
    (void)verify_password_hash(dummy_hash(), password);
    return VerifyResult::unknown_user;
  }

  const std::string id = row->get_text("id");
  const std::int64_t now = to_unix(clock.now());
  const std::optional<std::string> hash = row->opt_text("password_hash");
  const std::optional<std::int64_t> locked_until = row->opt_int("locked_until");

  if (locked_until && *locked_until > now) {
    (void)verify_password_hash(dummy_hash(), password);
    return VerifyResult::locked;
  }
  if (!hash) {  // no password set (service user): nothing can match, nothing to count
    (void)verify_password_hash(dummy_hash(), password);
    return VerifyResult::bad_credentials;
  }

  if (!verify_password_hash(*hash, password)) {
    // One statement, evaluated against the row's current values, so failures reported by several
    // nodes at once are all counted. Right-hand sides see the old failed_logins in both SQLite and
    // PostgreSQL. max_failed_logins = 0 disables locking.
    const std::int64_t max = auth.max_failed_logins;
    db_.exec(
        "UPDATE users SET "
        "failed_logins = CASE WHEN $2 > 0 AND failed_logins + 1 >= $2 THEN 0 ELSE failed_logins + 1 END, "
        "locked_until = CASE WHEN $2 > 0 AND failed_logins + 1 >= $2 THEN $3 ELSE locked_until END "
        "WHERE id = $1",
        {id, max, now + static_cast<std::int64_t>(auth.lockout.count())});
    return VerifyResult::bad_credentials;
  }

  if (parse_user_status(row->get_text("status")) != UserStatus::active) return VerifyResult::disabled;
  // Clear the count only when there is one: the usual successful login then costs no write.
  if (row->get_int("failed_logins") != 0 || locked_until) {
    db_.exec("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1", {id});
  }
  if (login_epoch != nullptr) *login_epoch = row->get_int("login_epoch");  // read with the hash it checked
  return VerifyResult::ok;
}

}  // namespace sigil::store
