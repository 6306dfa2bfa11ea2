// Bounded JSON parsing for request bodies.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace sigil::http {

// Parses `body` as one JSON value. Nesting deeper than `max_depth` ([[1]] has depth 2, a scalar
// depth 0) throws Error(json_too_deep) after a linear pre-scan, before any tree is built, so a
// megabyte of "[[[[" costs neither stack nor heap. Malformed input (including invalid UTF-8)
// throws Error(invalid_json) with a public detail naming the byte offset.
nlohmann::json parse_json_bounded(std::string_view body, unsigned max_depth);

// The string member `name` of object `o`: "" when absent or null (Error(invalid_argument, public)
// "<name> is required" when `required`), Error(invalid_argument, public) "<name> must be a string"
// for any other type.
std::string string_field(const nlohmann::json& o, const char* name, bool required);

}  // namespace sigil::http
