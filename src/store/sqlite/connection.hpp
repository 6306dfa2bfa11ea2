// One SQLite connection with its prepared-statement cache. Not thread-safe: the pool hands a
// connection to one thread at a time (opened with SQLITE_OPEN_NOMUTEX for that reason).
#pragma once

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "sigil/store/database.hpp"
#include "sigil/store/sqlite.hpp"

namespace sigil::store::sqlite {

// The free function is part of the handle's type: no hand-freeing on exit paths.
template <auto Free>
struct Deleter {
  template <class T>
  void operator()(T* p) const noexcept {
    Free(p);
  }
};
using DbPtr = std::unique_ptr<sqlite3, Deleter<&sqlite3_close_v2>>;
using StmtPtr = std::unique_ptr<sqlite3_stmt, Deleter<&sqlite3_finalize>>;

class Connection {
 public:
  // Creates the file 0600 if missing, opens it and applies the per-connection settings.
  explicit Connection(const SqliteOptions& options);

  std::int64_t exec(std::string_view sql, const Params& params);
  std::vector<Row> query(std::string_view sql, const Params& params);
  void exec_script(std::string_view sql);
  // True if the statement may write (prepares and caches it).
  bool writes(std::string_view sql) { return sqlite3_stmt_readonly(prepare(sql).stmt.get()) == 0; }

  // True while a transaction is open (BEGIN without COMMIT/ROLLBACK yet).
  bool in_transaction() const noexcept { return sqlite3_get_autocommit(db_.get()) == 0; }
  // ROLLBACK if a transaction is open; never throws. Returns false if the connection is unusable.
  bool rollback_quietly() noexcept;

 private:
  // A cached statement and how its `$N` parameters map onto SQLite's parameter slots.
  struct Statement {
    StmtPtr stmt;
    std::vector<std::size_t> slot_param;  // SQLite slot j+1 binds params[slot_param[j]]
    std::size_t arity = 0;                // the highest N of `$N`; params.size() must equal it
    std::shared_ptr<const std::vector<std::string>> columns;
  };

  Statement& prepare(std::string_view sql);
  void bind(Statement& s, std::string_view sql, const Params& params);
  // Steps to completion; collects rows when `rows` is given.
  void run(Statement& s, std::string_view sql, const Params& params, std::vector<Row>* rows);

  DbPtr db_;
  std::unordered_map<std::string, Statement> cache_;
};

}  // namespace sigil::store::sqlite
