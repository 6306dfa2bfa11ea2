// Transport-neutral HTTP request and response: what handlers, the router and tests see.
// No Beast/Asio types here; the server (src/http/convert.cpp) translates to and from the wire.
#pragma once

#include <any>
#include <cstddef>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sigil/common/error.hpp"

namespace sigil::http {

// A TLS client certificate that the server verified against `client_ca_file`.
struct ClientCertInfo {
  std::string subject;             // RFC 2253 DN, e.g. "CN=alice,O=Example"
  std::string issuer;              // RFC 2253 DN
  std::string serial_hex;          // upper-case hex, as OpenSSL prints it
  std::string sha256_fingerprint;  // lower-case hex of SHA-256 over the DER certificate
  std::string pem;
};

// Who the Authenticator says the caller is. `context` carries anything else the authenticator
// wants handlers to see (scopes, credential ids) without http knowing its type.
struct Principal {
  std::string id;
  std::string name;
  std::vector<std::string> roles;
  std::any context;

  bool has_role(std::string_view role) const;
};

struct Request {
  std::string method;                                        // "GET", "POST", ... (upper case as sent)
  std::string target;                                        // raw request target: path + "?" + query
  std::string path;                                          // raw (still percent-encoded) path, no query
  std::multimap<std::string, std::string> query;             // percent-decoded, '+' as space
  std::vector<std::pair<std::string, std::string>> headers;  // in wire order
  std::string body;                                          // in-memory body (empty when spooled)
  std::filesystem::path body_file;                           // set when the body was spooled to disk
  std::size_t body_size = 0;                                 // body length, in memory or on disk
  std::map<std::string, std::string> path_params;            // percent-decoded
  std::string request_id;
  std::string remote_address;
  std::optional<ClientCertInfo> client_cert;  // set when a verified client cert was presented
  std::string route;                          // pattern of the matched route (metrics label)
  std::optional<Principal> principal;         // set by dispatch on authenticated routes
  unsigned max_json_depth = 64;               // the server copies config.max_json_depth here

  // Case-insensitive header lookup; the first occurrence wins.
  std::optional<std::string_view> header(std::string_view name) const;
  // First value of a query parameter.
  std::optional<std::string_view> query_param(std::string_view name) const;
  // Sets target, path and query from a raw request target ("/a/b?x=1").
  // Throws Error(bad_request) unless it is origin-form ("/...") with valid percent-encoding.
  void set_target(std::string raw_target);
  // parse_json_bounded(body, max_json_depth). A spooled body throws Error(payload_too_large):
  // JSON bodies are expected to fit in memory_body_bytes.
  nlohmann::json json_body() const;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string content_type = "application/json";
  // When set, the body is this file, streamed from disk (large signed documents) instead of
  // `body`; with remove_body_file it is deleted once sent or abandoned.
  std::filesystem::path body_file;
  bool remove_body_file = false;

  // Serialises with invalid UTF-8 replaced (dump would otherwise throw mid-response).
  static Response json(int status, const nlohmann::json& body);
  static Response text(int status, std::string body, std::string content_type = "text/plain; charset=utf-8");
  // The file `path` as the body (see body_file); `remove_after`: the response owns the file.
  static Response file(int status, std::filesystem::path path, std::string content_type, bool remove_after);
  // The one error model: {"error": <oauth_error>, "error_description": <public_description()>}
  // with the registry's http_status. The internal detail is never copied into the body.
  static Response error(const sigil::Error& error);
  static Response error(Errc code);

  std::optional<std::string_view> header(std::string_view name) const;
  void set_header(std::string name, std::string value);  // replaces an existing one
};

// Percent-decodes; nullopt on a malformed escape. `plus_as_space` for query strings.
std::optional<std::string> percent_decode(std::string_view text, bool plus_as_space);

}  // namespace sigil::http
