#include "convert.hpp"

#include <array>

#include "sigil/common/log.hpp"
#include "sigil/common/secure.hpp"

namespace sigil::http::detail {
namespace bhttp = boost::beast::http;
namespace {

bool is_id_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

bool safe_header_text(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

bool is_framing_header(std::string_view name) {
  const auto f = bhttp::string_to_field(name);
  return f == bhttp::field::content_length || f == bhttp::field::transfer_encoding || f == bhttp::field::connection ||
         f == bhttp::field::content_type;
}

}  // namespace

void fill_request_head(Request& req, const bhttp::request_header<>& head) {
  req.method = std::string(head.method_string());
  req.set_target(std::string(head.target()));
  for (const auto& field : head) {
    req.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
}

std::string choose_request_id(std::optional<std::string_view> incoming) {
  if (incoming && !incoming->empty() && incoming->size() <= 64) {
    bool ok = true;
    for (const char c : *incoming) ok = ok && is_id_char(c);
    if (ok) return std::string(*incoming);
  }
  return random_token(12);  // 16 base64url characters
}

WireResponse to_wire(Response&& response, unsigned version, bool keep_alive, const std::string& request_id) {
  // A handler bug must not become a status line Beast refuses to serialise.
  const int status = (response.status >= 100 && response.status <= 599) ? response.status : 500;
  WireResponse res{static_cast<bhttp::status>(status), version};
  for (auto& [name, value] : response.headers) {
    if (name.empty() || !safe_header_text(name) || !safe_header_text(value) || is_framing_header(name)) {
      log::warn("dropping unsafe or framing response header '{}'", safe_header_text(name) ? name : "?");
      continue;
    }
    res.insert(name, value);
  }
  if (!response.content_type.empty() && safe_header_text(response.content_type)) {
    res.set(bhttp::field::content_type, response.content_type);
  }
  res.set(bhttp::field::server, "sigil");
  res.set(bhttp::field::cache_control, "no-store");
  res.set("X-Content-Type-Options", "nosniff");
  res.set("X-Request-Id", request_id);
  res.body() = std::move(response.body);
  res.keep_alive(keep_alive);
  res.prepare_payload();
  return res;
}

std::string_view method_label(std::string_view method) {
  static constexpr std::array<std::string_view, 7> kKnown = {"GET",    "HEAD",  "POST",   "PUT",
                                                             "DELETE", "PATCH", "OPTIONS"};
  for (const auto m : kKnown) {
    if (m == method) return m;
  }
  return "OTHER";
}

}  // namespace sigil::http::detail
