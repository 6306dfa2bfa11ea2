// Internal plumbing of sigil_api_oauth: bounded form parsing, OAuth errors, HTML and URL helpers,
// auditing, and the route groups.
#pragma once

#include <cstddef>
#include <exception>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sigil/api/oauth.hpp"
#include "sigil/api/request_actor.hpp"
#include "sigil/audit/events.hpp"
#include "sigil/auth/oauth.hpp"
#include "sigil/http/message.hpp"
#include "sigil/http/router.hpp"

namespace sigil::api::oauth::detail {

// An OAuth refusal (RFC 6749 §5.2 / §4.1.2.1): HTTP status, `error`, `error_description`, all public.
struct OAuthError : std::exception {
  OAuthError(int s, std::string e, std::string d) : status(s), error(std::move(e)), description(std::move(d)) {}
  const char* what() const noexcept override { return description.c_str(); }
  int status;
  std::string error;
  std::string description;
};
[[noreturn]] void fail(std::string error, std::string description, int status = 400);

// Request parameters by name (form, query string or a flat JSON object). Every value is wiped when
// the object goes: passwords, PINs, OTPs, codes, secrets and tokens travel in them.
class Params {
 public:
  Params() = default;
  Params(Params&&) = default;
  Params& operator=(Params&&) = default;
  Params(const Params&) = delete;
  Params& operator=(const Params&) = delete;
  ~Params();

  std::optional<std::string_view> get(std::string_view name) const;  // absent or empty -> nullopt
  std::string value(std::string_view name) const;                     // "" when absent
  // invalid_request for a second value of the same name (RFC 6749 §3.1) or past the limits.
  void add(std::string name, std::string value);
  std::size_t size() const { return values_.size(); }

 private:
  std::map<std::string, std::string, std::less<>> values_;
};

// Bounds on what a client can make us parse (the server already bounds the body).
inline constexpr std::size_t kMaxFields = 64;
inline constexpr std::size_t kMaxNameBytes = 64;
inline constexpr std::size_t kMaxValueBytes = 16 * 1024;
inline constexpr std::size_t kMaxFormBytes = 64 * 1024;

// application/x-www-form-urlencoded (http::percent_decode, '+' as space).
Params parse_form(std::string_view body);
// The request's query string (already decoded by http::Request).
Params query_params(const http::Request& req);
// The body of a POST: a form, or (CSC v1 clients) a flat JSON object; then the query string's
// parameters the body does not have (some relying parties post them as URL parameters).
Params body_params(const http::Request& req, bool with_query);

std::string html_escape(std::string_view text);
// RFC 3986 unreserved characters kept, everything else %XX.
std::string url_encode(std::string_view text);
// uri + ('?' or '&') + k=v&... (values url-encoded); empty values are left out.
std::string append_query(const std::string& uri, const std::vector<std::pair<std::string, std::string>>& params);
// Printable ASCII only, bounded: client-controlled text headed for the audit trail or the log.
std::string printable(std::string_view text, std::size_t max = 64);
// The value of cookie `name` in the request's Cookie headers.
std::optional<std::string> cookie(const http::Request& req, std::string_view name);

// What the route handlers share.
struct Shared {
  explicit Shared(OAuthContext c);
  OAuthContext ctx;
  auth::LoginTickets tickets;

  // Appends when an audit sink is configured; throws (fail closed) when it cannot.
  void audit(audit::Event event) const;
  void check_audit() const;
};
using SharedPtr = std::shared_ptr<Shared>;

inline audit::Actor actor_of(const http::Request& req, std::string id = {}, std::string name = {}) {
  return api::actor_of(req, std::move(id), std::move(name));
}

// The public error of an auth::AuthError on the token/revoke endpoints.
OAuthError token_error(const std::exception& e);
http::Response json_error(const OAuthError& e);
// Security headers every OAuth answer carries (no caching, no referrer).
void no_store(http::Response& res);

// ---- the login page (page.cpp) ----

struct PageModel {
  std::string action;                                        // the form's target (this route's path)
  std::string service_name;
  std::string client_name;
  std::string lang = "en";
  bool credential_scope = false;
  std::string credential_id;
  unsigned num_signatures = 1;
  std::size_t hash_count = 0;
  std::string description;                                   // the client's text, shown escaped
  std::vector<std::pair<std::string, std::string>> hidden;  // request parameters, csrf, ticket
  bool ask_password = true;                                  // step 1: username + password
  bool ask_pin = false;
  bool ask_otp = false;
  bool otp_sent = false;                                     // "a code was sent to you"
  std::string username;                                      // step 1 again: prefilled
  std::string message;                                       // an error, plain text
};
// 200 (or `status`) text/html with CSP, X-Frame-Options: DENY, no-store; everything echoed is escaped.
http::Response render_page(int status, const PageModel& page);
// An error page that never redirects (unknown client, unregistered redirect URI, expired form).
http::Response error_page(int status, std::string_view title, std::string_view message);

void register_authorize(http::Router& router, const SharedPtr& shared, const std::string& prefix);
void register_token(http::Router& router, const SharedPtr& shared, const std::string& prefix);

}  // namespace sigil::api::oauth::detail
