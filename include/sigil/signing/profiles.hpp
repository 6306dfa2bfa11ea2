// Named signing profiles: everything a back office would otherwise repeat in each request (format,
// level, packaging, digest, visible stamp, the credential), so a request names only the profile.
// The daemon builds them from the configuration's [[profiles]] tables.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sigil/signing/documents.hpp"

namespace sigil::signing {

struct Profile {
  std::string name;
  std::string credential_id;              // an unattended credential of the calling service user
  DocumentRequest request;                // signing_time is set per request
  std::optional<SignatureScheme> scheme;  // default: the key's
};

// The profile named `name`; Error(not_found, public) when there is none.
const Profile& find_profile(const std::vector<Profile>& profiles, std::string_view name);

// Named visible-signature templates ([[appearances]] in the configuration).
using AppearanceTemplates = std::map<std::string, pades::Appearance, std::less<>>;

// Gives a PAdES request the template `name` ("none": an invisible signature). Error(invalid_argument,
// public) for an unknown name or a request that is not PAdES.
void apply_appearance(DocumentRequest& request, const AppearanceTemplates& templates, std::string_view name);

}  // namespace sigil::signing
