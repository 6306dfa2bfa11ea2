#include "cli/client.hpp"

#include <curl/curl.h>
#include <pwd.h>
#include <unistd.h>

#include <fcntl.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
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
    auth_ = std::make_unique<bootstrap::AuthRuntime>(config_, *store_, clock_, *audit_.log);
    api::admin::register_routes(router_, *service_, clock_, config_.pki.dir.string(), *audit_.log,
                                {[this](const std::string& user_id) { auth_->tokens.revoke_user(user_id); }});
    api::audit_api::register_routes(router_, store_->database(), *audit_.log, audit_.public_key_der);
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

// The remote client's rules: URL and CA from the options or the configuration, the API key from
// --api-key-file or SIGIL_API_KEY, else --user with its password.
struct Endpoint {
  std::string url, cacert, user;
  SecretString password, api_key;
};

Endpoint resolve_endpoint(const GlobalOptions& g, std::string_view no_credentials_hint = "") {
  Endpoint e;
  e.url = g.url;
  e.cacert = g.cacert;
  if (e.url.empty() || e.cacert.empty()) {
    const config::Config c = config::load(g.config);
    if (e.url.empty()) {
      const std::string host = c.server.listen_address == "0.0.0.0" ? "127.0.0.1" : c.server.listen_address;
      std::string port = std::to_string(c.server.port);
      if (c.server.port == 0 && !c.server.port_file.empty() && std::filesystem::exists(c.server.port_file)) {
        port = files::read_trimmed(c.server.port_file);
      }
      e.url = std::string(c.server.tls ? "https" : "http") + "://" + host + ":" + port;
    }
    if (e.cacert.empty() && !c.pki.dir.empty()) e.cacert = (c.pki.dir / "root-ca.pem").string();
  }
  while (!e.url.empty() && e.url.back() == '/') e.url.pop_back();
  e.api_key = env_or_file("SIGIL_API_KEY", g.api_key_file);
  e.user = g.user;
  if (!e.user.empty() && e.api_key.empty()) e.password = env_or_file("SIGIL_PASSWORD", g.password_file);
  if (e.api_key.empty() && e.user.empty()) {
    throw Error(Errc::unauthorized,
                "no credentials: set SIGIL_API_KEY (or --api-key-file), or --user with SIGIL_PASSWORD "
                "(or --password-file)" + std::string(no_credentials_hint),
                true);
  }
  return e;
}

// One request on its own curl handle with the endpoint's URL, CA and credentials (bearer API key,
// else HTTP Basic; both wiped afterwards); `setup` adds the body and the sinks. Returns the status.
template <class Setup>
long perform_request(const Endpoint& endpoint, const std::string& method, const std::string& path,
                     std::vector<std::string> header_lines, long timeout_s, std::string_view unreachable_hint,
                     Setup&& setup) {
  CURL* curl = curl_easy_init();
  if (curl == nullptr) throw Error(Errc::internal, "curl_easy_init failed");
  std::string bearer;
  if (!endpoint.api_key.empty()) bearer = "Authorization: Bearer " + std::string(endpoint.api_key.view());
  curl_slist* headers = nullptr;
  for (const auto& h : header_lines) headers = curl_slist_append(headers, h.c_str());
  if (!bearer.empty()) headers = curl_slist_append(headers, bearer.c_str());
  std::string userpwd;
  if (bearer.empty()) {
    userpwd = endpoint.user + ":" + std::string(endpoint.password.view());
    curl_easy_setopt(curl, CURLOPT_USERPWD, userpwd.c_str());
  }
  const std::string url = endpoint.url + path;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  if (!endpoint.cacert.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, endpoint.cacert.c_str());
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout_s);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 20L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  setup(curl);
  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  secure_wipe(bearer.data(), bearer.size());
  secure_wipe(userpwd.data(), userpwd.size());
  if (rc != CURLE_OK) {
    throw Error(Errc::io, "cannot reach " + endpoint.url + ": " + curl_easy_strerror(rc) + std::string(unreachable_hint),
                true);
  }
  return status;
}

// The admin API over HTTPS, with the same endpoint rules as sigilctl sign's ServiceClient.
class RemoteClient final : public AdminClient {
 public:
  explicit RemoteClient(const GlobalOptions& g)
      : endpoint_(resolve_endpoint(g, "; or use --local on the server host")) {}

  ApiResult call(const std::string& method, const std::string& path, const nlohmann::json& body) override {
    return perform(method, path, body, true);
  }
  ApiResult call_text(const std::string& method, const std::string& path) override {
    return perform(method, path, nullptr, false);
  }

 private:
  ApiResult perform(const std::string& method, const std::string& path, const nlohmann::json& body, bool json) {
    std::string response;
    const std::string payload = body.is_null() ? "" : body.dump();
    std::vector<std::string> headers{"Accept: application/json"};
    if (!body.is_null()) headers.emplace_back("Content-Type: application/json");
    const long status = perform_request(endpoint_, method, kPrefix + path, headers, 120L,
                                        " (is sigild running? or use --local on the server host)", [&](CURL* curl) {
                                          if (!body.is_null()) {
                                            curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload.c_str());
                                            curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE,
                                                             static_cast<long>(payload.size()));
                                          }
                                          curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
                                          curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
                                        });
    return finish(static_cast<int>(status), response, json);
  }

  Endpoint endpoint_;
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

