// Domain objects -> JSON documents of the admin API (see admin_json.hpp for the shapes).
#include <chrono>

#include "sigil/api/admin_json.hpp"

namespace sigil::api::admin {
namespace {

Json opt(const std::optional<std::string>& v) {
  return v ? Json(*v) : Json(nullptr);
}
Json opt_time(const std::optional<std::int64_t>& v) {
  return v ? Json(unix_to_rfc3339(*v)) : Json(nullptr);
}

}  // namespace

std::string unix_to_rfc3339(std::int64_t seconds) {
  return to_rfc3339(Clock::time_point{std::chrono::seconds{seconds}});
}

Json key_to_json(const ::sigil::admin::KeyView& k) {
  return Json{{"label", k.key.label},
              {"id", k.key.id_hex},
              {"type", k.key.spec.name()},
              {"sensitive", k.key.sensitive},
              {"extractable", k.key.extractable},
              {"local", k.key.local},
              {"always_sensitive", k.key.always_sensitive},
              {"never_extractable", k.key.never_extractable},
              {"certificate_pem", opt(k.certificate_pem)},
              {"chain_pem", opt(k.chain_pem)},
              {"subject", opt(k.subject)},
              {"not_after", opt(k.not_after)}};
}

Json credential_to_json(const ::sigil::admin::Credential& c) {
  return Json{{"id", c.id},
              {"owner", c.owner_username},
              {"key_label", c.key_label},
              {"description", c.description},
              {"algorithms", c.algorithms},
              {"scal", c.scal},
              {"second_factor", std::string(::sigil::admin::to_string(c.second_factor))},
              {"unattended", c.unattended},
              {"status", c.status == ::sigil::admin::CredentialStatus::active ? "active" : "disabled"},
              {"certificate_pem", c.certificate_pem},
              {"chain_pem", c.chain_pem},
              {"created_at", unix_to_rfc3339(c.created_at)},
              {"updated_at", unix_to_rfc3339(c.updated_at)}};
}

Json user_to_json(const store::User& u) {
  Json roles = Json::array();
  for (const auto r : u.roles) roles.push_back(std::string(store::to_string(r)));
  return Json{{"id", u.id},
              {"username", u.username},
              {"display_name", opt(u.profile.display_name)},
              {"email", opt(u.profile.email)},
              {"mobile", opt(u.profile.mobile)},
              {"status", std::string(store::to_string(u.status))},
              {"roles", roles},
              {"has_password", u.has_password},
              {"failed_logins", u.failed_logins},
              {"locked_until", opt_time(u.locked_until)},
              {"created_at", unix_to_rfc3339(u.created_at)},
              {"updated_at", unix_to_rfc3339(u.updated_at)}};
}

Json api_key_to_json(const store::ApiKeyInfo& k) {
  return Json{{"id", k.id},
              {"prefix", k.prefix},
              {"label", opt(k.label)},
              {"created_at", unix_to_rfc3339(k.created_at)},
              {"last_used_at", opt_time(k.last_used_at)},
              {"revoked_at", opt_time(k.revoked_at)}};
}

Json mechanism_to_json(const hsm::MechanismInfo& m) {
  return Json{{"name", m.name},
              {"min_key", m.min_key},
              {"max_key", m.max_key},
              {"sign", m.sign},
              {"generate_key_pair", m.generate_key_pair}};
}

}  // namespace sigil::api::admin
