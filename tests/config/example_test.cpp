// The shipped example file and the reference docs are tested artefacts: the example must load to
// the built-in defaults, its commented-out optional keys must be valid, and the docs must list
// exactly the keys the example shows.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "config_test_util.hpp"
#include "sigil/common/error.hpp"

namespace sigil::config::test {
namespace {

const std::filesystem::path kSourceDir = SIGIL_SOURCE_DIR;
const std::filesystem::path kExample = kSourceDir / "config" / "sigil.example.toml";

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// "# key = value" lines are optional keys shown commented out; this turns them on.
std::string uncomment_optional_keys(const std::string& text) {
  return std::regex_replace(text, std::regex(R"(^# ([a-z_]+ = ))", std::regex::multiline), "$1");
}

// Dotted names of the keys set in a (simple, one key per line) TOML text.
std::set<std::string> keys_of(const std::string& text) {
  static const std::regex header(R"(^\[([a-z_.]+)\])");
  static const std::regex assignment(R"(^([a-z_]+) = )");
  std::set<std::string> keys;
  std::string table;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, header)) {
      table = m[1].str() + ".";
    } else if (std::regex_search(line, m, assignment)) {
      keys.insert(table + m[1].str());
    }
  }
  return keys;
}

TEST(ConfigExample, LoadsToTheDocumentedDefaults) {
  const Config c = load(kExample);
  const auto dir = kExample.parent_path();
  Config expected = defaults(dir, kExample.string());
  expected.source = kExample;
  // The lines the example marks "NOT a default".
  expected.server.tls_settings.cert_file = dir / "tls/server.crt";
  expected.server.tls_settings.key_file = dir / "tls/server.key";
  expected.hsm.user_pin.env = "SIGIL_HSM_PIN";
  expect_same(expected, c);
}

TEST(ConfigExample, OptionalKeysAreValid) {
  const std::string text = uncomment_optional_keys(read_text(kExample));
  const Config c = parse(text, "example-uncommented.toml", "/etc/sigil");
  EXPECT_EQ(c.data_dir, "/var/lib/sigil");
  EXPECT_FALSE(c.server.port_file.empty());
  EXPECT_FALSE(c.server.tls_settings.client_ca_file.empty());
  EXPECT_FALSE(c.store.postgres_conninfo.empty());
  EXPECT_FALSE(c.hsm.token_serial.empty());
  EXPECT_FALSE(c.hsm.softhsm_conf.empty());
  EXPECT_FALSE(c.batch.webhook.secret.empty());
  EXPECT_FALSE(c.signservice.webhook.secret.empty());
  EXPECT_FALSE(c.pki.dir.empty());
}

TEST(ConfigExample, DocsListExactlyTheExampleKeys) {
  const std::set<std::string> example = keys_of(uncomment_optional_keys(read_text(kExample)));
  EXPECT_GE(example.size(), 35u);  // the parser above found the keys at all

  std::set<std::string> documented;
  static const std::regex row(R"(^\| `([a-z_.]+)` \|)");
  std::istringstream in(read_text(kSourceDir / "docs" / "configuration.md"));
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, row)) documented.insert(m[1].str());
  }
  for (const auto& k : example) EXPECT_TRUE(documented.count(k)) << k << " is not in docs/configuration.md";
  for (const auto& k : documented) EXPECT_TRUE(example.count(k)) << k << " is not in config/sigil.example.toml";
}

}  // namespace
}  // namespace sigil::config::test
