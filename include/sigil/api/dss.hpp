// The DSS-style REST API: the shapes of the European Commission DSS REST services
// (/services/rest/...), with authentication and a JSON error body added. docs/dss-api.md.
#pragma once

#include <vector>

#include "sigil/http/router.hpp"
#include "sigil/signing/profiles.hpp"

namespace sigil::signing {
class SigningService;
}

namespace sigil::api::dss {

// Registers every DSS-style route on `router`, and the one-call POST /api/v1/sign?profile=NAME
// with the configured `profiles` (and `?appearance=NAME` from `appearances`). `service` must
// outlive the router.
void register_routes(http::Router& router, signing::SigningService& service,
                     std::vector<signing::Profile> profiles = {}, signing::AppearanceTemplates appearances = {});

}  // namespace sigil::api::dss
