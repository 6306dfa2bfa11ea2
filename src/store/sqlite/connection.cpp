#include "connection.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <utility>

#include "error.hpp"
#include "sigil/common/error.hpp"

namespace sigil::store::sqlite {
namespace {

// Beyond this many distinct statements a connection drops its cache and starts again: callers use
// a fixed set of statements, so this only bounds memory if someone builds SQL dynamically.
constexpr std::size_t kMaxCachedStatements = 128;

// The database holds password hashes and API-key digests: create it owner-only before SQLite does
// (SQLite would use 0644 minus umask). SQLite gives the -wal and -shm files the database's mode.
// Only when it does not exist yet (O_EXCL): close() on ANY descriptor of a file drops every POSIX
// lock this process holds on it, SQLite's included. Opening and closing the database here for
// each new pooled connection released the shared lock of the connections already open, so
// another process (sigilctl --local) closing its last connection believed it was the last user,
// checkpointed and deleted the WAL, and commits of this process were lost.
void create_private_file(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return;
    throw Error(Errc::store_unavailable, "sqlite: cannot create '" + path.string() + "': " + std::strerror(errno));
  }
  ::close(fd);
}

// `$N` with N a positive decimal without leading zeros; 0 for anything else (`?`, `:name`, `$x`).
std::size_t placeholder_number(const char* name) {
  if (name == nullptr || name[0] != '$' || name[1] < '1' || name[1] > '9') return 0;
  std::size_t n = 0;
  for (const char* p = name + 1; *p != '\0'; ++p) {
    if (*p < '0' || *p > '9' || n > 100000) return 0;
    n = n * 10 + static_cast<std::size_t>(*p - '0');
  }
  return n;
}

bool only_blank(const char* p, const char* end) {
  for (; p < end; ++p) {
    if (*p != ' ' && *p != '\t' && *p != '\n' && *p != '\r' && *p != ';') return false;
  }
  return true;
}

Value column_value(sqlite3_stmt* stmt, int i) {
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_INTEGER: return std::int64_t{sqlite3_column_int64(stmt, i)};
    case SQLITE_FLOAT: return sqlite3_column_double(stmt, i);
    case SQLITE_TEXT: {
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
      return std::string(p != nullptr ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(stmt, i)));
    }
    case SQLITE_BLOB: {
      const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt, i));
      const auto n = static_cast<std::size_t>(sqlite3_column_bytes(stmt, i));
      return p != nullptr ? Bytes(p, p + n) : Bytes{};
    }
    default: return nullptr;
  }
}

}  // namespace

Connection::Connection(const SqliteOptions& options) {
  create_private_file(options.path);
  sqlite3* raw = nullptr;
  // NOMUTEX: the pool guarantees one thread per connection, so SQLite's own mutex is redundant.
  const int rc = sqlite3_open_v2(options.path.c_str(), &raw,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  db_.reset(raw);  // a handle is returned even on failure and must be closed
  if (rc != SQLITE_OK) throw_error(raw, rc, "open '" + options.path.string() + "'");
  sqlite3_extended_result_codes(raw, 1);
  const auto ms = options.busy_timeout.count();
  sqlite3_busy_timeout(raw, ms > std::numeric_limits<int>::max() ? std::numeric_limits<int>::max() : static_cast<int>(ms));

  // WAL: readers never block the writer and vice versa, which is what a pool of worker threads
  // needs. It is a property of the file, but asking on every connection is cheap and idempotent.
  const std::vector<Row> mode = query("PRAGMA journal_mode=WAL", {});
  if (mode.empty() || mode.front().get_text(0) != "wal") {
    throw Error(Errc::store_unavailable, "sqlite: cannot enable WAL journal mode on '" + options.path.string() + "'");
  }
  // synchronous=FULL: in WAL mode NORMAL may lose the last commits on power loss (the WAL is not
  // fsynced per commit). We store audit records, signature transactions and lockout counters that
  // have already been acknowledged to a client; losing them silently is worse than an fsync each.
  // foreign_keys=ON: SQLite leaves FK enforcement off per connection unless asked.
  // trusted_schema=OFF: SQL functions in the schema (views, triggers) cannot have side effects.
  // secure_delete=ON: deleted rows (old password hashes, revoked key digests) are zeroed, not left
  // in free pages of the file.
  exec_script("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA trusted_schema=OFF; PRAGMA secure_delete=ON;");
}

bool Connection::rollback_quietly() noexcept {
  if (!in_transaction()) return true;
  // Some errors (BUSY, FULL, IOERR) roll back on their own; the ROLLBACK below then is a no-op.
  sqlite3_exec(db_.get(), "ROLLBACK", nullptr, nullptr, nullptr);
  return !in_transaction();
}

Connection::Statement& Connection::prepare(std::string_view sql) {
  if (auto it = cache_.find(std::string(sql)); it != cache_.end()) return it->second;
  if (cache_.size() >= kMaxCachedStatements) cache_.clear();
  if (sql.size() > static_cast<std::size_t>(std::numeric_limits<int>::max())) {
    throw Error(Errc::invalid_argument, "sqlite: statement too long");
  }

  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  const int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                    &raw, &tail);
  Statement s;
  s.stmt.reset(raw);
  if (rc != SQLITE_OK) throw_error(db_.get(), rc, sql);
  if (raw == nullptr) throw Error(Errc::invalid_argument, "sqlite: empty statement");
  if (tail != nullptr && !only_blank(tail, sql.data() + sql.size())) {
    throw Error(Errc::invalid_argument, "sqlite: exec/query take one statement (use exec_script): " + std::string(sql));
  }

  // Map `$N` onto SQLite's slots: SQLite numbers named parameters in order of first appearance,
  // so in "... $2 ... $1" `$2` is slot 1. Every N in 1..arity must appear, as PostgreSQL requires.
  const int count = sqlite3_bind_parameter_count(raw);
  std::vector<bool> used;
  for (int j = 1; j <= count; ++j) {
    const std::size_t n = placeholder_number(sqlite3_bind_parameter_name(raw, j));
    if (n == 0) {
      throw Error(Errc::invalid_argument, "sqlite: use $1, $2, ... placeholders only: " + std::string(sql));
    }
    s.slot_param.push_back(n - 1);
    if (used.size() < n) used.resize(n, false);
    used[n - 1] = true;
    if (n > s.arity) s.arity = n;
  }
  for (std::size_t i = 0; i < used.size(); ++i) {
    if (!used[i]) throw Error(Errc::invalid_argument, "sqlite: $" + std::to_string(i + 1) + " unused in: " + std::string(sql));
  }

  auto columns = std::make_shared<std::vector<std::string>>();
  for (int i = 0; i < sqlite3_column_count(raw); ++i) {
    const char* name = sqlite3_column_name(raw, i);
    columns->emplace_back(name != nullptr ? name : "");
  }
  s.columns = std::move(columns);
  return cache_.emplace(std::string(sql), std::move(s)).first->second;
}

