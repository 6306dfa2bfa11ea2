// The audit trail's data: what happened (Event), how it is stored and chained (Record), and the
// signed anchors of the chain (Checkpoint).
//
// Records hold identifiers and digests, never secrets or document bytes (STYLE.md practice 15).
//
// Chaining, precisely:
//   canonical(record) = the JSON object {client_address, details, outcome, prev_hash, principal,
//                       request_id, seq, time, type} with keys sorted, no whitespace (nlohmann
//                       json dump()), UTF-8. Every field except `hash`.
//   hash(record)      = SHA-256(hex_decode(prev_hash) || canonical(record)), lowercase hex.
//   prev_hash of seq 1 (genesis) is 32 zero bytes; of seq n > 1, hash(record n-1). Seqs start at 1.
// Checkpoint signature, precisely:
//   checkpoint_digest = SHA-256(hex_decode(head_hash) || seq as 8-byte unsigned big endian), signed
//   with the audit key: "ecdsa-sha256" (DER ECDSA) for EC keys, "rsa-pss-sha256" (salt = 32, MGF1
//   SHA-256) for RSA keys. The checkpoint time is informational and not signed.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "sigil/common/secure.hpp"

namespace sigil::audit {

struct Event {
  std::string type;            // "auth.login.failure", "signature.created", "admin.key.generate"
  std::string principal;       // user id / name, or "" when unauthenticated
  std::string client_address;  // "203.0.113.7:51234"
  std::string request_id;
  std::string outcome;         // "success" or "failure"
  std::map<std::string, std::string> details;  // digests, credential id, algorithm; never secrets

  bool operator==(const Event&) const = default;
};

struct Record {
  std::int64_t seq = 0;
  std::string time;       // RFC 3339 UTC
  Event event;
  std::string prev_hash;  // lowercase hex, 64 chars
  std::string hash;       // lowercase hex, 64 chars

  bool operator==(const Record&) const = default;
};

struct Checkpoint {
  std::int64_t seq = 0;    // the chain head the checkpoint covers (0 = empty chain)
  std::string head_hash;   // hash of record `seq` (hex)
  std::string time;        // RFC 3339 UTC
  std::string algorithm;   // "ecdsa-sha256" or "rsa-pss-sha256"
  std::string signature;   // base64
  std::string key_label;   // the audit key's label in the token

  bool operator==(const Checkpoint&) const = default;
};

// 64 zeros: the prev_hash of the first record.
const std::string& genesis_hash();
// The canonical JSON of `r` without its hash (see above). Throws Error(invalid_argument) when a
// string is not valid UTF-8.
std::string canonical_json(const Record& r);
// hash(record) as defined above, from its other fields.
std::string compute_hash(const Record& r);
// The same from the record's prev_hash and its canonical_json, when the caller has it already.
std::string compute_hash(std::string_view prev_hash, std::string_view canonical);
// The inverse of canonical_json: a Record (hash left empty). Throws Error(invalid_argument).
Record parse_canonical(const std::string& json);
// checkpoint_digest as defined above (32 bytes).
Bytes checkpoint_digest(const std::string& head_hash_hex, std::int64_t seq);

}  // namespace sigil::audit
