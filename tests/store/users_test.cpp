// Users, roles and password checks with lockout.
#include <gtest/gtest.h>

#include "sigil/common/error.hpp"
#include "sigil/store/password.hpp"
#include "store_fixture.hpp"

namespace sigil::store::test {
namespace {

class UsersTest : public StoreTest {
 protected:
  UserRepository& users() { return store().users(); }

  std::string make(std::string name, std::vector<Role> roles = {Role::signer},
                   std::optional<std::string_view> password = "s3cret pass") {
    return users().create(NewUser{std::move(name), {}, UserStatus::active}, roles, password);
  }
  VerifyResult check(std::string_view name, std::string_view password) {
    return users().verify_password(name, password, clock_, auth_);
  }
  std::string stored_hash(const std::string& id) {
    return db().query_one("SELECT password_hash FROM users WHERE id = $1", {id})->get_text(0);
  }

  config::AuthConfig auth_ = [] {
    config::AuthConfig a;
    a.max_failed_logins = 3;
    a.lockout = std::chrono::seconds{600};
    return a;
  }();
};

TEST_F(UsersTest, CreateWithRolesAndGet) {
  const std::string id = users().create(
      NewUser{"Alice", UserProfile{"Alice Liddell", "alice@example.org", "+3861234567"}, UserStatus::active},
      {Role::signer, Role::admin, Role::signer}, "pw one");
  EXPECT_EQ(id.size(), 32u);

  const auto u = users().get(id);
  ASSERT_TRUE(u);
  EXPECT_EQ(u->username, "alice");  // case-folded
  EXPECT_EQ(u->profile.display_name, "Alice Liddell");
  EXPECT_EQ(u->profile.email, "alice@example.org");
  EXPECT_EQ(u->profile.mobile, "+3861234567");
  EXPECT_EQ(u->status, UserStatus::active);
  EXPECT_EQ(u->roles, (std::vector<Role>{Role::admin, Role::signer}));
  EXPECT_TRUE(u->has_role(Role::admin));
  EXPECT_FALSE(u->has_role(Role::auditor));
  EXPECT_TRUE(u->has_password);
  EXPECT_EQ(u->created_at, to_unix(clock_.now()));

  const auto by_name = users().get_by_username("ALICE");
  ASSERT_TRUE(by_name);
  EXPECT_EQ(by_name->id, id);
  EXPECT_FALSE(users().get("nope"));
  EXPECT_FALSE(users().get_by_username("nobody"));
  EXPECT_FALSE(users().get_by_username("not a valid name!"));
}

TEST_F(UsersTest, UsernamesAreUniqueAndValidated) {
  make("bob");
  EXPECT_SIGIL_ERROR(make("BOB"), Errc::already_exists);
  EXPECT_SIGIL_ERROR(make(""), Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(make("has space"), Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(make(std::string(65, 'a')), Errc::invalid_argument);
  // A failed create leaves nothing behind.
  EXPECT_EQ(users().list().size(), 1u);
}

TEST_F(UsersTest, ServiceUserWithoutPassword) {
  const std::string id = make("batch", {Role::service}, std::nullopt);
  EXPECT_FALSE(users().get(id)->has_password);
  EXPECT_EQ(check("batch", "anything"), VerifyResult::bad_credentials);
}

TEST_F(UsersTest, ListFiltersByRoleAndStatus) {
  const std::string a = make("carol", {Role::admin, Role::auditor});
  const std::string b = make("dave", {Role::signer});
  const std::string c = make("erin", {Role::signer, Role::auditor});
  users().set_status(c, UserStatus::disabled);

  const auto all = users().list();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].username, "carol");
  EXPECT_EQ(all[0].roles, (std::vector<Role>{Role::admin, Role::auditor}));
  EXPECT_EQ(all[2].roles, (std::vector<Role>{Role::auditor, Role::signer}));

  const auto auditors = users().list(UserFilter{Role::auditor, std::nullopt});
  ASSERT_EQ(auditors.size(), 2u);
  EXPECT_EQ(auditors[0].id, a);
  EXPECT_EQ(auditors[1].id, c);
  EXPECT_EQ(auditors[1].roles.size(), 2u);  // every role of a listed user, not only the filtered one

  const auto active_signers = users().list(UserFilter{Role::signer, UserStatus::active});
  ASSERT_EQ(active_signers.size(), 1u);
  EXPECT_EQ(active_signers[0].id, b);
  EXPECT_EQ(users().list(UserFilter{std::nullopt, UserStatus::disabled}).size(), 1u);
  EXPECT_TRUE(users().list(UserFilter{Role::service, std::nullopt}).empty());
}

TEST_F(UsersTest, UpdateProfileStatusAndRoles) {
  const std::string id = make("frank");
  clock_.advance(std::chrono::seconds{10});
  users().update_profile(id, UserProfile{"Frank", std::nullopt, "+1555"});
  auto u = users().get(id);
  EXPECT_EQ(u->profile.display_name, "Frank");
  EXPECT_FALSE(u->profile.email);
  EXPECT_EQ(u->updated_at, u->created_at + 10);

  users().set_status(id, UserStatus::disabled);
  EXPECT_EQ(users().get(id)->status, UserStatus::disabled);
  users().set_status(id, UserStatus::active);
  EXPECT_EQ(users().get(id)->status, UserStatus::active);

  users().add_role(id, Role::auditor);
  users().add_role(id, Role::auditor);  // idempotent
  EXPECT_EQ(users().get(id)->roles, (std::vector<Role>{Role::auditor, Role::signer}));
  EXPECT_TRUE(users().remove_role(id, Role::signer));
  EXPECT_FALSE(users().remove_role(id, Role::signer));
  EXPECT_EQ(users().get(id)->roles, (std::vector<Role>{Role::auditor}));

  EXPECT_SIGIL_ERROR(users().set_status("missing", UserStatus::active), Errc::not_found);
  EXPECT_SIGIL_ERROR(users().update_profile("missing", {}), Errc::not_found);
  EXPECT_SIGIL_ERROR(users().add_role("missing", Role::admin), Errc::not_found);
}

TEST_F(UsersTest, PasswordOkAndBad) {
  make("gina");
  EXPECT_EQ(check("gina", "s3cret pass"), VerifyResult::ok);
  EXPECT_EQ(check("GINA", "s3cret pass"), VerifyResult::ok);
  EXPECT_EQ(check("gina", "wrong"), VerifyResult::bad_credentials);
  EXPECT_EQ(check("nobody", "s3cret pass"), VerifyResult::unknown_user);
  EXPECT_EQ(check("bad name!", "x"), VerifyResult::unknown_user);
}

TEST_F(UsersTest, SuccessResetsFailureCount) {
  const std::string id = make("hank");
  EXPECT_EQ(check("hank", "wrong"), VerifyResult::bad_credentials);
  EXPECT_EQ(check("hank", "wrong"), VerifyResult::bad_credentials);
  EXPECT_EQ(users().get(id)->failed_logins, 2);
  EXPECT_EQ(check("hank", "s3cret pass"), VerifyResult::ok);
  EXPECT_EQ(users().get(id)->failed_logins, 0);
  // Two more failures do not lock: the count started again.
  EXPECT_EQ(check("hank", "wrong"), VerifyResult::bad_credentials);
  EXPECT_EQ(check("hank", "wrong"), VerifyResult::bad_credentials);
  EXPECT_EQ(check("hank", "s3cret pass"), VerifyResult::ok);
}

TEST_F(UsersTest, LockoutAfterMaxFailuresThenUnlockWhenTimePasses) {
  const std::string id = make("ivan");
  for (int i = 0; i < 3; ++i) EXPECT_EQ(check("ivan", "wrong"), VerifyResult::bad_credentials);
  const auto u = users().get(id);
  EXPECT_EQ(u->locked_until, to_unix(clock_.now()) + 600);

  EXPECT_EQ(check("ivan", "s3cret pass"), VerifyResult::locked);  // even the right password
  EXPECT_EQ(check("ivan", "wrong"), VerifyResult::locked);
  clock_.advance(std::chrono::seconds{599});
  EXPECT_EQ(check("ivan", "s3cret pass"), VerifyResult::locked);

  clock_.advance(std::chrono::seconds{1});
  EXPECT_EQ(check("ivan", "s3cret pass"), VerifyResult::ok);
  EXPECT_FALSE(users().get(id)->locked_until);
}

TEST_F(UsersTest, AdminUnlockAndPasswordChange) {
  const std::string id = make("judy");
  for (int i = 0; i < 3; ++i) check("judy", "wrong");
  EXPECT_EQ(check("judy", "s3cret pass"), VerifyResult::locked);
  users().unlock(id);
  EXPECT_EQ(check("judy", "s3cret pass"), VerifyResult::ok);

  users().set_password(id, "new password");
  EXPECT_EQ(check("judy", "s3cret pass"), VerifyResult::bad_credentials);
  EXPECT_EQ(check("judy", "new password"), VerifyResult::ok);
  users().set_password(id, std::nullopt);
  EXPECT_FALSE(users().get(id)->has_password);
  EXPECT_EQ(check("judy", "new password"), VerifyResult::bad_credentials);
}

TEST_F(UsersTest, DisabledUserRefused) {
  const std::string id = make("kate");
  users().set_status(id, UserStatus::disabled);
  EXPECT_EQ(check("kate", "s3cret pass"), VerifyResult::disabled);
  EXPECT_EQ(check("kate", "wrong"), VerifyResult::bad_credentials);  // status not revealed to guessers
  users().set_status(id, UserStatus::active);
  EXPECT_EQ(check("kate", "s3cret pass"), VerifyResult::ok);
}

TEST_F(UsersTest, ZeroMaxFailuresNeverLocks) {
  make("liam");
  auth_.max_failed_logins = 0;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(check("liam", "wrong"), VerifyResult::bad_credentials);
  EXPECT_EQ(check("liam", "s3cret pass"), VerifyResult::ok);
}

TEST_F(UsersTest, HashesAreSaltedArgon2id) {
  const std::string a = make("mia", {}, "same password");
  const std::string b = make("noah", {}, "same password");
  const std::string ha = stored_hash(a);
  const std::string hb = stored_hash(b);
  EXPECT_TRUE(is_argon2id_hash(ha)) << ha;
  EXPECT_TRUE(ha.starts_with("$argon2id$v=19$m=1024,t=1,p=1$")) << ha;
  EXPECT_NE(ha, hb);
  EXPECT_EQ(ha.find("same password"), std::string::npos);
}

TEST_F(UsersTest, UnknownUserCostsAboutAsMuchAsAKnownOne) {
  // Use a cost where Argon2 dominates (8 MiB): an unknown user must not answer much faster.
  UserRepository repo(db(), clock_, PasswordParams{2, 8 * 1024, 1});
  repo.create(NewUser{"olga", {}, UserStatus::active}, {}, "pw");
  auto time = [&](std::string_view name) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 3; ++i) repo.verify_password(name, "wrong", clock_, [] {
      config::AuthConfig a;
      a.max_failed_logins = 0;
      a.lockout = {};
      return a;
    }());
    return std::chrono::steady_clock::now() - start;
  };
  (void)time("ghost");  // builds the dummy hash once
  const auto known = time("olga");
  const auto unknown = time("ghost");
  EXPECT_GT(unknown * 3, known) << "unknown user answered far faster than a known one";
}

}  // namespace
}  // namespace sigil::store::test
