// Shared helpers for the store tests: a settable clock and a fresh SQLite store in a TempDir.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>

#include "sigil/common/clock.hpp"
#include "sigil/store/store.hpp"
#include "temp_dir.hpp"

namespace sigil::store::test {

class FakeClock final : public Clock {
 public:
  time_point now() const override { return now_; }
  void advance(std::chrono::seconds s) { now_ += s; }

 private:
  time_point now_ = time_point{std::chrono::seconds{1'800'000'000}};
};

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
    store_ = open_store(sqlite_config(db_path()), clock_, options);
  }
  std::filesystem::path db_path() const { return dir_.path() / "sigil.db"; }
  Store& store() { return *store_; }
  Database& db() { return store_->database(); }

  sigil::test::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<Store> store_;
};

// Expects `statement` to throw sigil::Error with `code`.
#define EXPECT_SIGIL_ERROR(statement, errc)                                  \
  do {                                                                       \
    try {                                                                    \
      statement;                                                             \
      ADD_FAILURE() << "no exception from " #statement;                      \
    } catch (const ::sigil::Error& e) {                                      \
      EXPECT_EQ(e.code(), errc) << e.info().name << ": " << e.detail();      \
    }                                                                        \
  } while (false)

}  // namespace sigil::store::test
