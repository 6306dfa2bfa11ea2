// The DSS-style REST API: the shapes of the European Commission DSS REST services
// (/services/rest/...), with authentication and a JSON error body added. docs/dss-api.md.
#pragma once

#include "sigil/http/router.hpp"

namespace sigil::signing {
class SigningService;
}

namespace sigil::api::dss {

// Registers every DSS-style route on `router`. `service` must outlive the router.
void register_routes(http::Router& router, signing::SigningService& service);

}  // namespace sigil::api::dss
