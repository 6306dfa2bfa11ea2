// The SQLite Database: a bounded pool of connections, handed out one per calling thread, and the
// transaction view that pins a body to one connection.
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "connection.hpp"
#include "write_gate.hpp"
#include "../savepoint_tx.hpp"
#include "sigil/common/error.hpp"
#include "sigil/store/sqlite.hpp"

namespace sigil::store {
namespace {

using sqlite::Connection;
using sqlite::WriteGate;

constexpr std::string_view kBackend = "sqlite";

// A transaction body's view of its pinned connection (savepoints for nested transactions).
class TxDatabase final : public detail::SavepointTx<Connection> {
 public:
  explicit TxDatabase(Connection& conn) : SavepointTx(conn, kBackend) {}
};

class SqliteDatabase final : public Database {
 public:
  explicit SqliteDatabase(SqliteOptions options) : options_(std::move(options)) {
    if (options_.max_connections == 0) options_.max_connections = 1;
    // Open one connection now so a bad path or a non-database file fails at startup.
    open_ = 1;
    release(std::make_unique<Connection>(options_));
  }

  std::string_view backend() const noexcept override { return kBackend; }

  std::int64_t exec(std::string_view sql, const Params& params) override {
    Lease lease(*this);
    std::optional<WriteGate::Hold> hold;
    if (lease->writes(sql)) hold.emplace(gate_, options_.busy_timeout);
    return lease->exec(sql, params);
  }

  std::vector<Row> query(std::string_view sql, const Params& params) override {
    Lease lease(*this);
    std::optional<WriteGate::Hold> hold;
    if (lease->writes(sql)) hold.emplace(gate_, options_.busy_timeout);  // e.g. INSERT ... RETURNING
    return lease->query(sql, params);
  }

  void exec_script(std::string_view sql) override {
    Lease lease(*this);
    const WriteGate::Hold hold(gate_, options_.busy_timeout);  // scripts are DDL: assume they write
    lease->exec_script(sql);
  }

  void ping() override {
    try {
      Lease lease(*this);
      lease->query("SELECT 1", {});
    } catch (const Error& e) {
      if (e.code() == Errc::store_unavailable) throw;
      throw Error(Errc::store_unavailable, e.detail());
    }
  }

  void read_transaction(const Body& body) override {
    Lease lease(*this);
    // A deferred transaction's first read fixes its WAL snapshot; no write gate, no write lock.
    // query_only makes a write inside fail instead of taking the write lock.
    lease->exec("PRAGMA query_only = ON", {});
    try {
      lease->exec("BEGIN DEFERRED", {});
      TxDatabase tx(*lease);
      const ActiveTx active(this);
      body(tx);
      lease->exec("COMMIT", {});
    } catch (...) {
      lease->rollback_quietly();
      try {
        lease->exec("PRAGMA query_only = OFF", {});
      } catch (...) {  // NOLINT(bugprone-empty-catch): the body's exception is the one to report
      }
      throw;
    }
    lease->exec("PRAGMA query_only = OFF", {});
  }

  void transaction(const Body& body) override {
    Lease lease(*this);
    const WriteGate::Hold hold(gate_, options_.busy_timeout);
    // IMMEDIATE takes the write lock now, waiting up to the busy timeout. A DEFERRED transaction
    // that reads first and writes later fails at once with SQLITE_BUSY when another connection
    // wrote in between (the busy handler cannot help with a lock upgrade).
    lease->exec("BEGIN IMMEDIATE", {});
    try {
      TxDatabase tx(*lease);
      const ActiveTx active(this);
      body(tx);
    } catch (...) {
      lease->rollback_quietly();
      throw;
    }
    try {
      lease->exec("COMMIT", {});
    } catch (...) {
      lease->rollback_quietly();
      throw;
    }
  }

 private:
  // Marks "this thread is inside a transaction body of this database": a statement on the outer
  // object would need a second connection and then wait for the write lock its own transaction
  // holds, so it is refused instead of deadlocking until the busy timeout.
  class ActiveTx {
   public:
    explicit ActiveTx(const SqliteDatabase* db) : previous_(t_active) { t_active = db; }
    ~ActiveTx() { t_active = previous_; }
    ActiveTx(const ActiveTx&) = delete;
    ActiveTx& operator=(const ActiveTx&) = delete;

   private:
    const SqliteDatabase* previous_;
  };

  // A connection borrowed from the pool for one call; returned on destruction.
  class Lease {
   public:
    explicit Lease(SqliteDatabase& db) : db_(db), conn_(db.acquire()) {}
    ~Lease() { db_.release(std::move(conn_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Connection* operator->() const noexcept { return conn_.get(); }
    Connection& operator*() const noexcept { return *conn_; }

   private:
    SqliteDatabase& db_;
    std::unique_ptr<Connection> conn_;
  };

  std::unique_ptr<Connection> acquire() {
    if (t_active == this) {
      throw Error(Errc::internal, "store: statement on the outer Database inside transaction(); use the Database& passed to the body");
    }
    std::unique_lock lock(mutex_);
    const bool ready = available_.wait_for(lock, options_.busy_timeout, [this] {
      return !idle_.empty() || open_ < options_.max_connections;
    });
    if (!ready) throw Error(Errc::store_unavailable, "sqlite: all " + std::to_string(open_) + " connections busy");
    if (!idle_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_.back());
      idle_.pop_back();
      return conn;
    }
    ++open_;
    lock.unlock();  // opening does file I/O: not under the pool lock
    try {
      return std::make_unique<Connection>(options_);
    } catch (...) {
      const std::lock_guard relock(mutex_);
      --open_;
      available_.notify_one();
      throw;
    }
  }

  void release(std::unique_ptr<Connection> conn) noexcept {
    // A connection left inside a transaction (an error during ROLLBACK) would hold the write lock
    // forever: close it instead of reusing it.
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
    conn.reset();  // closes an unhealthy connection outside the lock
  }

  static thread_local const SqliteDatabase* t_active;

  SqliteOptions options_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::size_t open_ = 0;  // connections in existence: idle + lent out
  WriteGate gate_;        // queues this process's writers (see write_gate.hpp)
};

thread_local const SqliteDatabase* SqliteDatabase::t_active = nullptr;

}  // namespace

std::unique_ptr<Database> open_sqlite(const SqliteOptions& options) {
  if (options.path.empty()) throw Error(Errc::config_invalid, "store: sqlite path is empty");
  return std::make_unique<SqliteDatabase>(options);
}

}  // namespace sigil::store
