// Helpers shared by the config tests: parsing from text and comparing whole Configs field by field.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "sigil/config/config.hpp"

namespace sigil::config::test {

inline const std::filesystem::path kBase = "/etc/sigil";
inline constexpr std::string_view kSource = "test.toml";

// TLS off on loopback: the smallest file that loads (TLS is on by default and needs certificates).
inline constexpr std::string_view kPlainHttp = "[server.tls]\nenabled = false\n";

inline Config parse_text(std::string_view text) { return parse(text, kSource, kBase); }

// The built-in defaults as parse() completes them for a file in `base`.
inline Config defaults(const std::filesystem::path& base, std::string_view source) {
  Config c;
  c.source = std::string(source);
  c.data_dir = base;
  c.server.spool_dir = base / "spool";
  c.store.sqlite_path = base / "sigil.db";
  return c;
}

inline void expect_same_secret(const SecretRef& e, const SecretRef& a, const char* what) {
  EXPECT_EQ(e.file, a.file) << what;
  EXPECT_EQ(e.env, a.env) << what;
}

// Every field, so a new default that the example file or the loader forgets shows up here.
inline void expect_same(const Config& e, const Config& a) {
  EXPECT_EQ(e.source, a.source);
  EXPECT_EQ(e.data_dir, a.data_dir);
  const ServerConfig& es = e.server;
  const ServerConfig& as = a.server;
  EXPECT_EQ(es.listen_address, as.listen_address);
  EXPECT_EQ(es.port, as.port);
  EXPECT_EQ(es.port_file, as.port_file);
  EXPECT_EQ(es.tls, as.tls);
  EXPECT_EQ(es.tls_settings.cert_file, as.tls_settings.cert_file);
  EXPECT_EQ(es.tls_settings.key_file, as.tls_settings.key_file);
  EXPECT_EQ(es.tls_settings.client_ca_file, as.tls_settings.client_ca_file);
  EXPECT_EQ(es.tls_settings.client_certs, as.tls_settings.client_certs);
  EXPECT_EQ(es.tls_settings.min_version, as.tls_settings.min_version);
  EXPECT_EQ(es.io_threads, as.io_threads);
  EXPECT_EQ(es.worker_threads, as.worker_threads);
  EXPECT_EQ(es.worker_queue, as.worker_queue);
  EXPECT_EQ(es.max_body_bytes, as.max_body_bytes);
  EXPECT_EQ(es.memory_body_bytes, as.memory_body_bytes);
  EXPECT_EQ(es.spool_dir, as.spool_dir);
  EXPECT_EQ(es.max_header_bytes, as.max_header_bytes);
  EXPECT_EQ(es.max_json_depth, as.max_json_depth);
  EXPECT_EQ(es.max_connections, as.max_connections);
  EXPECT_EQ(es.request_timeout, as.request_timeout);
  EXPECT_EQ(es.idle_timeout, as.idle_timeout);
  EXPECT_EQ(es.shutdown_grace, as.shutdown_grace);
  EXPECT_EQ(es.debug_endpoints, as.debug_endpoints);
  EXPECT_EQ(e.log.level, a.log.level);
  EXPECT_EQ(e.log.format, a.log.format);
  EXPECT_EQ(e.log.access_log, a.log.access_log);
  EXPECT_EQ(e.store.backend, a.store.backend);
  EXPECT_EQ(e.store.sqlite_path, a.store.sqlite_path);
  EXPECT_EQ(e.store.busy_timeout, a.store.busy_timeout);
  expect_same_secret(e.store.postgres_conninfo, a.store.postgres_conninfo, "store.postgres_conninfo");
  EXPECT_EQ(e.hsm.module, a.hsm.module);
  EXPECT_EQ(e.hsm.token_label, a.hsm.token_label);
  EXPECT_EQ(e.hsm.token_serial, a.hsm.token_serial);
  expect_same_secret(e.hsm.user_pin, a.hsm.user_pin, "hsm.user_pin");
  EXPECT_EQ(e.hsm.pool_size, a.hsm.pool_size);
  EXPECT_EQ(e.hsm.softhsm_conf, a.hsm.softhsm_conf);
  EXPECT_EQ(e.pki.dir, a.pki.dir);
  EXPECT_EQ(e.auth.max_failed_logins, a.auth.max_failed_logins);
  EXPECT_EQ(e.auth.lockout, a.auth.lockout);
  EXPECT_EQ(e.auth.key_file, a.auth.key_file);
  EXPECT_EQ(e.auth.access_token_ttl, a.auth.access_token_ttl);
  EXPECT_EQ(e.auth.cache, a.auth.cache);
  EXPECT_EQ(e.auth.credential_token_ttl, a.auth.credential_token_ttl);
  EXPECT_EQ(e.auth.refresh_token_ttl, a.auth.refresh_token_ttl);
  EXPECT_EQ(e.auth.client_cert_users, a.auth.client_cert_users);
  EXPECT_EQ(e.authorization.otp_provider, a.authorization.otp_provider);
  EXPECT_EQ(e.authorization.max_attempts, a.authorization.max_attempts);
  EXPECT_EQ(e.authorization.max_failures_before_lock, a.authorization.max_failures_before_lock);
  EXPECT_EQ(e.authorization.lockout, a.authorization.lockout);
  EXPECT_EQ(e.authorization.transaction_ttl, a.authorization.transaction_ttl);
  EXPECT_EQ(e.authorization.sad_ttl, a.authorization.sad_ttl);
  EXPECT_EQ(e.authorization.max_signatures, a.authorization.max_signatures);
  EXPECT_EQ(e.otp.issuer, a.otp.issuer);
  EXPECT_EQ(e.otp.totp_window, a.otp.totp_window);
  EXPECT_EQ(e.otp.hotp_look_ahead, a.otp.hotp_look_ahead);
  EXPECT_EQ(e.otp.plugin_dir, a.otp.plugin_dir);
  EXPECT_EQ(e.otp.channels.size(), a.otp.channels.size());
  EXPECT_EQ(e.otp.providers.size(), a.otp.providers.size());
  EXPECT_EQ(e.otp.plugins.size(), a.otp.plugins.size());
  EXPECT_EQ(e.csc.enabled, a.csc.enabled);
  EXPECT_EQ(e.csc.name, a.csc.name);
  EXPECT_EQ(e.csc.logo, a.csc.logo);
  EXPECT_EQ(e.csc.region, a.csc.region);
  EXPECT_EQ(e.csc.lang, a.csc.lang);
  EXPECT_EQ(e.csc.description, a.csc.description);
  EXPECT_EQ(e.csc.oauth2_base_uri, a.csc.oauth2_base_uri);
  EXPECT_EQ(e.audit.key_label, a.audit.key_label);
  EXPECT_EQ(e.audit.checkpoint_every_records, a.audit.checkpoint_every_records);
  EXPECT_EQ(e.audit.checkpoint_interval, a.audit.checkpoint_interval);
  EXPECT_EQ(e.audit.group_commit_max, a.audit.group_commit_max);
  EXPECT_EQ(e.audit.group_commit_wait, a.audit.group_commit_wait);
  EXPECT_EQ(e.tsa.urls, a.tsa.urls);
  EXPECT_EQ(e.tsa.timeout, a.tsa.timeout);
  EXPECT_EQ(e.tsa.policy_oid, a.tsa.policy_oid);
  EXPECT_EQ(e.tsa.trust_file, a.tsa.trust_file);
  EXPECT_EQ(e.tsa.builtin_enabled, a.tsa.builtin_enabled);
  EXPECT_EQ(e.tsa.builtin_key_label, a.tsa.builtin_key_label);
  EXPECT_EQ(e.tsa.builtin_certificate_file, a.tsa.builtin_certificate_file);
  EXPECT_EQ(e.tsa.builtin_chain_file, a.tsa.builtin_chain_file);
  EXPECT_EQ(e.tsa.builtin_policy_oid, a.tsa.builtin_policy_oid);
  EXPECT_EQ(e.tsa.builtin_require_auth, a.tsa.builtin_require_auth);
  EXPECT_EQ(e.revocation.on_unavailable, a.revocation.on_unavailable);
  EXPECT_EQ(e.revocation.ocsp_timeout, a.revocation.ocsp_timeout);
  EXPECT_EQ(e.revocation.crl_timeout, a.revocation.crl_timeout);
  EXPECT_EQ(e.revocation.ocsp_url, a.revocation.ocsp_url);
  EXPECT_EQ(e.profiles.size(), a.profiles.size());
}

}  // namespace sigil::config::test