void Connection::bind(Statement& s, std::string_view sql, const Params& params) {
  if (params.size() != s.arity) {
    throw Error(Errc::invalid_argument, "sqlite: statement takes " + std::to_string(s.arity) + " parameters, got " +
                                            std::to_string(params.size()) + ": " + std::string(sql));
  }
  sqlite3_stmt* stmt = s.stmt.get();
  for (std::size_t j = 0; j < s.slot_param.size(); ++j) {
    const int slot = static_cast<int>(j + 1);
    const Value& v = params[s.slot_param[j]];
    // SQLITE_STATIC: the parameters outlive the step loop and bindings are cleared right after, so
    // SQLite keeps no copy of them (fewer copies of secrets such as hashes in memory).
    int rc = SQLITE_OK;
    if (const auto* i = std::get_if<std::int64_t>(&v)) {
      rc = sqlite3_bind_int64(stmt, slot, *i);
    } else if (const auto* d = std::get_if<double>(&v)) {
      rc = sqlite3_bind_double(stmt, slot, *d);
    } else if (const auto* t = std::get_if<std::string>(&v)) {
      rc = sqlite3_bind_text64(stmt, slot, t->data(), t->size(), SQLITE_STATIC, SQLITE_UTF8);
    } else if (const auto* b = std::get_if<Bytes>(&v)) {
      // An empty vector has no data pointer and SQLite would bind NULL: bind an empty blob instead.
      rc = b->empty() ? sqlite3_bind_zeroblob(stmt, slot, 0) : sqlite3_bind_blob64(stmt, slot, b->data(), b->size(), SQLITE_STATIC);
    } else {
      rc = sqlite3_bind_null(stmt, slot);
    }
    if (rc != SQLITE_OK) throw_error(db_.get(), rc, sql);
  }
}

void Connection::run(Statement& s, std::string_view sql, const Params& params, std::vector<Row>* rows) {
  sqlite3_stmt* stmt = s.stmt.get();
  // Reset and unbind on every exit path so the cached statement is clean for the next caller.
  struct Cleanup {
    sqlite3_stmt* stmt;
    ~Cleanup() {
      sqlite3_reset(stmt);
      sqlite3_clear_bindings(stmt);
    }
  } cleanup{stmt};

  bind(s, sql, params);
  const int ncols = sqlite3_column_count(stmt);
  for (;;) {
    const int rc = sqlite3_step(stmt);
    if (rc == SQLITE_DONE) return;
    if (rc != SQLITE_ROW) throw_error(db_.get(), rc, sql);
    if (rows == nullptr) continue;
    std::vector<Value> values;
    values.reserve(static_cast<std::size_t>(ncols));
    for (int i = 0; i < ncols; ++i) values.push_back(column_value(stmt, i));
    rows->emplace_back(s.columns, std::move(values));
  }
}

std::int64_t Connection::exec(std::string_view sql, const Params& params) {
  Statement& s = prepare(sql);
  run(s, sql, params, nullptr);
  // changes() keeps the count of the last INSERT/UPDATE/DELETE: report 0 for anything else.
  return sqlite3_stmt_readonly(s.stmt.get()) != 0 ? 0 : sqlite3_changes64(db_.get());
}

std::vector<Row> Connection::query(std::string_view sql, const Params& params) {
  Statement& s = prepare(sql);
  std::vector<Row> rows;
  run(s, sql, params, &rows);
  return rows;
}

void Connection::exec_script(std::string_view sql) {
  const std::string text(sql);  // sqlite3_exec wants a NUL-terminated string
  const int rc = sqlite3_exec(db_.get(), text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) throw_error(db_.get(), rc, sql);
}

}  // namespace sigil::store::sqlite
