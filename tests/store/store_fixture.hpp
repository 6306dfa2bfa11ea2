// Shared helpers for the store tests: a settable clock and a fresh store (SQLite in a TempDir, or a
// PostgreSQL schema under tests/support/with_postgres.sh).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>

#include "sigil/common/clock.hpp"
#include "sigil/store/store.hpp"
#include "temp_dir.hpp"
#include "test_store.hpp"
#include "test_util.hpp"

namespace sigil::store::test {

using ::sigil::test::FakeClock;

// Argon2id with 1 MiB and one pass keeps the suite fast; production defaults are 64 MiB, t=3.
inline PasswordParams cheap_params() { return PasswordParams{1, 1024, 1}; }

inline config::StoreConfig sqlite_config(const std::filesystem::path& path) {
  config::StoreConfig c;
  c.backend = "sqlite";
  c.sqlite_path = path;
  c.busy_timeout = std::chrono::milliseconds{5000};
  return c;
}

class StoreTest : public ::testing::Test {
 protected:
  StoreTest() {
    StoreOptions options;
    options.password = cheap_params();
    store_ = open_store(backend_.config(), clock_, options);
  }
  std::filesystem::path db_path() const { return dir_.path() / "sigil.db"; }
  Store& store() { return *store_; }
  Database& db() { return store_->database(); }

  sigil::test::TempDir dir_;
  sigil::test::TestStore backend_{dir_.path()};  // SQLite in dir_, or a PostgreSQL schema
  FakeClock clock_;
  std::unique_ptr<Store> store_;
};


}  // namespace sigil::store::test
