// The Database a transaction body receives, for either backend: every statement runs on the
// connection the transaction pinned, and nested transactions become savepoints, so a repository
// method that opens its own transaction composes with a caller's. The savepoint statements are the
// same in SQLite and PostgreSQL. `Conn` has exec(sql, params), query(sql, params), exec_script(sql).
#pragma once

#include <string>
#include <string_view>

#include "sigil/store/database.hpp"

namespace sigil::store::detail {

template <class Conn>
class SavepointTx : public Database {
 public:
  SavepointTx(Conn& conn, std::string_view backend) : conn_(conn), backend_(backend) {}

  std::string_view backend() const noexcept override { return backend_; }
  std::int64_t exec(std::string_view sql, const Params& params) override { return conn_.exec(sql, params); }
  std::vector<Row> query(std::string_view sql, const Params& params) override { return conn_.query(sql, params); }
  void exec_script(std::string_view sql) override { conn_.exec_script(sql); }
  void ping() override { conn_.query("SELECT 1", {}); }

  void read_transaction(const Body& body) override { body(*this); }  // already inside one

  void transaction(const Body& body) override {
    const std::string name = "sigil_sp" + std::to_string(++depth_);
    struct Depth {
      int& d;
      ~Depth() { --d; }
    } depth{depth_};
    conn_.exec_script("SAVEPOINT " + name);
    try {
      body(*this);
    } catch (...) {
      try {
        conn_.exec_script("ROLLBACK TO SAVEPOINT " + name + "; RELEASE SAVEPOINT " + name);
      } catch (...) {  // NOLINT(bugprone-empty-catch): the body's exception is the one to report
      }
      throw;
    }
    conn_.exec_script("RELEASE SAVEPOINT " + name);
  }

 private:
  Conn& conn_;
  std::string_view backend_;
  int depth_ = 0;
};

}  // namespace sigil::store::detail
