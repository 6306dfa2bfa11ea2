#include "sigil/store/users.hpp"

#include <algorithm>
#include <map>
#include <utility>

#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/secure.hpp"

namespace sigil::store {
namespace {

constexpr std::string_view kUserColumns =
    "id, username, display_name, email, mobile, status, CASE WHEN password_hash IS NULL THEN 0 ELSE 1 END AS has_password, "
    "failed_logins, locked_until, login_epoch, created_at, updated_at";

constexpr std::size_t kMaxUsernameBytes = 64;
constexpr std::size_t kMaxProfileFieldBytes = 256;

User user_from_row(const Row& row) {
  User u;
  u.id = row.get_text("id");
  u.username = row.get_text("username");
  u.profile.display_name = row.opt_text("display_name");
  u.profile.email = row.opt_text("email");
  u.profile.mobile = row.opt_text("mobile");
  const auto status = parse_user_status(row.get_text("status"));
  if (!status) throw Error(Errc::internal, "store: user " + u.id + " has unknown status");
  u.status = *status;
  u.has_password = row.get_int("has_password") != 0;
  u.failed_logins = row.get_int("failed_logins");
  u.locked_until = row.opt_int("locked_until");
  u.login_epoch = row.get_int("login_epoch");
  u.created_at = row.get_int("created_at");
  u.updated_at = row.get_int("updated_at");
  return u;
}

void add_role_text(User& u, std::string_view text) {
  if (const auto role = parse_role(text)) u.roles.push_back(*role);
}

void check_profile(const UserProfile& p) {
  for (const auto* field : {&p.display_name, &p.email, &p.mobile}) {
    if (*field && field->value().size() > kMaxProfileFieldBytes) {
      throw Error(Errc::invalid_argument, "profile field longer than " + std::to_string(kMaxProfileFieldBytes) + " bytes", true);
    }
  }
}

// Application-generated ids: 128 random bits in hex. Hex rather than base64url so an id never
// starts with '-' (sigilctl would read it as an option) and reads the same in any case.
std::string new_id() { return hex_encode(random_bytes(16)); }

}  // namespace

std::string_view to_string(Role role) noexcept {
  switch (role) {
    case Role::admin: return "admin";
    case Role::auditor: return "auditor";
    case Role::signer: return "signer";
    case Role::service: return "service";
  }
  return "unknown";
}

std::string_view to_string(UserStatus status) noexcept {
  return status == UserStatus::active ? "active" : "disabled";
}

std::string_view to_string(VerifyResult result) noexcept {
  switch (result) {
    case VerifyResult::ok: return "ok";
    case VerifyResult::bad_credentials: return "bad_credentials";
    case VerifyResult::locked: return "locked";
    case VerifyResult::disabled: return "disabled";
    case VerifyResult::unknown_user: return "unknown_user";
  }
  return "unknown";
}

std::optional<Role> parse_role(std::string_view text) noexcept {
  for (const Role r : {Role::admin, Role::auditor, Role::signer, Role::service}) {
    if (to_string(r) == text) return r;
  }
  return std::nullopt;
}

std::optional<UserStatus> parse_user_status(std::string_view text) noexcept {
  if (text == "active") return UserStatus::active;
  if (text == "disabled") return UserStatus::disabled;
  return std::nullopt;
}

std::string normalize_username(std::string_view username) {
  if (username.empty() || username.size() > kMaxUsernameBytes) {
    throw Error(Errc::invalid_argument, "username must be 1 to 64 characters", true);
  }
  std::string out(username);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '@' || c == '-';
    if (!ok) throw Error(Errc::invalid_argument, "username may contain only letters, digits and . _ @ -", true);
  }
  return out;
}

bool User::has_role(Role role) const noexcept { return std::find(roles.begin(), roles.end(), role) != roles.end(); }

UserRepository::UserRepository(Database& db, const Clock& clock, PasswordParams params)
    : db_(db), clock_(clock), params_(params) {}

std::string UserRepository::create(const NewUser& user, const std::vector<Role>& roles,
                                   std::optional<std::string_view> password) {
  const std::string username = normalize_username(user.username);
  check_profile(user.profile);
  // Hash before the transaction: Argon2 takes a noticeable time and must not hold the write lock.
  const std::optional<std::string> hash =
      password ? std::optional<std::string>(hash_password(*password, params_)) : std::nullopt;
  const std::string id = new_id();
  const std::int64_t now = to_unix(clock_.now());

  db_.transaction([&](Database& tx) {
    tx.exec("INSERT INTO users (id, username, display_name, email, mobile, status, password_hash, failed_logins, "
            "created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $8)",
            {id, username, nullable(user.profile.display_name), nullable(user.profile.email),
             nullable(user.profile.mobile), std::string(to_string(user.status)), nullable(hash), now});
    for (const Role role : roles) {
      tx.exec("INSERT INTO user_roles (user_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING",
              {id, std::string(to_string(role))});
    }
  });
  return id;
}

