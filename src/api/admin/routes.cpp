#include "routes.hpp"

#include <exception>
#include <optional>
#include <span>

#include "ossl/x509.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/log.hpp"

namespace sigil::api::admin {
namespace detail {

namespace {

// Changes made by administrators also reach the log: who, what, on which object (the path:
// labels, usernames, ids; never a body, which may hold a password), and the outcome.
void log_change(const http::Request& req, std::string_view outcome) {
  const std::string who = req.principal ? req.principal->name + " (" + req.principal->id + ")" : "?";
  log::info("admin: {} {} by {}: {}", req.method, req.path, who, outcome);
}

// Fields copied from request and response bodies into the audit record: identifiers and policy,
// never secrets (password, key), personal data beyond the username, or certificates themselves.
constexpr std::string_view kRequestFields[] = {"label", "type", "username", "roles", "key_label", "owner",
                                               "subject", "profile", "days", "second_factor", "scal",
                                               "unattended", "algorithms", "name", "grant_types", "kind"};
constexpr std::string_view kResponseFields[] = {"id", "prefix", "username", "status", "subject", "key_label",
                                                "owner", "client_id", "service_user_id"};

std::string scalar_text(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::string out;
    for (const auto& x : v) out += (out.empty() ? "" : ",") + scalar_text(x);
    return out;
  }
  if (v.is_null() || v.is_object()) return {};
  return v.dump();
}

void copy_fields(const Json& body, std::span<const std::string_view> fields, audit::Event& e) {
  if (!body.is_object()) return;
  for (const auto name : fields) {
    const auto it = body.find(name);
    if (it == body.end()) continue;
    if (std::string text = scalar_text(*it); !text.empty()) e.details[std::string(name)] = std::move(text);
  }
}

void add_details(const http::Request& req, const http::Response* res, audit::Event& e) {
  for (const auto& [k, v] : req.path_params) e.details[k] = v;
  if (!req.body.empty()) {
    try {
      copy_fields(req.json_body(), kRequestFields, e);
    } catch (const std::exception&) {
      // the handler already refused it; the error code says why
    }
  }
  if (res == nullptr || res->body.empty()) return;
  const Json body = Json::parse(res->body, nullptr, false);
  copy_fields(body, kResponseFields, e);
  if (body.is_object() && body.contains("certificate_pem") && body["certificate_pem"].is_string()) {
    try {
      const auto info = ossl::inspect_certificate(ossl::read_certificate(body["certificate_pem"].get<std::string>()));
      e.details["certificate_sha256"] = info.sha256_fingerprint_hex;
    } catch (const std::exception&) {
      // not a certificate we can read: the subject still identifies it
    }
  }
}

// Runs a state-changing handler and records its outcome before the response leaves.
http::Response audited(audit::Sink& sink, http::Request& req, const http::Handler& handler, std::string_view event_type) {
  sink.check_available();  // fail closed before anything changes
  std::optional<http::Response> res;
  std::exception_ptr failure;
  std::string error = "internal";
  try {
    res = handler(req);
  } catch (const Error& e) {
    failure = std::current_exception();
    error = std::string(e.info().name);
  } catch (...) {
    failure = std::current_exception();
  }
  audit::Event event = audit::make_event(event_type, actor_of(req), res.has_value());
  add_details(req, res ? &*res : nullptr, event);
  if (!res) event.details["error"] = error;
  try {
    sink.append(std::move(event));
  } catch (const std::exception& e) {
    log_change(req, "not audited (" + std::string(e.what()) + ")");
    if (failure) std::rethrow_exception(failure);  // it failed anyway: say why
    throw;  // done but not durably recorded: the client must not see a success
  }
  if (failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const Error& e) {
      log_change(req, std::string("refused, ") + std::string(e.info().name));
      throw;
    }
  }
  log_change(req, std::to_string(res->status));
  return std::move(*res);
}

}  // namespace

void add(http::Router& router, const ContextPtr& ctx, const char* method, const std::string& path,
         http::Response (*handler)(const Context&, http::Request&), std::string_view audit_event) {
  add_route(router, ctx->audit, method, path, [ctx, handler](http::Request& req) { return handler(*ctx, req); },
            audit_event);
}

store::User find_user(const Context& ctx, const std::string& username) {
  std::optional<std::string> normalized;
  try {
    normalized = store::normalize_username(username);
  } catch (const Error&) {
    normalized.reset();  // a malformed name cannot exist: 404, not 400
  }
  auto user = normalized ? ctx.svc.store().users().get_by_username(*normalized) : std::nullopt;
  if (!user) throw Error(Errc::user_not_found, "no user named '" + username + "'", true);
  return *user;
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

void add_route(http::Router& router, audit::Sink& audit, const char* method, const std::string& path,
               http::Handler handler, std::string_view audit_event) {
  const bool mutating = std::string_view(method) != "GET";
  if (mutating && audit_event.empty()) {
    throw Error(Errc::internal, std::string("state-changing route without an audit event: ") + method + " " + path);
  }
  // Every admin route needs the admin role, and runs on the worker pool: most touch the store
  // (fsync per commit) or the token (key generation takes seconds for RSA-4096).
  // The role is checked here rather than by the router so that a refusal is audited too.
  router.add(
      method, std::string(kPrefix) + path, http::AuthRequirement::authenticated(),
      [&audit, handler = std::move(handler), mutating, event = std::string(audit_event)](http::Request& req) {
        if (!req.principal || !req.principal->has_role("admin")) {
          audit.append(audit::forbidden_event(detail::actor_of(req), req.method, req.route, "admin"));
          throw Error(Errc::forbidden, "principal '" + (req.principal ? req.principal->id : std::string("?")) +
                                           "' lacks role 'admin'");
        }
        if (!mutating) return handler(req);
        return detail::audited(audit, req, handler, event);
      },
      http::RouteOptions{true});
}

void register_routes(http::Router& router, ::sigil::admin::AdminService& svc, const Clock& clock, std::string pki_dir,
                     audit::Sink& audit, UserSessions sessions) {
  const auto ctx = std::make_shared<const detail::Context>(
      detail::Context{svc, clock, std::move(pki_dir), audit, SecondFactorAdmin{}, std::move(sessions)});
  detail::register_token_routes(router, ctx);
  detail::register_key_routes(router, ctx);
  detail::register_credential_routes(router, ctx);
  detail::register_user_routes(router, ctx);
}

void register_second_factor_routes(http::Router& router, ::sigil::admin::AdminService& svc, const Clock& clock,
                                   audit::Sink& audit, SecondFactorAdmin second_factor) {
  const auto ctx =
      std::make_shared<const detail::Context>(detail::Context{svc, clock, std::string(), audit, std::move(second_factor)});
  detail::register_second_factor_routes(router, ctx);
}

}  // namespace sigil::api::admin
