// Form parsing, OAuth errors, HTML/URL helpers, auditing, and register_routes.
#include <algorithm>
#include <cctype>

#include "oauth_internal.hpp"
#include "sigil/auth/errors.hpp"
#include "sigil/common/log.hpp"
#include "sigil/common/secure.hpp"
#include "sigil/store/store.hpp"

namespace sigil::api::oauth::detail {

void fail(std::string error, std::string description, int status) {
  throw OAuthError(status, std::move(error), std::move(description));
}

// ---- parameters ----

Params::~Params() {
  for (auto& [name, value] : values_) secure_wipe(value.data(), value.size());
}

std::optional<std::string_view> Params::get(std::string_view name) const {
  const auto it = values_.find(name);
  if (it == values_.end() || it->second.empty()) return std::nullopt;
  return std::string_view(it->second);
}

std::string Params::value(std::string_view name) const {
  const auto v = get(name);
  return v ? std::string(*v) : std::string();
}

void Params::add(std::string name, std::string value) {
  const auto wipe = [&value] { secure_wipe(value.data(), value.size()); };
  if (values_.size() >= kMaxFields) {
    wipe();
    fail("invalid_request", "Too many parameters");
  }
  if (name.empty() || name.size() > kMaxNameBytes || value.size() > kMaxValueBytes) {
    wipe();
    fail("invalid_request", "Parameter too long");
  }
  if (values_.contains(name)) {
    wipe();
    fail("invalid_request", "Parameter " + printable(name) + " given more than once");
  }
  values_.emplace(std::move(name), std::move(value));
}

Params parse_form(std::string_view body) {
  if (body.size() > kMaxFormBytes) fail("invalid_request", "Request body too large");
  Params out;
  while (!body.empty()) {
    const auto amp = body.find('&');
    const std::string_view pair = body.substr(0, amp);
    body.remove_prefix(amp == std::string_view::npos ? body.size() : amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto name = http::percent_decode(pair.substr(0, eq), true);
    auto value = http::percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
    if (!name || !value) {
      if (value) secure_wipe(value->data(), value->size());
      fail("invalid_request", "Malformed form encoding");
    }
    out.add(std::move(*name), std::move(*value));
  }
  return out;
}

Params query_params(const http::Request& req) {
  Params out;
  for (const auto& [name, value] : req.query) out.add(name, value);
  return out;
}

namespace {

bool is_json(const http::Request& req) {
  const auto ct = req.header("Content-Type");
  if (!ct) return false;
  std::string lower(ct->substr(0, 32));
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  return lower.starts_with("application/json");
}

Params json_object_params(const http::Request& req) {
  const nlohmann::json body = req.json_body();
  if (!body.is_object()) fail("invalid_request", "The request body must be a JSON object");
  Params out;
  for (const auto& [name, v] : body.items()) {
    if (v.is_null()) continue;
    if (v.is_string()) {
      out.add(name, v.get<std::string>());
    } else if (v.is_number() || v.is_boolean()) {
      out.add(name, v.dump());
    } else {
      fail("invalid_request", "Invalid type of parameter " + printable(name));
    }
  }
  return out;
}

}  // namespace

Params body_params(const http::Request& req, bool with_query) {
  if (!req.body_file.empty() || req.body.size() > kMaxFormBytes) fail("invalid_request", "Request body too large");
  Params out = is_json(req) && !req.body.empty() ? json_object_params(req) : parse_form(req.body);
  if (with_query) {
    for (const auto& [name, value] : req.query) {
      if (!out.get(name)) out.add(name, value);
    }
  }
  return out;
}

// ---- text ----

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0x0F];
    }
  }
  return out;
}

std::string append_query(const std::string& uri, const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out = uri;
  char sep = uri.find('?') == std::string::npos ? '?' : '&';
  for (const auto& [name, value] : params) {
    if (value.empty()) continue;
    out += sep;
    out += url_encode(name) + "=" + url_encode(value);
    sep = '&';
  }
  return out;
}

