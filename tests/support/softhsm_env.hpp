// A fresh SoftHSM2 token in a temporary directory, once per test binary (PKCS#11 state is per
// process). Never touches ~/.config/softhsm2 or /var/lib/softhsm.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "sigil/hsm/token.hpp"
#include "temp_dir.hpp"

namespace sigil::test {

inline const char* kSoftHsmModule = "/usr/lib/softhsm/libsofthsm2.so";
inline const char* kTokenLabel = "sigil-test";
inline const char* kUserPin = "1234-user";
inline const char* kSoPin = "5678-so";

class SoftHsmEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    dir_ = std::make_unique<TempDir>();
    const auto tokens = dir_->path() / "tokens";
    std::filesystem::create_directories(tokens);
    const auto conf = dir_->path() / "softhsm2.conf";
    std::ofstream(conf) << "directories.tokendir = " << tokens.string()
                        << "\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n";
    ::setenv("SOFTHSM2_CONF", conf.c_str(), 1);
    hsm::init_token(kSoftHsmModule, kTokenLabel, SecretString(kSoPin), SecretString(kUserPin));
  }
  void TearDown() override { dir_.reset(); }

 private:
  std::unique_ptr<TempDir> dir_;
};

inline std::unique_ptr<hsm::Token> open_test_token(unsigned pool_size = 8) {
  hsm::TokenOptions o;
  o.module = kSoftHsmModule;
  o.label = kTokenLabel;
  o.user_pin = SecretString(kUserPin);
  o.pool_size = pool_size;
  return hsm::Token::open(std::move(o));
}

}  // namespace sigil::test
