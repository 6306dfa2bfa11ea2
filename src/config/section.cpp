#include "section.hpp"

#include <fmt/format.h>

#include <vector>

#include "sigil/common/error.hpp"

namespace sigil::config::detail {
namespace {

std::string_view type_name(toml::node_type t) {
  switch (t) {
    case toml::node_type::table: return "table";
    case toml::node_type::array: return "array";
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "boolean";
    case toml::node_type::date: return "date";
    case toml::node_type::time: return "time";
    case toml::node_type::date_time: return "date-time";
    case toml::node_type::none: break;
  }
  return "nothing";
}

// Levenshtein distance, for "did you mean" on short key names.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

[[noreturn]] void throw_invalid(std::string detail) {
  // Config messages are for the operator who must fix the file: public by design.
  throw Error(Errc::config_invalid, std::move(detail), true);
}

}  // namespace

std::string location(const Context& ctx, const toml::source_region& where) {
  if (where.begin.line == 0) return ctx.source + ": ";
  return fmt::format("{}:{}: ", ctx.source, where.begin.line);
}

Section::Section(const toml::table* table, std::string prefix, const Context& ctx, toml::source_region where)
    : table_(table), prefix_(std::move(prefix)), ctx_(&ctx), where_(where) {}

std::string Section::name(std::string_view key) const {
  return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
}

bool Section::has(std::string_view key) const { return table_ != nullptr && table_->contains(key); }

toml::source_region Section::where(std::string_view key) const {
  if (table_ != nullptr) {
    if (const toml::node* n = table_->get(key)) return n->source();
  }
  return where_;
}

void Section::fail(std::string_view key, std::string_view message) const {
  throw_invalid(fmt::format("{}key '{}' {}", location(*ctx_, where(key)), name(key), message));
}

const toml::node* Section::find(std::string_view key) {
  known_.emplace(key);
  return table_ != nullptr ? table_->get(key) : nullptr;
}

void Section::wrong_type(std::string_view key, const toml::node& node, std::string_view expected,
                         std::string_view hint) const {
  // Never echo the value: a misplaced secret (pin = "1234") must not end up in a log.
  fail(key, fmt::format("has the wrong type: expected {}, got {}{}", expected, type_name(node.type()), hint));
}

void Section::get_bool(std::string_view key, bool& out) {
  const toml::node* n = find(key);
  if (n == nullptr) return;
  const auto* v = n->as_boolean();
  if (v == nullptr) wrong_type(key, *n, "boolean (true or false)");
  out = v->get();
}

void Section::get_string(std::string_view key, std::string& out) {
  const toml::node* n = find(key);
  if (n == nullptr) return;
  const auto* v = n->as_string();
  if (v == nullptr) wrong_type(key, *n, "string");
  if (v->get().empty()) fail(key, "must not be empty (leave the key out to use the default)");
  out = v->get();
}

void Section::get_choice(std::string_view key, std::string& out, std::initializer_list<std::string_view> allowed) {
  std::string value;
  get_string(key, value);
  if (value.empty()) return;
  if (std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
    fail(key, fmt::format("must be one of \"{}\" (got \"{}\")", fmt::join(allowed, "\", \""), value));
  }
  out = std::move(value);
}

void Section::get_path(std::string_view key, std::filesystem::path& out, bool bare_name_as_is) {
  std::string text;
  get_string(key, text);
  if (text.empty()) return;
  std::filesystem::path p(text);
  if (p.is_relative() && !(bare_name_as_is && text.find('/') == std::string::npos)) p = ctx_->base_dir / p;
  out = p.lexically_normal();
}

std::optional<std::int64_t> Section::get_integer(std::string_view key, std::int64_t min, std::int64_t max) {
  const toml::node* n = find(key);
  if (n == nullptr) return std::nullopt;
  const auto* v = n->as_integer();
  if (v == nullptr) wrong_type(key, *n, "integer");
  const std::int64_t x = v->get();
  if (x < min || x > max) {
    // A bound that is only the type's range reads better as "at least".
    if (x < min && max >= std::int64_t{std::numeric_limits<std::uint32_t>::max()}) {
      fail(key, fmt::format("must be at least {} (got {})", min, x));
    }
    fail(key, fmt::format("must be between {} and {} (got {})", min, max, x));
  }
  return x;
}

void Section::get_secret(std::string_view key, SecretRef& out) {
  const toml::node* n = find(key);
  if (n == nullptr) return;
  if (!n->is_table()) {
    wrong_type(key, *n, "table",
               "; secrets are never written inline: use { file = \"...\" } or { env = \"...\" }");
  }
  Section s = sub(key);
  SecretRef ref;
  s.get_path("file", ref.file);
  s.get_string("env", ref.env);
  s.finish();
  const bool has_file = !ref.file.empty();
  const bool has_env = !ref.env.empty();
  if (has_file == has_env) fail(key, "must set exactly one of 'file' or 'env'");
  out = std::move(ref);
}

Section Section::sub(std::string_view key) {
  const toml::node* n = find(key);
  if (n == nullptr) return Section(nullptr, name(key), *ctx_, where_);
  const toml::table* t = n->as_table();
  if (t == nullptr) wrong_type(key, *n, "table");
  return Section(t, name(key), *ctx_, t->source());
}

void Section::get_string_array(std::string_view key, std::vector<std::string>& out) {
  const toml::node* n = find(key);
  if (n == nullptr) return;
  const toml::array* a = n->as_array();
  if (a == nullptr) wrong_type(key, *n, "array of strings");
  std::vector<std::string> values;
  for (const auto& item : *a) {
    const auto* v = item.as_string();
    if (v == nullptr || v->get().empty()) fail(key, "must be an array of non-empty strings");
    values.push_back(v->get());
  }
  out = std::move(values);
}

std::vector<Section> Section::tables(std::string_view key) {
  std::vector<Section> out;
  const toml::node* n = find(key);
  if (n == nullptr) return out;
  const toml::array* a = n->as_array();
  if (a == nullptr || !a->is_array_of_tables()) wrong_type(key, *n, "array of tables", "write [[" + std::string(key) + "]] sections");
  std::size_t i = 0;
  for (const auto& item : *a) {
    const toml::table* t = item.as_table();
    out.emplace_back(t, name(key) + "[" + std::to_string(i++) + "]", *ctx_, t->source());
  }
  return out;
}

void Section::finish() const {
  if (table_ == nullptr) return;
  const toml::key* first = nullptr;
  for (auto&& [k, v] : *table_) {
    if (known_.count(k.str()) != 0) continue;
    if (first == nullptr || k.source().begin.line < first->source().begin.line) first = &k;
  }
  if (first == nullptr) return;

  std::string hint;
  std::size_t best = 3;  // suggest only close matches: a typo, not a different key
  for (const auto& known : known_) {
    const std::size_t d = edit_distance(first->str(), known);
    if (d < best) {
      best = d;
      hint = fmt::format(" (did you mean '{}'?)", name(known));
    }
  }
  throw Error(Errc::config_unknown_key,
              fmt::format("{}unknown key '{}'{}", location(*ctx_, first->source()), name(first->str()), hint), true);
}

}  // namespace sigil::config::detail
