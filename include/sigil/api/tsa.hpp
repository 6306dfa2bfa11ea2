// The built-in TSA over HTTP (RFC 3161 §3.4): POST /tsa, application/timestamp-query in,
// application/timestamp-reply out.
#pragma once

#include "sigil/http/router.hpp"

namespace sigil::tsa {
class TimeStampAuthority;
}

namespace sigil::api::tsa {

// `authority` must outlive the router. `require_auth`: only authenticated callers may time-stamp.
void register_routes(http::Router& router, sigil::tsa::TimeStampAuthority& authority, bool require_auth);

}  // namespace sigil::api::tsa
