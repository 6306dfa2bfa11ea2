// The daemon's configuration as plain data. Loaded from one TOML file (loader.cpp, toml++),
// validated at load time: an unknown key or a bad value throws Error(config_invalid /
// config_unknown_key) whose detail names the key and the line. Relative paths are resolved
// against the directory of the config file. Secrets are never inline: a SecretRef names a file
// or an environment variable, resolved when needed and wiped after use.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>
#include <string_view>

#include "sigil/common/secure.hpp"

namespace sigil::config {

// Where a secret comes from: exactly one of `file` (first line, trailing newline stripped) or
// `env` (environment variable name).
struct SecretRef {
  std::filesystem::path file;
  std::string env;
  bool empty() const { return file.empty() && env.empty(); }
  // Throws Error(config_secret_missing) naming the file or variable (never the value).
  SecretString resolve() const;
};

enum class ClientCertMode { none, optional, required };

struct TlsConfig {
  std::filesystem::path cert_file;       // PEM chain, leaf first
  std::filesystem::path key_file;        // PEM private key (0600)
  std::filesystem::path client_ca_file;  // PEM trust anchors for client certificates (mTLS)
  ClientCertMode client_certs = ClientCertMode::none;
  std::string min_version = "1.2";       // "1.2" or "1.3"
};

struct ServerConfig {
  std::string listen_address = "127.0.0.1";
  std::uint16_t port = 8443;                     // 0 = ephemeral (tests); see port_file
  std::filesystem::path port_file;               // if set, the bound port is written here
  bool tls = true;                               // false only allowed on a loopback address
  TlsConfig tls_settings;
  unsigned io_threads = 2;
  unsigned worker_threads = 4;
  std::size_t worker_queue = 1024;               // queued jobs beyond this answer 503
  std::size_t max_body_bytes = 64u << 20;        // larger bodies: 413
  std::size_t memory_body_bytes = 4u << 20;      // larger bodies are spooled to spool_dir
  std::filesystem::path spool_dir;               // default: <data_dir>/spool
  std::size_t max_header_bytes = 16u << 10;      // larger headers: 431
  unsigned max_json_depth = 64;                  // deeper JSON: 400
  unsigned max_connections = 1024;               // more: refused
  std::chrono::milliseconds request_timeout{30000};  // whole request read + handling
  std::chrono::milliseconds idle_timeout{60000};     // keep-alive idle
  std::chrono::milliseconds shutdown_grace{10000};   // in-flight requests on SIGTERM
  bool debug_endpoints = false;                  // /debug/* routes, for tests only
};

struct LogConfig {
  std::string level = "info";   // trace debug info warn error critical off
  std::string format = "text";  // text | json
  bool access_log = true;
};

struct StoreConfig {
  std::string backend = "sqlite";            // sqlite | postgres (several nodes, ADR 0022)
  std::filesystem::path sqlite_path;         // default: <data_dir>/sigil.db
  std::chrono::milliseconds busy_timeout{5000};
  SecretRef postgres_conninfo;               // libpq conninfo string, from a file or env
};

struct HsmConfig {
  std::filesystem::path module = "/usr/lib/softhsm/libsofthsm2.so";
  std::string token_label = "sigil";
  std::string token_serial;                  // if set, wins over the label
  SecretRef user_pin;                        // CKU_USER PIN
  unsigned pool_size = 8;                    // sessions per token
  std::filesystem::path softhsm_conf;        // exported as SOFTHSM2_CONF when set
  bool cache_session_keys = true;            // sign with session-object copies (see ADR 0007)
  unsigned session_key_copies = 0;           // copies per key; 0 = pool_size
  std::chrono::milliseconds session_key_recheck{1000};  // how often a cached key's token object is re-checked
};

struct PkiConfig {
  std::filesystem::path dir;                 // demo PKI: CA/TSA/OCSP certificates (PEM)
};

// [auth]: who may call (docs/authentication.md). The login lockout is also the OAuth login page's.
struct AuthConfig {
  unsigned max_failed_logins = 5;
  std::chrono::seconds lockout{900};
  std::filesystem::path key_file;                       // 32-byte key sealing OTP seeds and codes; empty = no OTP
  std::chrono::seconds access_token_ttl{3600};
  std::chrono::seconds credential_token_ttl{300};       // scope "credential" tokens
  std::chrono::seconds refresh_token_ttl{30 * 24 * 3600};
  bool client_cert_users = false;                       // mTLS: the certificate's CN names a service user
  std::chrono::milliseconds cache{2000};                // reuse of a read access token / credential record (0 = off)
};

// [authorization]: credential authorisation (CSC credentials/authorize), attempts and SADs.
struct AuthorizationConfig {
  std::string otp_provider = "totp";                    // provider of credentials with an OTP factor
  unsigned max_attempts = 3;                            // wrong attempts that void a transaction
  unsigned max_failures_before_lock = 5;                // wrong attempts that lock the user
  std::chrono::seconds lockout{900};
  std::chrono::seconds transaction_ttl{300};
  std::chrono::seconds sad_ttl{300};
  unsigned max_signatures = 100;                        // numSignatures at most (CSC multisign)
};

// [[otp.channels]]: how a delivered code reaches the user.
struct OtpChannelConfig {
  std::string name;
  std::string type;                                     // file | webhook | smtp | command
  std::string recipient_field;                          // email | mobile | username; default per type
  std::filesystem::path path;                           // file
  std::string url;                                      // webhook, smtp
  std::filesystem::path ca_file;                        // webhook, smtp
  SecretRef authorization;                              // webhook: Authorization header value
  unsigned attempts = 3;                                // webhook
  std::chrono::milliseconds backoff{500};               // webhook
  std::chrono::milliseconds timeout{10000};             // webhook, smtp, command
  std::string from, subject = "Your signing code";      // smtp
  std::string username;                                 // smtp AUTH
  SecretRef password;                                   // smtp AUTH
  std::vector<std::string> command;                     // command: argv, argv[0] absolute
};

// [[otp.providers]]: delivered one-time codes over a channel.
struct OtpProviderConfig {
  std::string name;
  std::string channel;
  unsigned digits = 6;
  std::chrono::seconds ttl{300};
  std::string text;                                     // empty = the built-in text
};

struct OtpPluginConfig {
  std::string name;
  std::string config;                                   // passed to the plugin's init()
};

// [otp]: the pluggable second factor (docs/otp-plugins.md).
struct OtpConfig {
  std::string issuer = "Sigil";                         // shown by authenticator apps
  unsigned totp_window = 1;
  unsigned hotp_look_ahead = 10;
  std::filesystem::path plugin_dir;                     // *.so providers and channels; empty = none
  std::vector<OtpChannelConfig> channels;
  std::vector<OtpProviderConfig> providers;
  std::vector<OtpPluginConfig> plugins;
};

// [csc]: the CSC API (docs/csc-api.md).
struct CscConfig {
  bool enabled = true;
  std::string name = "Sigil";
  std::string logo;
  std::string region = "EU";
  std::string lang = "en-US";
  std::string description = "Sigil on-premise remote signing service";
  std::string oauth2_base_uri;                          // info.oauth2; empty = https://<Host>/csc/v2
};

// The outbound notifications of a section ([batch], [signservice]): its webhook_* keys.
struct WebhookConfig {
  std::vector<std::string> prefixes;               // allowed webhook URL prefixes; empty: webhooks refused
  std::chrono::milliseconds timeout{5000};         // per attempt
  unsigned attempts = 3;
  std::filesystem::path ca_file;                   // https webhooks: trust anchors; empty: the system store
  SecretRef secret;                                // set: every POST carries Sigil-Signature (HMAC-SHA256)
};

// [batch]: batch signing (docs/batch-api.md).
struct BatchConfig {
  unsigned workers = 2;                            // threads signing batch items
  std::size_t sync_max_items = 100;                // larger batches run as jobs (202 + id)
  std::size_t max_items = 10000;                   // items per batch at most
  std::chrono::seconds retention{24 * 3600};       // finished batches and idempotency keys kept this long
  WebhookConfig webhook;                           // webhook_* keys
};

// The Sign Service for portals (docs/signservice-api.md): documents, signers in order, tasks.
struct SignServiceConfig {
  bool enabled = true;
  std::size_t max_signers = 20;                    // signers per document at most
  WebhookConfig webhook = [] {                     // webhook_* keys; retried for ~4 minutes by default
    WebhookConfig w;
    w.attempts = 10;
    return w;
  }();
  std::string task_url;                            // "https://portal.example/sign/{task}": link in task.ready
  std::chrono::seconds retention{0};               // finished documents deleted this long after; 0: kept
};

// The audit trail (docs/audit.md). Always on: sigild does not start without its audit key.
struct AuditConfig {
  std::string key_label = "audit-key";                // checkpoint signing key in the token
  std::int64_t checkpoint_every_records = 1000;       // 0 = not by count
  std::chrono::seconds checkpoint_interval{60};       // 0 = not by time
  std::size_t group_commit_max = 256;                 // records per transaction at most
  std::chrono::microseconds group_commit_wait{0};     // extra wait for more records (0: records that queue
                                                      // during a commit share the next one; measured best)
};

// Time-stamps for B-T and above: external RFC 3161 TSAs, or the built-in TSA (docs/timestamps-and-revocation.md).
inline constexpr const char* kDefaultTsaPolicy = "2.25.62699589397180710435648714778098733257";
struct TsaConfig {
  std::vector<std::string> urls;                     // external TSAs, tried in order; empty = the built-in TSA
  std::chrono::milliseconds timeout{10000};          // per external TSA
  std::string policy_oid;                            // policy requested from external TSAs
  std::filesystem::path trust_file;                  // PEM trust anchors for external TSA replies
  bool builtin_enabled = true;                       // POST /tsa and the local time-stamp source
  std::string builtin_key_label = "demo-tsa";        // token key of the built-in TSA
  std::filesystem::path builtin_certificate_file;    // default: <pki.dir>/tsa.pem
  std::filesystem::path builtin_chain_file;          // default: <pki.dir>/issuing-ca.pem and root-ca.pem
  std::string builtin_policy_oid = kDefaultTsaPolicy;
  bool builtin_require_auth = false;                 // POST /tsa only for authenticated callers
};

struct RevocationConfig {
  std::string on_unavailable = "fail";               // fail | degrade (sign at B-T and say so)
  std::chrono::milliseconds ocsp_timeout{5000};
  std::chrono::milliseconds crl_timeout{10000};
  std::string ocsp_url;                              // asked instead of the certificates' AIA URLs
};

// A named signing profile ([[profiles]]): POST /api/v1/sign?profile=<name>.
// A named visible-signature template ([[appearances]]): a back office names it instead of
// repeating page, box, text, image and font (profiles' `appearance`, /api/v1/sign?appearance=).
struct AppearanceConfig {
  std::string name;
  unsigned page = 1;
  double x = 36, y = 36, width = 220, height = 60;
  bool from_top = false;                  // y measured from the top of the page
  std::vector<std::string> lines;         // explicit lines; empty → name/date/reason/location + text
  bool show_name = true, show_date = true, show_reason = true, show_location = true;
  std::string text;                       // an extra last line
  double font_size = 0;                   // 0 → fitted
  std::filesystem::path image;            // PNG or JPEG
  std::filesystem::path font;             // TrueType to embed (PDF/A needs one)
};

struct ProfileConfig {
  std::string name;
  std::string credential;                  // id of an unattended credential of the calling service user
  std::string format = "pades";            // pades | xades | cades
  std::string level = "B-B";               // B-B | B-T | B-LT | B-LTA
  std::string packaging;                   // enveloped | enveloping | detached; default per format
  std::string digest = "sha256";           // sha256 | sha384 | sha512
  std::string reason, location, contact_info;  // PAdES signature dictionary
  unsigned certification = 0;              // PAdES: 0 approval signature, 1..3 certification (DocMDP /P)
  bool visible = false;                    // PAdES: a visible stamp
  unsigned page = 1;                       // PAdES stamp: page (1-based) and box in points
  unsigned x = 36, y = 36, width = 220, height = 60;
  std::string text;                        // PAdES stamp: an extra line
  std::filesystem::path font;              // PAdES stamp: a TrueType font to embed (PDF/A needs one)
  std::string appearance;                  // PAdES: an [[appearances]] template (instead of the keys above)
  std::string xades_profile;               // XAdES preset (e.g. "facturae-3.1")
};

struct Config {
  std::filesystem::path source;              // the file it was loaded from
  std::filesystem::path data_dir;            // default: directory of the config file
  ServerConfig server;
  LogConfig log;
  StoreConfig store;
  HsmConfig hsm;
  PkiConfig pki;
  AuthConfig auth;
  AuthorizationConfig authorization;
  OtpConfig otp;
  CscConfig csc;
  BatchConfig batch;
  SignServiceConfig signservice;
  AuditConfig audit;
  TsaConfig tsa;
  RevocationConfig revocation;
  std::vector<AppearanceConfig> appearances;
  std::vector<ProfileConfig> profiles;
};

// Parses and validates; `source_name` appears in error messages. `base_dir` resolves relative paths.
Config parse(std::string_view toml_text, std::string_view source_name, const std::filesystem::path& base_dir);
// Reads the file and parses it (base_dir = the file's directory).
Config load(const std::filesystem::path& path);

bool is_loopback_address(std::string_view address);

}  // namespace sigil::config
