// SecretRef::resolve: file and environment sources; errors name the source, never the value.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "sigil/common/error.hpp"
#include "sigil/config/config.hpp"
#include "temp_dir.hpp"

namespace sigil::config {
namespace {

class SecretTest : public ::testing::Test {
 protected:
  std::filesystem::path write(const std::string& name, const std::string& content) {
    const auto p = dir_.path() / name;
    std::ofstream(p, std::ios::binary) << content;
    ::chmod(p.c_str(), 0600);
    return p;
  }
  // An environment variable name unique to this process, unset again afterwards.
  std::string var_ = "SIGIL_CONFIG_TEST_SECRET_" + std::to_string(::getpid());
  void TearDown() override { ::unsetenv(var_.c_str()); }

  sigil::test::TempDir dir_;
};

// Resolves and expects an Error with `code` whose message names `source` but not `value`.
void expect_error(const SecretRef& ref, Errc code, const std::string& source, const std::string& value = "s3cr3t") {
  try {
    (void)ref.resolve();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.detail();
    EXPECT_TRUE(e.detail_is_public());
    EXPECT_NE(e.detail().find(source), std::string::npos) << e.detail();
    EXPECT_EQ(e.detail().find(value), std::string::npos) << "value leaked: " << e.detail();
  }
}

TEST_F(SecretTest, FileFirstLineWithoutLineEnding) {
  const auto value = [&](const std::string& content) {
    return std::string(SecretRef{write("secret", content), ""}.resolve().view());
  };
  EXPECT_EQ(value("1234\r\nsecond line\n"), "1234");
  EXPECT_EQ(value("host=db user=sigil\n"), "host=db user=sigil");
  EXPECT_EQ(value("abcd"), "abcd");
}

TEST_F(SecretTest, MissingOrEmptyFileIsSecretMissing) {
  const auto absent = dir_.path() / "absent.pin";
  expect_error(SecretRef{absent, ""}, Errc::config_secret_missing, absent.string());
  const auto empty = write("empty.pin", "");
  expect_error(SecretRef{empty, ""}, Errc::config_secret_missing, empty.string());
  const auto blank = write("blank.pin", "\r\nsecond\n");
  expect_error(SecretRef{blank, ""}, Errc::config_secret_missing, blank.string());
}

TEST_F(SecretTest, OverlongFileIsRefusedWithoutEchoingIt) {
  const auto big = write("big.pin", "s3cr3t" + std::string(5000, 'x'));
  expect_error(SecretRef{big, ""}, Errc::config_invalid, big.string());
}

TEST_F(SecretTest, FromEnvironment) {
  ::setenv(var_.c_str(), "s3cr3t", 1);
  EXPECT_EQ((SecretRef{{}, var_}.resolve().view()), "s3cr3t");
}

TEST_F(SecretTest, MissingOrEmptyEnvironmentIsSecretMissing) {
  expect_error(SecretRef{{}, var_}, Errc::config_secret_missing, var_);
  ::setenv(var_.c_str(), "", 1);
  expect_error(SecretRef{{}, var_}, Errc::config_secret_missing, var_);
}

TEST_F(SecretTest, BothOrNeitherIsRefused) {
  ::setenv(var_.c_str(), "s3cr3t", 1);
  const auto pin = write("user.pin", "s3cr3t\n");
  expect_error(SecretRef{pin, var_}, Errc::config_invalid, "both");
  EXPECT_TRUE(SecretRef{}.empty());
  expect_error(SecretRef{}, Errc::config_secret_missing, "no secret configured");
}

}  // namespace
}  // namespace sigil::config
