#include "cli/client.hpp"

#include <curl/curl.h>
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "sigil/admin/service.hpp"
#include "sigil/api/admin.hpp"
#include "sigil/api/audit.hpp"
#include "sigil/api/oauth.hpp"
#include "sigil/bootstrap/auth_runtime.hpp"
#include "sigil/bootstrap/runtime.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/files.hpp"
#include "sigil/common/secure.hpp"
#include "sigil/config/config.hpp"
#include "sigil/hsm/token.hpp"
#include "sigil/http/router.hpp"
#include "sigil/store/store.hpp"

namespace sigil::cli {
namespace {

constexpr const char* kPrefix = "/api/admin/v1";

// A non-2xx answer becomes the Error its `code` names, so sigilctl exits with the registry's code.
[[noreturn]] void throw_answer(int status, const nlohmann::json& body) {
  Errc code = Errc::internal;
  if (body.is_object() && body.contains("code") && body["code"].is_string()) {
    code = errc_from_name(body["code"].get<std::string>()).value_or(Errc::internal);
  } else if (status == 401) {
    code = Errc::unauthorized;
  } else if (status == 403) {
    code = Errc::forbidden;
  } else if (status == 404) {
    code = Errc::not_found;
  } else if (status >= 400 && status < 500) {
    code = Errc::bad_request;
  }
  std::string message = "HTTP " + std::to_string(status);
  if (body.is_object() && body.contains("error_description")) message = body["error_description"].get<std::string>();
  throw Error(code, message, true);
}

ApiResult finish(int status, const std::string& text, bool json = true) {
  ApiResult r;
  r.status = status;
  r.text = text;
  if (!json && status >= 200 && status < 300) return r;
  if (!text.empty()) {
    r.body = nlohmann::json::parse(text, nullptr, false);
    if (r.body.is_discarded()) r.body = nlohmann::json{{"error_description", text}};
  }
  if (status < 200 || status >= 300) throw_answer(status, r.body);
  return r;
}

class LocalClient final : public AdminClient {
 public:
  explicit LocalClient(const GlobalOptions& g) : config_(config::load(g.config)) {
    store_ = store::open_store(config_.store, clock_);
    token_ = bootstrap::open_token(config_.hsm, 2);
    audit_ = bootstrap::open_audit(config_.audit, store_->database(), *token_, clock_);
    service_ = std::make_unique<admin::AdminService>(*store_, *token_, clock_);
    service_->protect_key(config_.audit.key_label, "the audit log's checkpoint key");
    api::admin::register_routes(router_, *service_, clock_, config_.pki.dir.string(), *audit_.log);
    api::audit_api::register_routes(router_, store_->database(), *audit_.log, audit_.public_key_der);
    auth_ = std::make_unique<bootstrap::AuthRuntime>(config_, *store_, clock_, *audit_.log);
    api::admin::register_second_factor_routes(router_, *service_, clock_, *audit_.log,
                                              {auth_->enrolments.get(), &auth_->authorization, config_.otp.issuer});
    api::oauth::register_admin_routes(router_, auth_->clients, store_->users(), *audit_.log);
  }

  ApiResult call(const std::string& method, const std::string& path, const nlohmann::json& body) override {
    const http::Response resp = dispatch(method, path, body);
    return finish(resp.status, resp.body);
  }

  ApiResult call_text(const std::string& method, const std::string& path) override {
    const http::Response resp = dispatch(method, path, nullptr);
    return finish(resp.status, resp.body, false);
  }

 private:
  http::Response dispatch(const std::string& method, const std::string& path, const nlohmann::json& body) {
    http::Request req;
    req.method = method;
    req.set_target(kPrefix + path);
    if (!body.is_null()) {
      req.body = body.dump();
      req.body_size = req.body.size();
      req.headers.emplace_back("Content-Type", "application/json");
    }
    req.request_id = "sigilctl-local-" + random_token(6);
    req.remote_address = "local";
    // Whoever can read the config, the PIN file and the database is administrator and auditor
    // here; the audit trail names the operating-system user.
    const auto auth = [](const http::Request&) {
      http::Principal p;
      p.id = "local";
      p.name = "local:" + os_user();
      p.roles = {"admin", "auditor"};
      return std::optional<http::Principal>(p);
    };
    return router_.dispatch(req, auth);
  }

  static std::string os_user() {
    if (const passwd* pw = ::getpwuid(::geteuid()); pw != nullptr && pw->pw_name != nullptr) return pw->pw_name;
    return "uid" + std::to_string(::geteuid());
  }

