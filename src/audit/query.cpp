// Filtered reads of the audit trail.
#include "sigil/audit/query.hpp"

#include <algorithm>
#include <cctype>

#include "sigil/common/error.hpp"

namespace sigil::audit {
namespace {

constexpr std::size_t kChunk = 500;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool digit_at(const std::string& s, std::size_t i) { return i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); }

// "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ": the forms records use, so string order is time order.
bool valid_time(const std::string& s) {
  const auto digits = [&](std::size_t from, std::size_t n) {
    for (std::size_t i = from; i < from + n; ++i) {
      if (!digit_at(s, i)) return false;
    }
    return true;
  };
  const bool date = s.size() >= 10 && digits(0, 4) && s[4] == '-' && digits(5, 2) && s[7] == '-' && digits(8, 2);
  if (!date) return false;
  if (s.size() == 10) return true;
  return s.size() == 20 && s[10] == 'T' && digits(11, 2) && s[13] == ':' && digits(14, 2) && s[16] == ':' &&
         digits(17, 2) && s[19] == 'Z';
}

// The digest part without an "alg:" prefix, lower case.
std::string bare_digest(const std::string& d) {
  const auto colon = d.find(':');
  return lower(colon == std::string::npos ? d : d.substr(colon + 1));
}

bool detail_is(const Record& r, const char* key, const std::string& value) {
  const auto it = r.event.details.find(key);
  return it != r.event.details.end() && it->second == value;
}

Record from_row(const store::Row& row) {
  Record r;
  try {
    r = parse_canonical(row.get_text("body"));
  } catch (const Error&) {
    r = Record{};
    r.seq = row.get_int("seq");
  }
  r.hash = row.get_text("hash");
  return r;
}

}  // namespace

void validate(const Query& q) {
  if (!q.from.empty() && !valid_time(q.from)) {
    throw Error(Errc::invalid_argument, "'from' must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ", true);
  }
  if (!q.to.empty() && !valid_time(q.to)) {
    throw Error(Errc::invalid_argument, "'to' must be YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ", true);
  }
  if (q.limit < 1 || q.limit > 1000) throw Error(Errc::invalid_argument, "'limit' must be between 1 and 1000", true);
  if (q.after_seq < 0) throw Error(Errc::invalid_argument, "'after_seq' must not be negative", true);
}

bool matches(const Record& r, const Query& q) {
  if (r.seq <= q.after_seq) return false;
  if (!q.from.empty() && r.time < q.from) return false;
  if (!q.to.empty() && r.time >= q.to) return false;
  if (!q.type.empty()) {
    const bool prefix = q.type.back() == '*' || q.type.back() == '.';
    const std::string stem = q.type.back() == '*' ? q.type.substr(0, q.type.size() - 1) : q.type;
    if (prefix ? r.event.type.rfind(stem, 0) != 0 : r.event.type != q.type) return false;
  }
  if (!q.user.empty()) {
    const bool actor = r.event.principal == q.user || detail_is(r, "principal_id", q.user);
    const bool subject = detail_is(r, "username", q.user) || detail_is(r, "owner", q.user) ||
                         detail_is(r, "user_id", q.user);
    if (!actor && !subject) return false;
  }
  if (!q.credential.empty() && !detail_is(r, "credential_id", q.credential) && !detail_is(r, "id", q.credential)) {
    return false;
  }
  if (!q.digest.empty()) {
    const std::string want = bare_digest(q.digest);
    const bool found = std::any_of(r.event.details.begin(), r.event.details.end(), [&](const auto& kv) {
      const std::string& k = kv.first;
      return k.size() >= 6 && k.compare(k.size() - 6, 6, "digest") == 0 && bare_digest(kv.second) == want;
    });
    if (!found) return false;
  }
  return true;
}

Page find_records(store::Database& db, const Query& q) {
  validate(q);
  Page page;
  std::int64_t cursor = q.after_seq;
  std::string sql = "SELECT seq, body, hash FROM audit_records WHERE seq > $1";
  store::Params base;
  if (!q.from.empty()) {
    base.emplace_back(q.from);
    sql += " AND time >= $" + std::to_string(base.size() + 1);
  }
  if (!q.to.empty()) {
    base.emplace_back(q.to);
    sql += " AND time < $" + std::to_string(base.size() + 1);
  }
  sql += " ORDER BY seq LIMIT " + std::to_string(kChunk);
  for (;;) {
    store::Params params{cursor};
    params.insert(params.end(), base.begin(), base.end());
    const auto rows = db.query(sql, params);
    for (const auto& row : rows) {
      Record r = from_row(row);
      cursor = row.get_int("seq");
      page.next_after_seq = cursor;
      if (matches(r, q)) page.records.push_back(std::move(r));
      if (page.records.size() >= q.limit) {
        page.more = db.query_one("SELECT seq FROM audit_records WHERE seq > $1 LIMIT 1", {cursor}).has_value();
        return page;
      }
    }
    if (rows.size() < kChunk) return page;
  }
}

std::optional<Record> find_record(store::Database& db, std::int64_t seq) {
  const auto row = db.query_one("SELECT seq, body, hash FROM audit_records WHERE seq = $1", {seq});
  if (!row) return std::nullopt;
  return from_row(*row);
}

}  // namespace sigil::audit
