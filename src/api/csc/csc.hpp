// Internal plumbing of sigil_api_csc: the error type, lenient JSON member access, OIDs, the
// authenticated session and the route registration helper.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sigil/api/csc.hpp"
#include "sigil/auth/tokens.hpp"
#include "sigil/common/crypto_types.hpp"
#include "sigil/http/message.hpp"
#include "sigil/http/router.hpp"
#include "sigil/signing/service.hpp"

namespace sigil::api::csc::detail {

using Json = nlohmann::json;

// A CSC refusal: HTTP status, `error`, `error_description` (all public).
struct CscError : std::exception {
  CscError(int s, std::string e, std::string d) : status(s), error(std::move(e)), description(std::move(d)) {}
  const char* what() const noexcept override { return description.c_str(); }
  int status = 400;
  std::string error = "invalid_request";
  std::string description;
};
[[noreturn]] void fail(std::string description, int status = 400, std::string error = "invalid_request");

// The one table AuthFailure -> (status, CSC error); the description is auth::public_message.
CscError csc_error(const std::exception& e);
http::Response error_response(const CscError& e);

// The bearer token of the request (also the lenient "Bearer: x"), authenticated.
struct Session {
  auth::TokenInfo token;
  std::string access_token;
  signing::Caller caller;
  bool credential_scope() const { return token.scope == "credential"; }
};
Session authenticate(auth::TokenService& tokens, const http::Request& req);

// Lenient member access (§11): null = absent; booleans and integers also as strings.
Json body_object(const http::Request& req);
const Json* member(const Json& o, std::string_view name);
std::optional<std::string> opt_string(const Json& o, std::string_view name);
std::string req_string(const Json& o, std::string_view name);
bool opt_bool(const Json& o, std::string_view name, bool fallback);
std::optional<long long> opt_integer(const Json& o, std::string_view name);
// `hashes` (or v1 `hash`): an array of base64/base64url strings; nullopt when absent.
std::optional<std::vector<Bytes>> opt_hashes(const Json& o);

// OIDs
std::optional<HashAlg> hash_from_oid(std::string_view oid);
std::string_view hash_oid(HashAlg h);
struct SignAlgo {
  SignatureScheme scheme;
  HashAlg hash;
};
// signAlgo + hashAlgorithmOID + signAlgoParams -> scheme and hash, or CscError.
SignAlgo resolve_sign_algo(const Json& body);
// Signature-algorithm OIDs a credential allows (key.algo).
std::vector<std::string> algo_oids(const signing::ResolvedCredential& c);

// The credential of the session's user, or "Invalid parameter credentialID".
signing::AttendedCredential owned_credential(CscContext& ctx, const Session& s, const std::string& id);
Json credential_info(const CscContext& ctx, const signing::AttendedCredential& c, const Json& options);

using Handler = http::Response (*)(CscContext&, http::Request&);
void add(http::Router& router, const std::shared_ptr<CscContext>& ctx, const std::string& method, Handler h,
         const char* verb = "POST");

void register_service(http::Router& router, const std::shared_ptr<CscContext>& ctx);
void register_credentials(http::Router& router, const std::shared_ptr<CscContext>& ctx);
void register_signatures(http::Router& router, const std::shared_ptr<CscContext>& ctx);

}  // namespace sigil::api::csc::detail
