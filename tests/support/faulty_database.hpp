// A store::Database that can be told to refuse (fail-closed tests): before a transaction, or after
// its body ran (so its writes are rolled back, as on a failed commit). Everything else passes through.
#pragma once

#include <atomic>

#include "sigil/common/error.hpp"
#include "sigil/store/database.hpp"

namespace sigil::test {

class FaultyDatabase final : public store::Database {
 public:
  explicit FaultyDatabase(store::Database& inner) : inner_(inner) {}
  std::atomic<bool> fail_before{false};
  std::atomic<bool> fail_after{false};

  std::string_view backend() const noexcept override { return inner_.backend(); }
  std::int64_t exec(std::string_view sql, const store::Params& p) override { return inner_.exec(sql, p); }
  std::vector<store::Row> query(std::string_view sql, const store::Params& p) override { return inner_.query(sql, p); }
  void exec_script(std::string_view sql) override { inner_.exec_script(sql); }
  void ping() override { inner_.ping(); }
  void transaction(const Body& body) override {
    if (fail_before) throw Error(Errc::store_unavailable, "disk gone");
    inner_.transaction([&](store::Database& tx) {
      body(tx);
      if (fail_after) throw Error(Errc::store_unavailable, "commit failed");
    });
  }
  void read_transaction(const Body& body) override {
    if (fail_before) throw Error(Errc::store_unavailable, "disk gone");
    inner_.read_transaction(body);
  }

 private:
  store::Database& inner_;
};

}  // namespace sigil::test
