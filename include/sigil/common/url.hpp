// Outbound URLs a client names (webhooks): allowed only under a configured prefix.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sigil {

// True when `url` starts with one of `prefixes` and has nothing that would let its path climb out
// of the prefix once an HTTP client normalises it: dot segments ("/../", "/./", a trailing "/.." or
// "/."), percent-encoded dots, backslashes, or control characters and spaces.
bool url_under_prefix(std::string_view url, const std::vector<std::string>& prefixes);

}  // namespace sigil
