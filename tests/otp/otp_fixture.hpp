// A fresh SQLite store in a TempDir, a FakeClock and an auth key, for the otp tests.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "sigil/otp/secret_box.hpp"
#include "sigil/store/store.hpp"
#include "temp_dir.hpp"
#include "test_store.hpp"
#include "test_util.hpp"

namespace sigil::otp::test {

using ::sigil::test::FakeClock;

class OtpStoreTest : public ::testing::Test {
 protected:
  OtpStoreTest() : box_(SecretBox::generate_key()) {
    store::StoreOptions options;
    options.password = store::PasswordParams{1, 1024, 1};
    store_ = store::open_store(backend_.config(), clock_, options);
    user_ = store_->users().create(store::NewUser{"alice", {std::nullopt, "alice@example.com", "+15550100"}, store::UserStatus::active},
                                   {store::Role::signer});
  }
  store::Database& db() { return store_->database(); }
  std::vector<std::string> lines(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::vector<std::string> out;
    for (std::string l; std::getline(in, l);) out.push_back(l);
    return out;
  }

  sigil::test::TempDir dir_;
  sigil::test::TestStore backend_{dir_.path()};  // SQLite in dir_, or a PostgreSQL schema
  FakeClock clock_;
  SecretBox box_;
  std::unique_ptr<store::Store> store_;
  std::string user_;
};

}  // namespace sigil::otp::test
