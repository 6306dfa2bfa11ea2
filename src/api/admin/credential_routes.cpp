// /credentials: create, list, inspect, reassign, disable, enable.
#include "routes.hpp"

namespace sigil::api::admin::detail {
namespace {

using ::sigil::admin::CredentialStatus;

http::Response create_credential(const Context& ctx, http::Request& req) {
  return json(201, credential_to_json(ctx.svc.create_credential(new_credential_from_json(body_object(req)))));
}

http::Response list_credentials(const Context& ctx, http::Request& req) {
  std::optional<std::string> owner;
  if (const auto o = req.query_param("owner"); o && !o->empty()) owner = std::string(*o);
  Json list = Json::array();
  for (const auto& c : ctx.svc.list_credentials(owner)) list.push_back(credential_to_json(c));
  return json(200, Json{{"credentials", list}});
}

http::Response get_credential(const Context& ctx, http::Request& req) {
  return json(200, credential_to_json(ctx.svc.get_credential(param(req, "id"))));
}

http::Response assign(const Context& ctx, http::Request& req) {
  const Fields f(body_object(req));
  return json(200, credential_to_json(ctx.svc.assign_credential(param(req, "id"), f.required_string("owner"))));
}

http::Response disable(const Context& ctx, http::Request& req) {
  return json(200, credential_to_json(ctx.svc.set_credential_status(param(req, "id"), CredentialStatus::disabled)));
}

http::Response enable(const Context& ctx, http::Request& req) {
  return json(200, credential_to_json(ctx.svc.set_credential_status(param(req, "id"), CredentialStatus::active)));
}

}  // namespace

void register_credential_routes(http::Router& router, const ContextPtr& ctx) {
  add(router, ctx, "POST", "/credentials", create_credential, "admin.credential.create");
  add(router, ctx, "GET", "/credentials", list_credentials);
  add(router, ctx, "GET", "/credentials/{id}", get_credential);
  add(router, ctx, "POST", "/credentials/{id}/assign", assign, "admin.credential.assign");
  add(router, ctx, "POST", "/credentials/{id}/disable", disable, "admin.credential.disable");
  add(router, ctx, "POST", "/credentials/{id}/enable", enable, "admin.credential.enable");
}

}  // namespace sigil::api::admin::detail
