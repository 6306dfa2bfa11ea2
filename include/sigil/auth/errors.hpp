// Why an authentication or authorisation was refused. Every refusal is a sigil::Error (so the HTTP
// layer maps it like any other) of the subclass AuthError, which also names the precise failure.
// The mapping failure → Errc is one table (errors.cpp): until the registry has dedicated codes
// (proposed in docs/authentication.md: sad_invalid, sad_expired, hash_not_authorized,
// invalid_authentication_data, invalid_token, invalid_grant, invalid_client), the failures map onto
// existing codes, and tests assert on failure().
#pragma once

#include <string>
#include <string_view>

#include "sigil/common/error.hpp"

namespace sigil::auth {

enum class AuthFailure {
  // SAD use
  sad_unknown,              // unknown, forged or revoked SAD
  sad_expired,
  sad_exhausted,            // more signatures than authorised
  sad_wrong_user,
  sad_wrong_credential,
  sad_wrong_client,
  sad_hash_not_authorized,  // a hash (or hash algorithm) the SAD does not cover
  // credential authorisation
  credential_unknown,       // unknown or not owned by the caller
  credential_disabled,
  num_signatures_invalid,
  hashes_required,          // SCAL2 without hashes
  hash_invalid,             // wrong length for the algorithm, or more hashes than signatures
  pin_missing,
  otp_missing,
  pin_invalid,
  otp_invalid,              // wrong, expired, replayed or no outstanding code
  otp_not_enrolled,
  pin_not_set,
  transaction_unknown,
  transaction_void,         // too many wrong attempts, expired or already used
  user_locked,
  user_disabled,
  // tokens and OAuth
  token_invalid,
  token_expired,
  client_invalid,
  unauthorized_client,      // grant type not allowed for the client
  grant_invalid,            // bad/expired/used code or refresh token, redirect_uri or PKCE mismatch
  scope_invalid,
  redirect_uri_invalid,
  pkce_invalid,             // missing or non-S256 challenge, malformed verifier
  login_superseded,         // the user's password, status or sessions changed while the login was checked
};

std::string_view to_string(AuthFailure f) noexcept;
// The registry code a failure is reported with (see the note above).
Errc errc_for(AuthFailure f) noexcept;
// The client-safe description ("SAD expired", "Hash is not authorized by the SAD", ...).
std::string_view public_message(AuthFailure f) noexcept;

class AuthError : public Error {
 public:
  // The Error's detail is public_message(failure), marked public (CSC clients need "SAD expired"
  // vs "Invalid parameter SAD"); `internal` is for the log only (internal_detail()).
  explicit AuthError(AuthFailure failure, std::string internal = {});
  AuthFailure failure() const noexcept { return failure_; }
  const std::string& internal_detail() const noexcept { return internal_; }

 private:
  AuthFailure failure_;
  std::string internal_;
};

}  // namespace sigil::auth