std::string printable(std::string_view text, std::size_t max) {
  std::string out;
  for (const char c : text.substr(0, max)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

std::optional<std::string> cookie(const http::Request& req, std::string_view name) {
  for (const auto& [header, value] : req.headers) {
    if (header.size() != 6 || !std::equal(header.begin(), header.end(), "cookie",
                                          [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; })) {
      continue;
    }
    std::string_view rest = value;
    while (!rest.empty()) {
      const auto semi = rest.find(';');
      std::string_view part = rest.substr(0, semi);
      rest.remove_prefix(semi == std::string_view::npos ? rest.size() : semi + 1);
      while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
      const auto eq = part.find('=');
      if (eq != std::string_view::npos && part.substr(0, eq) == name) return std::string(part.substr(eq + 1));
    }
  }
  return std::nullopt;
}

// ---- shared state, audit ----

Shared::Shared(OAuthContext c)
    : ctx(std::move(c)), tickets(ctx.store.database(), ctx.clock, ctx.ticket_ttl, ctx.max_ticket_attempts) {}

void Shared::audit(audit::Event event) const {
  if (ctx.audit != nullptr) ctx.audit->append(std::move(event));
}

void Shared::check_audit() const {
  if (ctx.audit != nullptr) ctx.audit->check_available();
}

// ---- token endpoint errors (RFC 6749 §5.2) ----

namespace {

struct FailureRow {
  auth::AuthFailure failure;
  int status;
  std::string_view error;
};

constexpr FailureRow kTokenFailures[] = {
    {auth::AuthFailure::client_invalid, 401, "invalid_client"},
    {auth::AuthFailure::unauthorized_client, 400, "unauthorized_client"},
    {auth::AuthFailure::grant_invalid, 400, "invalid_grant"},
    {auth::AuthFailure::pkce_invalid, 400, "invalid_grant"},
    {auth::AuthFailure::redirect_uri_invalid, 400, "invalid_grant"},
    {auth::AuthFailure::scope_invalid, 400, "invalid_scope"},
    {auth::AuthFailure::user_disabled, 400, "invalid_grant"},
    {auth::AuthFailure::user_locked, 400, "invalid_grant"},
    {auth::AuthFailure::token_invalid, 400, "invalid_grant"},
    {auth::AuthFailure::token_expired, 400, "invalid_grant"},
    {auth::AuthFailure::login_superseded, 400, "invalid_grant"},
};

}  // namespace

OAuthError token_error(const std::exception& ex) {
  if (const auto* o = dynamic_cast<const OAuthError*>(&ex); o != nullptr) return *o;
  if (const auto* a = dynamic_cast<const auth::AuthError*>(&ex); a != nullptr) {
    for (const auto& row : kTokenFailures) {
      if (row.failure == a->failure()) return {row.status, std::string(row.error), std::string(auth::public_message(row.failure))};
    }
    return {400, "invalid_request", std::string(auth::public_message(a->failure()))};
  }
  if (const auto* e = dynamic_cast<const Error*>(&ex); e != nullptr) {
    const auto& info = e->info();
    if (info.http_status < 500) return {400, "invalid_request", e->public_description()};
    if (e->code() == Errc::audit_unavailable || e->code() == Errc::overloaded || e->code() == Errc::store_unavailable) {
      return {503, "temporarily_unavailable", std::string(info.public_message)};
    }
    return {500, "server_error", std::string(info.public_message)};
  }
  return {500, "server_error", "Internal server error"};
}

void no_store(http::Response& res) {
  res.set_header("Cache-Control", "no-store");
  res.set_header("Pragma", "no-cache");
  res.set_header("Referrer-Policy", "no-referrer");
}

http::Response json_error(const OAuthError& e) {
  auto res = http::Response::json(e.status, {{"error", e.error}, {"error_description", e.description}});
  no_store(res);
  // RFC 6749 §5.2: a 401 names the scheme the client may use: Basic, also when the credentials came
  // in the body (and so the router does not add its Bearer challenge).
  if (e.status == 401) res.set_header("WWW-Authenticate", "Basic realm=\"sigil\"");
  return res;
}

}  // namespace sigil::api::oauth::detail

namespace sigil::api::oauth {

void register_routes(http::Router& router, OAuthContext context) {
  auto shared = std::make_shared<detail::Shared>(std::move(context));
  for (const std::string prefix : {"/csc/v2/oauth2/", "/oauth2/"}) {
    detail::register_authorize(router, shared, prefix);
    detail::register_token(router, shared, prefix);
  }
}

}  // namespace sigil::api::oauth
