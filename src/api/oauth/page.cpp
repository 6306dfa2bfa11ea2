// The login/consent page of oauth2/authorize: one self-contained HTML document (inline style, no
// script, no external asset), served with a CSP that allows nothing else and forbids framing.
#include "oauth_internal.hpp"

namespace sigil::api::oauth::detail {
namespace {

constexpr std::string_view kCsp = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";

constexpr std::string_view kStyle =
    "body{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;color:#1d2330}"
    "main{max-width:24rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;"
    "box-shadow:0 1px 4px rgba(0,0,0,.15)}"
    "h1{font-size:1.3rem;margin:0 0 1rem}p{line-height:1.4}"
    "label{display:block;margin:.8rem 0 .2rem;font-weight:600}"
    "input{width:100%;box-sizing:border-box;padding:.55rem;border:1px solid #aab;border-radius:4px;font-size:1rem}"
    "button{margin-top:1.2rem;width:100%;padding:.65rem;border:0;border-radius:4px;background:#1f5fbf;"
    "color:#fff;font-size:1rem;cursor:pointer}"
    ".err{background:#fde8e8;color:#8a1c1c;padding:.6rem;border-radius:4px}"
    ".info{background:#e8f0fd;padding:.6rem;border-radius:4px}.muted{color:#5a6270;font-size:.9rem}";

void security_headers(http::Response& res) {
  res.set_header("Content-Security-Policy", std::string(kCsp));
  res.set_header("X-Frame-Options", "DENY");
  no_store(res);
}

std::string head(std::string_view lang, std::string_view title) {
  return "<!DOCTYPE html>\n<html lang=\"" + html_escape(lang) +
         "\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
         "<meta name=\"referrer\" content=\"no-referrer\"><title>" +
         html_escape(title) + "</title><style>" + std::string(kStyle) + "</style></head><body><main>";
}

std::string input(std::string_view label, std::string_view name, std::string_view type, std::string_view autocomplete,
                  std::string_view value = {}, bool autofocus = false) {
  std::string out = "<label for=\"" + html_escape(name) + "\">" + html_escape(label) + "</label><input id=\"" +
                    html_escape(name) + "\" name=\"" + html_escape(name) + "\" type=\"" + html_escape(type) +
                    "\" autocomplete=\"" + html_escape(autocomplete) + "\" required";
  if (!value.empty()) out += " value=\"" + html_escape(value) + "\"";
  if (autofocus) out += " autofocus";
  return out + ">";
}

}  // namespace

http::Response render_page(int status, const PageModel& p) {
  const std::string title = "Sign in - " + p.service_name;
  std::string html = head(p.lang, title);
  html += "<h1>" + html_escape(p.service_name) + "</h1>";
  html += "<p><b>" + html_escape(p.client_name) + "</b> asks you to sign in";
  if (p.credential_scope) {
    html += " and to authorise " + std::to_string(p.num_signatures) + " signature" + (p.num_signatures == 1 ? "" : "s") +
            " with your credential <code>" + html_escape(p.credential_id) + "</code>";
    if (p.hash_count > 0) html += " over " + std::to_string(p.hash_count) + " document digest" + (p.hash_count == 1 ? "" : "s");
  }
  html += ".</p>";
  if (!p.description.empty()) html += "<p class=\"muted\">" + html_escape(p.description) + "</p>";
  if (!p.message.empty()) html += "<p class=\"err\" role=\"alert\">" + html_escape(p.message) + "</p>";
  if (p.otp_sent) html += "<p class=\"info\">A one-time code has been sent to you.</p>";
  html += "<form method=\"post\" action=\"" + html_escape(p.action) + "\" autocomplete=\"off\">";
  for (const auto& [name, value] : p.hidden) {
    html += "<input type=\"hidden\" name=\"" + html_escape(name) + "\" value=\"" + html_escape(value) + "\">";
  }
  bool first = true;
  if (p.ask_password) {
    html += input("Username", "username", "text", "username", p.username, p.username.empty());
    html += input("Password", "password", "password", "current-password", {}, !p.username.empty());
    first = false;
  }
  if (p.ask_pin) {
    html += input("Credential PIN", "pin", "password", "off", {}, first);
    first = false;
  }
  if (p.ask_otp) html += input("One-time code", "otp", "text", "one-time-code", {}, first);
  html += "<button type=\"submit\">" + std::string(p.credential_scope ? "Sign in and authorise" : "Sign in") +
          "</button></form></main></body></html>\n";
  auto res = http::Response::text(status, std::move(html), "text/html; charset=utf-8");
  security_headers(res);
  return res;
}

http::Response error_page(int status, std::string_view title, std::string_view message) {
  std::string html = head("en", title);
  html += "<h1>" + html_escape(title) + "</h1><p class=\"err\">" + html_escape(message) +
          "</p><p class=\"muted\">Return to the application and start again.</p></main></body></html>\n";
  auto res = http::Response::text(status, std::move(html), "text/html; charset=utf-8");
  security_headers(res);
  return res;
}

}  // namespace sigil::api::oauth::detail
