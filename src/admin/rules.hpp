// Input rules shared by the service files (not part of the public API).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sigil/admin/service.hpp"

namespace sigil::admin::detail {

// Key labels: [A-Za-z0-9._-]{1,64}. Throws Error(invalid_argument, public).
void check_key_label(std::string_view label);

// Every "<scheme>-<hash>" the key type supports, in a stable order.
std::vector<std::string> default_algorithms(KeyType type);
// Validates and de-duplicates (keeping the first occurrence) `requested` for a key of `type`;
// empty = default_algorithms(type). Throws Error(invalid_argument, public) naming the bad entry.
std::vector<std::string> normalize_algorithms(const std::vector<std::string>& requested, KeyType type);

// "active" / "disabled".
std::string_view status_text(CredentialStatus s);
CredentialStatus parse_status(std::string_view s);  // unknown text in the store: Error(internal)

}  // namespace sigil::admin::detail
