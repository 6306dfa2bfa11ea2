// Verifying the trail, online (from the database) or offline (from a JSON-lines export and the
// audit key's public key alone).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "sigil/audit/record.hpp"
#include "sigil/common/secure.hpp"
#include "sigil/store/database.hpp"

namespace sigil::audit {

enum class Problem {
  none,
  record_modified,        // "record N modified": its hash does not match its content
  record_missing,         // "record N missing / out of order": seq gap or not increasing
  record_not_chained,     // "record N does not chain": prev_hash is not record N-1's hash
  checkpoint_signature,   // "checkpoint at N has an invalid signature"
  checkpoint_mismatch,    // "checkpoint at N does not match the chain"
  truncated,              // "records truncated after checkpoint at N"
};

// "none", "record_modified", "record_missing", ... (the enumerator's name).
std::string_view to_string(Problem p) noexcept;

struct VerifyReport {
  bool ok = true;
  Problem problem = Problem::none;
  std::int64_t position = 0;   // the N of the message
  std::string message;         // "" when ok
  std::int64_t records = 0;    // records checked
  std::int64_t checkpoints = 0;
  std::int64_t last_checkpointed_seq = 0;  // records after this are not yet covered by a signature
};

// Checks, in this order, and reports the first problem: every record in the given order (seq,
// content hash, chain), then every checkpoint (signature with `audit_public_key_spki`, then that it
// names an existing record whose hash is its head hash). Records after the last checkpoint can be
// truncated without trace unless a later checkpoint (e.g. the one close() writes) covers them.
VerifyReport verify_chain(const std::vector<Record>& records, const std::vector<Checkpoint>& checkpoints,
                          const Bytes& audit_public_key_spki);

struct Trail {
  std::vector<Record> records;          // by seq
  std::vector<Checkpoint> checkpoints;  // in the order written
};

// Loads the whole trail. A record comes from its stored canonical body (the seq/time/prev_hash
// columns are an index); its hash from the hash column. An unparsable body yields a record with
// seq from the column and empty fields, so verification reports it as modified.
Trail read_all(store::Database& db);

// One JSON object per line: records {"kind":"record", <canonical fields>, "hash"} by seq, then
// checkpoints {"kind":"checkpoint", seq, head_hash, time, algorithm, signature, key_label}.
void export_jsonl(store::Database& db, std::ostream& out);
void export_jsonl(const Trail& trail, std::ostream& out);
// Throws Error(invalid_argument) naming the line on a malformed line or unknown kind.
Trail import_jsonl(std::istream& in);

}  // namespace sigil::audit
