#include "app/daemon.hpp"

#include <unistd.h>

#include <condition_variable>
#include <functional>
#include <cstdlib>
#include <map>
#include <mutex>
#include <stop_token>
#include <thread>

#include "sigil/bootstrap/auth_runtime.hpp"

#include "ossl/digest.hpp"
#include "sigil/admin/service.hpp"
#include "sigil/api/admin.hpp"
#include "sigil/api/audit.hpp"
#include "sigil/api/batch.hpp"
#include "sigil/api/signservice.hpp"
#include "sigil/api/csc.hpp"
#include "sigil/api/dss.hpp"
#include "sigil/api/oauth.hpp"
#include "sigil/api/tsa.hpp"
#include "sigil/audit/events.hpp"
#include "sigil/bootstrap/runtime.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/files.hpp"
#include "sigil/common/log.hpp"
#include "sigil/common/secure.hpp"
#include "sigil/hsm/token.hpp"
#include "sigil/http/server.hpp"
#include "ossl/x509.hpp"
#include "sigil/revocation/collector.hpp"
#include "sigil/signing/profiles.hpp"
#include "sigil/signing/service.hpp"
#include "sigil/store/store.hpp"
#include "sigil/tsa/tsa.hpp"
#include "sigil/tsp/client.hpp"
#include "tsp/webhook.hpp"

