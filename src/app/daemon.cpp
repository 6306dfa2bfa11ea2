#include "app/daemon.hpp"

#include <cstdlib>

#include "sigil/admin/service.hpp"
#include "sigil/api/admin.hpp"
#include "sigil/bootstrap/runtime.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/files.hpp"
#include "sigil/common/log.hpp"
#include "sigil/common/secure.hpp"
#include "sigil/hsm/token.hpp"
#include "sigil/http/server.hpp"
#include "sigil/store/store.hpp"

namespace sigil::app {
namespace {

// Callers authenticate with an API key (`Authorization: Bearer sk_...`) or, for people,
// HTTP Basic with username and password. OAuth tokens, OTP and SAD come with the auth module.
std::optional<http::Principal> authenticate(store::Store& store, const Clock& clock, const config::AuthConfig& auth,
                                            const http::Request& req) {
  const auto header = req.header("Authorization");
  if (!header) return std::nullopt;
  std::string_view h = *header;
  std::optional<std::string> user_id;
  if (h.rfind("Bearer ", 0) == 0) {
    user_id = store.api_keys().authenticate(h.substr(7));
  } else if (h.rfind("Basic ", 0) == 0) {
    Bytes raw;
    try {
      raw = base64_decode(h.substr(6));
    } catch (const Error&) {
      return std::nullopt;
    }
    std::string creds(raw.begin(), raw.end());
    secure_wipe(raw.data(), raw.size());
    const auto colon = creds.find(':');
    if (colon != std::string::npos) {
      const std::string username = creds.substr(0, colon);
      const auto result =
          store.users().verify_password(username, std::string_view(creds).substr(colon + 1), clock, auth);
      if (result == store::VerifyResult::ok) {
        if (auto u = store.users().get_by_username(username)) user_id = u->id;
      }
    }
    secure_wipe(creds.data(), creds.size());
  }
  if (!user_id) return std::nullopt;
  const auto user = store.users().get(*user_id);
  if (!user || user->status != store::UserStatus::active) return std::nullopt;
  http::Principal p;
  p.id = user->id;
  p.name = user->username;
  for (const auto r : user->roles) p.roles.emplace_back(store::to_string(r));
  return p;
}

}  // namespace

struct Daemon::Impl {
  config::Config config;
  SystemClock clock;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<hsm::Token> token;
  std::unique_ptr<admin::AdminService> admin;
  http::Metrics metrics;
  http::Router router;
  std::unique_ptr<http::WorkerPool> pool;
  std::unique_ptr<http::Server> server;

  explicit Impl(config::Config c) : config(std::move(c)) {
    files::ensure_dir(config.server.spool_dir, 0700);

    store::StoreOptions so;
    so.max_connections = config.server.worker_threads + 2;
    store = store::open_store(config.store, clock, so);
    log::info("store: {} ready", store->database().backend());

    token = bootstrap::open_token(config.hsm);
    log::info("token '{}' (serial {}) open, {} key(s)", token->label(), token->serial(), token->list_keys().size());

    admin = std::make_unique<admin::AdminService>(*store, *token, clock);
    pool = std::make_unique<http::WorkerPool>(config.server.worker_threads, config.server.worker_queue);
    register_routes();
    http::ServerOptions opts;
    opts.access_log = config.log.access_log;
    server = std::make_unique<http::Server>(
        config.server, router, metrics, *pool,
        [this](const http::Request& req) { return authenticate(*store, clock, config.auth, req); }, opts);
    server->add_readiness_check("store", [this] { store->ping(); });
    server->add_readiness_check("token", [this] { token->check_ready(); });
    metrics.register_gauge("sigil_hsm_sessions_open", "PKCS#11 sessions open",
                           [this] { return static_cast<double>(token->pool_stats().open_sessions); });
    metrics.register_gauge("sigil_hsm_session_retries_total", "PKCS#11 operations retried on a fresh session",
                           [this] { return static_cast<double>(token->pool_stats().retries); });
    metrics.register_gauge("sigil_worker_queue_length", "Jobs waiting for a worker thread",
                           [this] { return static_cast<double>(pool->queued()); });
  }

  void register_routes() {
    api::admin::register_routes(router, *admin, clock, config.pki.dir.string());
    router.add("GET", "/api/v1/whoami", http::AuthRequirement::authenticated(), [](http::Request& req) {
      nlohmann::json roles = nlohmann::json::array();
      for (const auto& r : req.principal->roles) roles.push_back(r);
      return http::Response::json(200, {{"id", req.principal->id}, {"name", req.principal->name}, {"roles", roles}});
    });
  }
};

Daemon::Daemon(config::Config config) : impl_(std::make_unique<Impl>(std::move(config))) {}
Daemon::~Daemon() = default;

void Daemon::start() {
  impl_->server->start();
  const auto& s = impl_->config.server;
  if (!s.port_file.empty()) files::write_atomic(s.port_file, std::to_string(impl_->server->port()) + "\n", 0644);
  log::info("sigild listening on {}://{}:{}", s.tls ? "https" : "http", s.listen_address, impl_->server->port());
}

void Daemon::run() { impl_->server->run(); }

void Daemon::shutdown() { impl_->server->shutdown(impl_->config.server.shutdown_grace); }

}  // namespace sigil::app
