// The backend-neutral SQL layer every repository is written against.
//
// One dialect for callers: SQL uses PostgreSQL-style positional placeholders `$1, $2, ...` in every
// backend (params[0] binds `$1`). Write portable SQL (TEXT, BIGINT, `ON CONFLICT`, `RETURNING`);
// where the backends really differ, branch on `backend()`. A backend translates its own failures
// once into sigil::Error (store_unavailable, already_exists, store_conflict, ...); library error text
// stays in the internal detail.
//
// Implementations are thread-safe: a Database hands each calling thread its own connection.
// No backend headers (sqlite3.h, libpq-fe.h) appear here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sigil/common/secure.hpp"

namespace sigil::store {

// A bound parameter or a column value. Integers are 64-bit; text is UTF-8; blobs are raw bytes.
using Value = std::variant<std::nullptr_t, std::int64_t, double, std::string, Bytes>;
// Positional parameters: params[i] binds `$<i+1>`.
using Params = std::vector<Value>;

// An optional maps to NULL when empty.
inline Value nullable(const std::optional<std::string>& v) { return v ? Value{*v} : Value{nullptr}; }
inline Value nullable(const std::optional<std::int64_t>& v) { return v ? Value{*v} : Value{nullptr}; }

// One result row. Typed getters throw Error(internal) naming the column when the stored type is not
// the one asked for (a schema/code mismatch is a bug, not a user error); `opt_*` return nullopt for
// NULL. Columns are addressed by index (0-based) or by the name the query gave them.
class Row {
 public:
  Row(std::shared_ptr<const std::vector<std::string>> columns, std::vector<Value> values);

  std::size_t size() const noexcept { return values_.size(); }
  const std::string& column_name(std::size_t i) const;
  // Index of a named column; throws Error(internal) if the row has no such column.
  std::size_t index_of(std::string_view name) const;

  const Value& value(std::size_t i) const;
  bool is_null(std::size_t i) const;
  std::int64_t get_int(std::size_t i) const;
  double get_double(std::size_t i) const;  // accepts an integer column too
  const std::string& get_text(std::size_t i) const;
  const Bytes& get_blob(std::size_t i) const;
  std::optional<std::int64_t> opt_int(std::size_t i) const;
  std::optional<double> opt_double(std::size_t i) const;
  std::optional<std::string> opt_text(std::size_t i) const;
  std::optional<Bytes> opt_blob(std::size_t i) const;

  const Value& value(std::string_view name) const { return value(index_of(name)); }
  bool is_null(std::string_view name) const { return is_null(index_of(name)); }
  std::int64_t get_int(std::string_view name) const { return get_int(index_of(name)); }
  double get_double(std::string_view name) const { return get_double(index_of(name)); }
  const std::string& get_text(std::string_view name) const { return get_text(index_of(name)); }
  const Bytes& get_blob(std::string_view name) const { return get_blob(index_of(name)); }
  std::optional<std::int64_t> opt_int(std::string_view name) const { return opt_int(index_of(name)); }
  std::optional<double> opt_double(std::string_view name) const { return opt_double(index_of(name)); }
  std::optional<std::string> opt_text(std::string_view name) const { return opt_text(index_of(name)); }
  std::optional<Bytes> opt_blob(std::string_view name) const { return opt_blob(index_of(name)); }

 private:
  std::shared_ptr<const std::vector<std::string>> columns_;  // shared by all rows of a result
  std::vector<Value> values_;
};

class Database {
 public:
  using Body = std::function<void(Database&)>;

  virtual ~Database() = default;

  // "sqlite" or "postgres": for the rare statement whose text must differ per backend.
  virtual std::string_view backend() const noexcept = 0;

  // One statement; returns the number of rows it changed. Every `$N` must have a parameter and
  // every parameter must be used (Error(invalid_argument) otherwise), as in PostgreSQL.
  virtual std::int64_t exec(std::string_view sql, const Params& params = {}) = 0;
  // One statement; all rows it yields.
  virtual std::vector<Row> query(std::string_view sql, const Params& params = {}) = 0;
  // The first row, if any (for lookups by key).
  std::optional<Row> query_one(std::string_view sql, const Params& params = {});

  // Several `;`-separated statements without parameters (migrations, DDL).
  virtual void exec_script(std::string_view sql) = 0;

  // Runs `body` in one transaction on one connection: committed when `body` returns, rolled back
  // when it throws (the exception propagates). Statements in the body MUST go through the Database&
  // it receives; using the outer object from inside the body is refused with Error(internal) rather
  // than deadlocking against its own write lock. Nested calls on that Database& become savepoints.
  // Write transactions take the write lock up front (SQLite: BEGIN IMMEDIATE), so concurrent
  // writers queue on the busy timeout instead of failing on a lock upgrade.
  virtual void transaction(const Body& body) = 0;

  // Runs `body` in one read-only snapshot on one connection: every statement sees the same
  // committed state, writes are refused (sigil::Error), and writers are not held up (no write
  // lock). For long reads that must be consistent, e.g. verifying the whole audit trail.
  virtual void read_transaction(const Body& body) = 0;

  // Readiness: a trivial round trip; throws Error(store_unavailable) when the store cannot answer.
  virtual void ping() = 0;

 protected:
  Database() = default;
  Database(const Database&) = default;
  Database& operator=(const Database&) = default;
};

}  // namespace sigil::store
