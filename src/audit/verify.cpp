// Chain verification, loading the trail and JSON-lines export/import.
#include "sigil/audit/verify.hpp"

#include <istream>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>

#include "ossl/digest.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"

namespace sigil::audit {
namespace {

using nlohmann::json;

VerifyReport fail(VerifyReport r, Problem p, std::int64_t n, const std::string& what) {
  r.ok = false;
  r.problem = p;
  r.position = n;
  r.message = what;
  return r;
}

bool signature_valid(const Checkpoint& c, const Bytes& spki) {
  try {
    SignatureScheme scheme;
    if (c.algorithm == "ecdsa-sha256") {
      scheme = SignatureScheme::ecdsa;
    } else if (c.algorithm == "rsa-pss-sha256") {
      scheme = SignatureScheme::rsa_pss;
    } else {
      return false;
    }
    if (c.head_hash.size() != 64) return false;
    return ossl::verify_digest(spki, scheme, HashAlg::sha256, checkpoint_digest(c.head_hash, c.seq),
                               base64_decode(c.signature));
  } catch (const std::exception&) {
    return false;  // malformed hex/base64/signature: not a valid signature
  }
}

std::string recomputed_hash(const Record& r) {
  try {
    return compute_hash(r);
  } catch (const std::exception&) {
    return {};  // e.g. prev_hash not hex: cannot match
  }
}

}  // namespace

std::string_view to_string(Problem p) noexcept {
  switch (p) {
    case Problem::none: return "none";
    case Problem::record_modified: return "record_modified";
    case Problem::record_missing: return "record_missing";
    case Problem::record_not_chained: return "record_not_chained";
    case Problem::checkpoint_signature: return "checkpoint_signature";
    case Problem::checkpoint_mismatch: return "checkpoint_mismatch";
    case Problem::truncated: return "truncated";
  }
  return "unknown";
}

VerifyReport verify_chain(const std::vector<Record>& records, const std::vector<Checkpoint>& checkpoints,
                          const Bytes& audit_public_key_spki) {
  VerifyReport report;
  std::map<std::int64_t, std::string> hash_at;
  std::string prev = genesis_hash();
  std::int64_t expected = 1;
  for (const Record& r : records) {
    const std::string n = std::to_string(expected);
    if (r.seq != expected) return fail(report, Problem::record_missing, expected, "record " + n + " missing / out of order");
    if (recomputed_hash(r) != r.hash) return fail(report, Problem::record_modified, expected, "record " + n + " modified");
    if (r.prev_hash != prev) return fail(report, Problem::record_not_chained, expected, "record " + n + " does not chain");
    hash_at.emplace(r.seq, r.hash);
    prev = r.hash;
    ++expected;
    ++report.records;
  }
  const std::int64_t last = expected - 1;
  for (const Checkpoint& c : checkpoints) {
    const std::string n = std::to_string(c.seq);
    if (!signature_valid(c, audit_public_key_spki)) {
      return fail(report, Problem::checkpoint_signature, c.seq, "checkpoint at " + n + " has an invalid signature");
    }
    if (c.seq > last) {
      return fail(report, Problem::truncated, c.seq, "records truncated after checkpoint at " + n);
    }
    if (c.seq < 0 || (c.seq == 0 ? genesis_hash() : hash_at.at(c.seq)) != c.head_hash) {
      return fail(report, Problem::checkpoint_mismatch, c.seq, "checkpoint at " + n + " does not match the chain");
    }
    ++report.checkpoints;
    if (c.seq > report.last_checkpointed_seq) report.last_checkpointed_seq = c.seq;
  }
  return report;
}

Trail read_all(store::Database& db) {
  Trail t;
  // One read-only snapshot: records and checkpoints from the same state, writers not held up.
  db.read_transaction([&](store::Database& tx) {
    for (const auto& row : tx.query("SELECT seq, body, hash FROM audit_records ORDER BY seq")) {
      Record r;
      try {
        r = parse_canonical(row.get_text("body"));
      } catch (const Error&) {
        r = Record{};
        r.seq = row.get_int("seq");
      }
      r.hash = row.get_text("hash");
      t.records.push_back(std::move(r));
    }
    for (const auto& row : tx.query("SELECT seq, head_hash, time, algorithm, signature, key_label "
                                    "FROM audit_checkpoints ORDER BY id")) {
      t.checkpoints.push_back(Checkpoint{row.get_int("seq"), row.get_text("head_hash"), row.get_text("time"),
                                         row.get_text("algorithm"), row.get_text("signature"),
                                         row.get_text("key_label")});
    }
  });
  return t;
}

void export_jsonl(const Trail& trail, std::ostream& out) {
  for (const Record& r : trail.records) {
    json j = json::parse(canonical_json(r));
    j["kind"] = "record";
    j["hash"] = r.hash;
    out << j.dump() << '\n';
  }
  for (const Checkpoint& c : trail.checkpoints) {
    const json j = {{"kind", "checkpoint"}, {"seq", c.seq},          {"head_hash", c.head_hash},
                    {"time", c.time},       {"algorithm", c.algorithm}, {"signature", c.signature},
                    {"key_label", c.key_label}};
    out << j.dump() << '\n';
  }
  if (!out) throw Error(Errc::io, "audit export: write failed");
}

void export_jsonl(store::Database& db, std::ostream& out) { export_jsonl(read_all(db), out); }

Trail import_jsonl(std::istream& in) {
  Trail t;
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    const std::string where = "audit import: line " + std::to_string(number) + ": ";
    try {
      json j = json::parse(line);
      if (!j.is_object() || !j.contains("kind") || !j["kind"].is_string()) throw Error(Errc::invalid_argument, "no kind");
      const std::string kind = j["kind"].get<std::string>();
      if (kind == "record") {
        if (!j.contains("hash") || !j["hash"].is_string()) throw Error(Errc::invalid_argument, "no hash");
        const std::string hash = j["hash"].get<std::string>();
        j.erase("kind");
        j.erase("hash");
        Record r = parse_canonical(j.dump());
        r.hash = hash;
        t.records.push_back(std::move(r));
      } else if (kind == "checkpoint") {
        Checkpoint c;
        c.seq = j.at("seq").get<std::int64_t>();
        c.head_hash = j.at("head_hash").get<std::string>();
        c.time = j.at("time").get<std::string>();
        c.algorithm = j.at("algorithm").get<std::string>();
        c.signature = j.at("signature").get<std::string>();
        c.key_label = j.at("key_label").get<std::string>();
        t.checkpoints.push_back(std::move(c));
      } else {
        throw Error(Errc::invalid_argument, "unknown kind " + kind);
      }
    } catch (const Error& e) {
      throw Error(Errc::invalid_argument, where + e.detail());
    } catch (const json::exception& e) {
      throw Error(Errc::invalid_argument, where + e.what());
    }
  }
  return t;
}

}  // namespace sigil::audit
