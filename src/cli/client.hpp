// How sigilctl reaches the admin API: over HTTPS (default) or in-process with --local, through
// the very same routes, so both modes accept the same input and print the same output.
#pragma once

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "sigil/common/secure.hpp"

namespace sigil::cli {

struct ApiResult {
  int status = 0;
  nlohmann::json body;  // null for 204
  std::string text;     // the raw body (for non-JSON answers such as the audit export)
};

class AdminClient {
 public:
  virtual ~AdminClient() = default;
  // `path` is relative to /api/admin/v1 (e.g. "/keys"). Throws Error for a non-2xx answer, with
  // the Errc named by the answer's `code` and its error_description as the (public) detail.
  virtual ApiResult call(const std::string& method, const std::string& path,
                         const nlohmann::json& body = nullptr) = 0;
  // As call(), for an answer that is not JSON: `body` stays null, `text` holds it.
  virtual ApiResult call_text(const std::string& method, const std::string& path) = 0;
};

// --local: opens the configured store, token and audit log directly (bootstrap, recovery, scripts
// on the host). Changes are audited like remote ones, by principal "local:<OS user>".
std::unique_ptr<AdminClient> make_local_client(const GlobalOptions& g);
// Default: HTTPS to sigild (URL, CA and credentials from options, the config file and environment).
std::unique_ptr<AdminClient> make_remote_client(const GlobalOptions& g);
inline std::unique_ptr<AdminClient> make_client(const GlobalOptions& g) {
  return g.local ? make_local_client(g) : make_remote_client(g);
}

// Any sigild route (not only the admin API) over HTTPS, with the remote client's URL, CA and
// credentials; for the signing commands. Thread-safe: every call uses its own connection.
class ServiceClient {
 public:
  explicit ServiceClient(const GlobalOptions& g);
  ~ServiceClient();
  ServiceClient(const ServiceClient&) = delete;
  ServiceClient& operator=(const ServiceClient&) = delete;

  // JSON in (null: no body) and out; a non-2xx answer throws Error like AdminClient::call.
  nlohmann::json call_json(const std::string& method, const std::string& path, const nlohmann::json& body = nullptr);

  struct Upload {
    std::vector<std::pair<std::string, std::string>> headers;  // response headers, names lower-case
  };
  // POSTs the file `in` as the raw body (streamed) and streams a 2xx answer into `out` (created
  // 0644 less the umask, truncated); a non-2xx answer throws Error (code and error_description from the answer)
  // and leaves whatever `out` holds to the caller to remove.
  // `extra_headers` ("Name: value") are wiped after the request (they may carry a document password).
  Upload upload(const std::string& path, const std::filesystem::path& in, const std::string& content_type,
                const std::filesystem::path& out, std::vector<std::string> extra_headers = {});

  const std::string& base_url() const;
  const std::string& cacert() const;
  // The HTTP Basic user (empty when an API key is used) and a copy of its password (TSA client).
  const std::string& basic_user() const;
  SecretString basic_password() const;
  SecretString api_key() const;  // the bearer API key, empty when Basic is used

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Percent-encodes one path segment.
std::string path_segment(const std::string& s);

}  // namespace sigil::cli
