// The schema: which TOML key fills which field, with its range, and the checks across keys.
// docs/configuration.md and config/sigil.example.toml list the same keys; keep the three in step.
#include <fmt/format.h>

#include <algorithm>

#include "section.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/files.hpp"
#include "sigil/config/config.hpp"

namespace sigil::config {
namespace {

using detail::Context;
using detail::Section;

// Durations are capped at a week: far beyond any sane timeout, and far from overflowing a
// steady_clock deadline computed as now() + timeout.
constexpr std::int64_t kMaxMs = 7LL * 24 * 3600 * 1000;
constexpr std::int64_t kMaxSeconds = kMaxMs / 1000;

void read_tls(Section& s, ServerConfig& server) {
  TlsConfig& tls = server.tls_settings;
  s.get_bool("enabled", server.tls);
  s.get_path("cert_file", tls.cert_file);
  s.get_path("key_file", tls.key_file);
  s.get_path("client_ca_file", tls.client_ca_file);
  std::string mode;
  s.get_choice("client_certs", mode, {"none", "optional", "required"});
  if (mode == "optional") tls.client_certs = ClientCertMode::optional;
  if (mode == "required") tls.client_certs = ClientCertMode::required;
  s.get_choice("min_version", tls.min_version, {"1.2", "1.3"});
  s.finish();
}

// Checks that join [server] and [server.tls]; the messages point at the key the operator set.
void check_tls(const Section& s, const Section& t, const ServerConfig& server) {
  const TlsConfig& tls = server.tls_settings;
  if (server.tls) {
    if (tls.cert_file.empty()) t.fail("cert_file", "is required when server.tls.enabled is true (the default)");
    if (tls.key_file.empty()) t.fail("key_file", "is required when server.tls.enabled is true (the default)");
  } else {
    if (!is_loopback_address(server.listen_address)) {
      t.fail("enabled", fmt::format("is false, but plain HTTP is only allowed on a loopback address, "
                                    "and server.listen_address is \"{}\" (line {})",
                                    server.listen_address, s.where("listen_address").begin.line));
    }
    if (tls.client_certs != ClientCertMode::none) {
      t.fail("client_certs", "needs TLS, but server.tls.enabled is false");
    }
  }
  if (tls.client_certs != ClientCertMode::none && tls.client_ca_file.empty()) {
    t.fail("client_certs", "is \"optional\" or \"required\", so server.tls.client_ca_file must be set");
  }
}

void read_server(Section s, ServerConfig& c) {
  s.get_string("listen_address", c.listen_address);
  s.get_int("port", c.port, 0, 65535);
  s.get_path("port_file", c.port_file);
  s.get_int("io_threads", c.io_threads, 1);
  s.get_int("worker_threads", c.worker_threads, 1);
  s.get_int("worker_queue", c.worker_queue, 1);
  s.get_int("max_body_bytes", c.max_body_bytes, 1);
  s.get_int("memory_body_bytes", c.memory_body_bytes, 0);
  s.get_path("spool_dir", c.spool_dir);
  s.get_int("max_header_bytes", c.max_header_bytes, 1);
  s.get_int("max_json_depth", c.max_json_depth, 1);
  s.get_int("max_connections", c.max_connections, 1);
  s.get_duration("request_timeout_ms", c.request_timeout, 1, kMaxMs);
  s.get_duration("idle_timeout_ms", c.idle_timeout, 1, kMaxMs);
  s.get_duration("shutdown_grace_ms", c.shutdown_grace, 0, kMaxMs);
  s.get_bool("debug_endpoints", c.debug_endpoints);
  Section tls = s.sub("tls");
  read_tls(tls, c);
  s.finish();

  if (c.memory_body_bytes > c.max_body_bytes) {
    const std::string_view key = s.has("memory_body_bytes") ? "memory_body_bytes" : "max_body_bytes";
    s.fail(key, fmt::format("makes memory_body_bytes ({}) larger than max_body_bytes ({})", c.memory_body_bytes,
                            c.max_body_bytes));
  }
  check_tls(s, tls, c);
}

void read_log(Section s, LogConfig& c) {
  s.get_choice("level", c.level, {"trace", "debug", "info", "warn", "error", "critical", "off"});
  s.get_choice("format", c.format, {"text", "json"});
  s.get_bool("access_log", c.access_log);
  s.finish();
}

void read_store(Section s, StoreConfig& c) {
  s.get_choice("backend", c.backend, {"sqlite", "postgres"});
  s.get_path("sqlite_path", c.sqlite_path);
  s.get_duration("busy_timeout_ms", c.busy_timeout, 0, kMaxMs);
  s.get_secret("postgres_conninfo", c.postgres_conninfo);
  s.finish();
  if (c.backend == "postgres" && c.postgres_conninfo.empty()) {
    s.fail("backend", "is \"postgres\", so store.postgres_conninfo must be set");
  }
}

void read_hsm(Section s, HsmConfig& c) {
  s.get_path("module", c.module, /*bare_name_as_is=*/true);
  s.get_string("token_label", c.token_label);
  s.get_string("token_serial", c.token_serial);
  s.get_secret("user_pin", c.user_pin);
  s.get_int("pool_size", c.pool_size, 1);
  s.get_path("softhsm_conf", c.softhsm_conf);
  s.get_bool("cache_session_keys", c.cache_session_keys);
  s.get_int("session_key_copies", c.session_key_copies, 0, 1024);
  s.get_duration("session_key_recheck_ms", c.session_key_recheck, 0, kMaxMs);
  s.finish();
}

void read_pki(Section s, PkiConfig& c) {
  s.get_path("dir", c.dir);
  s.finish();
}

void read_auth(Section s, AuthConfig& c) {
  s.get_int("max_failed_logins", c.max_failed_logins, 1);
  s.get_duration("lockout_seconds", c.lockout, 1, kMaxSeconds);
  s.get_path("key_file", c.key_file);
  s.get_duration("access_token_ttl_seconds", c.access_token_ttl, 60, kMaxSeconds);
  s.get_duration("credential_token_ttl_seconds", c.credential_token_ttl, 10, 3600);
  s.get_duration("refresh_token_ttl_seconds", c.refresh_token_ttl, 60, 366LL * 24 * 3600);
  s.get_bool("client_cert_users", c.client_cert_users);
  s.get_duration("cache_ms", c.cache, 0, 60'000);
  s.finish();
}

void read_authorization(Section s, AuthorizationConfig& c) {
  s.get_string("otp_provider", c.otp_provider);
  s.get_int("max_attempts", c.max_attempts, 1, 100);
  s.get_int("max_failures_before_lock", c.max_failures_before_lock, 1, 1000);
  s.get_duration("lockout_seconds", c.lockout, 1, kMaxSeconds);
  s.get_duration("transaction_ttl_seconds", c.transaction_ttl, 10, 86400);
  s.get_duration("sad_ttl_seconds", c.sad_ttl, 10, 86400);
  s.get_int("max_signatures", c.max_signatures, 1, 10000);
  s.finish();
}

// The required `name` of one [[...]] table, unique among those read so far (`what`: "channels").
template <class T>
std::string unique_name(Section& t, const std::vector<T>& earlier, std::string_view what) {
  std::string name;
  t.get_string("name", name);
  if (name.empty()) t.fail("name", "is required");
  for (const auto& other : earlier) {
    if (other.name == name) t.fail("name", "'" + name + "' names two " + std::string(what));
  }
  return name;
}

void read_otp_channels(std::vector<Section> tables, std::vector<OtpChannelConfig>& out) {
  for (auto& t : tables) {
    OtpChannelConfig c;
    c.name = unique_name(t, out, "channels");
    t.get_choice("type", c.type, {"file", "webhook", "smtp", "command"});
    if (c.type.empty()) t.fail("type", "is required (file, webhook, smtp or command)");
    t.get_choice("recipient_field", c.recipient_field, {"email", "mobile", "username"});
    t.get_path("path", c.path);
    t.get_string("url", c.url);
    t.get_path("ca_file", c.ca_file);
    t.get_secret("authorization", c.authorization);
    t.get_int("attempts", c.attempts, 1, 10);
    t.get_duration("backoff_ms", c.backoff, 0, 60'000);
    t.get_duration("timeout_ms", c.timeout, 100, 600'000);
    t.get_string("from", c.from);
    t.get_string("subject", c.subject);
    t.get_string("username", c.username);
    t.get_secret("password", c.password);
    t.get_string_array("command", c.command);
    t.finish();
    if (c.type == "file" && c.path.empty()) t.fail("path", "is required for a file channel");
    if ((c.type == "webhook" || c.type == "smtp") && c.url.empty()) t.fail("url", "is required for a " + c.type + " channel");
    if (c.type == "webhook" && c.url.rfind("https://", 0) != 0 && c.url.rfind("http://", 0) != 0) {
      t.fail("url", "must be an https:// URL (http:// only for loopback)");
    }
    if (c.type == "smtp" && c.url.rfind("smtps://", 0) != 0 && c.url.rfind("smtp://", 0) != 0) {
      t.fail("url", "must be an smtps:// or smtp:// URL");
    }
    if (c.type == "smtp" && c.from.empty()) t.fail("from", "is required for an smtp channel");
    if (c.type == "command" && (c.command.empty() || c.command.front().front() != '/')) {
      t.fail("command", "must be an argv array whose first element is an absolute path");
    }
    out.push_back(std::move(c));
  }
}

void read_otp(Section s, OtpConfig& c) {
  s.get_string("issuer", c.issuer);
  s.get_int("totp_window", c.totp_window, 0, 10);
  s.get_int("hotp_look_ahead", c.hotp_look_ahead, 0, 1000);
  s.get_path("plugin_dir", c.plugin_dir);
  read_otp_channels(s.tables("channels"), c.channels);
  for (auto& t : s.tables("providers")) {
    OtpProviderConfig p;
    p.name = unique_name(t, c.providers, "providers");
    if (p.name == "totp" || p.name == "hotp") t.fail("name", "'" + p.name + "' is a built-in provider");
    t.get_string("channel", p.channel);
    if (p.channel.empty()) t.fail("channel", "is required (the name of an [[otp.channels]] entry or a plugin channel)");
    t.get_int("digits", p.digits, 6, 8);
    t.get_duration("ttl_seconds", p.ttl, 30, 3600);
    t.get_string("text", p.text);
    t.finish();
    if (!p.text.empty() && p.text.find("{code}") == std::string::npos) t.fail("text", "must contain {code}");
    c.providers.push_back(std::move(p));
  }
  for (auto& t : s.tables("plugins")) {
    OtpPluginConfig p;
    t.get_string("name", p.name);
    if (p.name.empty()) t.fail("name", "is required");
    t.get_string("config", p.config);
    t.finish();
    c.plugins.push_back(std::move(p));
  }
  s.finish();
}

void read_csc(Section s, CscConfig& c) {
  s.get_bool("enabled", c.enabled);
  s.get_string("name", c.name);
  s.get_string("logo", c.logo);
  s.get_string("region", c.region);
  s.get_string("lang", c.lang);
  s.get_string("description", c.description);
  s.get_string("oauth2_base_uri", c.oauth2_base_uri);
  s.finish();
  if (!c.oauth2_base_uri.empty() && c.oauth2_base_uri.rfind("https://", 0) != 0 &&
      c.oauth2_base_uri.rfind("http://", 0) != 0) {
    s.fail("oauth2_base_uri", "must be an https:// URL (where clients reach <uri>/oauth2/authorize)");
  }
  if (c.region.size() != 2) s.fail("region", "must be an ISO 3166-1 alpha-2 country code");
}

// Webhook URL prefixes: https://host/path/ (http:// only on loopback), with a '/' after the host.
void check_webhook_prefixes(Section& s, const std::vector<std::string>& prefixes) {
  for (const auto& p : prefixes) {
    const bool https = p.rfind("https://", 0) == 0;
    const bool loopback_http = p.rfind("http://127.0.0.1:", 0) == 0 || p.rfind("http://[::1]:", 0) == 0 ||
                               p.rfind("http://localhost:", 0) == 0;
    // A prefix must end in '/' after the host: "https://erp.example" would also allow
    // "https://erp.example.attacker.net/".
    const auto host_end = p.find('/', p.find("//") + 2);
    if ((!https && !loopback_http) || host_end == std::string::npos) {
      s.fail("webhook_prefixes", "entries must be https://host/path/ prefixes (http:// only on a loopback address), "
                                 "with a '/' after the host");
    }
  }
}

void read_webhook(Section& s, WebhookConfig& c) {
  s.get_string_array("webhook_prefixes", c.prefixes);
  s.get_duration("webhook_timeout_ms", c.timeout, 100, kMaxMs);
  s.get_int("webhook_attempts", c.attempts, 1, 20);
  s.get_path("webhook_ca_file", c.ca_file);
  s.get_secret("webhook_secret", c.secret);
}

void read_batch(Section s, BatchConfig& c) {
  s.get_int("workers", c.workers, 1, 256);
  s.get_int("sync_max_items", c.sync_max_items, 1, 100'000);
  s.get_int("max_items", c.max_items, 1, 1'000'000);
  std::chrono::hours retention{24};
  s.get_duration("retention_hours", retention, 1, 24 * 365);
  c.retention = retention;
  read_webhook(s, c.webhook);
  s.finish();
  if (c.sync_max_items > c.max_items) s.fail("sync_max_items", "must not exceed batch.max_items");
  check_webhook_prefixes(s, c.webhook.prefixes);
}

void read_signservice(Section s, SignServiceConfig& c) {
  s.get_bool("enabled", c.enabled);
  s.get_int("max_signers", c.max_signers, 1, 100);
  read_webhook(s, c.webhook);
  if (s.has("task_url")) s.get_string("task_url", c.task_url);
  std::int64_t days = 0;
  s.get_int("retention_days", days, 0, 36500);
  c.retention = std::chrono::seconds{days * 86400};
  s.finish();
  check_webhook_prefixes(s, c.webhook.prefixes);
  if (!c.task_url.empty() && c.task_url.find("{task}") == std::string::npos) {
    s.fail("task_url", "must contain {task}, where the task id goes");
  }
}

void read_audit(Section s, AuditConfig& c) {
  s.get_string("key_label", c.key_label);
  s.get_int("checkpoint_every_records", c.checkpoint_every_records, 0, 1'000'000'000);
  s.get_duration("checkpoint_interval_seconds", c.checkpoint_interval, 0, kMaxSeconds);
  s.get_int("group_commit_max", c.group_commit_max, 1, 65536);
  s.get_duration("group_commit_wait_us", c.group_commit_wait, 0, 1'000'000);
  s.finish();
  if (c.checkpoint_every_records == 0 && c.checkpoint_interval.count() == 0) {
    s.fail("checkpoint_interval_seconds",
           "is 0 and so is audit.checkpoint_every_records: the chain would only be signed at shutdown");
  }
}

void read_tsa(Section s, TsaConfig& c) {
  s.get_string_array("urls", c.urls);
  for (const auto& u : c.urls) {
    if (u.rfind("http://", 0) != 0 && u.rfind("https://", 0) != 0) s.fail("urls", "entries must be http:// or https:// URLs");
  }
  s.get_duration("timeout_ms", c.timeout, 100, 600'000);
  s.get_string("policy_oid", c.policy_oid);
  s.get_path("trust_file", c.trust_file);
  Section b = s.sub("builtin");
  b.get_bool("enabled", c.builtin_enabled);
  b.get_string("key_label", c.builtin_key_label);
  b.get_path("certificate_file", c.builtin_certificate_file);
  b.get_path("chain_file", c.builtin_chain_file);
  b.get_string("policy_oid", c.builtin_policy_oid);
  b.get_bool("require_auth", c.builtin_require_auth);
  b.finish();
  s.finish();
}

void read_revocation(Section s, RevocationConfig& c) {
  s.get_choice("on_unavailable", c.on_unavailable, {"fail", "degrade"});
  s.get_duration("ocsp_timeout_ms", c.ocsp_timeout, 100, 600'000);
  s.get_duration("crl_timeout_ms", c.crl_timeout, 100, 600'000);
  s.get_string("ocsp_url", c.ocsp_url);
  s.finish();
}

void read_appearances(std::vector<Section> tables, std::vector<AppearanceConfig>& out) {
  for (auto& t : tables) {
    AppearanceConfig a;
    a.name = unique_name(t, out, "appearances");
    if (a.name == "none") t.fail("name", "'none' is reserved (it asks for an invisible signature)");
    t.get_int("page", a.page, 1, 100000);
    auto number = [&t](std::string_view key, double& v, double min) {
      if (const auto i = t.get_integer(key, static_cast<std::int64_t>(min), 14400)) v = static_cast<double>(*i);
    };
    number("x", a.x, 0);
    number("y", a.y, 0);
    number("width", a.width, 1);
    number("height", a.height, 1);
    t.get_bool("from_top", a.from_top);
    t.get_string_array("lines", a.lines);
    t.get_bool("show_name", a.show_name);
    t.get_bool("show_date", a.show_date);
    t.get_bool("show_reason", a.show_reason);
    t.get_bool("show_location", a.show_location);
    t.get_string("text", a.text);
    if (const auto fs = t.get_integer("font_size", 3, 72)) a.font_size = static_cast<double>(*fs);
    t.get_path("image", a.image);
    t.get_path("font", a.font);
    if (!a.image.empty() && !std::filesystem::is_regular_file(a.image)) t.fail("image", "is not a readable file");
    if (!a.font.empty() && !std::filesystem::is_regular_file(a.font)) t.fail("font", "is not a readable file");
    t.finish();
    out.push_back(std::move(a));
  }
}

void read_profiles(std::vector<Section> tables, std::vector<ProfileConfig>& out,
                   const std::vector<AppearanceConfig>& appearances) {
  for (auto& t : tables) {
    ProfileConfig p;
    p.name = unique_name(t, out, "profiles");
    // Optional: a profile without one serves the Sign Service only (each signer's own credential).
    if (t.has("credential")) t.get_string("credential", p.credential);
    t.get_choice("format", p.format, {"pades", "xades", "cades"});
    t.get_choice("level", p.level, {"B-B", "B-T", "B-LT", "B-LTA"});
    t.get_choice("packaging", p.packaging, {"enveloped", "enveloping", "detached"});
    t.get_choice("digest", p.digest, {"sha256", "sha384", "sha512"});
    t.get_string("reason", p.reason);
    t.get_string("location", p.location);
    t.get_string("contact_info", p.contact_info);
    t.get_int("certification", p.certification, 0, 3);
    if (p.certification != 0 && p.format != "pades") t.fail("certification", "applies to format = \"pades\" only");
    t.get_bool("visible", p.visible);
    t.get_int("page", p.page, 1, 100000);
    t.get_int("x", p.x, 0, 14400);
    t.get_int("y", p.y, 0, 14400);
    t.get_int("width", p.width, 1, 14400);
    t.get_int("height", p.height, 1, 14400);
    t.get_string("text", p.text);
    t.get_path("font", p.font);
    if (!p.font.empty() && !std::filesystem::is_regular_file(p.font)) t.fail("font", "is not a readable file");
    t.get_string("appearance", p.appearance);
    if (!p.appearance.empty()) {
      if (p.format != "pades") t.fail("appearance", "applies to format = \"pades\" only");
      if (p.visible) t.fail("appearance", "names a template: leave out visible and the inline stamp keys");
      const bool known = std::any_of(appearances.begin(), appearances.end(),
                                     [&](const AppearanceConfig& a) { return a.name == p.appearance; });
      if (!known) t.fail("appearance", "names no [[appearances]] template");
    }
    t.get_string("xades_profile", p.xades_profile);
    t.finish();
    out.push_back(std::move(p));
  }
}

std::filesystem::path absolute_dir(const std::filesystem::path& dir) {
  if (dir.empty()) return std::filesystem::current_path();
  return std::filesystem::absolute(dir).lexically_normal();
}

}  // namespace

Config parse(std::string_view toml_text, std::string_view source_name, const std::filesystem::path& base_dir) {
  const Context ctx{std::string(source_name), absolute_dir(base_dir)};
  toml::table root;
  try {
    root = toml::parse(toml_text, std::string_view(source_name));
  } catch (const toml::parse_error& e) {
    const auto& at = e.source().begin;
    throw Error(Errc::config_invalid,
                fmt::format("{}:{}:{}: TOML syntax error: {}", ctx.source, at.line, at.column, e.description()),
                true);
  }

  Config cfg;
  cfg.source = std::string(source_name);
  Section top(&root, "", ctx);
  top.get_path("data_dir", cfg.data_dir);
  read_server(top.sub("server"), cfg.server);
  read_log(top.sub("log"), cfg.log);
  read_store(top.sub("store"), cfg.store);
  read_hsm(top.sub("hsm"), cfg.hsm);
  read_pki(top.sub("pki"), cfg.pki);
  read_auth(top.sub("auth"), cfg.auth);
  read_authorization(top.sub("authorization"), cfg.authorization);
  read_otp(top.sub("otp"), cfg.otp);
  read_csc(top.sub("csc"), cfg.csc);
  read_batch(top.sub("batch"), cfg.batch);
  read_signservice(top.sub("signservice"), cfg.signservice);
  read_audit(top.sub("audit"), cfg.audit);
  read_tsa(top.sub("tsa"), cfg.tsa);
  read_revocation(top.sub("revocation"), cfg.revocation);
  read_appearances(top.tables("appearances"), cfg.appearances);
  read_profiles(top.tables("profiles"), cfg.profiles, cfg.appearances);
  top.finish();

  // Defaults that depend on other keys, filled in once everything is read.
  if (cfg.data_dir.empty()) cfg.data_dir = ctx.base_dir;
  if (cfg.server.spool_dir.empty()) cfg.server.spool_dir = cfg.data_dir / "spool";
  if (cfg.store.sqlite_path.empty()) cfg.store.sqlite_path = cfg.data_dir / "sigil.db";
  return cfg;
}

Config load(const std::filesystem::path& path) {
  const std::filesystem::path file = std::filesystem::absolute(path).lexically_normal();
  std::string text;
  try {
    text = files::read(file);
  } catch (const Error& e) {
    throw Error(Errc::config_invalid, "cannot read configuration: " + e.detail(), true);
  }
  Config cfg = parse(text, file.string(), file.parent_path());
  cfg.source = file;
  return cfg;
}

}  // namespace sigil::config
