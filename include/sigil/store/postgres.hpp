// The PostgreSQL backend of the SQL layer: several sigild nodes sharing one database.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>

#include "sigil/common/secure.hpp"
#include "sigil/store/database.hpp"

namespace sigil::store {

struct PostgresOptions {
  SecretString conninfo;                           // libpq conninfo (keyword=value or URI); wiped after use
  std::chrono::milliseconds busy_timeout{5000};    // wait for the write lock / a free connection
  std::size_t max_connections = 8;                 // pool bound: one connection per thread in use
};

// Connects once (so a bad conninfo fails at startup) and returns a thread-safe Database over a
// small pool of libpq connections. Writers keep SQLite's single-writer semantics across every node
// (a transaction-level advisory lock, see src/store/README.md); reads take no lock.
// Throws Error(store_unavailable) when the server cannot be reached.
std::unique_ptr<Database> open_postgres(PostgresOptions options);

}  // namespace sigil::store
