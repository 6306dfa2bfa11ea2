// API keys: shown once, hashed at rest, refused when wrong, revoked or malformed.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "sigil/common/error.hpp"
#include "store_fixture.hpp"

namespace sigil::store::test {
namespace {

class ApiKeysTest : public StoreTest {
 protected:
  ApiKeysTest() { user_ = store().users().create(NewUser{"svc", {}, UserStatus::active}, {Role::service}); }
  ApiKeyRepository& keys() { return store().api_keys(); }

  std::string user_;
};

// All bytes of the database and its WAL, as they are on disk.
std::string raw_files(const std::filesystem::path& db) {
  std::string all;
  for (const auto& p : {db, std::filesystem::path(db.string() + "-wal")}) {
    std::ifstream in(p, std::ios::binary);
    all.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return all;
}

TEST_F(ApiKeysTest, CreateShowsTheKeyOnceInTheDocumentedFormat) {
  const NewApiKey k = keys().create(user_, "ci pipeline");
  const std::string_view key = k.key.view();
  ASSERT_EQ(key.size(), 55u);
  EXPECT_TRUE(key.starts_with("sk_"));
  EXPECT_EQ(key.substr(3, 8), k.info.prefix);
  EXPECT_EQ(key[11], '_');
  EXPECT_EQ(k.info.user_id, user_);
  EXPECT_EQ(k.info.label, "ci pipeline");
  EXPECT_FALSE(k.info.revoked());

  const auto listed = keys().list(user_);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].id, k.info.id);
  EXPECT_EQ(listed[0].prefix, k.info.prefix);
  EXPECT_NE(keys().create(user_).key.view(), key);
}

TEST_F(ApiKeysTest, AuthenticateAndRecordUse) {
  const NewApiKey k = keys().create(user_);
  EXPECT_EQ(keys().authenticate(k.key.view()), user_);
  EXPECT_EQ(keys().list(user_)[0].last_used_at, to_unix(clock_.now()));

  // Refreshed at most once a minute.
  clock_.advance(std::chrono::seconds{30});
  EXPECT_EQ(keys().authenticate(k.key.view()), user_);
  EXPECT_EQ(keys().list(user_)[0].last_used_at, to_unix(clock_.now()) - 30);
  clock_.advance(std::chrono::seconds{30});
  EXPECT_EQ(keys().authenticate(k.key.view()), user_);
  EXPECT_EQ(keys().list(user_)[0].last_used_at, to_unix(clock_.now()));
}

TEST_F(ApiKeysTest, WrongSecretAndMalformedKeysAreRefused) {
  const NewApiKey k = keys().create(user_);
  std::string wrong(k.key.view());
  wrong.back() = wrong.back() == 'A' ? 'B' : 'A';
  EXPECT_FALSE(keys().authenticate(wrong));

  const std::string key(k.key.view());
  for (const std::string& bad : {std::string(), std::string("sk_"), key.substr(0, 54), key + "A",
                                 "xk" + key.substr(2), key.substr(0, 11) + "!" + key.substr(12),
                                 key.substr(0, 20) + "$" + key.substr(21)}) {
    EXPECT_FALSE(keys().authenticate(bad)) << bad;
  }
  // An unknown prefix with a well-formed shape.
  EXPECT_FALSE(keys().authenticate("sk_AAAAAAAA_" + std::string(43, 'A')));
}

TEST_F(ApiKeysTest, RevokedKeyIsRefused) {
  const NewApiKey k = keys().create(user_);
  const NewApiKey other = keys().create(user_);
  clock_.advance(std::chrono::seconds{5});
  keys().revoke(k.info.id);
  const auto revoked_at = to_unix(clock_.now());
  EXPECT_FALSE(keys().authenticate(k.key.view()));
  EXPECT_EQ(keys().authenticate(other.key.view()), user_);

  clock_.advance(std::chrono::seconds{5});
  keys().revoke(k.info.id);  // keeps the first revocation time
  for (const auto& info : keys().list(user_)) {
    if (info.id == k.info.id) {
      EXPECT_EQ(info.revoked_at, revoked_at);
    }
  }
  EXPECT_SIGIL_ERROR(keys().revoke("missing"), Errc::not_found);
}

TEST_F(ApiKeysTest, DisabledUsersKeysAreRefused) {
  const NewApiKey k = keys().create(user_);
  store().users().set_status(user_, UserStatus::disabled);
  EXPECT_FALSE(keys().authenticate(k.key.view()));
}

TEST_F(ApiKeysTest, UnknownUserIsNotFound) { EXPECT_SIGIL_ERROR(keys().create("nobody"), Errc::not_found); }

TEST_F(ApiKeysTest, DatabaseNeverHoldsTheSecret) {
  if (sigil::test::on_postgres()) GTEST_SKIP() << "scans the SQLite file";
  const NewApiKey k = keys().create(user_, "scan me");
  const std::string secret(k.key.view().substr(12));
  ASSERT_EQ(secret.size(), 43u);
  keys().authenticate(k.key.view());

  const std::string bytes = raw_files(db_path());
  ASSERT_NE(bytes.find(k.info.prefix), std::string::npos);  // the scan does see stored data
  EXPECT_EQ(bytes.find(secret), std::string::npos);
  EXPECT_EQ(bytes.find(secret.substr(0, 16)), std::string::npos);
}

}  // namespace
}  // namespace sigil::store::test
