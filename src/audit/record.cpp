// Canonical serialisation and hashing of audit records (definitions in record.hpp).
#include "sigil/audit/record.hpp"

#include <nlohmann/json.hpp>

#include "ossl/digest.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"

namespace sigil::audit {
namespace {

using nlohmann::json;

std::string get_string(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_string()) {
    throw Error(Errc::invalid_argument, std::string("audit record: missing or non-string \"") + key + "\"");
  }
  return it->get<std::string>();
}

}  // namespace

const std::string& genesis_hash() {
  static const std::string kGenesis(64, '0');
  return kGenesis;
}

std::string canonical_json(const Record& r) {
  // nlohmann::json objects are std::map-backed: keys come out sorted, so dump() is deterministic.
  json j = json::object();
  j["seq"] = r.seq;
  j["time"] = r.time;
  j["prev_hash"] = r.prev_hash;
  j["type"] = r.event.type;
  j["principal"] = r.event.principal;
  j["client_address"] = r.event.client_address;
  j["request_id"] = r.event.request_id;
  j["outcome"] = r.event.outcome;
  j["details"] = json::object();
  for (const auto& [k, v] : r.event.details) j["details"][k] = v;
  try {
    return j.dump();  // strict: invalid UTF-8 throws
  } catch (const json::exception& e) {
    throw Error(Errc::invalid_argument, std::string("audit event is not valid UTF-8: ") + e.what(), true);
  }
}

std::string compute_hash(const Record& r) { return compute_hash(r.prev_hash, canonical_json(r)); }

std::string compute_hash(std::string_view prev_hash, std::string_view canonical) {
  Bytes input = hex_decode(prev_hash);
  input.insert(input.end(), canonical.begin(), canonical.end());
  return hex_encode(ossl::digest(HashAlg::sha256, input));
}

Record parse_canonical(const std::string& text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw Error(Errc::invalid_argument, std::string("audit record: invalid JSON: ") + e.what());
  }
  if (!j.is_object()) throw Error(Errc::invalid_argument, "audit record: not a JSON object");
  Record r;
  const auto seq = j.find("seq");
  if (seq == j.end() || !seq->is_number_integer()) throw Error(Errc::invalid_argument, "audit record: bad seq");
  r.seq = seq->get<std::int64_t>();
  r.time = get_string(j, "time");
  r.prev_hash = get_string(j, "prev_hash");
  r.event.type = get_string(j, "type");
  r.event.principal = get_string(j, "principal");
  r.event.client_address = get_string(j, "client_address");
  r.event.request_id = get_string(j, "request_id");
  r.event.outcome = get_string(j, "outcome");
  const auto details = j.find("details");
  if (details == j.end() || !details->is_object()) throw Error(Errc::invalid_argument, "audit record: bad details");
  for (const auto& [k, v] : details->items()) {
    if (!v.is_string()) throw Error(Errc::invalid_argument, "audit record: non-string detail " + k);
    r.event.details.emplace(k, v.get<std::string>());
  }
  return r;
}

Bytes checkpoint_digest(const std::string& head_hash_hex, std::int64_t seq) {
  Bytes input = hex_decode(head_hash_hex);
  const auto useq = static_cast<std::uint64_t>(seq);
  for (int shift = 56; shift >= 0; shift -= 8) input.push_back(static_cast<std::uint8_t>(useq >> shift));
  return ossl::digest(HashAlg::sha256, input);
}

}  // namespace sigil::audit
