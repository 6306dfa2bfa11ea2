// AdminService: credentials, their rules, and the key/credential interlock.
#include "fixture.hpp"

namespace sigil::admin::test {
namespace {

using AdminCredentials = AdminTest;

NewCredential new_credential(const std::string& owner, const std::string& key) {
  NewCredential c;
  c.owner_username = owner;
  c.key_label = key;
  return c;
}

TEST_F(AdminCredentials, CreateListGetAssignDisable) {
  make_user("alice");
  make_user("bob");
  const KeyView key = certified_key();
  NewCredential nc = new_credential("Alice", key.key.label);  // usernames are case-insensitive
  nc.description = "Alice's signing key";
  nc.second_factor = SecondFactor::pin_otp;
  const Credential c = svc_->create_credential(nc);
  EXPECT_EQ(c.id.rfind("cred_", 0), 0u);
  EXPECT_EQ(c.id.size(), 5u + 16u);  // 12 random bytes in base64url
  EXPECT_EQ(c.owner_username, "alice");
  EXPECT_EQ(c.algorithms, (std::vector<std::string>{"ecdsa-sha256", "ecdsa-sha384", "ecdsa-sha512"}));
  EXPECT_EQ(c.scal, 2);
  EXPECT_EQ(c.second_factor, SecondFactor::pin_otp);
  EXPECT_EQ(c.status, CredentialStatus::active);
  EXPECT_EQ(c.certificate_pem, *key.certificate_pem);
  EXPECT_EQ(c.chain_pem, *key.chain_pem);
  EXPECT_EQ(c.created_at, to_unix(clock_.now()));

  EXPECT_EQ(svc_->list_credentials().size(), 1u);
  EXPECT_EQ(svc_->list_credentials("alice").size(), 1u);
  EXPECT_TRUE(svc_->list_credentials("bob").empty());
  EXPECT_SIGIL_ERROR(svc_->list_credentials("nobody"), Errc::user_not_found);
  EXPECT_EQ(svc_->get_credential(c.id).description, "Alice's signing key");

  clock_.advance(std::chrono::seconds(10));
  const Credential moved = svc_->assign_credential(c.id, "bob");
  EXPECT_EQ(moved.owner_username, "bob");
  EXPECT_EQ(moved.updated_at, c.updated_at + 10);
  EXPECT_TRUE(svc_->list_credentials("alice").empty());

  EXPECT_EQ(svc_->set_credential_status(c.id, CredentialStatus::disabled).status, CredentialStatus::disabled);
  EXPECT_EQ(svc_->get_credential(c.id).status, CredentialStatus::disabled);
  EXPECT_EQ(svc_->set_credential_status(c.id, CredentialStatus::active).status, CredentialStatus::active);
  EXPECT_SIGIL_ERROR(svc_->get_credential("cred_nope"), Errc::not_found);
  EXPECT_SIGIL_ERROR(svc_->set_credential_status("cred_nope", CredentialStatus::active), Errc::not_found);
}

TEST_F(AdminCredentials, EveryRuleIsEnforced) {
  make_user("carol");
  const std::string dave = make_user("dave");
  store_->users().set_status(dave, store::UserStatus::disabled);
  make_user("svc", {store::Role::service});
  const KeyView key = certified_key();
  const std::string label = key.key.label;
  const std::string bare = unique("bare");
  svc_->generate_key(bare, KeySpec::parse("ec-p256"));

  EXPECT_SIGIL_ERROR(svc_->create_credential(new_credential("nobody", label)), Errc::user_not_found);
  EXPECT_SIGIL_ERROR(svc_->create_credential(new_credential("Not A Name!", label)), Errc::user_not_found);
  EXPECT_SIGIL_ERROR(svc_->create_credential(new_credential("dave", label)), Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(svc_->create_credential(new_credential("carol", unique("missing"))), Errc::hsm_key_not_found);
  EXPECT_SIGIL_ERROR(svc_->create_credential(new_credential("carol", bare)), Errc::invalid_argument);

  auto with = [&](auto mutate) {
    NewCredential c = new_credential("carol", label);
    mutate(c);
    return c;
  };
  EXPECT_SIGIL_ERROR(svc_->create_credential(with([](NewCredential& c) { c.algorithms = {"rsa-pkcs1-sha256"}; })),
                     Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(svc_->create_credential(with([](NewCredential& c) { c.algorithms = {"ecdsa-md5"}; })),
                     Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(svc_->create_credential(with([](NewCredential& c) { c.algorithms = {"ecdsa-SHA256"}; })),
                     Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(svc_->create_credential(with([](NewCredential& c) { c.scal = 3; })), Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(svc_->create_credential(with([](NewCredential& c) { c.scal = 0; })), Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(svc_->create_credential(with([](NewCredential& c) { c.unattended = true; })),
                     Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(parse_second_factor("sms"), Errc::invalid_argument);
  EXPECT_TRUE(svc_->list_credentials().empty());

  // Valid variants: explicit algorithms (de-duplicated), SCAL 1, unattended service account.
  const Credential c = svc_->create_credential(with([](NewCredential& n) {
    n.algorithms = {"ecdsa-sha384", "ecdsa-sha384"};
    n.scal = 1;
    n.second_factor = SecondFactor::none;
  }));
  EXPECT_EQ(c.algorithms, std::vector<std::string>{"ecdsa-sha384"});
  NewCredential unattended = new_credential("svc", label);
  unattended.unattended = true;
  const Credential u = svc_->create_credential(unattended);
  EXPECT_TRUE(u.unattended);

  // assign: unknown, disabled, and a non-service owner for an unattended credential.
  EXPECT_SIGIL_ERROR(svc_->assign_credential(c.id, "nobody"), Errc::user_not_found);
  EXPECT_SIGIL_ERROR(svc_->assign_credential(c.id, "dave"), Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(svc_->assign_credential(u.id, "carol"), Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(svc_->assign_credential("cred_nope", "carol"), Errc::not_found);
}

TEST_F(AdminCredentials, RsaKeysTakeRsaAlgorithmsOnly) {
  make_demo_pki();
  make_user("erin");
  const std::string label = unique("rsa");
  svc_->generate_key(label, KeySpec::parse("rsa-2048"));
  svc_->issue_with_demo_ca(label, CertificateIssue{"CN=Erin,C=EU", 30, "signer"}, pki_dir());
  NewCredential nc = new_credential("erin", label);
  const Credential all = svc_->create_credential(nc);
  EXPECT_EQ(all.algorithms.size(), 6u);
  EXPECT_EQ(all.algorithms.front(), "rsa-pkcs1-sha256");
  nc.algorithms = {"ecdsa-sha256"};
  EXPECT_SIGIL_ERROR(svc_->create_credential(nc), Errc::invalid_argument);
  nc.algorithms = {"rsa-pss-sha512", "rsa-pkcs1-sha384"};
  EXPECT_EQ(svc_->create_credential(nc).algorithms, nc.algorithms);
}

TEST_F(AdminCredentials, KeyInUseCannotBeDeleted) {
  make_user("frank");
  const KeyView key = certified_key();
  const Credential c = svc_->create_credential(new_credential("frank", key.key.label));
  try {
    svc_->delete_key(key.key.label);
    ADD_FAILURE() << "deleted a key in use";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::store_conflict);
    EXPECT_TRUE(e.detail_is_public());
  }
  svc_->set_credential_status(c.id, CredentialStatus::disabled);
  EXPECT_SIGIL_ERROR(svc_->delete_key(key.key.label), Errc::store_conflict);
  EXPECT_TRUE(token_->find_key(key.key.label));  // still in the token
  EXPECT_TRUE(svc_->get_key(key.key.label).certificate_pem);
}

TEST_F(AdminCredentials, CertificateImportRefreshesCredentials) {
  make_user("grace");
  const KeyView key = certified_key();
  const Credential c = svc_->create_credential(new_credential("grace", key.key.label));
  clock_.advance(std::chrono::seconds(60));
  const KeyView renewed =
      svc_->issue_with_demo_ca(key.key.label, CertificateIssue{"CN=Grace Renewed,C=EU", 60, "signer"}, pki_dir());
  ASSERT_NE(renewed.certificate_pem, key.certificate_pem);
  const Credential after = svc_->get_credential(c.id);
  EXPECT_EQ(after.certificate_pem, *renewed.certificate_pem);
  EXPECT_GT(after.updated_at, c.updated_at);
}

}  // namespace
}  // namespace sigil::admin::test
