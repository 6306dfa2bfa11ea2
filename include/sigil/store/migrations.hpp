// Versioned schema migrations, applied at startup.
//
// Rules: a migration, once released, is never edited (a database that applied it would silently
// differ from a fresh one): change the schema by appending a new migration. Versions are strictly
// increasing; each migration runs in its own transaction together with its schema_migrations row,
// so a crash leaves the database at the previous version, never half-way.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "sigil/common/clock.hpp"
#include "sigil/store/database.hpp"

namespace sigil::store {

struct Migration {
  int version;
  std::string_view name;
  std::string_view sql;            // portable SQL, used by every backend without its own text
  std::string_view sqlite_sql{};   // if set, replaces `sql` on SQLite
  std::string_view postgres_sql{}; // if set, replaces `sql` on PostgreSQL

  std::string_view sql_for(std::string_view backend) const noexcept;
};

// The migrations compiled into this binary, in order.
std::span<const Migration> builtin_migrations() noexcept;

// Applies the migrations the database lacks, oldest first, and returns their versions (empty when
// the schema is current). Throws Error(store_migration) when the database records a version newer
// than the newest in `migrations` (an older binary must not write a newer schema), when a recorded
// version carries another name than the binary's (an edited or foreign migration), or when a
// migration fails (the detail names it).
std::vector<int> migrate(Database& db, const Clock& clock,
                         std::span<const Migration> migrations = builtin_migrations());

}  // namespace sigil::store
