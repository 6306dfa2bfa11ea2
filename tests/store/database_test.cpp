// The SQL layer over SQLite: placeholders, value round trips, transactions, error translation.
#include <gtest/gtest.h>

#include <cstdio>
#include <chrono>
#include <thread>
#include <future>
#include <fstream>
#include <stdexcept>

#include "sigil/common/error.hpp"
#include "sigil/store/database.hpp"
#include "sigil/store/sqlite.hpp"
#include "store_fixture.hpp"

namespace sigil::store::test {
namespace {

// SQLite's own behaviour (an untyped column, pragmas, the file); postgres_database_test.cpp holds
// the same contract for PostgreSQL.
class DatabaseTest : public StoreTest {
 protected:
  void SetUp() override {
    if (sigil::test::on_postgres()) GTEST_SKIP() << "SQLite backend tests";
    db().exec_script("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE, v)");
  }
};

TEST_F(DatabaseTest, ReportsBackendAndPings) {
  EXPECT_EQ(db().backend(), "sqlite");
  EXPECT_NO_THROW(db().ping());
}

TEST_F(DatabaseTest, PlaceholdersBindByNumberNotPosition) {
  db().exec("INSERT INTO t (name, id) VALUES ($2, $1)", {std::int64_t{7}, "seven"});
  const auto row = db().query_one("SELECT id, name FROM t WHERE name = $1", {"seven"});
  ASSERT_TRUE(row);
  EXPECT_EQ(row->get_int(0), 7);
  EXPECT_EQ(row->get_text("name"), "seven");
}

TEST_F(DatabaseTest, PlaceholderUsedTwiceBindsOnce) {
  const auto row = db().query_one("SELECT $1 + $1 AS twice, $2 AS other", {std::int64_t{21}, "x"});
  ASSERT_TRUE(row);
  EXPECT_EQ(row->get_int("twice"), 42);
  EXPECT_EQ(row->get_text("other"), "x");
}

TEST_F(DatabaseTest, ParameterCountMustMatch) {
  EXPECT_SIGIL_ERROR(db().query("SELECT $1", {}), Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(db().query("SELECT $1", {std::int64_t{1}, std::int64_t{2}}), Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(db().query("SELECT $2", {std::int64_t{1}, std::int64_t{2}}), Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(db().query("SELECT ?", {std::int64_t{1}}), Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(db().query("SELECT :a", {std::int64_t{1}}), Errc::invalid_argument);
}

TEST_F(DatabaseTest, OneStatementPerExec) {
  EXPECT_SIGIL_ERROR(db().exec("DELETE FROM t; DROP TABLE t"), Errc::invalid_argument);
  EXPECT_NO_THROW(db().exec("DELETE FROM t;  \n"));
}

TEST_F(DatabaseTest, ValuesRoundTrip) {
  const Bytes blob{0x00, 0xff, 0x10, 0x00};
  const Params values{nullptr, std::int64_t{-9'000'000'000'000}, 2.5, std::string("h\xc3\xa9llo"), blob, Bytes{}};
  for (std::size_t i = 0; i < values.size(); ++i) {
    db().exec("INSERT INTO t (id, v) VALUES ($1, $2)", {static_cast<std::int64_t>(i), values[i]});
  }
  const auto rows = db().query("SELECT id, v FROM t ORDER BY id");
  ASSERT_EQ(rows.size(), values.size());
  for (std::size_t i = 0; i < values.size(); ++i) EXPECT_EQ(rows[i].value(1), values[i]) << "row " << i;

  EXPECT_TRUE(rows[0].is_null("v"));
  EXPECT_FALSE(rows[0].opt_int(1));
  EXPECT_EQ(rows[1].get_int(1), -9'000'000'000'000);
  EXPECT_DOUBLE_EQ(rows[2].get_double(1), 2.5);
  EXPECT_EQ(rows[3].opt_text("v"), "h\xc3\xa9llo");
  EXPECT_EQ(rows[4].get_blob(1), blob);
  EXPECT_TRUE(rows[5].get_blob(1).empty());  // an empty blob stays a blob, not NULL
}

TEST_F(DatabaseTest, WrongTypeOrColumnIsAnInternalError) {
  db().exec("INSERT INTO t (id, name) VALUES (1, 'a')");
  const auto row = db().query_one("SELECT id, name FROM t");
  ASSERT_TRUE(row);
  EXPECT_SIGIL_ERROR((void)row->get_text(0), Errc::internal);
  EXPECT_SIGIL_ERROR((void)row->get_int("name"), Errc::internal);
  EXPECT_SIGIL_ERROR((void)row->get_int("missing"), Errc::internal);
  EXPECT_SIGIL_ERROR((void)row->value(5), Errc::internal);
}

TEST_F(DatabaseTest, ExecReturnsRowsAffected) {
  EXPECT_EQ(db().exec("INSERT INTO t (name) VALUES ($1)", {"a"}), 1);
  EXPECT_EQ(db().exec("INSERT INTO t (name) VALUES ($1)", {"b"}), 1);
  EXPECT_EQ(db().exec("UPDATE t SET v = 1"), 2);
  EXPECT_EQ(db().exec("DELETE FROM t WHERE name = $1", {"zzz"}), 0);
  EXPECT_FALSE(db().query_one("SELECT * FROM t WHERE name = $1", {"zzz"}));
}

TEST_F(DatabaseTest, TransactionCommits) {
  db().transaction([](Database& tx) {
    tx.exec("INSERT INTO t (name) VALUES ($1)", {"a"});
    tx.exec("INSERT INTO t (name) VALUES ($1)", {"b"});
  });
  EXPECT_EQ(db().query("SELECT * FROM t").size(), 2u);
}

TEST_F(DatabaseTest, TransactionRollsBackOnException) {
  EXPECT_THROW(db().transaction([](Database& tx) {
    tx.exec("INSERT INTO t (name) VALUES ($1)", {"a"});
    throw std::runtime_error("boom");
  }),
               std::runtime_error);
  EXPECT_TRUE(db().query("SELECT * FROM t").empty());
  // The connection went back to the pool clean: the next transaction works.
  db().transaction([](Database& tx) { tx.exec("INSERT INTO t (name) VALUES ($1)", {"b"}); });
  EXPECT_EQ(db().query("SELECT * FROM t").size(), 1u);
}

TEST_F(DatabaseTest, NestedTransactionIsASavepoint) {
  db().transaction([](Database& tx) {
    tx.exec("INSERT INTO t (name) VALUES ($1)", {"outer"});
    EXPECT_THROW(tx.transaction([](Database& inner) {
      inner.exec("INSERT INTO t (name) VALUES ($1)", {"inner"});
      throw std::runtime_error("inner fails");
    }),
                 std::runtime_error);
  });
  const auto rows = db().query("SELECT name FROM t");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].get_text(0), "outer");
}

TEST_F(DatabaseTest, OuterDatabaseInsideTransactionIsRefused) {
  EXPECT_SIGIL_ERROR(db().transaction([this](Database&) { db().exec("INSERT INTO t (name) VALUES ('x')"); }),
                     Errc::internal);
  EXPECT_TRUE(db().query("SELECT * FROM t").empty());
}

TEST_F(DatabaseTest, ConstraintViolationsAreTranslated) {
  db().exec("INSERT INTO t (name) VALUES ($1)", {"dup"});
  EXPECT_SIGIL_ERROR(db().exec("INSERT INTO t (name) VALUES ($1)", {"dup"}), Errc::already_exists);
  EXPECT_SIGIL_ERROR(db().exec("INSERT INTO users (id, username, status, created_at, updated_at) "
                               "VALUES ('u', 'n', 'weird', 0, 0)"),
                     Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(db().exec("INSERT INTO user_roles (user_id, role) VALUES ('nobody', 'admin')"),
                     Errc::store_conflict);
  EXPECT_SIGIL_ERROR(db().exec("SELECT * FROM no_such_table"), Errc::internal);
}

TEST_F(DatabaseTest, ErrorDetailIsInternal) {
  db().exec("INSERT INTO t (name) VALUES ($1)", {"dup"});
  try {
    db().exec("INSERT INTO t (name) VALUES ($1)", {"dup"});
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_NE(e.detail().find("UNIQUE"), std::string::npos) << e.detail();
    EXPECT_FALSE(e.detail_is_public());
    EXPECT_EQ(e.public_description().find("UNIQUE"), std::string::npos);
  }
}

TEST_F(DatabaseTest, PragmasInEffectOnEveryConnection) {
  EXPECT_EQ(db().query_one("PRAGMA journal_mode")->get_text(0), "wal");
  EXPECT_EQ(db().query_one("PRAGMA foreign_keys")->get_int(0), 1);
  EXPECT_EQ(db().query_one("PRAGMA synchronous")->get_int(0), 2);  // FULL
  // A connection used inside a transaction while another is lent out has the same settings.
  db().transaction([](Database& tx) {
    EXPECT_EQ(tx.query_one("PRAGMA foreign_keys")->get_int(0), 1);
    EXPECT_EQ(tx.query_one("PRAGMA synchronous")->get_int(0), 2);
  });
}

TEST_F(DatabaseTest, FileIsOwnerOnly) {
  const auto perms = std::filesystem::status(db_path()).permissions();
  EXPECT_EQ(perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all),
            std::filesystem::perms::none);
}

TEST(OpenDatabase, UnreachableFileIsStoreUnavailable) {
  sigil::test::TempDir dir;
  EXPECT_SIGIL_ERROR(open_sqlite(SqliteOptions{dir.path() / "missing-dir" / "x.db"}), Errc::store_unavailable);
  const auto garbage = dir.path() / "garbage.db";
  {
    std::FILE* f = std::fopen(garbage.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fputs("this is not an SQLite database, not at all, it is just text padded to be long enough", f);
    std::fclose(f);
  }
  EXPECT_SIGIL_ERROR(open_sqlite(SqliteOptions{garbage}), Errc::store_unavailable);
}

// A long consistent read (audit verify) neither waits for nor holds up writers, sees one
// snapshot, and cannot write.
TEST_F(DatabaseTest, AReadTransactionIsASnapshotThatDoesNotBlockWriters) {
  db().exec("INSERT INTO t (id) VALUES (1)");
  std::promise<void> read_once;
  std::promise<void> written;
  std::thread reader([&] {
    db().read_transaction([&](Database& tx) {
      EXPECT_EQ(tx.query("SELECT id FROM t").size(), 1u);
      read_once.set_value();
      written.get_future().wait();
      EXPECT_EQ(tx.query("SELECT id FROM t").size(), 1u);  // the snapshot, not the new row
      EXPECT_THROW(tx.exec("INSERT INTO t (id) VALUES (3)"), Error);  // refused
    });
  });
  read_once.get_future().wait();
  const auto start = std::chrono::steady_clock::now();
  db().transaction([](Database& tx) { tx.exec("INSERT INTO t (id) VALUES (2)"); });  // not held up
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds{2});
  written.set_value();
  reader.join();
  EXPECT_EQ(db().query("SELECT id FROM t").size(), 2u);
  db().exec("INSERT INTO t (id) VALUES (4)");  // the connection is writable again
}

TEST(OpenDatabase, BackendSelection) {
  sigil::test::TempDir dir;
  FakeClock clock;
  auto config = sqlite_config(dir.path() / "s.db");
  config.backend = "postgres";  // without a conninfo
  EXPECT_SIGIL_ERROR(open_store(config, clock), Errc::config_invalid);
  std::ofstream(dir.path() / "conninfo") << "host=" << dir.path().string() << " port=1 connect_timeout=2";
  config.postgres_conninfo.file = dir.path() / "conninfo";  // no server there
  EXPECT_SIGIL_ERROR(open_store(config, clock), Errc::store_unavailable);
  config.backend = "mysql";
  EXPECT_SIGIL_ERROR(open_store(config, clock), Errc::config_invalid);
}

}  // namespace
}  // namespace sigil::store::test
