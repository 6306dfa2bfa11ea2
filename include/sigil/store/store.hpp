// The store as the rest of sigild sees it: one Database and the repositories over it.
//
// Built once in the composition root (app/) and passed down by reference. A backend is chosen by
// config and only has to implement Database: repositories and migrations are backend-neutral.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "sigil/common/clock.hpp"
#include "sigil/config/config.hpp"
#include "sigil/store/api_keys.hpp"
#include "sigil/store/credentials.hpp"
#include "sigil/store/database.hpp"
#include "sigil/store/keys.hpp"
#include "sigil/store/password.hpp"
#include "sigil/store/settings.hpp"
#include "sigil/store/users.hpp"

namespace sigil::store {

struct StoreOptions {
  PasswordParams password;          // Argon2id cost for new password hashes
  std::size_t max_connections = 8;  // pool bound (size it to the worker threads)
  bool migrate = true;              // apply pending migrations when opening
};

class Store {
 public:
  // `clock` must outlive the store.
  Store(std::unique_ptr<Database> db, const Clock& clock, const PasswordParams& password = {});
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  Database& database() noexcept { return *db_; }
  UserRepository& users() noexcept { return users_; }
  ApiKeyRepository& api_keys() noexcept { return api_keys_; }
  SettingsRepository& settings() noexcept { return settings_; }
  KeyRepository& keys() noexcept { return keys_; }
  CredentialRepository& credentials() noexcept { return credentials_; }

  // Applies pending migrations; returns the versions applied (see migrations.hpp).
  std::vector<int> migrate();
  // Readiness probe: throws Error(store_unavailable) when the store cannot answer.
  void ping() { db_->ping(); }

 private:
  std::unique_ptr<Database> db_;
  const Clock& clock_;
  UserRepository users_;
  ApiKeyRepository api_keys_;
  SettingsRepository settings_;
  KeyRepository keys_;
  CredentialRepository credentials_;
};

// The Database named by `config.backend`: "sqlite" (config.sqlite_path), or "postgres", which
// throws Error(unsupported) until that backend is built. Unknown names: Error(config_invalid).
std::unique_ptr<Database> open_database(const config::StoreConfig& config, std::size_t max_connections = 8);

// open_database + Store, migrated unless options.migrate is false.
std::unique_ptr<Store> open_store(const config::StoreConfig& config, const Clock& clock,
                                  const StoreOptions& options = {});

}  // namespace sigil::store