// ---- ServiceClient: any sigild route, raw or JSON bodies (sigilctl sign) ----

namespace {

// curl callbacks: noexcept, nothing unwinds through libcurl (returning less than given aborts).
std::size_t write_file(char* data, std::size_t size, std::size_t n, void* out) noexcept {
  return std::fwrite(data, size, n, static_cast<std::FILE*>(out)) * size;
}

std::size_t read_file(char* buffer, std::size_t size, std::size_t n, void* in) noexcept {
  return std::fread(buffer, size, n, static_cast<std::FILE*>(in)) * size;
}

std::size_t collect_header(char* data, std::size_t size, std::size_t n, void* out) noexcept {
  try {
    std::string line(data, size * n);
    const auto colon = line.find(':');
    if (colon == std::string::npos) return size * n;
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string value = line.substr(colon + 1);
    const auto first = value.find_first_not_of(" \t");
    const auto last = value.find_last_not_of(" \t\r\n");
    value = first == std::string::npos ? "" : value.substr(first, last - first + 1);
    auto* headers = static_cast<std::vector<std::pair<std::string, std::string>>*>(out);
    headers->emplace_back(std::move(name), std::move(value));
    return size * n;
  } catch (...) {
    return 0;
  }
}

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f != nullptr) std::fclose(f);
  }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

}  // namespace

struct ServiceClient::Impl {
  Endpoint endpoint;

  template <class Setup>
  long perform(const std::string& method, const std::string& path, std::vector<std::string> header_lines,
               Setup&& setup) {
    return perform_request(endpoint, method, path, std::move(header_lines), 600L, " (is sigild running?)",
                           std::forward<Setup>(setup));
  }
};

ServiceClient::ServiceClient(const GlobalOptions& g) : impl_(std::make_unique<Impl>()) {
  impl_->endpoint = resolve_endpoint(g);
}
ServiceClient::~ServiceClient() = default;

nlohmann::json ServiceClient::call_json(const std::string& method, const std::string& path,
                                        const nlohmann::json& body) {
  std::string response;
  const std::string payload = body.is_null() ? "" : body.dump();
  std::vector<std::string> headers{"Accept: application/json"};
  if (!body.is_null()) headers.emplace_back("Content-Type: application/json");
  const long status = impl_->perform(method, path, headers, [&](CURL* curl) {
    if (!body.is_null()) {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload.c_str());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(payload.size()));
    }
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
  });
  return finish(static_cast<int>(status), response).body;
}

ServiceClient::Upload ServiceClient::upload(const std::string& path, const std::filesystem::path& in,
                                            const std::string& content_type, const std::filesystem::path& out,
                                            std::vector<std::string> extra_headers) {
  struct WipeHeaders {
    std::vector<std::string>& h;
    ~WipeHeaders() {
      for (auto& s : h) secure_wipe(s.data(), s.size());
    }
  } wipe{extra_headers};
  File input(std::fopen(in.c_str(), "rb"));
  if (!input) throw Error(Errc::io, "cannot read " + in.string(), true);
  const auto size = std::filesystem::file_size(in);
  const int fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(Errc::io, "cannot create " + out.string(), true);
  File output(::fdopen(fd, "wb"));
  if (!output) {
    ::close(fd);
    throw Error(Errc::io, "cannot create " + out.string(), true);
  }
  Upload result;
  std::vector<std::string> headers{"Content-Type: " + content_type, "Expect:"};
  headers.insert(headers.end(), extra_headers.begin(), extra_headers.end());
  const long status = impl_->perform("POST", path, std::move(headers), [&](CURL* curl) {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_file);
    curl_easy_setopt(curl, CURLOPT_READDATA, input.get());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(size));
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_file);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, output.get());
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &result.headers);
  });
  const bool flushed = std::fflush(output.get()) == 0 && ::fsync(::fileno(output.get())) == 0;
  output.reset();
  if (status < 200 || status >= 300) {
    // The answer is a JSON error body (small): its code and error_description become the Error.
    finish(static_cast<int>(status), files::read(out));
  }
  if (!flushed) throw Error(Errc::io, "cannot write " + out.string(), true);
  return result;
}

const std::string& ServiceClient::base_url() const { return impl_->endpoint.url; }
const std::string& ServiceClient::cacert() const { return impl_->endpoint.cacert; }
const std::string& ServiceClient::basic_user() const {
  static const std::string none;
  return impl_->endpoint.api_key.empty() ? impl_->endpoint.user : none;
}
SecretString ServiceClient::api_key() const { return SecretString(std::string(impl_->endpoint.api_key.view())); }
SecretString ServiceClient::basic_password() const {
  return SecretString(impl_->endpoint.api_key.empty() ? std::string(impl_->endpoint.password.view()) : std::string());
}

}  // namespace sigil::cli