  config::Config config_;
  SystemClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<hsm::Token> token_;
  bootstrap::AuditRuntime audit_;  // closed (final checkpoint) before the token and store go
  std::unique_ptr<admin::AdminService> service_;
  std::unique_ptr<bootstrap::AuthRuntime> auth_;  // OTP enrolments, PINs, second-factor locks
  http::Router router_;
};

std::size_t collect(char* data, std::size_t size, std::size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// A credential from a file (config::SecretRef rules: first line, buffers wiped) or, when no file
// is given, from the environment; empty when neither is set.
SecretString env_or_file(const char* env, const std::string& file) {
  if (!file.empty()) return config::SecretRef{file, {}}.resolve();
  const char* v = std::getenv(env);
  return SecretString(v != nullptr ? v : "");
}

class RemoteClient final : public AdminClient {
 public:
  explicit RemoteClient(const GlobalOptions& g) {
    url_ = g.url;
    cacert_ = g.cacert;
    if (url_.empty() || cacert_.empty()) {
      const config::Config c = config::load(g.config);
      if (url_.empty()) {
        const std::string host = c.server.listen_address == "0.0.0.0" ? "127.0.0.1" : c.server.listen_address;
        std::string port = std::to_string(c.server.port);
        // An ephemeral port (0) is only known from the port file sigild writes after binding.
        if (c.server.port == 0 && !c.server.port_file.empty() && std::filesystem::exists(c.server.port_file)) {
          port = files::read_trimmed(c.server.port_file);
        }
        url_ = std::string(c.server.tls ? "https" : "http") + "://" + host + ":" + port;
      }
      if (cacert_.empty() && !c.pki.dir.empty()) cacert_ = (c.pki.dir / "root-ca.pem").string();
    }
    api_key_ = env_or_file("SIGIL_API_KEY", g.api_key_file);
    user_ = g.user;
    if (!user_.empty()) password_ = env_or_file("SIGIL_PASSWORD", g.password_file);
    if (api_key_.empty() && user_.empty()) {
      throw Error(Errc::unauthorized,
                  "no credentials: set SIGIL_API_KEY (or --api-key-file), or --user with SIGIL_PASSWORD "
                  "(or --password-file); or use --local on the server host",
                  true);
    }
  }

  ApiResult call(const std::string& method, const std::string& path, const nlohmann::json& body) override {
    return perform(method, path, body, true);
  }
  ApiResult call_text(const std::string& method, const std::string& path) override {
    return perform(method, path, nullptr, false);
  }

 private:
  ApiResult perform(const std::string& method, const std::string& path, const nlohmann::json& body, bool json) {
    CURL* curl = curl_easy_init();
    if (curl == nullptr) throw Error(Errc::internal, "curl_easy_init failed");
    std::string response;
    std::string payload = body.is_null() ? "" : body.dump();
    curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json");
    if (!body.is_null()) headers = curl_slist_append(headers, "Content-Type: application/json");
    std::string bearer;
    if (!api_key_.empty()) {
      bearer = "Authorization: Bearer " + std::string(api_key_.view());
      headers = curl_slist_append(headers, bearer.c_str());
    }
    const std::string url = url_ + kPrefix + path;
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    if (!body.is_null()) {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload.c_str());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(payload.size()));
    }
    std::string userpwd;
    if (api_key_.empty()) {
      userpwd = user_ + ":" + std::string(password_.view());
      curl_easy_setopt(curl, CURLOPT_USERPWD, userpwd.c_str());
    }
    if (!cacert_.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, cacert_.c_str());
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 120L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    const CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    secure_wipe(bearer.data(), bearer.size());
    secure_wipe(userpwd.data(), userpwd.size());
    if (rc != CURLE_OK) {
      throw Error(Errc::io, "cannot reach " + url_ + ": " + curl_easy_strerror(rc) +
                                " (is sigild running? or use --local on the server host)", true);
    }
    return finish(static_cast<int>(status), response, json);
  }

  std::string url_;
  std::string cacert_;
  std::string user_;
  SecretString password_;
  SecretString api_key_;
};

}  // namespace

std::unique_ptr<AdminClient> make_local_client(const GlobalOptions& g) { return std::make_unique<LocalClient>(g); }
std::unique_ptr<AdminClient> make_remote_client(const GlobalOptions& g) { return std::make_unique<RemoteClient>(g); }

std::string path_segment(const std::string& s) {
  std::string out;
  for (const unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace sigil::cli
