// The admin REST API (/api/admin/v1): thin handlers over admin::AdminService and the store's user
// and API-key repositories. Every route requires the `admin` role and runs on the worker pool; every
// state-changing route writes an audit record (with the acting principal) before it answers.
// Shapes: include/sigil/api/admin_json.hpp; contract: schemas/admin.openapi.yaml.
#pragma once

#include <functional>
#include <string>

#include "sigil/admin/service.hpp"
#include "sigil/audit/events.hpp"
#include "sigil/common/clock.hpp"
#include "sigil/http/router.hpp"

namespace sigil::otp {
class OtpEnrolments;
}
namespace sigil::auth {
class AuthorizationService;
}

namespace sigil::api::admin {

inline constexpr const char* kPrefix = "/api/admin/v1";

// What the admin routes do to a user's sign-ins. `revoke` ends every access and refresh token of a
// user at once (auth::TokenService::revoke_user, which also empties the token cache): called when
// an administrator disables the user or sets their password. Empty: nothing beyond the user row
// (tests of the admin API alone).
struct UserSessions {
  std::function<void(const std::string& user_id)> revoke;
};

// Adds every admin route to `router`. `svc`, `clock` and `audit` must outlive the router; `pki_dir`
// holds the demo CA's issuing-ca.pem and root-ca.pem (for POST /keys/{label}/certificate/issue).
// Every state-changing route is audited through `audit` (fail closed, see routes.hpp).
void register_routes(http::Router& router, ::sigil::admin::AdminService& svc, const Clock& clock, std::string pki_dir,
                     audit::Sink& audit, UserSessions sessions = {});

// Registers `method kPrefix+path` as an admin route: the `admin` role (a refusal is audited as
// auth.forbidden), the worker pool, and for a state-changing route (any method but GET, which must
// name `audit_event`) the fail-closed audit of its outcome before the response leaves. For route
// groups that live outside this library (e.g. OAuth clients in sigil_api_oauth).
void add_route(http::Router& router, audit::Sink& audit, const char* method, const std::string& path,
               http::Handler handler, std::string_view audit_event = {});

// The second factor, administered (admin role, audited like the rest):
//   POST   /users/{username}/otp          {"kind": "totp"|"hotp"} -> {kind, uri, qr_png (base64)}:
//                                          the seed is in the URI, shown this once
//   DELETE /users/{username}/otp/{kind}
//   GET    /users/{username}/second-factor -> {enrolled: [...], locked_until}
//   POST   /users/{username}/second-factor/unlock
//   PUT    /credentials/{id}/pin          {"pin": "..."} (4..64 characters, Argon2id)
// `enrolments` may be null when no OTP key is configured: the OTP routes then answer 400
// `unsupported` naming the missing [auth] key_file.
struct SecondFactorAdmin {
  otp::OtpEnrolments* enrolments = nullptr;
  auth::AuthorizationService* authorization = nullptr;
  std::string otp_issuer = "Sigil";
};
void register_second_factor_routes(http::Router& router, ::sigil::admin::AdminService& svc, const Clock& clock,
                                   audit::Sink& audit, SecondFactorAdmin second_factor);

}  // namespace sigil::api::admin
