// The PostgreSQL Database: a bounded pool of libpq connections, handed out one per calling thread,
// and the transaction view that pins a body to one connection.
//
// Writers keep the single-writer semantics the repositories were written against (SQLite's
// BEGIN IMMEDIATE): every write transaction, and every write statement outside one, first takes
// one transaction-level advisory lock shared by all nodes. Under READ COMMITTED each statement
// after the lock sees every transaction committed before it, so a read-then-write body behaves as
// it does on SQLite. Reads outside transactions take no lock. See src/store/README.md.
#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "../savepoint_tx.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/log.hpp"
#include "sigil/store/postgres.hpp"

namespace sigil::store {
namespace {

constexpr std::string_view kBackend = "postgres";
// pg_advisory_xact_lock key of the cluster-wide write lock ("SIGL" + 1).
constexpr const char* kWriteLock = "SELECT pg_advisory_xact_lock(6001866540974047233)";

// PostgreSQL type OIDs (pg_type.dat); libpq does not export them.
constexpr Oid kBool = 16, kBytea = 17, kInt8 = 20, kInt2 = 21, kInt4 = 23, kOid = 26, kFloat4 = 700,
              kFloat8 = 701, kNumeric = 1700;

using Result = std::unique_ptr<PGresult, decltype(&PQclear)>;

Errc errc_for_sqlstate(std::string_view s) {
  if (s == "23505") return Errc::already_exists;
  if (s == "23503") return Errc::store_conflict;
  if (s == "23514" || s == "23502") return Errc::invalid_argument;  // CHECK / NOT NULL
  if (s.substr(0, 2) == "22") return Errc::invalid_argument;         // data exception (bad value)
  if (s == "40001" || s == "40P01") return Errc::store_unavailable;  // serialisation / deadlock: retryable
  if (s == "55P03" || s == "57014") return Errc::store_unavailable;  // lock_timeout / statement_timeout
  const auto cls = s.substr(0, 2);
  if (cls == "08" || cls == "53" || cls == "57" || cls == "58") return Errc::store_unavailable;
  if (cls == "23") return Errc::store_conflict;
  return Errc::internal;  // bad SQL, missing table, ...: our bug
}

// The SQL layer's rules, checked before the server sees the text (as the SQLite backend does):
// one statement; `$N` placeholders only (no `?`, no `:name`); every `$N` up to the highest used
// and exactly that many parameters. Quoted strings and identifiers are skipped.
void check_statement(std::string_view sql, std::size_t given) {
  std::vector<bool> used;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (c == '\'' || c == '"') {
      for (++i; i < sql.size() && sql[i] != c; ++i) {
      }
      continue;
    }
    if (c == ';') {
      if (sql.find_first_not_of(" \t\r\n;", i) != std::string_view::npos) {
        throw Error(Errc::invalid_argument, "store: one statement per call");
      }
      break;
    }
    if (c == '?') throw Error(Errc::invalid_argument, "store: use $N placeholders, not ?");
    if (c == ':' && i + 1 < sql.size() && (std::isalpha(static_cast<unsigned char>(sql[i + 1])) != 0 || sql[i + 1] == '_') &&
        (i == 0 || sql[i - 1] != ':')) {
      throw Error(Errc::invalid_argument, "store: use $N placeholders, not :name");
    }
    if (c != '$' || i + 1 >= sql.size() || std::isdigit(static_cast<unsigned char>(sql[i + 1])) == 0) continue;
    std::size_t n = 0;
    const auto* first = sql.data() + i + 1;
    const auto [end, ec] = std::from_chars(first, sql.data() + sql.size(), n);
    if (ec != std::errc() || n == 0 || n > 65535) throw Error(Errc::invalid_argument, "store: bad placeholder in SQL");
    if (used.size() < n) used.resize(n, false);
    used[n - 1] = true;
    i = static_cast<std::size_t>(end - sql.data()) - 1;
  }
  if (used.size() != given) {
    throw Error(Errc::invalid_argument, "store: statement takes " + std::to_string(used.size()) + " parameters, " +
                                            std::to_string(given) + " given");
  }
  for (std::size_t i = 0; i < used.size(); ++i) {
    if (!used[i]) throw Error(Errc::invalid_argument, "store: placeholder $" + std::to_string(i + 1) + " is not used");
  }
}

// Statements that change nothing: plain SELECTs (a WITH may hide a write, so it counts as one).
bool writes(std::string_view sql) {
  std::size_t i = 0;
  while (i < sql.size() && std::isspace(static_cast<unsigned char>(sql[i])) != 0) ++i;
  static constexpr std::string_view kSelect = "select";
  if (sql.size() - i < kSelect.size()) return true;
  for (std::size_t k = 0; k < kSelect.size(); ++k) {
    if (std::tolower(static_cast<unsigned char>(sql[i + k])) != kSelect[k]) return true;
  }
  return false;
}

Bytes bytea_from_text(std::string_view s) {
  if (s.size() < 2 || s[0] != '\\' || s[1] != 'x' || s.size() % 2 != 0) {
    throw Error(Errc::internal, "postgres: bytea not in hex format");
  }
  Bytes out;
  out.reserve((s.size() - 2) / 2);
  for (std::size_t i = 2; i < s.size(); i += 2) {
    unsigned v = 0;
    const auto [p, ec] = std::from_chars(s.data() + i, s.data() + i + 2, v, 16);
    if (ec != std::errc() || p != s.data() + i + 2) throw Error(Errc::internal, "postgres: bad bytea");
    out.push_back(static_cast<std::uint8_t>(v));
  }
  return out;
}

std::string trimmed(const char* message) {
  std::string m = message != nullptr ? message : "";
  while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
  return m;
}

Value column_value(const PGresult* r, int row, int col) {
  if (PQgetisnull(r, row, col) != 0) return nullptr;
  const std::string_view text(PQgetvalue(r, row, col), static_cast<std::size_t>(PQgetlength(r, row, col)));
  switch (PQftype(r, col)) {
    case kInt2:
    case kInt4:
    case kInt8:
    case kOid: {
      std::int64_t v = 0;
      std::from_chars(text.data(), text.data() + text.size(), v);
      return v;
    }
    case kFloat4:
    case kFloat8:
    case kNumeric:
      return std::strtod(std::string(text).c_str(), nullptr);
    case kBool:
      return std::int64_t{text == "t" ? 1 : 0};
    case kBytea:
      return bytea_from_text(text);
    default:
      return std::string(text);
  }
}

// Connects; a conninfo libpq cannot parse is reported without libpq's message, which may quote
// parts of it (a password included).
PGconn* connect(std::string_view conninfo) {
  const std::string text(conninfo);
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(text.c_str(), &error);
  if (parsed == nullptr) {
    if (error != nullptr) PQfreemem(error);
    throw Error(Errc::config_invalid, "postgres: store.postgres_conninfo is not a valid libpq conninfo");
  }
  PQconninfoFree(parsed);
  return PQconnectdb(text.c_str());
}

class Connection {
 public:
  Connection(std::string_view conninfo, std::chrono::milliseconds lock_timeout)
      : conn_(connect(conninfo)) {
    if (conn_ == nullptr) throw Error(Errc::store_unavailable, "postgres: out of memory connecting");
    if (PQstatus(conn_) != CONNECTION_OK) {
      std::string message = trimmed(PQerrorMessage(conn_));
      PQfinish(conn_);
      throw Error(Errc::store_unavailable, "postgres: cannot connect: " + message);
    }
    // Errors without their DETAIL line: it may quote a whole row ("Failing row contains ..."), a
    // password hash or a token digest included, and error details reach the log.
    PQsetErrorVerbosity(conn_, PQERRORS_TERSE);
    // Server warnings go to the log, not to stderr.
    PQsetNoticeProcessor(
        conn_,
        [](void*, const char* message) {
          try {
            log::warn("postgres: {}", trimmed(message));
          } catch (...) {  // NOLINT(bugprone-empty-catch): never throw through libpq
          }
        },
        nullptr);
    // Waiting for a lock (the write lock included) is bounded like SQLite's busy timeout.
    try {
      // Read-only by default: a write the classifier took for a read (a SELECT calling a function
      // that writes) fails loudly instead of running without the write lock; locked() says READ WRITE.
      exec_script("SET client_encoding = 'UTF8'; SET client_min_messages = 'warning'; SET bytea_output = 'hex';"
                  " SET default_transaction_read_only = on;"
                  " SET lock_timeout = '" + std::to_string(std::max<long long>(1, lock_timeout.count())) + "ms';"
                  // A node that hangs inside a transaction would hold every node's write lock: the
                  // server ends such a session (sigil's transactions never wait between statements).
                  " SET idle_in_transaction_session_timeout = '" +
                  std::to_string(std::max<long long>(60'000, 4 * lock_timeout.count())) + "ms'");
    } catch (...) {
      PQfinish(conn_);
      throw;
    }
  }
  ~Connection() { PQfinish(conn_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  std::int64_t exec(std::string_view sql, const Params& params) {
    const Result r = run(sql, params);
    const char* n = PQcmdTuples(r.get());
    std::int64_t changed = 0;
    if (n != nullptr && *n != '\0') std::from_chars(n, n + std::char_traits<char>::length(n), changed);
    return changed;
  }

  std::vector<Row> query(std::string_view sql, const Params& params) {
    const Result r = run(sql, params);
    const int cols = PQnfields(r.get());
    auto names = std::make_shared<std::vector<std::string>>();
    names->reserve(static_cast<std::size_t>(cols));
    for (int c = 0; c < cols; ++c) names->emplace_back(PQfname(r.get(), c));
    std::vector<Row> rows;
    const int n = PQntuples(r.get());
    rows.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      std::vector<Value> values;
      values.reserve(static_cast<std::size_t>(cols));
      for (int c = 0; c < cols; ++c) values.push_back(column_value(r.get(), i, c));
      rows.emplace_back(names, std::move(values));
    }
    return rows;
  }

  void exec_script(std::string_view sql) {
    const Result r(PQexec(conn_, std::string(sql).c_str()), &PQclear);
    check(r.get(), "script");
  }

  // COMMIT, refusing the silent ROLLBACK PostgreSQL answers for a transaction an earlier error
  // aborted (a body that caught a statement's error outside a savepoint).
  void commit() {
    if (PQtransactionStatus(conn_) == PQTRANS_INERROR) {
      throw Error(Errc::internal, "postgres: transaction aborted by an earlier error; not committed");
    }
    const Result r(PQexec(conn_, "COMMIT"), &PQclear);
    check(r.get(), "commit");
    if (std::string_view(PQcmdStatus(r.get())) != "COMMIT") {
      throw Error(Errc::store_unavailable, "postgres: COMMIT answered " + std::string(PQcmdStatus(r.get())));
    }
  }

  bool broken() const noexcept { return PQstatus(conn_) != CONNECTION_OK; }

  // Leaves the connection idle (outside any transaction); false when it cannot be reused.
  bool rollback_quietly() noexcept {
    if (PQstatus(conn_) != CONNECTION_OK) return false;
    if (PQtransactionStatus(conn_) == PQTRANS_IDLE) return true;
    PQclear(PQexec(conn_, "ROLLBACK"));
    return PQstatus(conn_) == CONNECTION_OK && PQtransactionStatus(conn_) == PQTRANS_IDLE;
  }

 private:
  Result run(std::string_view sql, const Params& params) {
    check_statement(sql, params.size());
    const std::size_t n = params.size();
    std::vector<std::string> text(n);
    std::vector<const char*> values(n, nullptr);
    std::vector<int> lengths(n, 0), formats(n, 0);
    std::vector<Oid> types(n, 0);  // 0: the server infers the type from the context
    for (std::size_t i = 0; i < n; ++i) {
      const Value& v = params[i];
      if (const auto* s = std::get_if<std::string>(&v)) {
        if (s->find('\0') != std::string::npos) {
          throw Error(Errc::invalid_argument, "store: text parameter $" + std::to_string(i + 1) + " contains a NUL byte");
        }
        values[i] = s->c_str();
      } else if (const auto* k = std::get_if<std::int64_t>(&v)) {
        text[i] = std::to_string(*k);
        values[i] = text[i].c_str();
        types[i] = kInt8;
      } else if (const auto* d = std::get_if<double>(&v)) {
        char buf[32];
        const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *d);
        text[i].assign(buf, ec == std::errc() ? end : buf);
        values[i] = text[i].c_str();
        types[i] = kFloat8;
      } else if (const auto* b = std::get_if<Bytes>(&v)) {
        values[i] = b->empty() ? "" : reinterpret_cast<const char*>(b->data());  // a null pointer is NULL
        lengths[i] = static_cast<int>(b->size());
        formats[i] = 1;
        types[i] = kBytea;
      }
    }
    Result r(PQexecParams(conn_, std::string(sql).c_str(), static_cast<int>(n), types.data(), values.data(),
                          lengths.data(), formats.data(), 0),
             &PQclear);
    check(r.get(), "statement");
    return r;
  }

  void check(const PGresult* r, const char* what) {
    const auto status = r != nullptr ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) return;
    const char* state = r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    const std::string message = trimmed(r != nullptr ? PQresultErrorMessage(r) : PQerrorMessage(conn_));
    const Errc code = state != nullptr ? errc_for_sqlstate(state)
                                       : (PQstatus(conn_) != CONNECTION_OK ? Errc::store_unavailable : Errc::internal);
    throw Error(code, std::string("postgres ") + what + " failed (" + (state != nullptr ? state : "no SQLSTATE") +
                          "): " + message);
  }

  PGconn* conn_;
};

// A transaction body's view of its pinned connection (savepoints for nested transactions).
class TxDatabase final : public detail::SavepointTx<Connection> {
 public:
  explicit TxDatabase(Connection& conn) : SavepointTx(conn, kBackend) {}
};

class PostgresDatabase final : public Database {
 public:
  explicit PostgresDatabase(PostgresOptions options)
      : conninfo_(std::move(options.conninfo)), timeout_(options.busy_timeout), max_(options.max_connections) {
    if (max_ == 0) max_ = 1;
    open_ = 1;  // one connection now: a bad conninfo or an unreachable server fails at startup
    release(std::make_unique<Connection>(conninfo_.view(), timeout_));
  }

  std::string_view backend() const noexcept override { return kBackend; }

  std::int64_t exec(std::string_view sql, const Params& params) override {
    Lease lease(*this);
    if (!writes(sql)) return first_statement(lease, [&](Connection& c) { return c.exec(sql, params); });
    std::int64_t changed = 0;
    locked(lease, [&] { changed = lease->exec(sql, params); });
    return changed;
  }

  std::vector<Row> query(std::string_view sql, const Params& params) override {
    Lease lease(*this);
    if (!writes(sql)) return first_statement(lease, [&](Connection& c) { return c.query(sql, params); });
    std::vector<Row> rows;  // e.g. INSERT ... RETURNING
    locked(lease, [&] { rows = lease->query(sql, params); });
    return rows;
  }

  void exec_script(std::string_view sql) override {
    Lease lease(*this);
    locked(lease, [&] { lease->exec_script(sql); });  // scripts are DDL: assume they write
  }

  void ping() override {
    try {
      Lease lease(*this);
      first_statement(lease, [](Connection& c) { c.query("SELECT 1", {}); });
    } catch (const Error& e) {
      if (e.code() == Errc::store_unavailable) throw;
      throw Error(Errc::store_unavailable, e.detail());
    }
  }

  void read_transaction(const Body& body) override {
    Lease lease(*this);
    // One snapshot for the whole body, no write lock: writers of every node carry on.
    first_statement(lease, [](Connection& c) { c.exec_script("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"); });
    try {
      TxDatabase tx(*lease);
      const ActiveTx active(this);
      body(tx);
    } catch (...) {
      lease->rollback_quietly();
      throw;
    }
    lease->rollback_quietly();  // read only: nothing to commit (even after a refused write)
  }

  void transaction(const Body& body) override {
    Lease lease(*this);
    locked(lease, [&] {
      TxDatabase tx(*lease);
      const ActiveTx active(this);
      body(tx);
    });
  }

 private:
  // As in the SQLite backend: a statement on the outer object inside a transaction body would need
  // a second connection and wait for the write lock its own transaction holds.
  class ActiveTx {
   public:
    explicit ActiveTx(const PostgresDatabase* db) : previous_(t_active) { t_active = db; }
    ~ActiveTx() { t_active = previous_; }
    ActiveTx(const ActiveTx&) = delete;
    ActiveTx& operator=(const ActiveTx&) = delete;

   private:
    const PostgresDatabase* previous_;
  };

  class Lease {
   public:
    explicit Lease(PostgresDatabase& db) : db_(db), conn_(db.acquire()) {}
    ~Lease() { db_.release(std::move(conn_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Connection* operator->() const noexcept { return conn_.get(); }
    Connection& operator*() const noexcept { return *conn_; }
    void replace(std::unique_ptr<Connection> fresh) noexcept { conn_ = std::move(fresh); }

   private:
    PostgresDatabase& db_;
    std::unique_ptr<Connection> conn_;
  };

  // A pooled connection the server dropped (restart, failover, terminated backend) fails its
  // first statement: nothing has run yet, so it is replaced and the statement tried once more.
  template <typename F>
  std::invoke_result_t<F&, Connection&> first_statement(Lease& lease, F&& statement) {
    try {
      return statement(*lease);
    } catch (const Error&) {
      if (!lease->broken()) throw;
      lease.replace(std::make_unique<Connection>(conninfo_.view(), timeout_));
      return statement(*lease);
    }
  }

  // BEGIN (READ COMMITTED, READ WRITE whatever the server's defaults), the cluster-wide write lock,
  // `body`, COMMIT; ROLLBACK when anything throws.
  template <typename F>
  void locked(Lease& lease, F&& body) {
    first_statement(lease, [](Connection& c) { c.exec_script("BEGIN ISOLATION LEVEL READ COMMITTED, READ WRITE"); });
    Connection& conn = *lease;
    try {
      conn.exec_script(kWriteLock);
      body();
      conn.commit();
    } catch (...) {
      conn.rollback_quietly();
      throw;
    }
  }

  std::unique_ptr<Connection> acquire() {
    if (t_active == this) {
      throw Error(Errc::internal, "store: statement on the outer Database inside transaction(); use the Database& passed to the body");
    }
    std::unique_lock lock(mutex_);
    const bool ready = available_.wait_for(lock, timeout_, [this] { return !idle_.empty() || open_ < max_; });
    if (!ready) throw Error(Errc::store_unavailable, "postgres: all " + std::to_string(open_) + " connections busy");
    if (!idle_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_.back());
      idle_.pop_back();
      return conn;
    }
    ++open_;
    lock.unlock();  // connecting is network I/O: not under the pool lock
    try {
      return std::make_unique<Connection>(conninfo_.view(), timeout_);
    } catch (...) {
      const std::lock_guard relock(mutex_);
      --open_;
      available_.notify_one();
      throw;
    }
  }

  void release(std::unique_ptr<Connection> conn) noexcept {
    // A broken connection, or one left inside a transaction, is closed instead of reused.
    const bool healthy = conn->rollback_quietly();
    {
      const std::lock_guard lock(mutex_);
      if (healthy) {
        idle_.push_back(std::move(conn));
      } else {
        --open_;
      }
    }
    available_.notify_one();
    conn.reset();
  }

  static thread_local const PostgresDatabase* t_active;

  SecretString conninfo_;
  std::chrono::milliseconds timeout_;
  std::size_t max_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::size_t open_ = 0;
};

thread_local const PostgresDatabase* PostgresDatabase::t_active = nullptr;

}  // namespace

std::unique_ptr<Database> open_postgres(PostgresOptions options) {
  if (options.conninfo.empty()) throw Error(Errc::config_invalid, "store: postgres conninfo is empty");
  return std::make_unique<PostgresDatabase>(std::move(options));
}

}  // namespace sigil::store
