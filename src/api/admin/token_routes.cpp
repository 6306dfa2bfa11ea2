// GET /token, GET /token/mechanisms: what the token is and what it can do.
#include "routes.hpp"

namespace sigil::api::admin::detail {
namespace {

http::Response get_token(const Context& ctx, http::Request&) {
  auto& token = ctx.svc.token();
  const auto stats = token.pool_stats();
  return json(200, Json{{"label", token.label()},
                        {"serial", token.serial()},
                        {"keys", token.list_keys().size()},
                        {"sessions_open", stats.open_sessions},
                        {"session_retries", stats.retries}});
}

http::Response get_mechanisms(const Context& ctx, http::Request&) {
  Json list = Json::array();
  for (const auto& m : ctx.svc.token().mechanisms()) list.push_back(mechanism_to_json(m));
  return json(200, Json{{"mechanisms", list}});
}

}  // namespace

void register_token_routes(http::Router& router, const ContextPtr& ctx) {
  add(router, ctx, "GET", "/token", get_token);
  add(router, ctx, "GET", "/token/mechanisms", get_mechanisms);
}

}  // namespace sigil::api::admin::detail
