// Versioned migrations: applied once, idempotent on restart, newer databases refused.
#include <gtest/gtest.h>

#include <array>

#include "sigil/common/error.hpp"
#include "sigil/store/migrations.hpp"
#include "sigil/store/sqlite.hpp"
#include "store_fixture.hpp"

namespace sigil::store::test {
namespace {

class MigrationsTest : public ::testing::Test {
 protected:
  std::unique_ptr<Database> open() { return open_sqlite(SqliteOptions{dir_.path() / "m.db"}); }

  sigil::test::TempDir dir_;
  FakeClock clock_;
};

TEST_F(MigrationsTest, BuiltinListIsOrdered) {
  const auto list = builtin_migrations();
  ASSERT_FALSE(list.empty());
  EXPECT_EQ(list.front().version, 1);
  for (std::size_t i = 1; i < list.size(); ++i) EXPECT_GT(list[i].version, list[i - 1].version);
}

TEST_F(MigrationsTest, AppliesOnceAndReopenIsIdempotent) {
  {
    auto db = open();
    const std::vector<int> applied = migrate(*db, clock_);
    ASSERT_EQ(applied.size(), builtin_migrations().size());
    EXPECT_EQ(applied.front(), 1);
    EXPECT_TRUE(migrate(*db, clock_).empty());
    const auto row = db->query_one("SELECT name, applied_at FROM schema_migrations WHERE version = 1");
    ASSERT_TRUE(row);
    EXPECT_EQ(row->get_text("name"), builtin_migrations().front().name);
    EXPECT_EQ(row->get_text("applied_at"), to_rfc3339(clock_.now()));
  }
  auto db = open();
  EXPECT_TRUE(migrate(*db, clock_).empty());
  EXPECT_EQ(db->query("SELECT version FROM schema_migrations").size(), builtin_migrations().size());
  for (const char* table : {"users", "user_roles", "api_keys", "settings"}) {
    EXPECT_TRUE(db->query_one("SELECT name FROM sqlite_master WHERE type = 'table' AND name = $1", {table})) << table;
  }
}

TEST_F(MigrationsTest, NewerDatabaseIsRefused) {
  {
    auto db = open();
    migrate(*db, clock_);
    db->exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'from the future', 'x')");
  }
  auto db = open();
  EXPECT_SIGIL_ERROR(migrate(*db, clock_), Errc::store_migration);
  // And through the Store factory, at startup.
  EXPECT_SIGIL_ERROR(open_store(sqlite_config(dir_.path() / "m.db"), clock_), Errc::store_migration);
}

TEST_F(MigrationsTest, RenamedMigrationIsRefused) {
  auto db = open();
  migrate(*db, clock_);
  db->exec("UPDATE schema_migrations SET name = 'something else' WHERE version = 1");
  EXPECT_SIGIL_ERROR(migrate(*db, clock_), Errc::store_migration);
}

TEST_F(MigrationsTest, LaterMigrationsApplyIncrementallyAndFailuresRollBack) {
  auto db = open();
  const std::array first{Migration{1, "one", "CREATE TABLE a (x INTEGER)"}};
  EXPECT_EQ(migrate(*db, clock_, first), std::vector<int>{1});

  const std::array more{
      Migration{1, "one", "CREATE TABLE a (x INTEGER)"},
      Migration{2, "two", "CREATE TABLE b (x INTEGER); INSERT INTO b VALUES (1)"},
      Migration{3, "three", "CREATE TABLE c (x INTEGER); THIS IS NOT SQL"},
  };
  EXPECT_SIGIL_ERROR(migrate(*db, clock_, more), Errc::store_migration);
  // 2 committed; 3 left nothing behind (its table creation was rolled back with it).
  EXPECT_TRUE(db->query_one("SELECT 1 FROM schema_migrations WHERE version = 2"));
  EXPECT_FALSE(db->query_one("SELECT 1 FROM schema_migrations WHERE version = 3"));
  EXPECT_FALSE(db->query_one("SELECT 1 FROM sqlite_master WHERE name = 'c'"));
}

TEST_F(MigrationsTest, PerBackendTextWins) {
  const Migration m{1, "x", "portable", "sqlite text", "postgres text"};
  EXPECT_EQ(m.sql_for("sqlite"), "sqlite text");
  EXPECT_EQ(m.sql_for("postgres"), "postgres text");
  const Migration plain{1, "x", "portable"};
  EXPECT_EQ(plain.sql_for("sqlite"), "portable");
}

}  // namespace
}  // namespace sigil::store::test
