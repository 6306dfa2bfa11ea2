// Credentials: who may sign with which key, how (algorithms) and with what assurance (SCAL, second
// factor). The owner and the key are checked here; the store's foreign keys back the checks up.
#include "rules.hpp"
#include "sigil/admin/service.hpp"
#include "sigil/common/error.hpp"

namespace sigil::admin {
namespace {

constexpr std::size_t kMaxDescription = 1024;
constexpr std::size_t kIdRandomBytes = 12;

Credential from_record(store::CredentialRecord r) {
  Credential c;
  c.id = std::move(r.id);
  c.owner_user_id = std::move(r.owner_user_id);
  c.owner_username = std::move(r.owner_username);
  c.key_label = std::move(r.key_label);
  c.description = std::move(r.description);
  c.algorithms = std::move(r.algorithms);
  c.scal = r.scal;
  c.second_factor = parse_second_factor(r.second_factor);
  c.unattended = r.unattended;
  c.status = detail::parse_status(r.status);
  c.certificate_pem = std::move(r.certificate_pem);
  c.chain_pem = std::move(r.chain_pem);
  c.created_at = r.created_at;
  c.updated_at = r.updated_at;
  return c;
}

// The user named `username` or user_not_found (public). A malformed name cannot exist, so it is
// "not found" too; store failures propagate unchanged.
store::User existing_user(store::Store& store, const std::string& username) {
  std::optional<std::string> normalized;
  try {
    normalized = store::normalize_username(username);
  } catch (const Error&) {
    normalized.reset();
  }
  auto user = normalized ? store.users().get_by_username(*normalized) : std::nullopt;
  if (!user) throw Error(Errc::user_not_found, "no user named '" + username + "'", true);
  return *user;
}

// The owner must also be active (invalid_argument: it is the administrator's input that is wrong,
// not the administrator's access).
store::User active_user(store::Store& store, const std::string& username) {
  auto user = existing_user(store, username);
  if (user.status != store::UserStatus::active) {
    throw Error(Errc::invalid_argument, "user '" + user.username + "' is disabled", true);
  }
  return user;
}

void check_unattended(bool unattended, const store::User& owner) {
  // Unattended signing skips the second factor; only service accounts (back-office systems) may.
  if (unattended && !owner.has_role(store::Role::service)) {
    throw Error(Errc::invalid_argument,
                "unattended credentials need an owner with the 'service' role; '" + owner.username + "' has none",
                true);
  }
}

}  // namespace

Credential AdminService::create_credential(const NewCredential& c) {
  const store::User owner = active_user(store_, c.owner_username);
  const KeyView key = get_key(c.key_label);
  check_not_protected(c.key_label);
  if (!key.certificate_pem) {
    throw Error(Errc::invalid_argument,
                "key '" + c.key_label + "' has no certificate; import or issue one before creating a credential", true);
  }
  if (c.scal != 1 && c.scal != 2) throw Error(Errc::invalid_argument, "scal must be 1 or 2", true);
  if (c.description.size() > kMaxDescription) {
    throw Error(Errc::invalid_argument, "description longer than " + std::to_string(kMaxDescription) + " bytes", true);
  }
  check_unattended(c.unattended, owner);

  store::CredentialRecord r;
  r.id = "cred_" + random_token(kIdRandomBytes);
  r.owner_user_id = owner.id;
  r.key_label = c.key_label;
  r.description = c.description;
  r.algorithms = detail::normalize_algorithms(c.algorithms, key.key.spec.type);
  r.scal = c.scal;
  r.second_factor = std::string(to_string(c.second_factor));
  r.unattended = c.unattended;
  r.status = "active";
  r.certificate_pem = *key.certificate_pem;
  r.chain_pem = key.chain_pem.value_or("");
  return from_record(store_.credentials().create(r));
}

std::vector<Credential> AdminService::list_credentials(const std::optional<std::string>& owner_username) {
  std::optional<std::string> owner_id;
  if (owner_username) {
    owner_id = existing_user(store_, *owner_username).id;
  }
  std::vector<Credential> out;
  for (auto& r : store_.credentials().list(owner_id)) out.push_back(from_record(std::move(r)));
  return out;
}

Credential AdminService::get_credential(const std::string& id) {
  auto r = store_.credentials().get(id);
  if (!r) throw Error(Errc::not_found, "no credential '" + id + "'", true);
  return from_record(std::move(*r));
}

Credential AdminService::assign_credential(const std::string& id, const std::string& owner_username) {
  const Credential current = get_credential(id);
  const store::User owner = active_user(store_, owner_username);
  check_unattended(current.unattended, owner);
  store_.credentials().set_owner(id, owner.id);
  return get_credential(id);
}

Credential AdminService::set_credential_status(const std::string& id, CredentialStatus status) {
  get_credential(id);
  store_.credentials().set_status(id, detail::status_text(status));
  return get_credential(id);
}

}  // namespace sigil::admin
