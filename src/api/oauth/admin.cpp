// /api/admin/v1/oauth-clients: register, list and remove OAuth clients, through the admin API's
// route mechanism (api::admin::add_route: admin role, worker pool, fail-closed audit of every change;
// the audit record carries identifiers only, never the client secret).
#include "oauth_internal.hpp"
#include "sigil/api/admin.hpp"
#include "sigil/api/admin_json.hpp"
#include "sigil/store/users.hpp"

namespace sigil::api::oauth {
namespace {

using Json = nlohmann::json;

struct AdminContext {
  auth::OAuthClients& clients;
  store::UserRepository& users;
};

Json client_json(const auth::OAuthClient& c, store::UserRepository& users) {
  Json j{{"client_id", c.client_id},     {"name", c.name},     {"redirect_uris", c.redirect_uris},
         {"grant_types", c.grant_types}, {"scopes", c.scopes}, {"confidential", c.confidential},
         {"created_at", c.created_at}};
  if (c.service_user_id) {
    j["service_user_id"] = *c.service_user_id;
    if (const auto u = users.get(*c.service_user_id)) j["service_user"] = u->username;
  }
  return j;
}

http::Response create(const AdminContext& ctx, http::Request& req) {
  const admin::Fields f(req.body.empty() ? Json::object() : req.json_body());
  auth::NewOAuthClient n;
  n.name = f.required_string("name");
  n.redirect_uris = f.optional_string_array("redirect_uris").value_or(std::vector<std::string>{});
  if (auto g = f.optional_string_array("grant_types")) n.grant_types = std::move(*g);
  if (auto s = f.optional_string_array("scopes")) n.scopes = std::move(*s);
  if (const auto c = f.optional_bool("confidential")) n.confidential = *c;
  if (const auto service_user = f.optional_string("service_user")) {
    std::optional<store::User> u;
    try {
      u = ctx.users.get_by_username(*service_user);
    } catch (const Error&) {
      u.reset();
    }
    if (!u) throw Error(Errc::user_not_found, "no user named '" + *service_user + "'", true);
    n.service_user_id = u->id;
  }
  const auth::RegisteredClient r = ctx.clients.add(n);
  Json out = client_json(r.client, ctx.users);
  if (!r.secret.empty()) out["client_secret"] = std::string(r.secret.view());  // shown once
  return http::Response::json(201, out);
}

http::Response list(const AdminContext& ctx, http::Request&) {
  Json rows = Json::array();
  for (const auto& c : ctx.clients.list()) rows.push_back(client_json(c, ctx.users));
  return http::Response::json(200, {{"oauth_clients", rows}});
}

http::Response remove(const AdminContext& ctx, http::Request& req) {
  const std::string& id = req.path_params.at("id");
  if (!ctx.clients.remove(id)) throw Error(Errc::not_found, "no OAuth client " + id, true);
  http::Response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

}  // namespace

void register_admin_routes(http::Router& router, auth::OAuthClients& clients, store::UserRepository& users,
                           audit::Sink& audit) {
  const auto ctx = std::make_shared<const AdminContext>(AdminContext{clients, users});
  admin::add_route(router, audit, "POST", "/oauth-clients", [ctx](http::Request& req) { return create(*ctx, req); },
                   "admin.oauth_client.create");
  admin::add_route(router, audit, "GET", "/oauth-clients", [ctx](http::Request& req) { return list(*ctx, req); });
  admin::add_route(router, audit, "DELETE", "/oauth-clients/{id}",
                   [ctx](http::Request& req) { return remove(*ctx, req); }, "admin.oauth_client.delete");
}

}  // namespace sigil::api::oauth
