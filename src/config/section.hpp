// Reading one TOML table against the schema (private to the config module; toml++ stays here).
//
// A Section remembers every key the schema asked for, present or not, so that finish() can reject
// whatever is left as unknown — and suggest the nearest known key. Every getter leaves `out`
// untouched when the key is absent, so the struct's default stays. A wrong type or value throws
// Error(config_invalid) whose public detail reads "<source>:<line>: key 'a.b' ...".
#pragma once

#include <toml++/toml.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "sigil/config/config.hpp"

namespace sigil::config::detail {

// What every message and every relative path needs to know about the file being read.
struct Context {
  std::string source;               // name shown in messages
  std::filesystem::path base_dir;   // absolute; relative paths are resolved against it
};

// "<source>:<line>: " or "<source>: " when toml++ knows no position.
std::string location(const Context& ctx, const toml::source_region& where);

class Section {
 public:
  // `table` may be null: an absent section reads as empty, so every key keeps its default.
  Section(const toml::table* table, std::string prefix, const Context& ctx, toml::source_region where = {});

  // Full dotted name of a key in this section ("server.tls.cert_file").
  std::string name(std::string_view key) const;
  bool has(std::string_view key) const;
  // Where the key's value is, or failing that where this table is, for cross-key messages.
  toml::source_region where(std::string_view key) const;
  const toml::source_region& where() const { return where_; }

  // Throws Error(config_invalid): "<source>:<line>: key '<name>' <message>".
  [[noreturn]] void fail(std::string_view key, std::string_view message) const;

  void get_bool(std::string_view key, bool& out);
  void get_string(std::string_view key, std::string& out);  // non-empty
  void get_choice(std::string_view key, std::string& out, std::initializer_list<std::string_view> allowed);
  // Relative paths are resolved against the config directory. With `bare_name_as_is`, a name
  // without '/' is kept unchanged (dlopen searches the library path for it).
  void get_path(std::string_view key, std::filesystem::path& out, bool bare_name_as_is = false);
  void get_secret(std::string_view key, SecretRef& out);
  std::optional<std::int64_t> get_integer(std::string_view key, std::int64_t min, std::int64_t max);

  template <class T>
  void get_int(std::string_view key, T& out, std::int64_t min, std::int64_t max = max_of<T>()) {
    if (auto v = get_integer(key, min, max)) out = static_cast<T>(*v);
  }
  template <class Rep, class Period>
  void get_duration(std::string_view key, std::chrono::duration<Rep, Period>& out, std::int64_t min,
                    std::int64_t max) {
    if (auto v = get_integer(key, min, max)) out = std::chrono::duration<Rep, Period>(*v);
  }

  // A nested table; an absent one reads as empty. The caller must finish() it.
  Section sub(std::string_view key);
  // An array of strings (each non-empty); absent leaves `out` untouched.
  void get_string_array(std::string_view key, std::vector<std::string>& out);
  // An array of tables ([[key]]): one Section per element, named "key[i]". The caller finishes each.
  std::vector<Section> tables(std::string_view key);

  // Throws Error(config_unknown_key) for the first (by line) key the schema never asked for.
  void finish() const;

 private:
  template <class T>
  static constexpr std::int64_t max_of() {
    return static_cast<std::int64_t>(
        std::min<std::uint64_t>(std::numeric_limits<T>::max(), std::numeric_limits<std::int64_t>::max()));
  }
  // Marks the key as known and returns its node, or null if absent.
  const toml::node* find(std::string_view key);
  [[noreturn]] void wrong_type(std::string_view key, const toml::node& node, std::string_view expected,
                               std::string_view hint = {}) const;

  const toml::table* table_;
  std::string prefix_;
  const Context* ctx_;
  toml::source_region where_;
  std::set<std::string, std::less<>> known_;
};

}  // namespace sigil::config::detail
