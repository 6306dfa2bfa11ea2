// Every validation rule: the error code, and a public message naming the full key and its line.
#include <gtest/gtest.h>

#include "config_test_util.hpp"
#include "sigil/common/error.hpp"

namespace sigil::config::test {
namespace {

struct Case {
  const char* name;
  const char* toml;
  Errc code;
  const char* key;      // full dotted key the message must name
  int line;             // line the message must point at
  const char* also{""};  // another fragment the message must contain
};

std::ostream& operator<<(std::ostream& os, const Case& c) { return os << c.name; }

// Lines 1-2 of many cases: TLS off, so that the rule under test is the only problem.
#define PLAIN "[server.tls]\nenabled = false\n"

const Case kCases[] = {
    // Unknown keys, at every depth, named in full.
    {"unknown_top_level", "colour = 1\n" PLAIN, Errc::config_unknown_key, "colour", 1},
    {"unknown_section", PLAIN "[serverr]\nport = 1\n", Errc::config_unknown_key, "serverr", 3},
    {"unknown_server_key", PLAIN "[server]\nlisten_adress = \"::1\"\n", Errc::config_unknown_key,
     "server.listen_adress", 4, "did you mean 'server.listen_address'"},
    {"unknown_tls_key", "[server.tls]\nenabled = false\nfoo = 1\n", Errc::config_unknown_key, "server.tls.foo", 3},
    {"unknown_secret_key", PLAIN "[hsm]\nuser_pin = { value = \"x\" }\n", Errc::config_unknown_key,
     "hsm.user_pin.value", 4},
    {"unknown_dotted_key", "log.colour = true\n" PLAIN, Errc::config_unknown_key, "log.colour", 1},
    // A top-level key written after a table header belongs to that table.
    {"key_after_header", PLAIN "data_dir = \"d\"\n", Errc::config_unknown_key, "server.tls.data_dir", 3},
    // Types.
    {"port_is_string", "[server]\nport = \"8443\"\n", Errc::config_invalid, "server.port", 2, "expected integer"},
    {"tls_enabled_is_string", "[server.tls]\nenabled = \"no\"\n", Errc::config_invalid, "server.tls.enabled", 2,
     "expected boolean"},
    {"server_is_integer", "server = 1\n", Errc::config_invalid, "server", 1, "expected table"},
    {"threads_is_float", "[server]\nio_threads = 2.0\n", Errc::config_invalid, "server.io_threads", 2,
     "expected integer"},
    {"pin_is_inline", PLAIN "[hsm]\nuser_pin = \"s3cr3t\"\n", Errc::config_invalid, "hsm.user_pin", 4,
     "never written inline"},
    // Values.
    {"port_too_large", "[server]\nport = 65536\n", Errc::config_invalid, "server.port", 2, "between 0 and 65535"},
    {"port_negative", "[server]\nport = -1\n", Errc::config_invalid, "server.port", 2, "between 0 and 65535"},
    {"io_threads_zero", "[server]\nio_threads = 0\n", Errc::config_invalid, "server.io_threads", 2, "at least 1"},
    {"worker_threads_zero", "\n[server]\nworker_threads = 0\n", Errc::config_invalid, "server.worker_threads", 3},
    {"worker_queue_zero", "[server]\nworker_queue = 0\n", Errc::config_invalid, "server.worker_queue", 2},
    {"threads_overflow", "[server]\nio_threads = 4294967296\n", Errc::config_invalid, "server.io_threads", 2,
     "between 1 and 4294967295"},
    {"timeout_zero", "[server]\nrequest_timeout_ms = 0\n", Errc::config_invalid, "server.request_timeout_ms", 2},
    {"memory_above_max", "[server]\nmax_body_bytes = 1000\nmemory_body_bytes = 1001\n", Errc::config_invalid,
     "server.memory_body_bytes", 3, "larger than max_body_bytes"},
    {"max_below_default_memory", "[server]\nmax_body_bytes = 1000\n", Errc::config_invalid,
     "server.max_body_bytes", 2, "larger than max_body_bytes"},
    {"empty_string", "[server]\nlisten_address = \"\"\n", Errc::config_invalid, "server.listen_address", 2,
     "must not be empty"},
    {"log_level", PLAIN "[log]\nlevel = \"verbose\"\n", Errc::config_invalid, "log.level", 4, "\"verbose\""},
    {"log_format", PLAIN "[log]\nformat = \"xml\"\n", Errc::config_invalid, "log.format", 4, "\"text\", \"json\""},
    {"backend", PLAIN "[store]\nbackend = \"mysql\"\n", Errc::config_invalid, "store.backend", 4},
    {"postgres_needs_conninfo", PLAIN "[store]\nbackend = \"postgres\"\n", Errc::config_invalid, "store.backend", 4,
     "store.postgres_conninfo"},
    {"pool_size_zero", PLAIN "[hsm]\npool_size = 0\n", Errc::config_invalid, "hsm.pool_size", 4},
    {"lockout_zero", PLAIN "[auth]\nlockout_seconds = 0\n", Errc::config_invalid, "auth.lockout_seconds", 4},
    {"secret_both", PLAIN "[hsm]\nuser_pin = { file = \"p\", env = \"P\" }\n", Errc::config_invalid,
     "hsm.user_pin", 4, "exactly one"},
    {"secret_neither", PLAIN "[store]\npostgres_conninfo = {}\n", Errc::config_invalid, "store.postgres_conninfo", 4,
     "exactly one"},
    // Audit.
    {"audit_unknown_key", PLAIN "[audit]\ncheckpoint_every = 5\n", Errc::config_unknown_key,
     "audit.checkpoint_every", 4},
    {"audit_group_commit_zero", PLAIN "[audit]\ngroup_commit_max = 0\n", Errc::config_invalid,
     "audit.group_commit_max", 4, "between 1 and 65536"},
    {"audit_wait_too_long", PLAIN "[audit]\ngroup_commit_wait_us = 1000001\n", Errc::config_invalid,
     "audit.group_commit_wait_us", 4},
    {"audit_never_checkpoints", PLAIN "[audit]\ncheckpoint_every_records = 0\ncheckpoint_interval_seconds = 0\n",
     Errc::config_invalid, "audit.checkpoint_interval_seconds", 5, "only be signed at shutdown"},
    {"audit_empty_label", PLAIN "[audit]\nkey_label = \"\"\n", Errc::config_invalid, "audit.key_label", 4,
     "must not be empty"},
    // Second factor, credential authorisation, CSC.
    {"authorization_attempts_zero", PLAIN "[authorization]\nmax_attempts = 0\n", Errc::config_invalid,
     "authorization.max_attempts", 4},
    {"otp_channel_type", PLAIN "[[otp.channels]]\nname = \"c\"\ntype = \"pigeon\"\n", Errc::config_invalid,
     "otp.channels[0].type", 5, "\"file\""},
    {"otp_file_channel_needs_path", PLAIN "[[otp.channels]]\nname = \"c\"\ntype = \"file\"\n", Errc::config_invalid,
     "otp.channels[0].path", 3, "is required"},
    {"otp_command_absolute", PLAIN "[[otp.channels]]\nname = \"c\"\ntype = \"command\"\ncommand = [\"sms\"]\n",
     Errc::config_invalid, "otp.channels[0].command", 6, "absolute"},
    {"otp_provider_builtin_name", PLAIN "[[otp.providers]]\nname = \"totp\"\nchannel = \"c\"\n", Errc::config_invalid,
     "otp.providers[0].name", 4, "built-in"},
    {"otp_provider_digits", PLAIN "[[otp.providers]]\nname = \"sms\"\nchannel = \"c\"\ndigits = 4\n",
     Errc::config_invalid, "otp.providers[0].digits", 6},
    {"otp_provider_text_without_code", PLAIN "[[otp.providers]]\nname = \"sms\"\nchannel = \"c\"\ntext = \"hi\"\n",
     Errc::config_invalid, "otp.providers[0].text", 6, "{code}"},
    {"csc_region", PLAIN "[csc]\nregion = \"EUR\"\n", Errc::config_invalid, "csc.region", 4, "alpha-2"},
    {"batch_workers_zero", PLAIN "[batch]\nworkers = 0\n", Errc::config_invalid, "batch.workers", 4},
    {"batch_sync_above_max", PLAIN "[batch]\nmax_items = 10\nsync_max_items = 20\n", Errc::config_invalid,
     "batch.sync_max_items", 5, "batch.max_items"},
    {"batch_webhook_plain_http", PLAIN "[batch]\nwebhook_prefixes = [\"http://erp.example.com/hooks/\"]\n",
     Errc::config_invalid, "batch.webhook_prefixes", 4, "loopback"},
    {"batch_webhook_no_path", PLAIN "[batch]\nwebhook_prefixes = [\"https://erp.example.com\"]\n",
     Errc::config_invalid, "batch.webhook_prefixes", 4, "after the host"},
    {"signservice_webhook_plain_http", PLAIN "[signservice]\nwebhook_prefixes = [\"http://portal.example/hooks/\"]\n",
     Errc::config_invalid, "signservice.webhook_prefixes", 4, "loopback"},
    {"signservice_task_url_without_task", PLAIN "[signservice]\ntask_url = \"https://portal.example/sign/\"\n",
     Errc::config_invalid, "signservice.task_url", 4, "{task}"},
    {"signservice_retention_negative", PLAIN "[signservice]\nretention_days = -1\n", Errc::config_invalid,
     "signservice.retention_days", 4},
    {"signservice_max_signers_zero", PLAIN "[signservice]\nmax_signers = 0\n", Errc::config_invalid,
     "signservice.max_signers", 4},
    // TLS.
    {"tls_needs_cert", "[server.tls]\nenabled = true\nkey_file = \"k\"\n", Errc::config_invalid,
     "server.tls.cert_file", 1, "is required"},
    {"tls_needs_key", "[server.tls]\ncert_file = \"c\"\n", Errc::config_invalid, "server.tls.key_file", 1,
     "is required"},
    {"plain_http_off_loopback", "[server]\nlisten_address = \"0.0.0.0\"\n[server.tls]\nenabled = false\n",
     Errc::config_invalid, "server.tls.enabled", 4, "only allowed on a loopback address"},
    {"client_certs_need_ca", "[server.tls]\ncert_file = \"c\"\nkey_file = \"k\"\nclient_certs = \"required\"\n",
     Errc::config_invalid, "server.tls.client_certs", 4, "client_ca_file"},
    {"client_certs_need_tls", PLAIN "client_ca_file = \"ca\"\nclient_certs = \"optional\"\n", Errc::config_invalid,
     "server.tls.client_certs", 4, "needs TLS"},
    {"client_certs_value", PLAIN "client_certs = \"maybe\"\n", Errc::config_invalid, "server.tls.client_certs", 3},
    {"min_version", PLAIN "min_version = \"1.1\"\n", Errc::config_invalid, "server.tls.min_version", 3,
     "\"1.2\", \"1.3\""},
    {"min_version_float", PLAIN "min_version = 1.3\n", Errc::config_invalid, "server.tls.min_version", 3,
     "expected string"},
};

class ConfigValidation : public ::testing::TestWithParam<Case> {};

TEST_P(ConfigValidation, NamesKeyAndLine) {
  const Case& c = GetParam();
  try {
    parse_text(c.toml);
    FAIL() << "expected an error for:\n" << c.toml;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), c.code) << e.detail();
    EXPECT_TRUE(e.detail_is_public());
    const std::string& msg = e.detail();
    EXPECT_EQ(msg.rfind("test.toml:" + std::to_string(c.line) + ": ", 0), 0u) << msg;
    EXPECT_NE(msg.find("'" + std::string(c.key) + "'"), std::string::npos) << msg;
    EXPECT_NE(msg.find(c.also), std::string::npos) << msg;
    EXPECT_EQ(msg.find("s3cr3t"), std::string::npos) << "a value leaked: " << msg;
  }
}

