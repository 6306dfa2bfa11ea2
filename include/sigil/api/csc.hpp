// The CSC API v2 (Cloud Signature Consortium, docs/csc-api.md) under /csc/v2/, over the signing
// service (credentials, raw signatures) and the auth services (access tokens, credential
// authorisation and SADs). Transport-neutral: handlers decode JSON, call the services, encode.
//
// The routes authenticate their own bearer tokens (TokenService) so that every refusal carries the
// CSC error wording; they are registered with AuthRequirement::none() and ignore the router's
// authenticator.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
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
struct SadSpend;
}  // namespace sigil::auth
namespace sigil::store {
class UserRepository;
}
namespace sigil {
class Timestamper;
}
namespace sigil::audit {
class Sink;
struct Event;
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
  // The audit trail of CSC calls that list, read, authorise or sign (csc.* records with user,
  // credential, client id, clientData, lang). nullptr = none. When set, an audited call fails
  // closed (503 temporarily_unavailable) if its record cannot be written. Signatures are recorded
  // by the SigningService's own sink (signature.create, with the same CSC details).
  audit::Sink* audit = nullptr;
  // signHash with a SCAL1 credential signs first and then commits the SAD's spend, its sad.used
  // record and the signature.create record in one audit commit (ADR 0021), through this
  // (bootstrap::AuditAuthEvents::on_spend_with). Empty, and always for SCAL2: the SAD is spent in
  // its own commit before the key is used.
  std::function<void(const auth::SadSpend&, audit::Event)> commit_sad_with = {};
  // signatures/signDoc: the largest decoded document accepted (bytes) and the most documents and
  // digests in one call.
  std::size_t max_document_bytes = 32u * 1024 * 1024;
  unsigned max_documents = 20;
  // The OAuth 2.0 authorization server beside these routes (api::oauth serves
  // <oauth2>/oauth2/{authorize,token,revoke}): info then advertises authType oauth2code and
  // oauth2client and `oauth2` = this base URI; "" derives it from the request,
  // <scheme>://<Host>/csc/v2 with the scheme of `tls`. nullopt: no OAuth, nothing advertised.
  std::optional<std::string> oauth2_base = std::nullopt;
  bool tls = true;
};

// Registers POST /csc/v2/{info, auth/login, auth/revoke, credentials/list, credentials/info,
// credentials/authorize, credentials/authorizeCheck, credentials/getChallenge, credentials/sendOTP,
// credentials/extendTransaction, signatures/signHash, signatures/signDoc, signatures/timestamp} and
// the CSC 1.0.4.0 shapes under /csc/v1/ (info, auth/*, credentials/{list, info, authorize, sendOTP,
// extendTransaction}, signatures/{signHash, timestamp}); anything else under either prefix is
// 501 not_implemented (literal routes registered by others, e.g. /csc/v2/oauth2/token, win).
// Everything in `context` must outlive the router.
void register_routes(http::Router& router, CscContext context);

// "METHOD /path" of every route register_routes adds for this context, in registration order
// (the OpenAPI test compares it with schemas/csc.openapi.yaml).
std::vector<std::string> route_list(const CscContext& context);

}  // namespace sigil::api::csc
