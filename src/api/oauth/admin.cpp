// /api/admin/v1/oauth-clients: register, list and remove OAuth clients (admin role). Follows the
// admin API's conventions (src/api/admin/routes.cpp): the role is checked in the handler so a
// refusal is audited; a state-changing call is refused up front when the audit log is down, and its
// outcome is appended (identifiers only, never the client secret) before the response leaves.
#include <algorithm>

#include "oauth_internal.hpp"
#include "sigil/common/log.hpp"
#include "sigil/store/users.hpp"

namespace sigil::api::oauth {
namespace {

using Json = nlohmann::json;
constexpr const char* kPrefix = "/api/admin/v1";

struct AdminContext {
  auth::OAuthClients& clients;
  store::UserRepository& users;
  audit::Sink& audit;
};
using AdminPtr = std::shared_ptr<const AdminContext>;

[[noreturn]] void bad(std::string_view field, std::string_view what) {
  throw Error(Errc::invalid_argument, "field '" + std::string(field) + "' " + std::string(what), true);
}

std::optional<std::vector<std::string>> string_array(const Json& body, const char* name) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_array()) bad(name, "must be an array of strings");
  std::vector<std::string> out;
  for (const auto& v : *it) {
    if (!v.is_string()) bad(name, "must be an array of strings");
    out.push_back(v.get<std::string>());
  }
  return out;
}

std::optional<std::string> opt_string(const Json& body, const char* name) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) bad(name, "must be a string");
  return it->get<std::string>();
}

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

http::Response create(const AdminContext& ctx, http::Request& req, audit::Event& event) {
  const Json body = req.body.empty() ? Json::object() : req.json_body();
  if (!body.is_object()) throw Error(Errc::invalid_argument, "request body must be a JSON object", true);
  auth::NewOAuthClient n;
  const auto name = opt_string(body, "name");
  if (!name || name->empty()) bad("name", "is required");
  n.name = *name;
  n.redirect_uris = string_array(body, "redirect_uris").value_or(std::vector<std::string>{});
  if (auto g = string_array(body, "grant_types")) n.grant_types = std::move(*g);
  if (auto s = string_array(body, "scopes")) n.scopes = std::move(*s);
  if (const auto it = body.find("confidential"); it != body.end() && !it->is_null()) {
    if (!it->is_boolean()) bad("confidential", "must be a boolean");
    n.confidential = it->get<bool>();
  }
  if (const auto service_user = opt_string(body, "service_user")) {
    std::optional<store::User> u;
    try {
      u = ctx.users.get_by_username(*service_user);
    } catch (const Error&) {
      u.reset();
    }
    if (!u) throw Error(Errc::user_not_found, "no user named '" + *service_user + "'", true);
    n.service_user_id = u->id;
  }
  event.details["name"] = n.name;
  event.details["grant_types"] = Json(n.grant_types).dump();
  const auth::RegisteredClient r = ctx.clients.add(n);
  event.details["client_id"] = r.client.client_id;
  if (r.client.service_user_id) event.details["service_user_id"] = *r.client.service_user_id;
  Json out = client_json(r.client, ctx.users);
  if (!r.secret.empty()) out["client_secret"] = std::string(r.secret.view());  // shown once
  return http::Response::json(201, out);
}

http::Response list(const AdminContext& ctx, http::Request&) {
  Json rows = Json::array();
  for (const auto& c : ctx.clients.list()) rows.push_back(client_json(c, ctx.users));
  return http::Response::json(200, {{"oauth_clients", rows}});
}

http::Response remove(const AdminContext& ctx, http::Request& req, audit::Event& event) {
  const std::string& id = req.path_params.at("id");
  event.details["client_id"] = id;
  if (!ctx.clients.remove(id)) throw Error(Errc::not_found, "no OAuth client " + id, true);
  http::Response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

audit::Actor actor(const http::Request& req) {
  audit::Actor a;
  if (req.principal) {
    a.id = req.principal->id;
    a.name = req.principal->name;
  }
  a.address = req.remote_address;
  a.request_id = req.request_id;
  return a;
}

void require_admin(const AdminContext& ctx, const http::Request& req) {
  if (req.principal && req.principal->has_role("admin")) return;
  ctx.audit.append(audit::forbidden_event(actor(req), req.method, req.route, "admin"));
  throw Error(Errc::forbidden, "principal '" + (req.principal ? req.principal->id : std::string("?")) + "' lacks role 'admin'");
}

using Mutation = http::Response (*)(const AdminContext&, http::Request&, audit::Event&);

// Runs a state-changing handler and appends its outcome before the response leaves.
http::Response audited(const AdminContext& ctx, http::Request& req, Mutation handler, std::string_view type) {
  ctx.audit.check_available();
  audit::Event event = audit::make_event(type, actor(req), true);
  std::optional<http::Response> res;
  std::exception_ptr failure;
  try {
    res = handler(ctx, req, event);
  } catch (const Error& e) {
    failure = std::current_exception();
    event.details["error"] = std::string(e.info().name);
  } catch (...) {
    failure = std::current_exception();
    event.details["error"] = "internal";
  }
  if (failure) event.outcome = std::string(audit::kFailure);
  ctx.audit.append(std::move(event));  // throws: a success must not be answered unrecorded
  const std::string who = req.principal ? req.principal->name : "?";
  if (failure) {
    log::info("admin: {} {} by {}: refused", req.method, req.path, who);
    std::rethrow_exception(failure);
  }
  log::info("admin: {} {} by {}: {}", req.method, req.path, who, res->status);
  return std::move(*res);
}

}  // namespace

void register_admin_routes(http::Router& router, auth::OAuthClients& clients, store::UserRepository& users,
                           audit::Sink& audit) {
  const auto ctx = std::make_shared<const AdminContext>(AdminContext{clients, users, audit});
  const std::string base = std::string(kPrefix) + "/oauth-clients";
  router.add("POST", base, http::AuthRequirement::authenticated(), [ctx](http::Request& req) {
    require_admin(*ctx, req);
    return audited(*ctx, req, create, "admin.oauth_client.create");
  });
  router.add("GET", base, http::AuthRequirement::authenticated(), [ctx](http::Request& req) {
    require_admin(*ctx, req);
    return list(*ctx, req);
  });
  router.add("DELETE", base + "/{id}", http::AuthRequirement::authenticated(), [ctx](http::Request& req) {
    require_admin(*ctx, req);
    return audited(*ctx, req, remove, "admin.oauth_client.delete");
  });
}

}  // namespace sigil::api::oauth
