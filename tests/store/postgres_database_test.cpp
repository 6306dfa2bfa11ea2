// The SQL layer over PostgreSQL (runs under tests/support/with_postgres.sh; skipped otherwise):
// the Database contract database_test.cpp checks for SQLite, with typed columns, and the
// cluster-wide write lock that keeps SQLite's single-writer semantics across nodes.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <thread>

#include "sigil/common/error.hpp"
#include "sigil/store/postgres.hpp"
#include "store_fixture.hpp"

namespace sigil::store::test {
namespace {

class PostgresTest : public StoreTest {
 protected:
  void SetUp() override {
    if (!sigil::test::on_postgres()) GTEST_SKIP() << "needs SIGIL_TEST_POSTGRES (tests/support/with_postgres.sh)";
    db().exec_script(
        "CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT UNIQUE, n BIGINT, d DOUBLE PRECISION, b BYTEA, s INTEGER,"
        " CHECK (n IS NULL OR n >= 0));"
        "CREATE TABLE child (id BIGINT PRIMARY KEY, parent BIGINT NOT NULL REFERENCES t (id))");
  }
  // A second node: its own pool on the same schema.
  std::unique_ptr<Database> node(std::chrono::milliseconds timeout = std::chrono::milliseconds{5000}) {
    return open_postgres(PostgresOptions{backend_.config().postgres_conninfo.resolve(), timeout, 4});
  }
};

TEST_F(PostgresTest, ReportsBackendAndPings) {
  EXPECT_EQ(db().backend(), "postgres");
  EXPECT_NO_THROW(db().ping());
}

TEST_F(PostgresTest, PlaceholdersBindByNumber) {
  db().exec("INSERT INTO t (name, id) VALUES ($2, $1)", {std::int64_t{7}, "seven"});
  const auto row = db().query_one("SELECT id, name FROM t WHERE name = $1", {"seven"});
  ASSERT_TRUE(row);
  EXPECT_EQ(row->get_int(0), 7);
  EXPECT_EQ(row->get_text("name"), "seven");
  const auto twice = db().query_one("SELECT $1 + $1 AS twice, $2 AS other", {std::int64_t{21}, "x"});
  ASSERT_TRUE(twice);
  EXPECT_EQ(twice->get_int("twice"), 42);
  EXPECT_EQ(twice->get_text("other"), "x");
}

TEST_F(PostgresTest, StatementRulesAreTheSqliteOnes) {
  EXPECT_SIGIL_ERROR(db().query("SELECT $1", {}), Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(db().query("SELECT $1", {std::int64_t{1}, std::int64_t{2}}), Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(db().query("SELECT $2", {std::int64_t{1}, std::int64_t{2}}), Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(db().query("SELECT ?", {std::int64_t{1}}), Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(db().query("SELECT :a", {std::int64_t{1}}), Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(db().exec("DELETE FROM t; DROP TABLE t"), Errc::invalid_argument);
  EXPECT_NO_THROW(db().exec("DELETE FROM t;  \n"));
  EXPECT_NO_THROW(db().query("SELECT '?;:a' || $1::text AS q", {"x"}));  // inside quotes, and a cast
}

TEST_F(PostgresTest, ValuesRoundTrip) {
  const Bytes blob{0x00, 0xff, 0x10, 0x00};
  db().exec("INSERT INTO t (id, name, n, d, b, s) VALUES ($1, $2, $3, $4, $5, $6)",
            {std::int64_t{1}, std::string("h\xc3\xa9llo"), std::int64_t{9'000'000'000'000}, 2.5, blob, std::int64_t{3}});
  db().exec("INSERT INTO t (id, name, n, d, b, s) VALUES ($1, $2, $3, $4, $5, $6)",
            {std::int64_t{2}, nullptr, nullptr, nullptr, Bytes{}, nullptr});
  const auto rows = db().query("SELECT id, name, n, d, b, s, n > 0 AS positive FROM t ORDER BY id");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].get_text("name"), "h\xc3\xa9llo");
  EXPECT_EQ(rows[0].get_int("n"), 9'000'000'000'000);
  EXPECT_DOUBLE_EQ(rows[0].get_double("d"), 2.5);
  EXPECT_EQ(rows[0].get_blob("b"), blob);
  EXPECT_EQ(rows[0].get_int("s"), 3);         // INTEGER (int4) reads as an integer too
  EXPECT_EQ(rows[0].get_int("positive"), 1);  // booleans read as 0/1, as on SQLite
  EXPECT_TRUE(rows[1].is_null("name"));
  EXPECT_FALSE(rows[1].opt_int("n"));
  EXPECT_TRUE(rows[1].get_blob("b").empty());
  EXPECT_SIGIL_ERROR(rows[0].get_int("name"), Errc::internal);
}

TEST_F(PostgresTest, ExecReturnsRowsAffected) {
  for (std::int64_t i = 1; i <= 3; ++i) db().exec("INSERT INTO t (id) VALUES ($1)", {i});
  EXPECT_EQ(db().exec("UPDATE t SET n = 1 WHERE id >= $1", {std::int64_t{2}}), 2);
  EXPECT_EQ(db().exec("DELETE FROM t WHERE id = $1", {std::int64_t{99}}), 0);
  const auto returned = db().query("INSERT INTO t (id) VALUES ($1) RETURNING id", {std::int64_t{4}});
  ASSERT_EQ(returned.size(), 1u);
  EXPECT_EQ(returned[0].get_int("id"), 4);
}

TEST_F(PostgresTest, TransactionsCommitRollBackAndNest) {
  db().transaction([](Database& tx) { tx.exec("INSERT INTO t (id) VALUES (1)"); });
  EXPECT_THROW(db().transaction([](Database& tx) {
    tx.exec("INSERT INTO t (id) VALUES (2)");
    throw std::runtime_error("body fails");
  }),
               std::runtime_error);
  db().transaction([](Database& tx) {
    tx.exec("INSERT INTO t (id) VALUES (3)");
    EXPECT_THROW(tx.transaction([](Database& sp) {
      sp.exec("INSERT INTO t (id) VALUES (4)");
      throw std::runtime_error("inner fails");
    }),
                 std::runtime_error);
    // A failed statement inside a savepoint leaves the outer transaction usable.
    EXPECT_SIGIL_ERROR(tx.transaction([](Database& sp) { sp.exec("INSERT INTO t (id) VALUES (1)"); }),
                       Errc::already_exists);
    tx.exec("INSERT INTO t (id) VALUES (5)");
  });
  const auto rows = db().query("SELECT id FROM t ORDER BY id");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].get_int(0), 1);
  EXPECT_EQ(rows[1].get_int(0), 3);
  EXPECT_EQ(rows[2].get_int(0), 5);
}

TEST_F(PostgresTest, ASwallowedErrorOutsideASavepointIsNotReportedAsACommit) {
  // PostgreSQL answers COMMIT of an aborted transaction with a silent ROLLBACK: refused loudly.
  EXPECT_SIGIL_ERROR(db().transaction([](Database& tx) {
    tx.exec("INSERT INTO t (id) VALUES (1)");
    try {
      tx.exec("INSERT INTO t (id) VALUES (1)");
    } catch (const Error&) {  // NOLINT(bugprone-empty-catch): the point of the test
    }
  }),
                     Errc::internal);
  EXPECT_TRUE(db().query("SELECT id FROM t").empty());
}

TEST_F(PostgresTest, OuterDatabaseInsideTransactionIsRefused) {
  EXPECT_SIGIL_ERROR(db().transaction([this](Database&) { db().exec("INSERT INTO t (id) VALUES (1)"); }),
                     Errc::internal);
}

TEST_F(PostgresTest, ConstraintViolationsAreTranslated) {
  db().exec("INSERT INTO t (id, name) VALUES (1, 'a')");
  EXPECT_SIGIL_ERROR(db().exec("INSERT INTO t (id, name) VALUES (2, 'a')"), Errc::already_exists);
  EXPECT_SIGIL_ERROR(db().exec("INSERT INTO child (id, parent) VALUES (1, 99)"), Errc::store_conflict);
  EXPECT_SIGIL_ERROR(db().exec("INSERT INTO t (id, n) VALUES (3, -1)"), Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(db().exec("INSERT INTO child (id) VALUES (2)"), Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(db().exec("SELECT nope FROM t"), Errc::internal);
  try {
    db().exec("INSERT INTO t (id, name) VALUES (2, 'a')");
  } catch (const Error& e) {
    EXPECT_EQ(e.public_description().find("postgres"), std::string::npos);  // library text stays internal
  }
}

// Read-increment-write bodies on two nodes at once: under READ COMMITTED without the write lock
// they lose updates; with it every increment lands, as on SQLite.
TEST_F(PostgresTest, WritersOnTwoNodesAreSerialised) {
  db().exec("INSERT INTO t (id, n) VALUES (1, 0)");
  auto a = node();
  auto b = node();
  constexpr int kRounds = 150;
  auto bump = [](Database& d) {
    for (int i = 0; i < kRounds; ++i) {
      d.transaction([](Database& tx) {
        const auto n = tx.query_one("SELECT n FROM t WHERE id = 1")->get_int(0);
        tx.exec("UPDATE t SET n = $1 WHERE id = 1", {n + 1});
      });
    }
  };
  std::thread ta([&] { bump(*a); });
  std::thread tb([&] { bump(*b); });
  ta.join();
  tb.join();
  EXPECT_EQ(db().query_one("SELECT n FROM t WHERE id = 1")->get_int(0), 2 * kRounds);
}

TEST_F(PostgresTest, WaitingForTheWriteLockIsBounded) {
  auto other = node(std::chrono::milliseconds{300});
  std::promise<void> holding;
  std::promise<void> release;
  std::thread holder([&] {
    db().transaction([&](Database& tx) {
      tx.exec("INSERT INTO t (id) VALUES (1)");
      holding.set_value();
      release.get_future().wait();
    });
  });
  holding.get_future().wait();
  const auto start = std::chrono::steady_clock::now();
  EXPECT_SIGIL_ERROR(other->exec("INSERT INTO t (id) VALUES (2)"), Errc::store_unavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds{3});
  EXPECT_NO_THROW(other->query("SELECT id FROM t"));  // reads take no lock
  release.set_value();
  holder.join();
  EXPECT_NO_THROW(other->exec("INSERT INTO t (id) VALUES (2)"));
}

// After a server restart or failover every pooled connection is dead; the first statement of a
// call finds out, and is retried once on a fresh connection (nothing had run yet).
TEST_F(PostgresTest, APooledConnectionTheServerDroppedIsReplaced) {
  auto n = node();
  const auto pid = n->query_one("SELECT pg_backend_pid() AS pid")->get_int("pid");
  ASSERT_EQ(db().query_one("SELECT pg_terminate_backend($1::int) AS ok", {pid})->get_int("ok"), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds{200});
  EXPECT_NO_THROW(n->exec("INSERT INTO t (id) VALUES (1)"));  // a write: BEGIN is its first statement
  const auto pid2 = n->query_one("SELECT pg_backend_pid() AS pid")->get_int("pid");
  EXPECT_NE(pid2, pid);
  ASSERT_EQ(db().query_one("SELECT pg_terminate_backend($1::int) AS ok", {pid2})->get_int("ok"), 1);
  std::this_thread::sleep_for(std::chrono::milliseconds{200});
  EXPECT_EQ(n->query("SELECT id FROM t").size(), 1u);  // a read
  EXPECT_NO_THROW(n->ping());
}

// Writes outside locked() cannot happen by accident: sessions are read-only unless a write
// transaction (which holds the lock) says otherwise.
TEST_F(PostgresTest, AWriteDisguisedAsASelectFailsInsteadOfSkippingTheLock) {
  db().exec_script("CREATE SEQUENCE sq");
  EXPECT_SIGIL_ERROR(db().query("SELECT nextval('sq') AS v"), Errc::internal);
  db().transaction([](Database& tx) { EXPECT_EQ(tx.query_one("SELECT nextval('sq') AS v")->get_int("v"), 1); });
}

TEST_F(PostgresTest, AReadTransactionIsASnapshotThatDoesNotBlockWriters) {
  db().exec("INSERT INTO t (id) VALUES (1)");
  auto other = node(std::chrono::milliseconds{1000});
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
  EXPECT_NO_THROW(other->transaction([](Database& tx) { tx.exec("INSERT INTO t (id) VALUES (2)"); }));
  written.set_value();
  reader.join();
  EXPECT_EQ(db().query("SELECT id FROM t").size(), 2u);
}

TEST_F(PostgresTest, TextWithANulByteIsRefusedNotCut) {
  EXPECT_SIGIL_ERROR(db().exec("INSERT INTO t (id, name) VALUES (1, $1)", {std::string("a\0b", 3)}),
                     Errc::invalid_argument);
}

TEST_F(PostgresTest, ErrorsLeaveTheRowOutOfTheDetail) {
  // NOT NULL / CHECK failures carry "Failing row contains (...)" in their DETAIL: never kept.
  try {
    db().exec("INSERT INTO t (id, name, n) VALUES (1, 'secret-value-in-the-row', -1)");
    FAIL() << "CHECK not enforced";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::invalid_argument);
    EXPECT_EQ(e.detail().find("secret-value-in-the-row"), std::string::npos) << e.detail();
  }
}

TEST(PostgresOpen, AMalformedConninfoIsNotQuoted) {
  try {
    open_postgres(PostgresOptions{SecretString("host=x password=hunter2%zz port"), std::chrono::milliseconds{1000}, 1});
    FAIL() << "malformed conninfo accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::config_invalid);
    EXPECT_EQ(e.detail().find("hunter2"), std::string::npos) << e.detail();
  }
}

}  // namespace
}  // namespace sigil::store::test
