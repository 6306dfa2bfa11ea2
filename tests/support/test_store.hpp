// The store a test runs on: a SQLite file in the test's directory, or, when SIGIL_TEST_POSTGRES
// holds a libpq conninfo (tests/support/with_postgres.sh sets it), a fresh schema of its own on
// that PostgreSQL server, dropped afterwards. Fixtures build their store from config().
#pragma once

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <string>

#include "sigil/config/config.hpp"
#include "sigil/store/postgres.hpp"

namespace sigil::test {

inline std::optional<std::string> postgres_conninfo() {
  const char* c = std::getenv("SIGIL_TEST_POSTGRES");
  if (c == nullptr || *c == '\0') return std::nullopt;
  return std::string(c);
}

inline bool on_postgres() { return postgres_conninfo().has_value(); }

class TestStore {
 public:
  explicit TestStore(const std::filesystem::path& dir) {
    config_.busy_timeout = std::chrono::milliseconds{5000};
    const auto base = postgres_conninfo();
    if (!base) {
      config_.backend = "sqlite";
      config_.sqlite_path = dir / "sigil.db";
      return;
    }
    std::random_device rd;
    schema_ = "t" + std::to_string(rd()) + std::to_string(rd());
    admin(*base)->exec_script("CREATE SCHEMA " + schema_);
    config_.backend = "postgres";
    config_.postgres_conninfo.file = dir / "conninfo";
    std::ofstream(config_.postgres_conninfo.file) << *base << " options='-c search_path=" << schema_ << "'";
    std::filesystem::permissions(config_.postgres_conninfo.file, std::filesystem::perms::owner_read |
                                                                     std::filesystem::perms::owner_write);
  }
  ~TestStore() {
    if (schema_.empty()) return;
    try {
      admin(*postgres_conninfo())->exec_script("DROP SCHEMA " + schema_ + " CASCADE");
    } catch (...) {  // NOLINT(bugprone-empty-catch): the cluster is thrown away anyway
    }
  }
  TestStore(const TestStore&) = delete;
  TestStore& operator=(const TestStore&) = delete;

  const config::StoreConfig& config() const { return config_; }
  bool postgres() const { return !schema_.empty(); }

 private:
  static std::unique_ptr<store::Database> admin(const std::string& conninfo) {
    return store::open_postgres(store::PostgresOptions{SecretString(conninfo), std::chrono::milliseconds{5000}, 1});
  }

  config::StoreConfig config_;
  std::string schema_;
};

}  // namespace sigil::test
