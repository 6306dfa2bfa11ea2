// Key lifecycle: the token holds the keys, the store holds their certificates.
#include <algorithm>
#include <map>

#include "rules.hpp"
#include "sigil/admin/service.hpp"
#include "sigil/common/error.hpp"

namespace sigil::admin {
namespace {

KeyView make_view(hsm::KeyInfo info, const std::optional<store::KeyRecord>& row) {
  KeyView v{std::move(info), std::nullopt, std::nullopt, std::nullopt, std::nullopt};
  if (row) {
    v.certificate_pem = row->certificate_pem;
    v.chain_pem = row->chain_pem;
    v.subject = row->subject;
    v.not_after = row->not_after;
  }
  return v;
}

}  // namespace

AdminService::AdminService(store::Store& store, hsm::Token& token, const Clock& clock)
    : store_(store), token_(token), clock_(clock) {}

KeyView AdminService::generate_key(const std::string& label, const KeySpec& spec) {
  detail::check_key_label(label);
  if (token_.find_key(label)) {
    throw Error(Errc::already_exists, "a key labelled '" + label + "' already exists", true);
  }
  hsm::KeyInfo info = token_.generate_key(spec, label);
  store::KeyRecord row;
  row.label = label;
  row.token_label = token_.label();
  row.key_id_hex = info.id_hex;
  row.key_spec = info.spec.name();
  store_.keys().record_generated(row);
  return make_view(std::move(info), std::nullopt);
}

std::vector<KeyView> AdminService::list_keys() {
  std::map<std::string, store::KeyRecord> rows;
  for (auto& r : store_.keys().list()) rows.emplace(r.label, std::move(r));
  std::vector<KeyView> out;
  // The token decides which keys exist; rows without a token key (deleted outside sigild) are
  // not shown.
  for (auto& info : token_.list_keys()) {
    const auto it = rows.find(info.label);
    out.push_back(make_view(std::move(info), it == rows.end() ? std::nullopt : std::optional(it->second)));
  }
  std::sort(out.begin(), out.end(), [](const KeyView& a, const KeyView& b) { return a.key.label < b.key.label; });
  return out;
}

KeyView AdminService::get_key(const std::string& label) {
  detail::check_key_label(label);
  auto info = token_.find_key(label);
  if (!info) throw Error(Errc::hsm_key_not_found, "no key labelled '" + label + "'", true);
  return make_view(std::move(*info), store_.keys().get(label));
}

void AdminService::protect_key(std::string label, std::string reason) {
  protected_keys_[std::move(label)] = std::move(reason);
}

void AdminService::check_not_protected(const std::string& label) const {
  if (const auto it = protected_keys_.find(label); it != protected_keys_.end()) {
    throw Error(Errc::invalid_argument, "key '" + label + "' is " + it->second + " and cannot be used for this", true);
  }
}

void AdminService::delete_key(const std::string& label) {
  get_key(label);  // 404 before anything changes
  check_not_protected(label);
  // The row goes first, in a transaction that refuses while credentials use the key: if the
  // token call then fails, we are left with an orphan token key (visible, harmless), never with a
  // credential pointing at a deleted key.
  store_.keys().remove(label);
  token_.delete_key(label);
}

}  // namespace sigil::admin
