#include "sigil/common/url.hpp"

#include <algorithm>
#include <cctype>

namespace sigil {

bool url_under_prefix(std::string_view url, const std::vector<std::string>& prefixes) {
  std::string lower;
  lower.reserve(url.size());
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '\\') return false;
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (lower.find("/../") != std::string::npos || lower.find("/./") != std::string::npos || lower.ends_with("/..") ||
      lower.ends_with("/.") || lower.find("%2e") != std::string::npos) {
    return false;
  }
  return std::any_of(prefixes.begin(), prefixes.end(), [&](const std::string& p) { return url.starts_with(p); });
}

}  // namespace sigil
