// Routes and the pure request pipeline: match -> authenticate -> authorise -> handler -> errors.
// No sockets: `dispatch` is what the server runs for each request and what the tests call.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sigil/http/message.hpp"

namespace sigil::http {

using Handler = std::function<Response(Request&)>;
// Returns the caller's identity or nullopt (-> 401). May throw sigil::Error (e.g. user_locked).
using Authenticator = std::function<std::optional<Principal>(const Request&)>;

struct AuthRequirement {
  enum class Level { none, authenticated };
  Level level = Level::none;
  std::string role;  // non-empty: the principal must hold this role (-> 403 otherwise)

  static AuthRequirement none() { return {}; }
  static AuthRequirement authenticated() { return {Level::authenticated, {}}; }
  static AuthRequirement role_required(std::string role) { return {Level::authenticated, std::move(role)}; }
  bool requires_auth() const { return level == Level::authenticated || !role.empty(); }
};

struct RouteOptions {
  // true: the handler (and the authenticator) run on the WorkerPool, never on an I/O thread.
  // Only trivially cheap, non-blocking handlers may set false.
  bool blocking = true;
};

struct Route {
  std::string method;
  std::string pattern;
  AuthRequirement auth;
  Handler handler;
  RouteOptions options;
};

class Router {
 public:
  // `pattern` is "/"-separated; a segment "{name}" matches one non-empty segment and is
  // available as path_params["name"]. Literal segments win over parameters. Throws
  // Error(invalid_argument) on a malformed pattern or a duplicate method + pattern.
  void add(std::string method, std::string pattern, AuthRequirement auth, Handler handler, RouteOptions options = {});

  // Finds the route for req.method + req.path and fills req.path_params and req.route.
  // On failure returns nullptr and sets `error` to 404 route_not_found, 405 method_not_allowed
  // (with an Allow header) or 400 bad_request (malformed escape in a path parameter).
  const Route* match(Request& req, Response& error) const;

  // Runs one matched route: authentication, role check, the handler; maps every exception to
  // the error model (sigil::Error -> its registry status; anything else -> 500, logged).
  Response invoke(const Route& route, Request& req, const Authenticator& authenticator) const;

  // match + invoke.
  Response dispatch(Request& req, const Authenticator& authenticator = {}) const;

  // Value of WWW-Authenticate on 401 answers.
  void set_www_authenticate(std::string challenge) { www_authenticate_ = std::move(challenge); }

 private:
  struct Entry {
    std::string pattern;
    std::vector<std::string> segments;
    std::vector<Route> routes;  // one per method
  };
  std::vector<Entry> entries_;
  std::string www_authenticate_ = "Bearer realm=\"sigil\"";
};

}  // namespace sigil::http
