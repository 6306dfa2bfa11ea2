// The SQLite backend of the SQL layer: the embedded default for a single sigild node.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>

#include "sigil/store/database.hpp"

namespace sigil::store {

struct SqliteOptions {
  std::filesystem::path path;                      // the database file (created 0600 if missing)
  std::chrono::milliseconds busy_timeout{5000};    // wait for the write lock / a free connection
  std::size_t max_connections = 8;                 // pool bound: one connection per thread in use
};

// Opens (creating if needed) the database file and returns a thread-safe Database over a small
// connection pool. Every connection runs with WAL, synchronous=FULL and foreign_keys=ON.
// Throws Error(store_unavailable) when the file cannot be opened or configured.
std::unique_ptr<Database> open_sqlite(const SqliteOptions& options);

}  // namespace sigil::store
