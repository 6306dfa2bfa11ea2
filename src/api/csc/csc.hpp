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
// Client-supplied text as the audit trail keeps it: printable ASCII (anything else becomes '?'), at
// most `max` characters (then "...").
std::string sanitised(std::string_view s, std::size_t max);

[[noreturn]] void fail(std::string description, int status = 400, std::string error = "invalid_request");

// The one table AuthFailure -> (status, CSC error); the description is auth::public_message.
CscError csc_error(const std::exception& e);
http::Response error_response(const CscError& e);

// One CSC call as the route wrapper sees it: the API version of the path, the parsed body, and what
// the audit record of the call says (filled by the handler as it learns it).
struct Call {
  bool v1 = false;      // /csc/v1/ (CSC 1.0.4.0 shapes) rather than /csc/v2/
  std::string method;   // "credentials/list"
  Json body = Json::object();
  // Audit facts (audited methods only; no record without a user).
  std::string user_id;
  std::optional<std::string> client_id;
  std::string credential_id;
  std::vector<std::pair<std::string, std::string>> details;  // method-specific (e.g. count)
  bool signed_ok = false;  // the signing service recorded the success (signature.create)
  // client_id, client_data (sanitised, truncated), lang: added to every record of the call.
  std::vector<std::pair<std::string, std::string>> context_details() const;
};

// The bearer token of the request (also the lenient "Bearer: x"), authenticated.
struct Session {
  auth::TokenInfo token;
  std::string access_token;
  signing::Caller caller;
  bool credential_scope() const { return token.scope == "credential"; }
};
Session authenticate(auth::TokenService& tokens, const http::Request& req);
// The same, and the call's audit facts (user, client) and the caller's signature.create details.
Session authenticate(CscContext& ctx, const http::Request& req, Call& call);

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
// The leaf certificate is within its validity period now (CSC cert/status "valid").
bool certificate_valid(const CscContext& ctx, const signing::AttendedCredential& a);
// The credentials/info object (v2), or the CSC 1.0.4.0 one (`authMode`, `PIN`, `OTP`, no `auth`).
Json credential_info(const CscContext& ctx, const signing::AttendedCredential& c, const Json& options,
                     bool v1 = false);

// A hash algorithm named by OID, or (v1 and the v1 name `hash` without an algorithm) implied by
// the digest length; nullopt when no hashes.
std::optional<HashAlg> hashes_algorithm(const Json& body, const std::vector<Bytes>& hashes, bool infer);

// The methods info lists (v1: the v1 method set).
std::vector<std::string> served_methods(const CscContext& ctx, bool v1);

using Handler = http::Response (*)(CscContext&, http::Request&, Call&);
enum Versions : unsigned { kV2 = 1, kV1 = 2, kBoth = 3 };
enum class Audit { none, access, signature };  // access: csc.<method> record; signature: see Call
struct Registry {
  http::Router& router;
  std::shared_ptr<CscContext> ctx;
  std::vector<std::string>* routes = nullptr;  // "POST /csc/v2/info", ... as registered
};
void add(Registry& r, const std::string& method, Handler h, unsigned versions = kBoth, Audit audit = Audit::none,
         const char* verb = "POST");

void register_service(Registry& r);
void register_credentials(Registry& r);
void register_signatures(Registry& r);
void register_sign_doc(Registry& r);

}  // namespace sigil::api::csc::detail
