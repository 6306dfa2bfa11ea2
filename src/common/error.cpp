#include "sigil/common/error.hpp"

#include <array>

namespace sigil {
namespace {

constexpr std::array kRegistry = {
    // code, name, http, oauth error, public message, exit code
    ErrorInfo{Errc::internal, "internal", 500, "server_error", "Internal server error", 1},
    ErrorInfo{Errc::invalid_argument, "invalid_argument", 400, "invalid_request", "Invalid argument", 2},
    ErrorInfo{Errc::not_found, "not_found", 404, "not_found", "Not found", 3},
    ErrorInfo{Errc::already_exists, "already_exists", 409, "conflict", "Already exists", 4},
    ErrorInfo{Errc::unsupported, "unsupported", 400, "invalid_request", "Not supported", 5},
    ErrorInfo{Errc::io, "io", 500, "server_error", "I/O error", 6},
    ErrorInfo{Errc::bad_request, "bad_request", 400, "invalid_request", "Bad request", 2},
    ErrorInfo{Errc::payload_too_large, "payload_too_large", 413, "invalid_request", "Request body too large", 2},
    ErrorInfo{Errc::json_too_deep, "json_too_deep", 400, "invalid_request", "JSON nesting too deep", 2},
    ErrorInfo{Errc::invalid_json, "invalid_json", 400, "invalid_request", "Malformed JSON", 2},
    ErrorInfo{Errc::method_not_allowed, "method_not_allowed", 405, "invalid_request", "Method not allowed", 2},
    ErrorInfo{Errc::unauthorized, "unauthorized", 401, "invalid_client", "Authentication required", 10},
    ErrorInfo{Errc::forbidden, "forbidden", 403, "access_denied", "Access denied", 11},
    ErrorInfo{Errc::overloaded, "overloaded", 503, "temporarily_unavailable", "Server busy, retry later", 12},
    ErrorInfo{Errc::request_timeout, "request_timeout", 408, "invalid_request", "Request timeout", 13},
    ErrorInfo{Errc::route_not_found, "route_not_found", 404, "not_found", "No such endpoint", 3},
    ErrorInfo{Errc::unsupported_media_type, "unsupported_media_type", 415, "invalid_request", "Unsupported media type", 2},
    ErrorInfo{Errc::header_too_large, "header_too_large", 431, "invalid_request", "Request header too large", 2},
    ErrorInfo{Errc::config_invalid, "config_invalid", 500, "server_error", "Invalid configuration", 20},
    ErrorInfo{Errc::config_unknown_key, "config_unknown_key", 500, "server_error", "Unknown configuration key", 20},
    ErrorInfo{Errc::config_secret_missing, "config_secret_missing", 500, "server_error", "Configured secret not available", 21},
    ErrorInfo{Errc::store_unavailable, "store_unavailable", 503, "temporarily_unavailable", "Store unavailable", 30},
    ErrorInfo{Errc::store_conflict, "store_conflict", 409, "conflict", "Conflicting update", 31},
    ErrorInfo{Errc::store_migration, "store_migration", 500, "server_error", "Store schema migration failed", 32},
    ErrorInfo{Errc::hsm_module_load, "hsm_module_load", 503, "temporarily_unavailable", "Signing device unavailable", 40},
    ErrorInfo{Errc::hsm_token_not_found, "hsm_token_not_found", 503, "temporarily_unavailable", "Signing device unavailable", 41},
    ErrorInfo{Errc::hsm_pin_incorrect, "hsm_pin_incorrect", 503, "temporarily_unavailable", "Signing device unavailable", 42},
    ErrorInfo{Errc::hsm_pin_locked, "hsm_pin_locked", 503, "temporarily_unavailable", "Signing device unavailable", 43},
    ErrorInfo{Errc::hsm_key_not_found, "hsm_key_not_found", 404, "invalid_request", "Key not found", 44},
    ErrorInfo{Errc::hsm_mechanism_unsupported, "hsm_mechanism_unsupported", 400, "invalid_request", "Algorithm not supported by the key", 45},
    ErrorInfo{Errc::hsm_session, "hsm_session", 503, "temporarily_unavailable", "Signing device unavailable", 46},
    ErrorInfo{Errc::hsm_device, "hsm_device", 503, "temporarily_unavailable", "Signing device unavailable", 47},
    ErrorInfo{Errc::hsm_general, "hsm_general", 500, "server_error", "Signing device error", 48},
    ErrorInfo{Errc::cert_invalid, "cert_invalid", 400, "invalid_request", "Invalid certificate", 50},
    ErrorInfo{Errc::cert_key_mismatch, "cert_key_mismatch", 400, "invalid_request", "Certificate does not match the key", 51},
    ErrorInfo{Errc::crypto, "crypto", 500, "server_error", "Cryptographic operation failed", 52},
    ErrorInfo{Errc::user_not_found, "user_not_found", 404, "invalid_request", "Unknown user", 60},
    ErrorInfo{Errc::user_disabled, "user_disabled", 403, "access_denied", "User disabled", 61},
    ErrorInfo{Errc::user_locked, "user_locked", 403, "access_denied", "User locked", 62},
    ErrorInfo{Errc::bad_credentials, "bad_credentials", 401, "invalid_grant", "Invalid credentials", 63},
    ErrorInfo{Errc::audit_unavailable, "audit_unavailable", 503, "temporarily_unavailable", "Audit log unavailable; operation refused", 70},
    ErrorInfo{Errc::audit_chain_broken, "audit_chain_broken", 500, "server_error", "Audit chain verification failed", 71},
    ErrorInfo{Errc::invalid_document, "invalid_document", 400, "invalid_request", "Malformed or unsupported document", 80},
    ErrorInfo{Errc::document_too_large, "document_too_large", 413, "invalid_request", "Document too large", 81},
    ErrorInfo{Errc::document_encrypted, "document_encrypted", 400, "invalid_request", "Document is encrypted; a password is required", 82},
    ErrorInfo{Errc::document_locked, "document_locked", 409, "invalid_request", "The document's certification forbids this change", 83},
    ErrorInfo{Errc::invalid_signature_value, "invalid_signature_value", 400, "invalid_request", "Signature value does not match the data to be signed", 84},
    ErrorInfo{Errc::invalid_signing_state, "invalid_signing_state", 400, "invalid_request", "Unknown, expired or corrupt signing state", 85},
    ErrorInfo{Errc::tsa_unavailable, "tsa_unavailable", 502, "temporarily_unavailable", "Time-stamping authority unavailable", 90},
    ErrorInfo{Errc::tsa_response_invalid, "tsa_response_invalid", 502, "server_error", "Time-stamping authority sent an invalid reply", 91},
    ErrorInfo{Errc::revocation_unavailable, "revocation_unavailable", 502, "temporarily_unavailable", "Revocation status unavailable", 92},
    ErrorInfo{Errc::cert_revoked, "cert_revoked", 400, "invalid_request", "Certificate revoked", 93},
    ErrorInfo{Errc::xml_forbidden, "xml_forbidden", 400, "invalid_request", "XML with a DTD or external entities is refused", 94},
};

}  // namespace

const ErrorInfo& error_info(Errc code) noexcept {
  for (const auto& e : kRegistry) {
    if (e.code == code) return e;
  }
  return kRegistry[0];
}

std::optional<Errc> errc_from_name(std::string_view name) noexcept {
  for (const auto& e : kRegistry) {
    if (e.name == name) return e.code;
  }
  return std::nullopt;
}

Error::Error(Errc code, std::string detail, bool detail_is_public)
    : std::runtime_error(std::string(error_info(code).name) + ": " + detail),
      code_(code),
      detail_(std::move(detail)),
      public_(detail_is_public) {}

std::string Error::public_description() const {
  if (public_ && !detail_.empty()) return detail_;
  return std::string(info().public_message);
}

}  // namespace sigil
