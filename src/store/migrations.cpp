#include "sigil/store/migrations.hpp"

#include <string>

#include "sigil/common/error.hpp"

namespace sigil::store {
namespace {

// Created outside the numbered migrations: it is what records them. Portable as written.
constexpr std::string_view kCreateLedger =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)";

void check_order(std::span<const Migration> migrations) {
  int previous = 0;
  for (const Migration& m : migrations) {
    if (m.version <= previous) {
      throw Error(Errc::internal, "store: migrations out of order at version " + std::to_string(m.version));
    }
    previous = m.version;
  }
}

std::string describe(const Migration& m) { return std::to_string(m.version) + " (" + std::string(m.name) + ")"; }

}  // namespace

std::string_view Migration::sql_for(std::string_view backend) const noexcept {
  if (backend == "sqlite" && !sqlite_sql.empty()) return sqlite_sql;
  if (backend == "postgres" && !postgres_sql.empty()) return postgres_sql;
  return sql;
}

std::vector<int> migrate(Database& db, const Clock& clock, std::span<const Migration> migrations) {
  check_order(migrations);
  const int newest_known = migrations.empty() ? 0 : migrations.back().version;
  db.exec_script(kCreateLedger);

  const auto newest = db.query_one("SELECT MAX(version) FROM schema_migrations");
  if (newest && !newest->is_null(0) && newest->get_int(0) > newest_known) {
    throw Error(Errc::store_migration, "store: database schema version " + std::to_string(newest->get_int(0)) +
                                           " is newer than this binary knows (" + std::to_string(newest_known) +
                                           "); upgrade sigil");
  }

  std::vector<int> applied;
  for (const Migration& m : migrations) {
    // One transaction per migration: the check, the DDL and the ledger row commit together. The
    // "already applied?" check sits inside the transaction because another node may be migrating
    // at the same time; the transaction's write lock serialises them (PostgreSQL: see README.md).
    bool ran = false;
    db.transaction([&](Database& tx) {
      const auto done = tx.query_one("SELECT name FROM schema_migrations WHERE version = $1", {std::int64_t{m.version}});
      if (done) {
        if (done->get_text(0) != m.name) {
          throw Error(Errc::store_migration, "store: migration " + std::to_string(m.version) + " is recorded as '" +
                                                 done->get_text(0) + "' but this binary calls it '" +
                                                 std::string(m.name) + "'");
        }
        return;
      }
      try {
        tx.exec_script(m.sql_for(tx.backend()));
      } catch (const Error& e) {
        throw Error(Errc::store_migration, "store: migration " + describe(m) + " failed: " + e.detail());
      }
      tx.exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
              {std::int64_t{m.version}, std::string(m.name), to_rfc3339(clock.now())});
      ran = true;
    });
    if (ran) applied.push_back(m.version);
  }
  return applied;
}

}  // namespace sigil::store
