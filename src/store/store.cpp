#include "sigil/store/store.hpp"

#include <string>
#include <utility>

#include "sigil/common/error.hpp"
#include "sigil/common/log.hpp"
#include "sigil/store/migrations.hpp"
#include "sigil/store/postgres.hpp"
#include "sigil/store/sqlite.hpp"

namespace sigil::store {

Store::Store(std::unique_ptr<Database> db, const Clock& clock, const PasswordParams& password)
    : db_(std::move(db)), clock_(clock), users_(*db_, clock, password), api_keys_(*db_, clock), settings_(*db_),
      keys_(*db_, clock),
      credentials_(*db_, clock) {}

std::vector<int> Store::migrate() { return store::migrate(*db_, clock_); }

std::unique_ptr<Database> open_database(const config::StoreConfig& config, std::size_t max_connections) {
  if (config.backend == "sqlite") {
    return open_sqlite(SqliteOptions{config.sqlite_path, config.busy_timeout, max_connections});
  }
  if (config.backend == "postgres") {
    if (config.postgres_conninfo.empty()) {
      throw Error(Errc::config_invalid, "store.backend is \"postgres\", so store.postgres_conninfo must be set", true);
    }
    return open_postgres(PostgresOptions{config.postgres_conninfo.resolve(), config.busy_timeout, max_connections});
  }
  throw Error(Errc::config_invalid, "store.backend must be \"sqlite\" or \"postgres\", not \"" + config.backend + "\"",
              true);
}

std::unique_ptr<Store> open_store(const config::StoreConfig& config, const Clock& clock, const StoreOptions& options) {
  auto store = std::make_unique<Store>(open_database(config, options.max_connections), clock, options.password);
  if (options.migrate) {
    for (const int version : store->migrate()) log::info("store: applied schema migration {}", version);
  }
  return store;
}

}  // namespace sigil::store
