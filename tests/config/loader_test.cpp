// Mapping from TOML keys to fields, defaults and path resolution.
#include <gtest/gtest.h>

#include <fstream>

#include "config_test_util.hpp"
#include "sigil/common/error.hpp"
#include "temp_dir.hpp"

namespace sigil::config::test {
namespace {

TEST(ConfigLoader, MinimalFileGivesDefaults) {
  Config expected = defaults(kBase, kSource);
  expected.server.tls = false;
  expect_same(expected, parse_text(kPlainHttp));
}

TEST(ConfigLoader, EveryKeyFillsItsField) {
  const Config c = parse_text(R"(
data_dir = "/var/lib/sigil"
[server]
listen_address = "0.0.0.0"
port = 9443
port_file = "run/port"
io_threads = 3
worker_threads = 5
worker_queue = 7
max_body_bytes = 1000
memory_body_bytes = 100
spool_dir = "/tmp/spool"
max_header_bytes = 2048
max_json_depth = 9
max_connections = 11
request_timeout_ms = 1500
idle_timeout_ms = 2500
shutdown_grace_ms = 0
debug_endpoints = true
[server.tls]
enabled = true
cert_file = "tls/c.pem"
key_file = "tls/k.pem"
client_ca_file = "tls/ca.pem"
client_certs = "required"
min_version = "1.3"
[log]
level = "debug"
format = "json"
access_log = false
[store]
backend = "postgres"
sqlite_path = "/srv/x.db"
busy_timeout_ms = 10
postgres_conninfo = { env = "PG_CONNINFO" }
[hsm]
module = "libsofthsm2.so"
token_label = "t"
token_serial = "abc"
user_pin = { file = "pins/user.pin" }
pool_size = 2
softhsm_conf = "softhsm2.conf"
[pki]
dir = "pki"
[auth]
max_failed_logins = 3
lockout_seconds = 60
)");
  EXPECT_EQ(c.data_dir, "/var/lib/sigil");
  EXPECT_EQ(c.server.listen_address, "0.0.0.0");
  EXPECT_EQ(c.server.port, 9443);
  EXPECT_EQ(c.server.port_file, "/etc/sigil/run/port");
  EXPECT_EQ(c.server.io_threads, 3u);
  EXPECT_EQ(c.server.worker_threads, 5u);
  EXPECT_EQ(c.server.worker_queue, 7u);
  EXPECT_EQ(c.server.max_body_bytes, 1000u);
  EXPECT_EQ(c.server.memory_body_bytes, 100u);
  EXPECT_EQ(c.server.spool_dir, "/tmp/spool");
  EXPECT_EQ(c.server.max_header_bytes, 2048u);
  EXPECT_EQ(c.server.max_json_depth, 9u);
  EXPECT_EQ(c.server.max_connections, 11u);
  EXPECT_EQ(c.server.request_timeout, std::chrono::milliseconds(1500));
  EXPECT_EQ(c.server.idle_timeout, std::chrono::milliseconds(2500));
  EXPECT_EQ(c.server.shutdown_grace, std::chrono::milliseconds(0));
  EXPECT_TRUE(c.server.debug_endpoints);
  EXPECT_TRUE(c.server.tls);
  EXPECT_EQ(c.server.tls_settings.cert_file, "/etc/sigil/tls/c.pem");
  EXPECT_EQ(c.server.tls_settings.key_file, "/etc/sigil/tls/k.pem");
  EXPECT_EQ(c.server.tls_settings.client_ca_file, "/etc/sigil/tls/ca.pem");
  EXPECT_EQ(c.server.tls_settings.client_certs, ClientCertMode::required);
  EXPECT_EQ(c.server.tls_settings.min_version, "1.3");
  EXPECT_EQ(c.log.level, "debug");
  EXPECT_EQ(c.log.format, "json");
  EXPECT_FALSE(c.log.access_log);
  EXPECT_EQ(c.store.backend, "postgres");
  EXPECT_EQ(c.store.sqlite_path, "/srv/x.db");
  EXPECT_EQ(c.store.busy_timeout, std::chrono::milliseconds(10));
  EXPECT_EQ(c.store.postgres_conninfo.env, "PG_CONNINFO");
  EXPECT_TRUE(c.store.postgres_conninfo.file.empty());
  EXPECT_EQ(c.hsm.module, "libsofthsm2.so");  // bare name: left for dlopen's search
  EXPECT_EQ(c.hsm.token_label, "t");
  EXPECT_EQ(c.hsm.token_serial, "abc");
  EXPECT_EQ(c.hsm.user_pin.file, "/etc/sigil/pins/user.pin");
  EXPECT_TRUE(c.hsm.user_pin.env.empty());
  EXPECT_EQ(c.hsm.pool_size, 2u);
  EXPECT_EQ(c.hsm.softhsm_conf, "/etc/sigil/softhsm2.conf");
  EXPECT_EQ(c.pki.dir, "/etc/sigil/pki");
  EXPECT_EQ(c.auth.max_failed_logins, 3u);
  EXPECT_EQ(c.auth.lockout, std::chrono::seconds(60));
}

TEST(ConfigLoader, OptionalClientCertsAndSecretAsStandardTable) {
  const Config c = parse_text(R"([server.tls]
cert_file = "c.pem"
key_file = "k.pem"
client_ca_file = "ca.pem"
client_certs = "optional"
[hsm.user_pin]
env = "SIGIL_HSM_PIN"
)");
  EXPECT_EQ(c.server.tls_settings.client_certs, ClientCertMode::optional);
  EXPECT_EQ(c.hsm.user_pin.env, "SIGIL_HSM_PIN");
}

TEST(ConfigLoader, RelativePathsResolveAgainstBaseDir) {
  const Config c = parse(R"(data_dir = "../data"
[server.tls]
enabled = false
[store]
sqlite_path = "./db/../sigil.db"
[hsm]
module = "lib/pkcs11.so"
)",
                         "x.toml", "/opt/sigil/etc");
  EXPECT_EQ(c.data_dir, "/opt/sigil/data");
  EXPECT_EQ(c.server.spool_dir, "/opt/sigil/data/spool");  // derived from data_dir
  EXPECT_EQ(c.store.sqlite_path, "/opt/sigil/etc/sigil.db");
  EXPECT_EQ(c.hsm.module, "/opt/sigil/etc/lib/pkcs11.so");  // has a '/': a path, resolved
}

TEST(ConfigLoader, DataDirDerivesSpoolAndDatabase) {
  const Config c = parse_text("data_dir = \"/srv/sigil\"\n" + std::string(kPlainHttp));
  EXPECT_EQ(c.server.spool_dir, "/srv/sigil/spool");
  EXPECT_EQ(c.store.sqlite_path, "/srv/sigil/sigil.db");
}

TEST(ConfigLoader, LoadUsesTheFilesDirectory) {
  sigil::test::TempDir dir;
  const auto file = dir.path() / "sigil.toml";
  std::ofstream(file) << kPlainHttp << "[pki]\ndir = \"pki\"\n";
  const Config c = load(file);
  EXPECT_EQ(c.source, file);
  EXPECT_EQ(c.data_dir, dir.path());
  EXPECT_EQ(c.pki.dir, dir.path() / "pki");
  EXPECT_EQ(c.store.sqlite_path, dir.path() / "sigil.db");
}

TEST(ConfigLoader, LoadMissingFileNamesIt) {
  sigil::test::TempDir dir;
  const auto file = dir.path() / "absent.toml";
  try {
    load(file);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::config_invalid);
    EXPECT_NE(e.detail().find(file.string()), std::string::npos) << e.detail();
  }
}

}  // namespace
}  // namespace sigil::config::test
