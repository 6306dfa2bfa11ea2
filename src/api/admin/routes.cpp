#include "routes.hpp"

#include "sigil/common/error.hpp"
#include "sigil/common/log.hpp"

namespace sigil::api::admin {
namespace detail {

namespace {

// Until the audit module exists (issue 8), changes made by administrators at least reach the log:
// who, what, on which object (the path: labels, usernames, ids; never a body, which may hold a
// password), and the outcome.
void log_change(const http::Request& req, std::string_view outcome) {
  const std::string who = req.principal ? req.principal->name + " (" + req.principal->id + ")" : "?";
  log::info("admin: {} {} by {}: {}", req.method, req.path, who, outcome);
}

}  // namespace

void add(http::Router& router, const ContextPtr& ctx, const char* method, const std::string& path,
         http::Response (*handler)(const Context&, http::Request&)) {
  const bool mutating = std::string_view(method) != "GET";
  // Every admin route needs the admin role, and runs on the worker pool: most touch the store
  // (fsync per commit) or the token (key generation takes seconds for RSA-4096).
  router.add(
      method, std::string(kPrefix) + path, http::AuthRequirement::role_required("admin"),
      [ctx, handler, mutating](http::Request& req) {
        if (!mutating) return handler(*ctx, req);
        try {
          http::Response res = handler(*ctx, req);
          log_change(req, std::to_string(res.status));
          return res;
        } catch (const Error& e) {
          log_change(req, std::string("refused, ") + std::string(e.info().name));
          throw;
        }
      },
      http::RouteOptions{true});
}

Json body_object(const http::Request& req) {
  if (req.body.empty() && req.body_size == 0) return Json::object();
  Json body = req.json_body();
  if (!body.is_object()) throw Error(Errc::invalid_argument, "request body must be a JSON object", true);
  return body;
}

const std::string& param(const http::Request& req, const char* name) {
  const auto it = req.path_params.find(name);
  if (it == req.path_params.end()) throw Error(Errc::internal, std::string("route without parameter ") + name);
  return it->second;
}

http::Response json(int status, const Json& body) {
  return http::Response::json(status, body);
}

http::Response no_content() {
  http::Response r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

}  // namespace detail

void register_routes(http::Router& router, ::sigil::admin::AdminService& svc, const Clock& clock, std::string pki_dir) {
  const auto ctx = std::make_shared<const detail::Context>(detail::Context{svc, clock, std::move(pki_dir)});
  detail::register_token_routes(router, ctx);
  detail::register_key_routes(router, ctx);
  detail::register_credential_routes(router, ctx);
  detail::register_user_routes(router, ctx);
}

}  // namespace sigil::api::admin
