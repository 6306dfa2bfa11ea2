// Wire <-> transport-neutral message translation (the only place both worlds meet).
#pragma once

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "sigil/http/message.hpp"

namespace sigil::http::detail {

using WireResponse = boost::beast::http::response<boost::beast::http::string_body>;

// Method, target (path + decoded query) and headers. Throws Error(bad_request) on a bad target.
void fill_request_head(Request& req, const boost::beast::http::request_header<>& head);

// A well-formed incoming X-Request-Id (1..64 of [A-Za-z0-9._-]) or a fresh random one.
std::string choose_request_id(std::optional<std::string_view> incoming);

// Status line, handler headers (those with CR/LF/NUL or framing headers are dropped), content
// type, the security headers on every response, X-Request-Id, keep-alive and Content-Length.
WireResponse to_wire(Response&& response, unsigned version, bool keep_alive, const std::string& request_id);

// A bounded metrics label for the method: the standard ones as-is, anything else "OTHER".
std::string_view method_label(std::string_view method);

}  // namespace sigil::http::detail
