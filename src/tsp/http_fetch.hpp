// A small, bounded HTTP client over libcurl for the network sources of signatures (RFC 3161 TSAs,
// OCSP responders, CRL distribution points). Internal header (src/): no libcurl type leaks out.
//
// One call = one exchange on a fresh easy handle: no redirects, http/https only, no proxy unless one
// is given, a total timeout, and a hard limit on the reply body (the transfer is aborted as soon as
// it is exceeded). Safe to call from many threads at once.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "sigil/common/secure.hpp"

namespace sigil::net {

struct HttpRequest {
  std::string url;    // http:// or https://; no user:password@ part
  bool post = false;  // POST `body` with `content_type`, else GET
  Bytes body;
  std::string content_type;                   // request Content-Type (POST)
  std::string accept;                         // Accept header, if any
  std::vector<std::string> headers;           // further "Name: value" lines (no CR/LF: Error(invalid_argument))
  std::chrono::milliseconds timeout{10'000};  // connect + send + receive, whole exchange
  std::size_t max_reply_bytes = 1u << 20;
  std::string username;  // HTTP Basic authentication when not empty
  const SecretString* password = nullptr;
  const SecretString* bearer = nullptr;  // "Authorization: Bearer <token>" when set (and no username)
  std::optional<std::string> proxy;  // e.g. "http://proxy:3128"; unset: never a proxy (not even *_proxy env)
  std::string ca_file;               // https: trust anchors (PEM); empty: the system store
};

struct HttpReply {
  long status = 0;
  std::string content_type;  // lower-cased media type without parameters ("application/ocsp-response")
  Bytes body;
};

// Performs the exchange. Throws Error(Errc::io, detail) on a connection error, a timeout or a reply
// above the limit (detail names the URL and the cause, never credentials). Any HTTP status is
// returned, not thrown: the caller decides.
HttpReply http_exchange(const HttpRequest& request);

// True when `url` is http(s):// without credentials in it (user:password@ belongs in config fields).
bool acceptable_url(const std::string& url);

}  // namespace sigil::net
