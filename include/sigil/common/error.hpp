// The project's one error type and its stable registry.
//
// Every foreign failure (CK_RV, OpenSSL's error queue, SQLite, libxml2, toml++) is translated once,
// at the module boundary, into sigil::Error carrying a stable Errc and an internal detail. The
// registry (error.cpp) maps each code to an HTTP status, a CSC-style `error` string, a public
// message and a CLI exit code. Numbers are never reused: retire a code, do not recycle it.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sigil {

enum class Errc : int {
  // 1xx generic
  internal = 100,
  invalid_argument = 101,
  not_found = 102,
  already_exists = 103,
  unsupported = 104,
  io = 105,
  // 2xx request / transport
  bad_request = 200,
  payload_too_large = 201,
  json_too_deep = 202,
  invalid_json = 203,
  method_not_allowed = 204,
  unauthorized = 205,
  forbidden = 206,
  overloaded = 207,
  request_timeout = 208,
  route_not_found = 209,
  unsupported_media_type = 210,
  header_too_large = 211,
  // 3xx configuration
  config_invalid = 300,
  config_unknown_key = 301,
  config_secret_missing = 302,
  // 4xx store
  store_unavailable = 400,
  store_conflict = 401,
  store_migration = 402,
  // 5xx HSM / keys
  hsm_module_load = 500,
  hsm_token_not_found = 501,
  hsm_pin_incorrect = 502,
  hsm_pin_locked = 503,
  hsm_key_not_found = 504,
  hsm_mechanism_unsupported = 505,
  hsm_session = 506,
  hsm_device = 507,
  hsm_general = 508,
  // 6xx PKI / certificates
  cert_invalid = 600,
  cert_key_mismatch = 601,
  crypto = 602,
  // 7xx users / authentication
  user_not_found = 700,
  user_disabled = 701,
  user_locked = 702,
  bad_credentials = 703,
  // 8xx audit
  audit_unavailable = 800,
  audit_chain_broken = 801,
  // 9xx documents, signature formats, time-stamps, revocation
  invalid_document = 900,
  document_too_large = 901,
  document_encrypted = 902,
  document_locked = 903,
  invalid_signature_value = 904,
  invalid_signing_state = 905,
  tsa_unavailable = 910,
  tsa_response_invalid = 911,
  revocation_unavailable = 912,
  cert_revoked = 913,
  xml_forbidden = 920,
};

struct ErrorInfo {
  Errc code;
  std::string_view name;            // stable identifier, e.g. "hsm_pin_incorrect"
  int http_status;                  // status an HTTP handler answers with
  std::string_view oauth_error;     // CSC/OAuth-style `error` member
  std::string_view public_message;  // safe for clients; never contains internal detail
  int exit_code;                    // sigilctl process exit code
};

// The registry entry of a code (an unknown code maps to `internal`).
const ErrorInfo& error_info(Errc code) noexcept;
// The code with this stable name (as sent in the `code` member of error bodies), if any.
std::optional<Errc> errc_from_name(std::string_view name) noexcept;

class Error : public std::runtime_error {
 public:
  // `detail` is internal: it goes to the log with the request id, never to a client, unless the
  // caller marks it public (messages a client needs to fix its request, e.g. "missing field x").
  Error(Errc code, std::string detail, bool detail_is_public = false);

  Errc code() const noexcept { return code_; }
  const std::string& detail() const noexcept { return detail_; }
  bool detail_is_public() const noexcept { return public_; }
  const ErrorInfo& info() const noexcept { return error_info(code_); }
  // What a client may see: the public detail if marked public, else the registry message.
  std::string public_description() const;

 private:
  Errc code_;
  std::string detail_;
  bool public_;
};

}  // namespace sigil
