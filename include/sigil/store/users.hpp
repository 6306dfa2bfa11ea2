// Users, their roles and their passwords. Transport-neutral: the CLI, the admin API and the tests
// call the same methods. Every state that matters across nodes (lockout counters included) lives in
// the database, never only in this object.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sigil/common/clock.hpp"
#include "sigil/config/config.hpp"
#include "sigil/store/database.hpp"
#include "sigil/store/password.hpp"

namespace sigil::store {

enum class Role { admin, auditor, signer, service };
enum class UserStatus { active, disabled };

std::string_view to_string(Role role) noexcept;
std::string_view to_string(UserStatus status) noexcept;
std::optional<Role> parse_role(std::string_view text) noexcept;
std::optional<UserStatus> parse_user_status(std::string_view text) noexcept;

// Usernames are case-insensitive: stored and compared in lower case, so "Admin" cannot sit beside
// "admin". 1..64 characters of [a-z0-9._@-] after lowering; anything else is Error(invalid_argument).
std::string normalize_username(std::string_view username);

struct UserProfile {
  std::optional<std::string> display_name;
  std::optional<std::string> email;
  std::optional<std::string> mobile;  // E.164 recommended; delivered OTPs use it later
};

struct NewUser {
  std::string username;
  UserProfile profile;
  UserStatus status = UserStatus::active;
};

struct User {
  std::string id;
  std::string username;
  UserProfile profile;
  UserStatus status = UserStatus::active;
  std::vector<Role> roles;  // sorted, no duplicates
  bool has_password = false;  // the hash itself never leaves the repository
  std::int64_t failed_logins = 0;
  std::optional<std::int64_t> locked_until;  // Unix seconds
  // Raised by every password or status change and by TokenService::revoke_user: what a login
  // issues carries the epoch it verified the password at, and is refused once the epoch moved.
  std::int64_t login_epoch = 0;
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;

  bool has_role(Role role) const noexcept;
};

struct UserFilter {
  std::optional<Role> role;
  std::optional<UserStatus> status;
};

// Outcome of a password check. Callers facing a client must answer unknown_user exactly like
// bad_credentials, or they hand out a user-enumeration oracle.
enum class VerifyResult { ok, bad_credentials, locked, disabled, unknown_user };
// "ok", "bad_credentials", ... (the audit trail's `reason`).
std::string_view to_string(VerifyResult result) noexcept;

class UserRepository {
 public:
  // `db` and `clock` must outlive the repository. `clock` stamps created_at/updated_at.
  UserRepository(Database& db, const Clock& clock, PasswordParams params = {});

  // Creates the user with its roles (and password, hashed) in one transaction; returns the new id.
  // Throws Error(already_exists) for a taken username, Error(invalid_argument) for a bad username
  // or password.
  std::string create(const NewUser& user, const std::vector<Role>& roles = {},
                     std::optional<std::string_view> password = std::nullopt);

  std::optional<User> get(std::string_view id);
  std::optional<User> get_by_username(std::string_view username);
  // Ordered by username.
  std::vector<User> list(const UserFilter& filter = {});

  // The setters throw Error(not_found) when there is no such user.
  void update_profile(std::string_view id, const UserProfile& profile);  // replaces all three fields
  void set_status(std::string_view id, UserStatus status);
  // Hashes and stores the password (nullopt removes it: a service user that signs in by API key
  // only). Clears failed logins and any lock.
  void set_password(std::string_view id, std::optional<std::string_view> password);
  // Clears failed logins and any lock (an administrator's unlock).
  void unlock(std::string_view id);
  void add_role(std::string_view id, Role role);     // idempotent
  bool remove_role(std::string_view id, Role role);  // false if the user did not have it

  // Checks a password at `clock.now()`:
  // - locked (locked_until in the future): refused even with the right password;
  // - wrong password: failed_logins += 1; reaching auth.max_failed_logins (0 = never) locks the
  //   user until now + auth.lockout and restarts the count, so each lockout period allows that
  //   many guesses;
  // - right password of a disabled user: disabled (a wrong one is bad_credentials, so a guesser
  //   learns nothing about the status);
  // - right password: ok, and the failure count is cleared;
  // - unknown user, or a user without a password: an Argon2 check against a dummy hash runs anyway
  //   so the answer takes as long as for a real user.
  // The counter update is one atomic statement, so concurrent attempts on several nodes all count.
  // On ok, `login_epoch` (if given) receives the user's login epoch as read together with the hash
  // that was checked: pass it to whatever the login issues (TokenService::issue, ...), so a password
  // change, a disable or a revocation that lands during the check voids the login.
  VerifyResult verify_password(std::string_view username, std::string_view password, const Clock& clock,
                               const config::AuthConfig& auth, std::int64_t* login_epoch = nullptr);

 private:
  std::optional<User> load(std::string_view column, std::string_view value);
  void touch(std::string_view id, std::string_view set_clause, Params params);
  const std::string& dummy_hash();

  Database& db_;
  const Clock& clock_;
  PasswordParams params_;
  std::once_flag dummy_once_;
  std::string dummy_hash_;
};

}  // namespace sigil::store
