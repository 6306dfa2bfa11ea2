// Reading the trail back: filtered pages of records for the admin API and sigilctl.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sigil/audit/record.hpp"
#include "sigil/store/database.hpp"

namespace sigil::audit {

// Every set criterion must match. Strings are compared exactly unless said otherwise.
struct Query {
  std::string from;            // RFC 3339 UTC ("2026-11-22T14:00:00Z") or a date ("2026-11-22"): time >= from
  std::string to;              // same forms: time < to
  std::string user;            // the acting principal (name or id) or the user acted upon (details
                               // username / owner / user_id)
  std::string credential;      // details credential_id
  std::string type;            // event type; "admin.*" or "admin." matches a prefix
  std::string digest;          // any detail whose key ends in "digest": "<hex>" or "sha256:<hex>", any case
  std::int64_t after_seq = 0;  // only records with seq > after_seq (paging)
  std::size_t limit = 100;     // 1..1000
};

struct Page {
  std::vector<Record> records;  // by seq, at most `limit`
  // Pass as after_seq to continue; 0 when nothing was scanned.
  std::int64_t next_after_seq = 0;
  bool more = false;            // records beyond next_after_seq exist (matching or not)
};

// Throws Error(invalid_argument, public) for a malformed from/to or a limit out of range.
void validate(const Query& q);
bool matches(const Record& r, const Query& q);

// Scans by seq from after_seq, filtering in the application (time in SQL), until `limit` records
// matched or the trail ends. Cost grows with the records scanned, not with those returned.
Page find_records(store::Database& db, const Query& q);
std::optional<Record> find_record(store::Database& db, std::int64_t seq);

}  // namespace sigil::audit