INSTANTIATE_TEST_SUITE_P(Rules, ConfigValidation, ::testing::ValuesIn(kCases),
                         [](const auto& p) { return std::string(p.param.name); });

TEST(ConfigSyntax, ErrorNamesLineAndColumn) {
  try {
    parse_text("[server]\nport = = 1\n");
    FAIL() << "expected a syntax error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::config_invalid);
    EXPECT_TRUE(e.detail_is_public());
    EXPECT_EQ(e.detail().rfind("test.toml:2:8: TOML syntax error", 0), 0u) << e.detail();
  }
}

TEST(ConfigSyntax, DuplicateKeyIsASyntaxError) {
  try {
    parse_text("[log]\nlevel = \"info\"\nlevel = \"warn\"\n");
    FAIL() << "expected a syntax error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::config_invalid);
    EXPECT_EQ(e.detail().rfind("test.toml:3:", 0), 0u) << e.detail();
  }
}

}  // namespace
}  // namespace sigil::config::test

namespace sigil::config::test {
namespace {

TEST(ConfigSigning, ProfilesTsaAndRevocationAreRead) {
  const auto c = parse(R"(
[server.tls]
enabled = false
[tsa]
urls = ["http://127.0.0.1:9/tsa", "https://tsa.example.org/"]
[tsa.builtin]
enabled = false
[revocation]
on_unavailable = "degrade"
[[profiles]]
name = "invoices"
credential = "cred_x"
level = "B-T"
visible = true
certification = 2
[[profiles]]
name = "stamped"
credential = "cred_z"
appearance = "corner"
[[appearances]]
name = "corner"
x = 400
y = 20
from_top = true
lines = ["Approved", "Sigil"]
font_size = 9
[[profiles]]
name = "xml"
credential = "cred_y"
format = "xades"
)",
                       "t.toml", "/etc/sigil");
  ASSERT_EQ(c.tsa.urls.size(), 2U);
  EXPECT_FALSE(c.tsa.builtin_enabled);
  EXPECT_EQ(c.revocation.on_unavailable, "degrade");
  ASSERT_EQ(c.profiles.size(), 3U);
  EXPECT_EQ(c.profiles[1].appearance, "corner");
  ASSERT_EQ(c.appearances.size(), 1U);
  EXPECT_EQ(c.appearances[0].x, 400);
  EXPECT_TRUE(c.appearances[0].from_top);
  EXPECT_EQ(c.appearances[0].lines, (std::vector<std::string>{"Approved", "Sigil"}));
  EXPECT_EQ(c.appearances[0].font_size, 9);
  EXPECT_EQ(c.profiles[0].level, "B-T");
  EXPECT_TRUE(c.profiles[0].visible);
  EXPECT_EQ(c.profiles[0].certification, 2U);
  EXPECT_EQ(c.profiles[2].certification, 0U);
  EXPECT_EQ(c.profiles[2].format, "xades");
}

TEST(ConfigSigning, BadSigningSettingsNameTheKey) {
  auto fails_with = [](const char* text, const char* needle) {
    try {
      parse(std::string("[server.tls]\nenabled = false\n") + text, "t.toml", "/etc/sigil");
      ADD_FAILURE() << "accepted: " << text;
    } catch (const Error& e) {
      EXPECT_NE(e.detail().find(needle), std::string::npos) << e.detail();
    }
  };
  fails_with("[tsa]\nurls = [\"ftp://x\"]\n", "tsa.urls");
  fails_with("[tsa]\nurls = \"http://x\"\n", "tsa.urls");
  fails_with("[revocation]\non_unavailable = \"maybe\"\n", "revocation.on_unavailable");
  fails_with("[[profiles]]\nname = \"a\"\ncredential = \"\"\n", "profiles[0].credential");
  // Without a credential: a Sign Service profile (each signer signs with their own).
  EXPECT_TRUE(parse_text(PLAIN "[[profiles]]\nname = \"portal\"\n").profiles.at(0).credential.empty());
  fails_with("[[profiles]]\nname = \"a\"\ncredential = \"c\"\nlevel = \"B-X\"\n", "profiles[0].level");
  fails_with("[[profiles]]\nname = \"a\"\ncredential = \"c\"\n[[profiles]]\nname = \"a\"\ncredential = \"d\"\n", "two profiles");
  fails_with("[[profiles]]\nname = \"a\"\ncredential = \"c\"\ncolour = \"red\"\n", "profiles[0].colour");
  fails_with("[[profiles]]\nname = \"a\"\ncredential = \"c\"\ncertification = 4\n", "profiles[0].certification");
  fails_with("[[profiles]]\nname = \"a\"\ncredential = \"c\"\nfont = \"/nonexistent/font.ttf\"\n", "profiles[0].font");
  fails_with("[[profiles]]\nname = \"a\"\ncredential = \"c\"\nappearance = \"nope\"\n", "profiles[0].appearance");
  fails_with("[[appearances]]\nname = \"s\"\n[[profiles]]\nname = \"a\"\ncredential = \"c\"\nvisible = true\nappearance = \"s\"\n",
             "profiles[0].appearance");
  fails_with("[[appearances]]\nname = \"s\"\n[[profiles]]\nname = \"a\"\ncredential = \"c\"\nformat = \"xades\"\nappearance = \"s\"\n",
             "profiles[0].appearance");
  fails_with("[[appearances]]\nname = \"none\"\n", "appearances[0].name");
  fails_with("[[appearances]]\nname = \"s\"\nimage = \"/nonexistent/logo.png\"\n", "appearances[0].image");
  fails_with("[[appearances]]\nname = \"s\"\nwidth = 0\n", "appearances[0].width");
  fails_with("[[appearances]]\nname = \"s\"\nlines = [1]\n", "appearances[0].lines");
  fails_with("[[appearances]]\nname = \"s\"\n[[appearances]]\nname = \"s\"\n", "two appearances");
  fails_with("[[profiles]]\nname = \"a\"\ncredential = \"c\"\nformat = \"cades\"\ncertification = 1\n",
             "profiles[0].certification");
}

}  // namespace
}  // namespace sigil::config::test
