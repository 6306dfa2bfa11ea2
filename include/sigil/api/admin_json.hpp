// The admin API's JSON shapes, in one place so the REST handlers and sigilctl print and read the
// same documents. Timestamps are RFC 3339 UTC strings; absent optional values are JSON null.
// Secrets never appear here: a user document has `has_password`, never a hash.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sigil/admin/service.hpp"
#include "sigil/hsm/token.hpp"
#include "sigil/store/api_keys.hpp"
#include "sigil/store/users.hpp"

namespace sigil::api::admin {

using Json = nlohmann::json;

// {label, id, type, sensitive, extractable, local, always_sensitive, never_extractable,
//  certificate_pem?, chain_pem?, subject?, not_after?}
Json key_to_json(const ::sigil::admin::KeyView& key);
// {id, owner, key_label, description, algorithms, scal, second_factor, unattended, status,
//  certificate_pem, chain_pem, created_at, updated_at}
Json credential_to_json(const ::sigil::admin::Credential& c);
// {id, username, display_name, email, mobile, status, roles, has_password, failed_logins,
//  locked_until, created_at, updated_at}
Json user_to_json(const store::User& u);
// {id, prefix, label, created_at, last_used_at, revoked_at}
Json api_key_to_json(const store::ApiKeyInfo& k);
// {name, min_key, max_key, sign, generate_key_pair}
Json mechanism_to_json(const hsm::MechanismInfo& m);

std::string unix_to_rfc3339(std::int64_t seconds);

// Reads fields of a request object. Every failure is Error(invalid_argument) with a public
// message naming the field, so a client learns exactly what to fix. Unknown fields are ignored.
class Fields {
 public:
  // Throws unless `body` is a JSON object.
  explicit Fields(Json body);

  std::string required_string(std::string_view name) const;
  std::optional<std::string> optional_string(std::string_view name) const;  // null = absent
  std::optional<std::vector<std::string>> optional_string_array(std::string_view name) const;
  std::vector<std::string> required_string_array(std::string_view name) const;
  std::optional<std::int64_t> optional_int(std::string_view name, std::int64_t min, std::int64_t max) const;
  std::optional<bool> optional_bool(std::string_view name) const;

 private:
  const Json* find(std::string_view name) const;  // nullptr for absent or null
  Json body_;                                     // a copy: callers often pass a temporary (Fields f(body_object(req)))
};

// Request bodies -> service inputs.
::sigil::admin::NewCredential new_credential_from_json(const Json& body);
::sigil::admin::CertificateIssue certificate_issue_from_json(const Json& body);

}  // namespace sigil::api::admin
