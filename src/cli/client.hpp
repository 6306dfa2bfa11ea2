// How sigilctl reaches the admin API: over HTTPS (default) or in-process with --local, through
// the very same routes, so both modes accept the same input and print the same output.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/command.hpp"

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

// Percent-encodes one path segment.
std::string path_segment(const std::string& s);

}  // namespace sigil::cli