std::optional<User> UserRepository::load(std::string_view column, std::string_view value) {
  // `column` is one of two fixed names chosen below, never caller input.
  auto row = db_.query_one("SELECT " + std::string(kUserColumns) + " FROM users WHERE " + std::string(column) + " = $1",
                           {std::string(value)});
  if (!row) return std::nullopt;
  User u = user_from_row(*row);
  for (const Row& r : db_.query("SELECT role FROM user_roles WHERE user_id = $1 ORDER BY role", {u.id})) {
    add_role_text(u, r.get_text(0));
  }
  std::sort(u.roles.begin(), u.roles.end());
  return u;
}

std::optional<User> UserRepository::get(std::string_view id) { return load("id", id); }

std::optional<User> UserRepository::get_by_username(std::string_view username) {
  std::string name;
  try {
    name = normalize_username(username);
  } catch (const Error&) {
    return std::nullopt;  // a name that cannot exist is simply not found
  }
  return load("username", name);
}

std::vector<User> UserRepository::list(const UserFilter& filter) {
  // The WHERE clause is assembled from fixed fragments; values are always bound.
  std::string where = " WHERE 1 = 1";
  Params params;
  if (filter.role) {
    params.emplace_back(std::string(to_string(*filter.role)));
    where += " AND EXISTS (SELECT 1 FROM user_roles f WHERE f.user_id = u.id AND f.role = $" +
             std::to_string(params.size()) + ")";
  }
  if (filter.status) {
    params.emplace_back(std::string(to_string(*filter.status)));
    where += " AND u.status = $" + std::to_string(params.size());
  }

  std::vector<User> users;
  std::map<std::string, std::size_t, std::less<>> by_id;
  for (const Row& row : db_.query("SELECT " + std::string(kUserColumns) + " FROM users u" + where + " ORDER BY username",
                                  params)) {
    by_id.emplace(row.get_text("id"), users.size());
    users.push_back(user_from_row(row));
  }
  if (users.empty()) return users;
  for (const Row& row : db_.query("SELECT r.user_id, r.role FROM user_roles r WHERE r.user_id IN (SELECT u.id FROM users u" +
                                      where + ") ORDER BY r.user_id, r.role",
                                  params)) {
    // A user created between the two queries has no entry here and is skipped.
    if (auto it = by_id.find(row.get_text(0)); it != by_id.end()) add_role_text(users[it->second], row.get_text(1));
  }
  for (User& u : users) std::sort(u.roles.begin(), u.roles.end());
  return users;
}

void UserRepository::touch(std::string_view id, std::string_view set_clause, Params params) {
  const std::size_t n = params.size();
  params.emplace_back(to_unix(clock_.now()));
  params.emplace_back(std::string(id));
  const std::string sql = "UPDATE users SET " + std::string(set_clause) + (set_clause.empty() ? "" : ", ") + "updated_at = $" +
                          std::to_string(n + 1) + " WHERE id = $" + std::to_string(n + 2);
  if (db_.exec(sql, params) == 0) throw Error(Errc::not_found, "no user with id " + std::string(id));
}

void UserRepository::update_profile(std::string_view id, const UserProfile& profile) {
  check_profile(profile);
  touch(id, "display_name = $1, email = $2, mobile = $3",
        {nullable(profile.display_name), nullable(profile.email), nullable(profile.mobile)});
}

void UserRepository::set_status(std::string_view id, UserStatus status) {
  touch(id, "status = $1, login_epoch = login_epoch + 1", {std::string(to_string(status))});
}

void UserRepository::set_password(std::string_view id, std::optional<std::string_view> password) {
  const std::optional<std::string> hash =
      password ? std::optional<std::string>(hash_password(*password, params_)) : std::nullopt;
  touch(id, "password_hash = $1, failed_logins = 0, locked_until = NULL, login_epoch = login_epoch + 1", {nullable(hash)});
}

void UserRepository::unlock(std::string_view id) { touch(id, "failed_logins = 0, locked_until = NULL", {}); }

void UserRepository::add_role(std::string_view id, Role role) {
  db_.transaction([&](Database& tx) {
    if (!tx.query_one("SELECT 1 FROM users WHERE id = $1", {std::string(id)})) {
      throw Error(Errc::not_found, "no user with id " + std::string(id));
    }
    tx.exec("INSERT INTO user_roles (user_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            {std::string(id), std::string(to_string(role))});
  });
}

bool UserRepository::remove_role(std::string_view id, Role role) {
  return db_.exec("DELETE FROM user_roles WHERE user_id = $1 AND role = $2",
                  {std::string(id), std::string(to_string(role))}) > 0;
}

}  // namespace sigil::store
