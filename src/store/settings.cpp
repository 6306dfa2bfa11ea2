#include "sigil/store/settings.hpp"

#include <string>

namespace sigil::store {

std::optional<std::string> SettingsRepository::get(std::string_view key) {
  const auto row = db_.query_one("SELECT value FROM settings WHERE key = $1", {std::string(key)});
  return row ? std::optional<std::string>(row->get_text(0)) : std::nullopt;
}

void SettingsRepository::set(std::string_view key, std::string_view value) {
  db_.exec("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
           {std::string(key), std::string(value)});
}

bool SettingsRepository::set_if_absent(std::string_view key, std::string_view value) {
  return db_.exec("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
                  {std::string(key), std::string(value)}) > 0;
}

}  // namespace sigil::store
