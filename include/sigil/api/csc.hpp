// The CSC API v2 (Cloud Signature Consortium, docs/csc-api.md) under /csc/v2/, over the signing
// service (credentials, raw signatures) and the auth services (access tokens, credential
// authorisation and SADs). Transport-neutral: handlers decode JSON, call the services, encode.
//
// The routes authenticate their own bearer tokens (TokenService) so that every refusal carries the
// CSC error wording; they are registered with AuthRequirement::none() and ignore the router's
// authenticator.
#pragma once

#include <string>
#include <vector>

#include "sigil/config/config.hpp"

namespace sigil::http {
class Router;
}
namespace sigil::signing {
class SigningService;
}
namespace sigil::auth {
class TokenService;
class AuthorizationService;
}  // namespace sigil::auth
namespace sigil::store {
class UserRepository;
}
namespace sigil {
class Timestamper;
}

namespace sigil::api::csc {

struct CscInfo {
  std::string name = "Sigil";
  std::string logo;          // URI of a logo
  std::string region = "EU";  // ISO 3166-1 alpha-2
  std::string lang = "en-US";
  std::string description = "Sigil on-premise remote signing service";
};

struct CscContext {
  signing::SigningService& signing;
  auth::TokenService& tokens;
  auth::AuthorizationService& authorization;
  // auth/login (HTTP Basic): users and the login lockout policy; nullptr = no auth/login, and
  // "basic" is not advertised.
  store::UserRepository* users = nullptr;
  config::AuthConfig login_policy{};
  // signatures/timestamp; nullptr = not served (and not listed in info.methods).
  Timestamper* timestamper = nullptr;
  // The OTP factor's provider delivers codes (SMS/e-mail/file: getChallenge sends one; the auth
  // object is a ChallengeResponse) rather than an authenticator app (TOTP: a Password object).
  bool otp_delivered = false;
  CscInfo info{};
  unsigned multisign = 100;  // must equal AuthorizationPolicy::max_signatures
};

// Registers POST /csc/v2/{info, auth/login, auth/revoke, credentials/list, credentials/info,
// credentials/authorize, credentials/getChallenge, credentials/sendOTP, credentials/extendTransaction,
// signatures/signHash, signatures/timestamp}. Everything in `context` must outlive the router.
void register_routes(http::Router& router, CscContext context);

}  // namespace sigil::api::csc
