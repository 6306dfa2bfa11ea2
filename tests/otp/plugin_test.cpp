// A provider and a channel built as a shared object against the C ABI, loaded from a directory.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>

#include "otp_fixture.hpp"
#include "sigil/otp/delivered.hpp"
#include "sigil/otp/plugins.hpp"

namespace sigil::otp::test {
namespace {

namespace fs = std::filesystem;

class PluginTest : public OtpStoreTest {
 protected:
  fs::path plugin_dir(const std::vector<fs::path>& sos) {
    const fs::path d = dir_.path() / "plugins";
    fs::create_directories(d);
    ::chmod(d.c_str(), 0755);
    for (const auto& so : sos) fs::copy_file(so, d / so.filename(), fs::copy_options::overwrite_existing);
    return d;
  }
  std::map<std::string, std::string> config() { return {{"example", (dir_.path() / "plugin-out.txt").string()}}; }
};

TEST_F(PluginTest, LoadsProviderAndChannelFromTheDirectory) {
  ProviderRegistry providers;
  ChannelRegistry channels;
  const auto loaded = load_plugins(plugin_dir({SIGIL_TEST_EXAMPLE_PLUGIN}), providers, channels, config());
  ASSERT_EQ(loaded.size(), 1u);
  EXPECT_EQ(loaded[0].name, "example");
  EXPECT_EQ(loaded[0].providers, std::vector<std::string>{"example"});
  EXPECT_EQ(loaded[0].channels, std::vector<std::string>{"example-file"});

  Provider& p = providers.get("example");
  const Subject s{user_, "alice", std::nullopt, std::nullopt};
  EXPECT_TRUE(p.challenge(s, "tx-1").delivered);
  EXPECT_EQ(p.verify(s, "tx-1", SecretString("000000")), VerifyResult::invalid);
  EXPECT_EQ(p.verify(s, "tx-1", SecretString("424242")), VerifyResult::ok);
  EXPECT_EQ(p.verify(s, "tx-1", SecretString("424242")), VerifyResult::replayed);

  // The plugin's channel behind a built-in delivered-code provider.
  DeliveredOptions o;
  o.name = "plugin-sms";
  o.channel = "example-file";
  DeliveredCodeProvider delivered(db(), clock_, box_, channels, o);
  delivered.challenge(s, "tx-2");
  const auto out = lines(dir_.path() / "plugin-out.txt");
  ASSERT_EQ(out.size(), 1u);
  std::istringstream in(out[0]);
  std::string recipient, tx, code;
  in >> recipient >> tx >> code;
  EXPECT_EQ(recipient, "alice");
  EXPECT_EQ(tx, "tx-2");
  EXPECT_EQ(delivered.verify(s, "tx-2", SecretString(code)), VerifyResult::ok);
}

TEST_F(PluginTest, RefusesOtherAbiVersionsClashesAndUnsafeDirectories) {
  ProviderRegistry providers;
  ChannelRegistry channels;
  EXPECT_SIGIL_ERROR(load_plugin(SIGIL_TEST_BAD_ABI_PLUGIN, providers, channels), Errc::config_invalid);
  // init() needs its config.
  EXPECT_SIGIL_ERROR(load_plugin(SIGIL_TEST_EXAMPLE_PLUGIN, providers, channels), Errc::config_invalid);
  load_plugin(SIGIL_TEST_EXAMPLE_PLUGIN, providers, channels, config());
  EXPECT_SIGIL_ERROR(load_plugin(SIGIL_TEST_EXAMPLE_PLUGIN, providers, channels, config()), Errc::config_invalid);

  const fs::path d = plugin_dir({SIGIL_TEST_EXAMPLE_PLUGIN});
  ::chmod(d.c_str(), 0777);
  ProviderRegistry p2;
  ChannelRegistry c2;
  EXPECT_SIGIL_ERROR(load_plugins(d, p2, c2, config()), Errc::config_invalid);
  EXPECT_TRUE(load_plugins(dir_.path() / "missing", p2, c2).empty());
}

}  // namespace
}  // namespace sigil::otp::test