namespace sigil::app {
namespace {

using WebhookPost = std::function<void(const std::string& url, const std::string& body)>;

// Text from a request header that goes into the audit trail: printable ASCII only (the trail is
// UTF-8 JSON and a client controls these bytes), bounded.
std::string printable(std::string_view s, std::size_t max = 64) {
  std::string out;
  for (const char c : s.substr(0, max)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

// "sk_<prefix>_<secret>": the public prefix identifies the key without revealing it.
std::string api_key_prefix(std::string_view key) {
  if (key.rfind("sk_", 0) != 0 || key.size() < 11) return "malformed";
  return printable(key.substr(3, 8));
}

// Callers authenticate with an API key (`Authorization: Bearer sk_...`), an access token from
// CSC auth/login or the OAuth token endpoint (`Bearer at_...`, scope "service" only: a
// credential-scope token is a SAD and only signs through the CSC API), HTTP Basic with username
// and password (people), or, with [auth] client_cert_users, a verified TLS client certificate whose
// subject CN is the name of a service user.
// Every outcome is audited (never the secret): auth.success, auth.failure with the reason, and
// auth.lockout when this failure locked the account. The record is durable before the request
// goes on; if it cannot be written the request fails with 503 audit_unavailable.
std::optional<http::Principal> authenticate(store::Store& store, audit::Sink& audit, const Clock& clock,
                                            const config::AuthConfig& auth, auth::TokenService& tokens,
                                            const http::Request& req) {
  audit::Actor actor{"", "", req.remote_address, req.request_id};
  const auto failure = [&](std::string_view method, std::string_view why, std::map<std::string, std::string> more = {}) {
    audit::Event e = audit::make_event(audit::type::auth_failure, actor, false);
    e.details["method"] = std::string(method);
    e.details["reason"] = std::string(why);
    e.details.merge(more);
    audit.append(std::move(e));
    return std::optional<http::Principal>();
  };
  const auto header = req.header("Authorization");
  std::optional<std::string> user_id;
  std::string method;
  std::map<std::string, std::string> facts;  // what identifies the attempt (key prefix, username)
  if (!header) {
    if (!auth.client_cert_users || !req.client_cert) return failure("none", "no_credentials");
    method = "client_certificate";
    facts["certificate_sha256"] = req.client_cert->sha256_fingerprint;
    std::optional<store::User> user;
    try {
      const std::string cn = ossl::common_name(ossl::read_certificate(req.client_cert->pem));
      if (!cn.empty()) user = store.users().get_by_username(store::normalize_username(cn));
    } catch (const Error&) {
      user.reset();  // a CN that cannot be a username names nobody
    }
    if (!user) return failure(method, "unknown_user", facts);
    if (!user->has_role(store::Role::service)) return failure(method, "not_a_service_user", facts);
    user_id = user->id;
  } else if (const std::string_view h = *header; h.rfind("Bearer at_", 0) == 0) {
    method = "access_token";
    try {
      const auth::TokenInfo info = tokens.authenticate(h.substr(7));
      facts["token_id"] = info.id;
      if (info.client_id) facts["client_id"] = *info.client_id;
      if (info.scope != "service") return failure(method, "credential_scope_token", facts);
      user_id = info.user_id;
    } catch (const auth::AuthError& e) {
      return failure(method, auth::to_string(e.failure()), facts);
    }
  } else if (h.rfind("Bearer ", 0) == 0) {
    method = "api_key";
    facts["key_prefix"] = api_key_prefix(h.substr(7));
    user_id = store.api_keys().authenticate(h.substr(7));
    if (!user_id) return failure(method, "bad_credentials", facts);
  } else if (h.rfind("Basic ", 0) == 0) {
    method = "password";
    Bytes raw;
    try {
      raw = base64_decode(h.substr(6));
    } catch (const Error&) {
      return failure(method, "malformed");
    }
    std::string creds(raw.begin(), raw.end());
    secure_wipe(raw.data(), raw.size());
    const auto colon = creds.find(':');
    if (colon == std::string::npos) {
      secure_wipe(creds.data(), creds.size());
      return failure(method, "malformed");
    }
    const std::string username = creds.substr(0, colon);
    actor.name = printable(username);
    const auto result = store.users().verify_password(username, std::string_view(creds).substr(colon + 1), clock, auth);
    secure_wipe(creds.data(), creds.size());
    if (result != store::VerifyResult::ok) {
      audit::record_password_failure(audit, actor, store.users(), clock, username, result, auth.max_failed_logins,
                                     {{"method", method}});
      return std::nullopt;
    }
    if (auto u = store.users().get_by_username(username)) user_id = u->id;
  } else {
    return failure("unknown", "unsupported_scheme");
  }
  const auto user = user_id ? store.users().get(*user_id) : std::nullopt;
  if (!user || user->status != store::UserStatus::active) return failure(method, "disabled", facts);
  http::Principal p;
  p.id = user->id;
  p.name = user->username;
  for (const auto r : user->roles) p.roles.emplace_back(store::to_string(r));
  actor.id = p.id;
  actor.name = p.name;
  audit::Event e = audit::make_event(audit::type::auth_success, actor, true);
  e.details["method"] = method;
  e.details.merge(facts);
  audit.append(std::move(e));
  return p;
}

// config.loaded: where the configuration came from and what matters for the trail; no secrets
// (secret references are not even named).
audit::Event config_loaded(const config::Config& c) {
  audit::Event e = audit::system_event(audit::type::config_loaded);
  e.details["source"] = c.source.string();
  try {
    e.details["source_sha256"] = hex_encode(ossl::digest(HashAlg::sha256, files::read(c.source)));
  } catch (const std::exception&) {
    e.details["source_sha256"] = "unreadable";
  }
  e.details["listen_address"] = c.server.listen_address;
  e.details["port"] = std::to_string(c.server.port);
  e.details["tls"] = c.server.tls ? "true" : "false";
  e.details["store_backend"] = c.store.backend;
  e.details["hsm_module"] = c.hsm.module.string();
  e.details["token_label"] = c.hsm.token_label;
  if (!c.hsm.token_serial.empty()) e.details["token_serial"] = c.hsm.token_serial;
  e.details["audit_key_label"] = c.audit.key_label;
  e.details["max_failed_logins"] = std::to_string(c.auth.max_failed_logins);
  return e;
}


pades::Appearance to_appearance(const config::AppearanceConfig& c) {
  pades::Appearance a;
  a.page = c.page;
  a.x = c.x;
  a.y = c.y;
  a.width = c.width;
  a.height = c.height;
  a.y_from_top = c.from_top;
  a.lines = c.lines;
  a.show_name = c.show_name;
  a.show_date = c.show_date;
  a.show_reason = c.show_reason;
  a.show_location = c.show_location;
  a.free_text = c.text;
  a.font_size = c.font_size;
  if (!c.image.empty()) a.image = c.image;
  if (!c.font.empty()) a.font = c.font;
  return a;
}

// [[appearances]] -> named visible-signature templates.
signing::AppearanceTemplates build_appearances(const std::vector<config::AppearanceConfig>& configs) {
  signing::AppearanceTemplates out;
  for (const auto& c : configs) out.emplace(c.name, to_appearance(c));
  return out;
}

// [[profiles]] -> the signing core's profiles (names and values were validated by the loader).
std::vector<signing::Profile> build_profiles(const std::vector<config::ProfileConfig>& configs,
                                             const signing::AppearanceTemplates& appearances) {
  std::vector<signing::Profile> out;
  for (const auto& c : configs) {
    signing::Profile p;
    p.name = c.name;
    p.credential_id = c.credential;
    auto& r = p.request;
    r.format = c.format == "xades" ? signing::Format::xades
               : c.format == "cades" ? signing::Format::cades
                                     : signing::Format::pades;
    if (!c.xades_profile.empty()) {
      const auto xp = xades::profile_by_name(c.xades_profile);
      r.xades.apply(xp);
      r.packaging = xp.packaging == xades::Packaging::enveloped    ? signing::Packaging::enveloped
                    : xp.packaging == xades::Packaging::enveloping ? signing::Packaging::enveloping
                                                                   : signing::Packaging::detached;
    } else {
      r.packaging = r.format == signing::Format::cades ? signing::Packaging::detached : signing::Packaging::enveloped;
    }
    if (!c.packaging.empty()) r.packaging = signing::parse_packaging(c.packaging);
    r.level = parse_level(c.level);
    r.digest_alg = parse_hash(c.digest);
    r.pades.reason = c.reason;
    r.pades.location = c.location;
    r.pades.contact_info = c.contact_info;
    r.pades.certification = static_cast<int>(c.certification);
    if (c.visible) {
      // The inline stamp keys of a profile are an unnamed template.
      config::AppearanceConfig inline_stamp;
      inline_stamp.page = c.page;
      inline_stamp.x = c.x;
      inline_stamp.y = c.y;
      inline_stamp.width = c.width;
      inline_stamp.height = c.height;
      inline_stamp.text = c.text;
      inline_stamp.font = c.font;
      r.pades.appearance = to_appearance(inline_stamp);
    }
    if (!c.appearance.empty()) signing::apply_appearance(r, appearances, c.appearance);
    out.push_back(std::move(p));
  }
  return out;
}

SignerCerts read_tsa_certs(const config::Config& config) {
  const auto pki = config.pki.dir;
  auto cert_file = config.tsa.builtin_certificate_file;
  if (cert_file.empty() && !pki.empty()) cert_file = pki / "tsa.pem";
  if (cert_file.empty()) {
    throw Error(Errc::config_invalid, "tsa.builtin is enabled but neither tsa.builtin.certificate_file nor pki.dir is set",
                true);
  }
  SignerCerts certs;
  certs.leaf = ossl::read_certificate(files::read(cert_file));
  if (!config.tsa.builtin_chain_file.empty()) {
    certs.issuers = ossl::pem_to_der_chain(files::read(config.tsa.builtin_chain_file));
  } else if (!pki.empty()) {
    for (const char* f : {"issuing-ca.pem", "root-ca.pem"}) {
      if (std::filesystem::exists(pki / f)) certs.issuers.push_back(ossl::read_certificate(files::read(pki / f)));
    }
  }
  return certs;
}

// Posts a notification (batch completion, Sign Service events) with libcurl, signed with the
// section's webhook_secret when set (resolved once, at start); a non-2xx answer throws.
WebhookPost webhook_sender(const config::WebhookConfig& c) {
  net::WebhookTarget target;
  target.timeout = c.timeout;
  target.ca_file = c.ca_file.string();
  if (!c.secret.empty()) target.secret = std::make_shared<const SecretString>(c.secret.resolve());
  return [target = std::move(target)](const std::string& url, const std::string& body) {
    net::post_webhook(target, url, body);
  };
}

}  // namespace

struct Daemon::Impl {
  config::Config config;
  SystemClock clock;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<hsm::Token> token;
  bootstrap::AuditRuntime audit;  // after store and token: the log is closed before they go
  std::unique_ptr<admin::AdminService> admin;
  // Signing: time-stamp and revocation sources, then the service every API family calls.
  std::unique_ptr<KeySigner> tsa_key;
  std::unique_ptr<tsa::TimeStampAuthority> builtin_tsa;
  std::unique_ptr<tsp::Client> tsa_client;
  std::unique_ptr<revocation::OcspClient> ocsp;
  std::unique_ptr<revocation::CrlCache> crls;
  std::unique_ptr<revocation::Collector> collector;
  std::unique_ptr<signing::SigningService> signing;
  std::unique_ptr<batch::BatchService> batches;  // after `signing`: its workers stop first
  Timestamper* timestamper = nullptr;  // the built-in TSA or the external TSA client
  std::unique_ptr<bootstrap::AuthRuntime> auth;   // tokens, OTP, credential authorisation (after audit)
  std::unique_ptr<signservice::SignService> documents;  // after `auth` and `signing`: it goes first
  http::Metrics metrics;
  http::Router router;
  std::unique_ptr<http::WorkerPool> pool;
  std::unique_ptr<http::Server> server;
  // Deletes expired tokens, SADs, transactions and one-time codes every few minutes.
  std::mutex purge_mutex;
  std::condition_variable_any purge_wake;
  std::jthread purger;

  explicit Impl(config::Config c) : config(std::move(c)) {
    files::ensure_dir(config.server.spool_dir, 0700);

    store::StoreOptions so;
    // + readiness, + the audit writer, + the batch workers
    so.max_connections = config.server.worker_threads + config.batch.workers + 3;
    store = store::open_store(config.store, clock, so);
    log::info("store: {} ready", store->database().backend());

    token = bootstrap::open_token(config.hsm);
    log::info("token '{}' (serial {}) open, {} key(s)", token->label(), token->serial(), token->list_keys().size());

    // Fail closed from the start: no audit log, no daemon.
    audit = bootstrap::open_audit(config.audit, store->database(), *token, clock);
    log::info("audit log open at seq {} (checkpoint key '{}')", audit.log->head().seq, config.audit.key_label);
    audit.log->append(config_loaded(config));

    admin = std::make_unique<admin::AdminService>(*store, *token, clock);
    admin->protect_key(config.audit.key_label, "the audit log's checkpoint key");
    auth = std::make_unique<bootstrap::AuthRuntime>(config, *store, clock, *audit.log);
    build_signing();
    build_signservice();
    pool = std::make_unique<http::WorkerPool>(config.server.worker_threads, config.server.worker_queue);
    register_routes();
    http::ServerOptions opts;
    opts.access_log = config.log.access_log;
    server = std::make_unique<http::Server>(
        config.server, router, metrics, *pool,
        [this](const http::Request& req) {
          return authenticate(*store, *audit.log, clock, config.auth, auth->tokens, req);
        },
        opts);
    server->add_readiness_check("store", [this] { store->ping(); });
    server->add_readiness_check("token", [this] { token->check_ready(); });
    server->add_readiness_check("audit", [this] { audit.log->check_available(); });
    metrics.register_gauge("sigil_hsm_sessions_open", "PKCS#11 sessions open",
                           [this] { return static_cast<double>(token->pool_stats().open_sessions); });
    metrics.register_gauge("sigil_hsm_session_retries_total", "PKCS#11 operations retried on a fresh session",
                           [this] { return static_cast<double>(token->pool_stats().retries); });
    metrics.register_gauge("sigil_audit_records_total", "Audit records written by this process",
                           [this] { return static_cast<double>(audit.log->stats().records); });
    metrics.register_gauge("sigil_audit_commits_total", "Audit record batches committed (group commit)",
                           [this] { return static_cast<double>(audit.log->stats().transactions); });
    metrics.register_gauge("sigil_audit_failed_batches_total", "Audit record batches that could not be written",
                           [this] { return static_cast<double>(audit.log->stats().failed_batches); });
    metrics.register_gauge("sigil_audit_head_seq", "Sequence number of the audit chain head",
                           [this] { return static_cast<double>(audit.log->head().seq); });
    metrics.register_gauge("sigil_worker_queue_length", "Jobs waiting for a worker thread",
                           [this] { return static_cast<double>(pool->queued()); });
    purger = std::jthread([this](std::stop_token stop) { purge_loop(stop); });
  }

  ~Impl() {
    purger.request_stop();
    purge_wake.notify_all();
  }

  void purge_loop(const std::stop_token& stop) {
    constexpr std::chrono::minutes kEvery{5};
    while (!stop.stop_requested()) {
      {
        std::unique_lock lock(purge_mutex);
        purge_wake.wait_for(lock, stop, kEvery, [] { return false; });
      }
      if (stop.stop_requested()) return;
      try {
        if (const auto n = auth->purge_expired(); n > 0) log::debug("purged {} expired token/SAD/OTP row(s)", n);
        if (const auto n = batches->purge_expired(); n > 0) log::info("purged {} finished batch(es) past retention", n);
        if (documents) {
          if (const auto n = documents->purge_expired(); n > 0) log::info("purged {} finished document(s) past retention", n);
        }
      } catch (const std::exception& e) {
        log::warn("purging expired tokens and SADs failed: {}", e.what());
      }
    }
  }

  void build_signing() {
    if (config.tsa.builtin_enabled) {
      if (!token->find_key(config.tsa.builtin_key_label)) {
        throw Error(Errc::config_invalid,
                    "tsa.builtin.key_label '" + config.tsa.builtin_key_label +
                        "' is not a key in the token (run `sigilctl init`, or set tsa.builtin.enabled = false)",
                    true);
      }
      tsa_key = token->signer(config.tsa.builtin_key_label);
      tsa::TsaOptions o;
      o.policy_oid = config.tsa.builtin_policy_oid;
      o.clock = &clock;
      builtin_tsa = std::make_unique<tsa::TimeStampAuthority>(*tsa_key, read_tsa_certs(config), o);
      log::info("built-in TSA on key '{}' (POST /tsa)", config.tsa.builtin_key_label);
    }
    timestamper = builtin_tsa.get();
    if (!config.tsa.urls.empty()) {
      tsp::ClientOptions o;
      for (const auto& url : config.tsa.urls) o.endpoints.push_back({url, {}, {}, {}});
      o.timeout = config.tsa.timeout;
      o.policy_oid = config.tsa.policy_oid;
      if (!config.tsa.trust_file.empty()) o.trust_anchors_pem = files::read(config.tsa.trust_file);
      tsa_client = std::make_unique<tsp::Client>(std::move(o), clock);
      timestamper = tsa_client.get();
      log::info("time-stamps from {} external TSA(s)", config.tsa.urls.size());
    }
    revocation::OcspOptions oo;
    oo.url_override = config.revocation.ocsp_url;
    oo.timeout = config.revocation.ocsp_timeout;
    ocsp = std::make_unique<revocation::OcspClient>(oo, clock);
    revocation::CrlOptions co;
    co.timeout = config.revocation.crl_timeout;
    crls = std::make_unique<revocation::CrlCache>(co, clock);
    collector = std::make_unique<revocation::Collector>(*ocsp, *crls);
    signing::Sources sources{timestamper, collector.get(), config.revocation.on_unavailable == "degrade"};
    signing = std::make_unique<signing::SigningService>(*store, *token, clock, sources, config.server.spool_dir);
    signing->set_audit(audit.log.get());
    signing->set_record_cache_ttl(config.auth.cache);
    build_batches();
  }

  void build_batches() {
    batch::BatchOptions o;
    o.workers = config.batch.workers;
    o.sync_max_items = config.batch.sync_max_items;
    o.max_items = config.batch.max_items;
    o.retention = config.batch.retention;
    o.dir = config.server.spool_dir / "batches";
    o.webhook_prefixes = config.batch.webhook.prefixes;
    o.webhook_timeout = config.batch.webhook.timeout;
    o.webhook_attempts = config.batch.webhook.attempts;
    batches = std::make_unique<batch::BatchService>(
        store->database(), *signing, build_profiles(config.profiles, build_appearances(config.appearances)), clock,
        std::move(o), webhook_sender(config.batch.webhook));
    if (const auto n = batches->resume_interrupted(); n > 0) log::info("batch: resumed {} unfinished batch(es)", n);
  }

  // The Sign Service for portals: after `auth` (second factors) and `signing`.
  void build_signservice() {
    if (!config.signservice.enabled) return;
    signservice::Options o;
    o.dir = config.server.spool_dir / "documents";
    o.max_signers = config.signservice.max_signers;
    o.webhook_prefixes = config.signservice.webhook.prefixes;
    o.webhook_attempts = config.signservice.webhook.attempts;
    o.webhook_timeout = config.signservice.webhook.timeout;
    o.task_url = config.signservice.task_url;
    o.retention = config.signservice.retention;
    documents = std::make_unique<signservice::SignService>(
        store->database(), store->users(), *signing, auth->authorization, *audit.log,
        build_profiles(config.profiles, build_appearances(config.appearances)), clock, std::move(o),
        webhook_sender(config.signservice.webhook));
  }

  void register_csc();
  void register_oauth();

  void register_routes() {
    const auto appearances = build_appearances(config.appearances);
    api::dss::register_routes(router, *signing, build_profiles(config.profiles, appearances), appearances);
    api::batch::register_routes(router, *batches);
    if (documents) api::signservice::register_routes(router, *documents);
    if (builtin_tsa) api::tsa::register_routes(router, *builtin_tsa, config.tsa.builtin_require_auth);
    if (config.csc.enabled) register_csc();
    api::admin::register_routes(router, *admin, clock, config.pki.dir.string(), *audit.log,
                                {[this](const std::string& user_id) { auth->tokens.revoke_user(user_id); }});
    api::admin::register_second_factor_routes(router, *admin, clock, *audit.log,
                                              {auth->enrolments.get(), &auth->authorization, config.otp.issuer});
    register_oauth();
    api::audit_api::register_routes(router, store->database(), *audit.log, audit.public_key_der);
    router.add("GET", "/api/v1/whoami", http::AuthRequirement::authenticated(), [](http::Request& req) {
      nlohmann::json roles = nlohmann::json::array();
      for (const auto& r : req.principal->roles) roles.push_back(r);
      return http::Response::json(200, {{"id", req.principal->id}, {"name", req.principal->name}, {"roles", roles}});
    });
  }
};

void Daemon::Impl::register_csc() {
  api::csc::CscContext c{*signing, auth->tokens, auth->authorization};
  c.users = &store->users();
  c.login_policy = config.auth;
  c.timestamper = timestamper;
  c.otp_delivered = auth->otp_delivered();
  c.info.name = config.csc.name;
  c.info.logo = config.csc.logo;
  c.info.region = config.csc.region;
  c.info.lang = config.csc.lang;
  c.info.description = config.csc.description;
  c.multisign = config.authorization.max_signatures;
  c.audit = audit.log.get();
  c.commit_sad_with = [this](const auth::SadSpend& spend, audit::Event signature_record) {
    auth->events.on_spend_with(spend, std::move(signature_record), store->database());
  };
  c.oauth2_base = config.csc.oauth2_base_uri;  // register_oauth() serves it; "" = from the Host header
  c.tls = config.server.tls;
  api::csc::register_routes(router, c);
  log::info("CSC API v2 under /csc/v2/ (OTP provider '{}')", config.authorization.otp_provider);
}

// The OAuth 2.0 endpoints (CSC oauth2/*, portals) and the admin routes of OAuth clients.
void Daemon::Impl::register_oauth() {
  api::oauth::OAuthContext o{auth->oauth, auth->clients, auth->tokens, auth->authorization, *store, clock};
  o.audit = audit.log.get();
  o.login_policy = config.auth;
  o.otp_delivered = auth->otp_delivered();
  o.service_name = config.csc.name;
  o.secure_cookie = config.server.tls;
  api::oauth::register_routes(router, o);
  api::oauth::register_admin_routes(router, auth->clients, store->users(), *audit.log);
}

Daemon::Daemon(config::Config config) : impl_(std::make_unique<Impl>(std::move(config))) {}
Daemon::~Daemon() = default;

void Daemon::start() {
  impl_->server->start();
  const auto& s = impl_->config.server;
  audit::Event e = audit::system_event(audit::type::system_startup);
  e.details["version"] = "0.1.0";
  e.details["listen"] = std::string(s.tls ? "https" : "http") + "://" + s.listen_address + ":" +
                        std::to_string(impl_->server->port());
  e.details["pid"] = std::to_string(::getpid());
  // Before run(): no request is handled (the io_context is not running yet) until startup is recorded.
  impl_->audit.log->append(std::move(e));
  if (!s.port_file.empty()) files::write_atomic(s.port_file, std::to_string(impl_->server->port()) + "\n", 0644);
  log::info("sigild listening on {}://{}:{}", s.tls ? "https" : "http", s.listen_address, impl_->server->port());
}

void Daemon::run() {
  impl_->server->run();
  // Batch workers finish the item they sign (its record needs the audit log), then stop.
  impl_->batches->stop();
  if (impl_->documents) impl_->documents->stop();
  // Every request has been answered: record the shutdown, then the final checkpoint signs the head.
  try {
    impl_->audit.log->append(audit::system_event(audit::type::system_shutdown));
    impl_->audit.log->close();
    log::info("audit log closed at seq {} (final checkpoint written)", impl_->audit.log->head().seq);
  } catch (const Error& e) {
    log::critical("audit: shutdown not recorded or final checkpoint failed: {}", e.detail());
    throw;
  }
}

void Daemon::shutdown() { impl_->server->shutdown(impl_->config.server.shutdown_grace); }

}  // namespace sigil::app
