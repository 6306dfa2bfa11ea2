// A fresh store with two users and credentials of each second-factor policy, a FakeClock, the TOTP
// provider and a delivered-code provider over the file channel, and an event recorder.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "sigil/auth/authorization.hpp"
#include "sigil/otp/channels.hpp"
#include "sigil/otp/delivered.hpp"
#include "sigil/otp/totp.hpp"
#include "sigil/store/store.hpp"
#include "temp_dir.hpp"
#include "test_store.hpp"
#include "test_util.hpp"

namespace sigil::auth::test {

using ::sigil::test::FakeClock;

// Thread-safe: the concurrency tests record from several threads at once.
class RecordingEvents final : public AuthEvents {
 public:
  void on_event(const AuthEvent& e) override {
    std::lock_guard lock(mu_);
    if (fail_next) {
      fail_next = false;
      throw Error(Errc::audit_unavailable, "test: audit down");
    }
    events.push_back(e);
  }
  std::size_t count(AuthEventType t) const {
    std::lock_guard lock(mu_);
    std::size_t n = 0;
    for (const auto& e : events) n += e.type == t ? 1 : 0;
    return n;
  }
  std::vector<AuthEvent> events;
  bool fail_next = false;

 private:
  mutable std::mutex mu_;
};

class AuthStoreTest : public ::testing::Test {
 protected:
  AuthStoreTest() : box_(otp::SecretBox::generate_key()) {
    store::StoreOptions options;
    options.password = store::PasswordParams{1, 1024, 1};
    store_ = store::open_store(backend_.config(), clock_, options);
    alice_ = store_->users().create(store::NewUser{"alice", {std::nullopt, "alice@example.com", "+15550100"}, store::UserStatus::active},
                                    {store::Role::signer});
    bob_ = store_->users().create(store::NewUser{"bob", {}, store::UserStatus::active}, {store::Role::signer});
    db().exec("INSERT INTO keys (label, token_label, key_spec, created_at, updated_at) VALUES ('k1', 't', 'ec-p256', 0, 0)");
  }

  std::string credential(const std::string& owner, const std::string& second_factor, int scal = 2,
                         const std::string& status = "active") {
    store::CredentialRecord r;
    r.id = "cred_" + std::to_string(++credentials_);
    r.owner_user_id = owner;
    r.key_label = "k1";
    r.description = "test";
    r.algorithms = {"ecdsa-sha256"};
    r.scal = scal;
    r.second_factor = second_factor;
    r.status = status;
    r.certificate_pem = "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n";
    return store_->credentials().create(r).id;
  }

  store::Database& db() { return store_->database(); }

  sigil::test::TempDir dir_;
  sigil::test::TestStore backend_{dir_.path()};  // SQLite in dir_, or a PostgreSQL schema
  FakeClock clock_;
  otp::SecretBox box_;
  std::unique_ptr<store::Store> store_;
  std::string alice_;
  std::string bob_;
  int credentials_ = 0;
};

}  // namespace sigil::auth::test

// Expects `statement` to throw AuthError with `f`.
#define EXPECT_AUTH_FAILURE(statement, f)                                                          \
  do {                                                                                             \
    try {                                                                                          \
      statement;                                                                                   \
      ADD_FAILURE() << "no exception from " #statement;                                            \
    } catch (const ::sigil::auth::AuthError& e) {                                                  \
      EXPECT_EQ(::sigil::auth::to_string(e.failure()), ::sigil::auth::to_string(f)) << e.internal_detail(); \
    }                                                                                              \
  } while (false)
