#include "sigil/auth/errors.hpp"

namespace sigil::auth {
namespace {

struct Entry {
  AuthFailure failure;
  std::string_view name;
  Errc errc;  // interim mapping onto the registry (see errors.hpp)
  std::string_view message;
};

constexpr Entry kTable[] = {
    {AuthFailure::sad_unknown, "sad_unknown", Errc::invalid_argument, "Invalid parameter SAD"},
    {AuthFailure::sad_expired, "sad_expired", Errc::invalid_argument, "SAD expired"},
    {AuthFailure::sad_exhausted, "sad_exhausted", Errc::invalid_argument, "Invalid parameter SAD"},
    {AuthFailure::sad_wrong_user, "sad_wrong_user", Errc::invalid_argument, "Invalid parameter SAD"},
    {AuthFailure::sad_wrong_credential, "sad_wrong_credential", Errc::invalid_argument, "Invalid parameter SAD"},
    {AuthFailure::sad_wrong_client, "sad_wrong_client", Errc::invalid_argument, "Invalid parameter SAD"},
    {AuthFailure::sad_hash_not_authorized, "sad_hash_not_authorized", Errc::invalid_argument,
     "Hash is not authorized by the SAD"},
    {AuthFailure::credential_unknown, "credential_unknown", Errc::invalid_argument, "Invalid parameter credentialID"},
    {AuthFailure::credential_disabled, "credential_disabled", Errc::invalid_argument,
     "The credential identified by credentialID is disabled"},
    {AuthFailure::num_signatures_invalid, "num_signatures_invalid", Errc::invalid_argument,
     "Invalid value for parameter numSignatures"},
    {AuthFailure::hashes_required, "hashes_required", Errc::invalid_argument,
     "Missing (or invalid type) array parameter hashes"},
    {AuthFailure::hash_invalid, "hash_invalid", Errc::invalid_argument, "Invalid digest value length"},
    {AuthFailure::pin_missing, "pin_missing", Errc::invalid_argument, "Missing PIN"},
    {AuthFailure::otp_missing, "otp_missing", Errc::invalid_argument, "Missing OTP"},
    {AuthFailure::pin_invalid, "pin_invalid", Errc::bad_credentials, "The authentication data is invalid"},
    {AuthFailure::otp_invalid, "otp_invalid", Errc::bad_credentials, "The authentication data is invalid"},
    {AuthFailure::otp_not_enrolled, "otp_not_enrolled", Errc::forbidden, "No OTP device is enrolled"},
    {AuthFailure::pin_not_set, "pin_not_set", Errc::forbidden, "No PIN is set for the credential"},
    {AuthFailure::transaction_unknown, "transaction_unknown", Errc::invalid_argument, "Invalid transaction"},
    {AuthFailure::transaction_void, "transaction_void", Errc::forbidden,
     "The transaction is void; start a new authorization"},
    {AuthFailure::user_locked, "user_locked", Errc::user_locked, "Credential locked"},
    {AuthFailure::user_disabled, "user_disabled", Errc::user_disabled, "User disabled"},
    {AuthFailure::token_invalid, "token_invalid", Errc::unauthorized, "Invalid access token"},
    {AuthFailure::token_expired, "token_expired", Errc::unauthorized, "Access token expired"},
    {AuthFailure::client_invalid, "client_invalid", Errc::unauthorized, "Invalid client"},
    {AuthFailure::unauthorized_client, "unauthorized_client", Errc::forbidden,
     "The client may not use this grant type"},
    {AuthFailure::grant_invalid, "grant_invalid", Errc::bad_credentials, "Invalid or expired grant"},
    {AuthFailure::scope_invalid, "scope_invalid", Errc::invalid_argument, "Invalid scope"},
    {AuthFailure::redirect_uri_invalid, "redirect_uri_invalid", Errc::invalid_argument, "Invalid redirect_uri"},
    {AuthFailure::pkce_invalid, "pkce_invalid", Errc::invalid_argument, "PKCE with S256 is required"},
    {AuthFailure::login_superseded, "login_superseded", Errc::bad_credentials,
     "The sign-in is no longer valid; sign in again"},
};

const Entry& entry(AuthFailure f) noexcept {
  for (const Entry& e : kTable) {
    if (e.failure == f) return e;
  }
  return kTable[0];
}

}  // namespace

std::string_view to_string(AuthFailure f) noexcept { return entry(f).name; }
Errc errc_for(AuthFailure f) noexcept { return entry(f).errc; }
std::string_view public_message(AuthFailure f) noexcept { return entry(f).message; }

AuthError::AuthError(AuthFailure failure, std::string internal)
    : Error(errc_for(failure), std::string(public_message(failure)), true), failure_(failure), internal_(std::move(internal)) {}

}  // namespace sigil::auth
