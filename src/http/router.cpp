#include "sigil/http/router.hpp"

#include <algorithm>
#include <exception>

#include "sigil/common/log.hpp"

namespace sigil::http {
namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  // path starts with '/'; "/" has no segments, "/a/" has segments "a" and "".
  std::size_t pos = 1;
  if (path.size() <= 1) return out;
  while (true) {
    const auto slash = path.find('/', pos);
    out.push_back(path.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos));
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  return out;
}

bool is_param(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

// Literal segments beat parameters at the first position where two patterns differ.
bool more_specific(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
    const bool pa = is_param(a[i]);
    const bool pb = is_param(b[i]);
    if (pa != pb) return !pa;
  }
  return false;
}

bool segments_match(const std::vector<std::string>& pattern, const std::vector<std::string_view>& path) {
  if (pattern.size() != path.size()) return false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (is_param(pattern[i])) {
      if (path[i].empty()) return false;
    } else if (pattern[i] != path[i]) {
      return false;
    }
  }
  return true;
}

void log_error(const sigil::Error& e, const Request& req) {
  if (e.info().http_status >= 500) {
    log::error("{} {} failed: {} ({})", req.method, req.route, e.info().name, e.detail());
  } else {
    log::info("{} {} rejected: {} ({})", req.method, req.route, e.info().name, e.detail());
  }
}

}  // namespace

void Router::add(std::string method, std::string pattern, AuthRequirement auth, Handler handler, RouteOptions options) {
  if (pattern.empty() || pattern.front() != '/') {
    throw Error(Errc::invalid_argument, "route pattern must start with '/': " + pattern);
  }
  if (method.empty() || !handler) throw Error(Errc::invalid_argument, "route needs a method and a handler: " + pattern);
  std::vector<std::string> segments;
  for (auto s : split_path(pattern)) {
    if (s.find_first_of("{}") != std::string_view::npos && !is_param(s)) {
      throw Error(Errc::invalid_argument, "malformed route segment '" + std::string(s) + "' in " + pattern);
    }
    segments.emplace_back(s);
  }
  auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.pattern == pattern; });
  if (it == entries_.end()) {
    entries_.push_back(Entry{pattern, std::move(segments), {}});
    it = std::prev(entries_.end());
  }
  for (const auto& r : it->routes) {
    if (r.method == method) throw Error(Errc::invalid_argument, "duplicate route " + method + " " + pattern);
  }
  it->routes.push_back(Route{std::move(method), std::move(pattern), std::move(auth), std::move(handler), options});
}

const Route* Router::match(Request& req, Response& error) const {
  const auto path = split_path(req.path);
  const Entry* best = nullptr;
  const Route* best_route = nullptr;
  std::vector<std::string> allowed;
  for (const auto& entry : entries_) {
    if (!segments_match(entry.segments, path)) continue;
    for (const auto& route : entry.routes) {
      if (std::find(allowed.begin(), allowed.end(), route.method) == allowed.end()) allowed.push_back(route.method);
      if (route.method == req.method && (best == nullptr || more_specific(entry.segments, best->segments))) {
        best = &entry;
        best_route = &route;
      }
    }
  }
  if (best_route == nullptr) {
    if (allowed.empty()) {
      error = Response::error(Errc::route_not_found);
    } else {
      std::sort(allowed.begin(), allowed.end());
      std::string allow;
      for (const auto& m : allowed) allow += (allow.empty() ? "" : ", ") + m;
      error = Response::error(Errc::method_not_allowed);
      error.set_header("Allow", allow);
    }
    return nullptr;
  }
  req.path_params.clear();
  for (std::size_t i = 0; i < best->segments.size(); ++i) {
    const auto& seg = best->segments[i];
    if (!is_param(seg)) continue;
    auto value = percent_decode(path[i], false);
    if (!value) {
      error = Response::error(Error(Errc::bad_request, "malformed percent-encoding in path", true));
      return nullptr;
    }
    req.path_params[seg.substr(1, seg.size() - 2)] = std::move(*value);
  }
  req.route = best->pattern;
  return best_route;
}

Response Router::invoke(const Route& route, Request& req, const Authenticator& authenticator) const {
  Response response;
  try {
    if (route.auth.requires_auth()) {
      // No authenticator configured means nobody can authenticate: fail closed.
      std::optional<Principal> principal = authenticator ? authenticator(req) : std::nullopt;
      if (!principal) throw Error(Errc::unauthorized, "no valid credentials");
      if (!route.auth.role.empty() && !principal->has_role(route.auth.role)) {
        throw Error(Errc::forbidden, "principal '" + principal->id + "' lacks role '" + route.auth.role + "'");
      }
      req.principal = std::move(principal);
    }
    response = route.handler(req);
  } catch (const sigil::Error& e) {
    log_error(e, req);
    response = Response::error(e);
  } catch (const std::exception& e) {
    log::error("{} {} failed with an unexpected exception: {}", req.method, req.route, e.what());
    response = Response::error(Errc::internal);
  } catch (...) {
    log::error("{} {} failed with a non-standard exception", req.method, req.route);
    response = Response::error(Errc::internal);
  }
  if (response.status == 401 && !response.header("WWW-Authenticate")) {
    response.set_header("WWW-Authenticate", www_authenticate_);
  }
  return response;
}

Response Router::dispatch(Request& req, const Authenticator& authenticator) const {
  Response error;
  const Route* route = match(req, error);
  if (route == nullptr) return error;
  return invoke(*route, req, authenticator);
}

}  // namespace sigil::http
