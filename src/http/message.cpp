#include "sigil/http/message.hpp"

#include <algorithm>

#include "sigil/http/json.hpp"

namespace sigil::http {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           const auto lx = (x >= 'A' && x <= 'Z') ? static_cast<char>(x - 'A' + 'a') : x;
           const auto ly = (y >= 'A' && y <= 'Z') ? static_cast<char>(y - 'A' + 'a') : y;
           return lx == ly;
         });
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string_view> find_header(const std::vector<std::pair<std::string, std::string>>& headers,
                                            std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (iequals(k, name)) return std::string_view(v);
  }
  return std::nullopt;
}

}  // namespace

bool Principal::has_role(std::string_view role) const {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_as_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = hex_value(text[i + 1]);
      const int lo = hex_value(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::optional<std::string_view> Request::header(std::string_view name) const {
  return find_header(headers, name);
}

std::optional<std::string_view> Request::query_param(std::string_view name) const {
  const auto it = query.find(std::string(name));
  if (it == query.end()) return std::nullopt;
  return std::string_view(it->second);
}

void Request::set_target(std::string raw_target) {
  if (raw_target.empty() || raw_target.front() != '/') {
    throw Error(Errc::bad_request, "request target must be origin-form", true);
  }
  target = std::move(raw_target);
  const auto q = target.find('?');
  path = target.substr(0, q);
  query.clear();
  if (q == std::string::npos) return;
  std::string_view rest = std::string_view(target).substr(q + 1);
  // A fragment is never sent by conforming clients; drop it if one is.
  rest = rest.substr(0, rest.find('#'));
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq), true);
    auto value = percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
    if (!key || !value) throw Error(Errc::bad_request, "malformed percent-encoding in query", true);
    query.emplace(std::move(*key), std::move(*value));
  }
}

nlohmann::json Request::json_body() const {
  if (!body_file.empty()) {
    throw Error(Errc::payload_too_large, "JSON body larger than the in-memory body limit", true);
  }
  return parse_json_bounded(body, max_json_depth);
}

Response Response::json(int status, const nlohmann::json& body) {
  Response r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return r;
}

Response Response::text(int status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  r.content_type = std::move(content_type);
  return r;
}

Response Response::file(int status, std::filesystem::path path, std::string content_type, bool remove_after) {
  Response r;
  r.status = status;
  r.body_file = std::move(path);
  r.remove_body_file = remove_after;
  r.content_type = std::move(content_type);
  return r;
}

Response Response::error(const sigil::Error& error) {
  const auto& info = error.info();
  // `error`/`error_description` are the CSC/OAuth shape clients expect; `code` is Sigil's stable
  // registry name (extra members are allowed by both), so clients and sigilctl can tell apart
  // errors that share an OAuth code.
  return json(info.http_status, {{"error", std::string(info.oauth_error)},
                                 {"error_description", error.public_description()},
                                 {"code", std::string(info.name)}});
}

Response Response::error(Errc code) {
  return error(sigil::Error(code, {}));
}

std::optional<std::string_view> Response::header(std::string_view name) const {
  return find_header(headers, name);
}

void Response::set_header(std::string name, std::string value) {
  for (auto& [k, v] : headers) {
    if (iequals(k, name)) {
      v = std::move(value);
      return;
    }
  }
  headers.emplace_back(std::move(name), std::move(value));
}

}  // namespace sigil::http
