// Shared fixture of the admin tests: a real SQLite store in a TempDir, the binary's SoftHSM token,
// a fake clock and a demo PKI made the way `sigilctl init` makes it.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "ossl/x509.hpp"
#include "sigil/admin/service.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/files.hpp"
#include "softhsm_env.hpp"
#include "temp_dir.hpp"
#include "test_store.hpp"
#include "test_util.hpp"

namespace sigil::admin::test {

using ::sigil::test::FakeClock;


class AdminTest : public ::testing::Test {
 protected:
  AdminTest() {
    store::StoreOptions options;
    options.password = store::PasswordParams{1, 1024, 1};  // cheap Argon2 for tests
    store_ = store::open_store(backend_.config(), clock_, options);
    token_ = sigil::test::open_test_token(4);
    svc_ = std::make_unique<AdminService>(*store_, *token_, clock_);
  }

  // The token lives for the whole binary, so every test needs labels of its own.
  static std::string unique(const std::string& base) {
    static std::atomic<int> n{0};
    return base + "-" + std::to_string(++n);
  }

  std::string pki_dir() const { return (dir_.path() / "pki").string(); }

  // demo-root-ca and demo-issuing-ca keys in the token (kept across tests), their certificates
  // written to this test's pki dir, as bootstrap does (EC P-256 here: faster than P-384).
  void make_demo_pki() {
    files::ensure_dir(pki_dir(), 0755);
    for (const char* label : {"demo-root-ca", "demo-issuing-ca"}) {
      if (!token_->find_key(label)) token_->generate_key(KeySpec::parse("ec-p256"), label);
    }
    ossl::CertTemplate root;
    root.subject = "CN=Test Root CA,O=Sigil Test,C=EU";
    root.public_key_der = token_->public_key_der("demo-root-ca");
    root.profile = ossl::CertProfile::root_ca;
    root.not_before = clock_.now() - std::chrono::hours(1);
    root.not_after = clock_.now() + std::chrono::hours(24 * 3650);
    auto root_key = token_->signer("demo-root-ca");
    root_der_ = ossl::issue_certificate(root, {}, *root_key);

    ossl::CertTemplate issuing = root;
    issuing.subject = "CN=Test Issuing CA,O=Sigil Test,C=EU";
    issuing.public_key_der = token_->public_key_der("demo-issuing-ca");
    issuing.profile = ossl::CertProfile::issuing_ca;
    issuing_der_ = ossl::issue_certificate(issuing, root_der_, *root_key);
    files::write_atomic(dir_.path() / "pki" / "root-ca.pem", ossl::der_to_pem(root_der_));
    files::write_atomic(dir_.path() / "pki" / "issuing-ca.pem", ossl::der_to_pem(issuing_der_));
  }

  // A leaf certificate for `spki` from the demo issuing CA (make_demo_pki first).
  Bytes demo_leaf(const Bytes& spki, const std::string& subject = "CN=Leaf,O=Sigil Test,C=EU") {
    ossl::CertTemplate t;
    t.subject = subject;
    t.public_key_der = spki;
    t.profile = ossl::CertProfile::signer;
    t.not_before = clock_.now() - std::chrono::hours(1);
    t.not_after = clock_.now() + std::chrono::hours(24 * 30);
    auto ca = token_->signer("demo-issuing-ca");
    return ossl::issue_certificate(t, issuing_der_, *ca);
  }

  // An EC key with a demo certificate.
  KeyView certified_key(const std::string& base = "signer") {
    if (issuing_der_.empty()) make_demo_pki();
    const std::string label = unique(base);
    svc_->generate_key(label, KeySpec::parse("ec-p256"));
    return svc_->issue_with_demo_ca(label, CertificateIssue{"CN=" + label + ",O=Sigil Test,C=EU", 30, "signer"},
                                    pki_dir());
  }

  std::string make_user(const std::string& username, std::vector<store::Role> roles = {store::Role::signer}) {
    store::NewUser u;
    u.username = username;
    return store_->users().create(u, roles);
  }

  sigil::test::TempDir dir_;
  sigil::test::TestStore backend_{dir_.path()};  // SQLite in dir_, or a PostgreSQL schema
  FakeClock clock_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<hsm::Token> token_;
  std::unique_ptr<AdminService> svc_;
  Bytes root_der_;
  Bytes issuing_der_;
};

}  // namespace sigil::admin::test
