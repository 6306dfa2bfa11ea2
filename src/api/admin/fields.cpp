// JSON request bodies -> typed values, with one public message per bad field.
#include "sigil/api/admin_json.hpp"
#include "sigil/common/error.hpp"

namespace sigil::api::admin {
namespace {

[[noreturn]] void bad(std::string_view name, std::string_view what) {
  throw Error(Errc::invalid_argument, "field '" + std::string(name) + "' " + std::string(what), true);
}

}  // namespace

Fields::Fields(Json body) : body_(std::move(body)) {
  if (!body_.is_object()) throw Error(Errc::invalid_argument, "request body must be a JSON object", true);
}

const Json* Fields::find(std::string_view name) const {
  const auto it = body_.find(name);
  if (it == body_.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<std::string> Fields::optional_string(std::string_view name) const {
  const Json* v = find(name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) bad(name, "must be a string");
  return v->get<std::string>();
}

std::string Fields::required_string(std::string_view name) const {
  auto v = optional_string(name);
  if (!v) bad(name, "is required");
  if (v->empty()) bad(name, "must not be empty");
  return *v;
}

std::optional<std::vector<std::string>> Fields::optional_string_array(std::string_view name) const {
  const Json* v = find(name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_array()) bad(name, "must be an array of strings");
  std::vector<std::string> out;
  for (const auto& item : *v) {
    if (!item.is_string()) bad(name, "must be an array of strings");
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::vector<std::string> Fields::required_string_array(std::string_view name) const {
  auto v = optional_string_array(name);
  if (!v) bad(name, "is required");
  return *v;
}

std::optional<std::int64_t> Fields::optional_int(std::string_view name, std::int64_t min, std::int64_t max) const {
  const Json* v = find(name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number_integer()) bad(name, "must be an integer");
  // Compare in the type the JSON holds: a huge unsigned value must not wrap into range.
  if (v->is_number_unsigned() && v->get<std::uint64_t>() > static_cast<std::uint64_t>(max)) {
    bad(name, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  const auto n = v->get<std::int64_t>();
  if (n < min || n > max) bad(name, "must be between " + std::to_string(min) + " and " + std::to_string(max));
  return n;
}

std::optional<bool> Fields::optional_bool(std::string_view name) const {
  const Json* v = find(name);
  if (v == nullptr) return std::nullopt;
  if (!v->is_boolean()) bad(name, "must be true or false");
  return v->get<bool>();
}

::sigil::admin::NewCredential new_credential_from_json(const Json& body) {
  const Fields f(body);
  ::sigil::admin::NewCredential c;
  c.owner_username = f.required_string("owner");
  c.key_label = f.required_string("key_label");
  c.description = f.optional_string("description").value_or("");
  c.algorithms = f.optional_string_array("algorithms").value_or(std::vector<std::string>{});
  c.scal = static_cast<int>(f.optional_int("scal", 1, 2).value_or(2));
  if (const auto sf = f.optional_string("second_factor")) c.second_factor = ::sigil::admin::parse_second_factor(*sf);
  c.unattended = f.optional_bool("unattended").value_or(false);
  return c;
}

::sigil::admin::CertificateIssue certificate_issue_from_json(const Json& body) {
  const Fields f(body);
  ::sigil::admin::CertificateIssue issue;
  issue.subject = f.required_string("subject");
  issue.days = static_cast<int>(f.optional_int("days", 1, 3650).value_or(365));
  issue.profile = f.optional_string("profile").value_or("signer");
  return issue;
}

}  // namespace sigil::api::admin
