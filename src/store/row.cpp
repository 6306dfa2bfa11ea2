#include <string>
#include <utility>

#include "sigil/common/error.hpp"
#include "sigil/store/database.hpp"

namespace sigil::store {
namespace {

const char* type_name(const Value& v) {
  switch (v.index()) {
    case 0: return "NULL";
    case 1: return "integer";
    case 2: return "real";
    case 3: return "text";
    default: return "blob";
  }
}

}  // namespace

Row::Row(std::shared_ptr<const std::vector<std::string>> columns, std::vector<Value> values)
    : columns_(std::move(columns)), values_(std::move(values)) {}

const std::string& Row::column_name(std::size_t i) const {
  if (!columns_ || i >= columns_->size()) throw Error(Errc::internal, "store: no column #" + std::to_string(i));
  return (*columns_)[i];
}

std::size_t Row::index_of(std::string_view name) const {
  if (columns_) {
    for (std::size_t i = 0; i < columns_->size(); ++i) {
      if ((*columns_)[i] == name) return i;
    }
  }
  throw Error(Errc::internal, "store: result has no column '" + std::string(name) + "'");
}

const Value& Row::value(std::size_t i) const {
  if (i >= values_.size()) throw Error(Errc::internal, "store: no column #" + std::to_string(i));
  return values_[i];
}

bool Row::is_null(std::size_t i) const { return std::holds_alternative<std::nullptr_t>(value(i)); }

namespace {

template <class T>
const T& typed(const Row& row, std::size_t i, const char* wanted) {
  const Value& v = row.value(i);
  if (const T* p = std::get_if<T>(&v)) return *p;
  throw Error(Errc::internal, "store: column '" + row.column_name(i) + "' is " + type_name(v) + ", not " + wanted);
}

}  // namespace

std::int64_t Row::get_int(std::size_t i) const { return typed<std::int64_t>(*this, i, "integer"); }

double Row::get_double(std::size_t i) const {
  if (const auto* p = std::get_if<std::int64_t>(&value(i))) return static_cast<double>(*p);
  return typed<double>(*this, i, "real");
}

const std::string& Row::get_text(std::size_t i) const { return typed<std::string>(*this, i, "text"); }
const Bytes& Row::get_blob(std::size_t i) const { return typed<Bytes>(*this, i, "blob"); }

std::optional<std::int64_t> Row::opt_int(std::size_t i) const {
  return is_null(i) ? std::nullopt : std::optional<std::int64_t>(get_int(i));
}
std::optional<double> Row::opt_double(std::size_t i) const {
  return is_null(i) ? std::nullopt : std::optional<double>(get_double(i));
}
std::optional<std::string> Row::opt_text(std::size_t i) const {
  return is_null(i) ? std::nullopt : std::optional<std::string>(get_text(i));
}
std::optional<Bytes> Row::opt_blob(std::size_t i) const {
  return is_null(i) ? std::nullopt : std::optional<Bytes>(get_blob(i));
}

std::optional<Row> Database::query_one(std::string_view sql, const Params& params) {
  std::vector<Row> rows = query(sql, params);
  if (rows.empty()) return std::nullopt;
  return std::move(rows.front());
}

}  // namespace sigil::store
