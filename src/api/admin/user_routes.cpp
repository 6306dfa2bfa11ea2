// /users and /apikeys: accounts, roles, passwords, lockouts and API keys.
//
// The repositories (store) already enforce username syntax, field lengths and hashing; what is
// added here is the admin policy: minimum password length, one-time display of generated
// passwords and API keys, and "an admin cannot disable their own account".
#include <algorithm>

#include "routes.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/secure.hpp"

namespace sigil::api::admin::detail {
namespace {

constexpr std::size_t kMinPasswordChars = 12;
constexpr std::size_t kGeneratedPasswordBytes = 18;  // 24 base64url characters, 144 bits

store::UserRepository& users(const Context& ctx) {
  return ctx.svc.store().users();
}

// Characters, not bytes: a passphrase in a non-Latin script must not pass on byte count alone.
void check_password_policy(std::string_view password) {
  const auto chars = std::count_if(password.begin(), password.end(),
                                   [](char c) { return (static_cast<unsigned char>(c) & 0xC0U) != 0x80U; });
  if (static_cast<std::size_t>(chars) < kMinPasswordChars) {
    throw Error(Errc::invalid_argument,
                "field 'password' must be at least " + std::to_string(kMinPasswordChars) + " characters", true);
  }
}

store::User reload(const Context& ctx, const std::string& id) {
  auto user = users(ctx).get(id);
  if (!user) throw Error(Errc::user_not_found, "user vanished", true);
  return *user;
}

http::Response create_user(const Context& ctx, http::Request& req) {
  const Fields f(body_object(req));
  store::NewUser nu;
  nu.username = f.required_string("username");
  nu.profile.display_name = f.optional_string("display_name");
  nu.profile.email = f.optional_string("email");
  nu.profile.mobile = f.optional_string("mobile");
  std::vector<store::Role> roles;
  for (const auto& name : f.required_string_array("roles")) {
    const auto role = store::parse_role(name);
    if (!role) {
      throw Error(Errc::invalid_argument,
                  "field 'roles': unknown role '" + name + "' (admin, auditor, signer, service)", true);
    }
    roles.push_back(*role);
  }
  // People sign in with a password; service accounts use API keys only. A person created without
  // one gets a random password, shown in this response and never again.
  std::optional<SecretString> generated;
  std::optional<std::string> password = f.optional_string("password");
  if (password) {
    check_password_policy(*password);
  } else if (std::any_of(roles.begin(), roles.end(), [](store::Role r) { return r != store::Role::service; })) {
    generated.emplace(random_token(kGeneratedPasswordBytes));
  }
  std::optional<std::string_view> pw;
  if (password) pw = *password;
  if (generated) pw = generated->view();
  const std::string id = users(ctx).create(nu, roles, pw);
  if (password) secure_wipe(password->data(), password->size());

  Json out = user_to_json(reload(ctx, id));
  if (generated) out["password"] = std::string(generated->view());
  return json(201, out);
}

http::Response list_users(const Context& ctx, http::Request& req) {
  store::UserFilter filter;
  if (const auto r = req.query_param("role"); r && !r->empty()) {
    filter.role = store::parse_role(*r);
    if (!filter.role) throw Error(Errc::invalid_argument, "query parameter 'role' must be a known role", true);
  }
  if (const auto s = req.query_param("status"); s && !s->empty()) {
    filter.status = store::parse_user_status(*s);
    if (!filter.status)
      throw Error(Errc::invalid_argument, "query parameter 'status' must be active or disabled", true);
  }
  Json list = Json::array();
  for (const auto& u : users(ctx).list(filter)) list.push_back(user_to_json(u));
  return json(200, Json{{"users", list}});
}

http::Response get_user(const Context& ctx, http::Request& req) {
  return json(200, user_to_json(find_user(ctx, param(req, "username"))));
}

// Revokes the user's tokens around `change`: before it, so that a revocation that fails leaves the
// change undone and the answer (and its audit record) true; after it, for a token issued in between
// (a login that checked the password just before the change). A second revocation that fails is an
// error too: the change is made, repeating the request revokes again.
template <typename Change>
void end_sessions(const Context& ctx, const std::string& user_id, Change&& change) {
  if (ctx.sessions.revoke) ctx.sessions.revoke(user_id);
  change();
  if (ctx.sessions.revoke) ctx.sessions.revoke(user_id);
}

http::Response disable_user(const Context& ctx, http::Request& req) {
  const auto user = find_user(ctx, param(req, "username"));
  // Guards against the last administrator locking everyone out by accident.
  if (req.principal && req.principal->id == user.id) {
    throw Error(Errc::invalid_argument, "you cannot disable your own account", true);
  }
  // Signed-in sessions end now, not when their tokens expire (nor when a token cache forgets them).
  end_sessions(ctx, user.id, [&] { users(ctx).set_status(user.id, store::UserStatus::disabled); });
  return json(200, user_to_json(reload(ctx, user.id)));
}

http::Response enable_user(const Context& ctx, http::Request& req) {
  const auto user = find_user(ctx, param(req, "username"));
  users(ctx).set_status(user.id, store::UserStatus::active);
  return json(200, user_to_json(reload(ctx, user.id)));
}

http::Response unlock_user(const Context& ctx, http::Request& req) {
  const auto user = find_user(ctx, param(req, "username"));
  users(ctx).unlock(user.id);
  return json(200, user_to_json(reload(ctx, user.id)));
}

http::Response set_password(const Context& ctx, http::Request& req) {
  const auto user = find_user(ctx, param(req, "username"));
  const Fields f(body_object(req));
  std::string password = f.required_string("password");
  check_password_policy(password);
  // A password set by an administrator (a reset, a suspected compromise) ends the old sessions.
  try {
    end_sessions(ctx, user.id, [&] { users(ctx).set_password(user.id, password); });
  } catch (...) {
    secure_wipe(password.data(), password.size());
    throw;
  }
  secure_wipe(password.data(), password.size());
  return no_content();
}

http::Response create_api_key(const Context& ctx, http::Request& req) {
  const auto user = find_user(ctx, param(req, "username"));
  const Fields f(body_object(req));
  const auto created = ctx.svc.store().api_keys().create(user.id, f.optional_string("label"));
  // The only time the full key is ever visible: only its digest is stored.
  return json(201,
              Json{{"id", created.info.id}, {"prefix", created.info.prefix}, {"key", std::string(created.key.view())}});
}

http::Response list_api_keys(const Context& ctx, http::Request& req) {
  const auto user = find_user(ctx, param(req, "username"));
  Json list = Json::array();
  for (const auto& k : ctx.svc.store().api_keys().list(user.id)) list.push_back(api_key_to_json(k));
  return json(200, Json{{"api_keys", list}});
}

http::Response revoke_api_key(const Context& ctx, http::Request& req) {
  const std::string& id = param(req, "id");
  try {
    ctx.svc.store().api_keys().revoke(id);
  } catch (const Error& e) {
    if (e.code() == Errc::not_found) throw Error(Errc::not_found, "no API key '" + id + "'", true);
    throw;
  }
  return no_content();
}

}  // namespace

void register_user_routes(http::Router& router, const ContextPtr& ctx) {
  add(router, ctx, "POST", "/users", create_user, "admin.user.create");
  add(router, ctx, "GET", "/users", list_users);
  add(router, ctx, "GET", "/users/{username}", get_user);
  add(router, ctx, "POST", "/users/{username}/disable", disable_user, "admin.user.disable");
  add(router, ctx, "POST", "/users/{username}/enable", enable_user, "admin.user.enable");
  add(router, ctx, "POST", "/users/{username}/unlock", unlock_user, "admin.user.unlock");
  add(router, ctx, "PUT", "/users/{username}/password", set_password, "admin.user.password");
  add(router, ctx, "POST", "/users/{username}/apikeys", create_api_key, "admin.apikey.create");
  add(router, ctx, "GET", "/users/{username}/apikeys", list_api_keys);
  add(router, ctx, "DELETE", "/apikeys/{id}", revoke_api_key, "admin.apikey.revoke");
}

}  // namespace sigil::api::admin::detail
