// Instance metadata shared by every node (e.g. "initialised_at"): a small key/value table.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "sigil/store/database.hpp"

namespace sigil::store {

class SettingsRepository {
 public:
  explicit SettingsRepository(Database& db) : db_(db) {}

  std::optional<std::string> get(std::string_view key);
  void set(std::string_view key, std::string_view value);  // insert or replace
  // Inserts only if the key is absent; true if this call wrote it. Several nodes initialising at
  // once agree on one value (the first writer's).
  bool set_if_absent(std::string_view key, std::string_view value);

 private:
  Database& db_;
};

}  // namespace sigil::store
