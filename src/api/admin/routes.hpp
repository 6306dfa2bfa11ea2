// Shared plumbing of the admin route groups (internal to sigil_api_admin).
#pragma once

#include <memory>
#include <string>

#include "sigil/api/admin.hpp"
#include "sigil/audit/events.hpp"
#include "sigil/api/admin_json.hpp"
#include "sigil/api/request_actor.hpp"
#include "sigil/http/router.hpp"

namespace sigil::api::admin::detail {

struct Context {
  ::sigil::admin::AdminService& svc;
  const Clock& clock;
  std::string pki_dir;
  audit::Sink& audit;
  SecondFactorAdmin second_factor{};
  UserSessions sessions{};
};
using ContextPtr = std::shared_ptr<const Context>;

// Registers `method kPrefix+path` with the admin role, on the worker pool. A state-changing route
// (any method but GET) names its audit event type ("admin.key.generate"): it is refused with 503
// audit_unavailable up front when the audit log is known to be down, and its outcome (success or
// the error code) is appended to the audit log, with the acting principal, before the response
// leaves; if that append fails the answer is 503 audit_unavailable.
void add(http::Router& router, const ContextPtr& ctx, const char* method, const std::string& path,
         http::Response (*handler)(const Context&, http::Request&), std::string_view audit_event = {});

// The acting party of an authenticated request.
using api::actor_of;

// The body as a JSON object; an empty body reads as {} (for routes whose fields are all optional).
Json body_object(const http::Request& req);
// The user named in a path (404 user_not_found for an unknown or malformed name).
store::User find_user(const Context& ctx, const std::string& username);
// A path parameter the router matched (always present for the routes registered here).
const std::string& param(const http::Request& req, const char* name);

http::Response json(int status, const Json& body);
http::Response no_content();

void register_token_routes(http::Router& router, const ContextPtr& ctx);
void register_key_routes(http::Router& router, const ContextPtr& ctx);
void register_credential_routes(http::Router& router, const ContextPtr& ctx);
void register_user_routes(http::Router& router, const ContextPtr& ctx);
void register_second_factor_routes(http::Router& router, const ContextPtr& ctx);

}  // namespace sigil::api::admin::detail
