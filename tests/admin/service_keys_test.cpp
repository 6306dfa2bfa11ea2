// AdminService: keys, CSRs, certificate import and demo-CA issuance against a real SoftHSM token.
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "fixture.hpp"

namespace sigil::admin::test {
namespace {

X509* parse(const Bytes& der) {
  const unsigned char* p = der.data();
  return d2i_X509(nullptr, &p, static_cast<long>(der.size()));
}

// Full path validation with OpenSSL at the fake clock's time: leaf -> chain[0..] -> root (trusted).
bool chain_verifies(const Bytes& leaf_der, const std::vector<Bytes>& untrusted, const Bytes& root_der,
                    std::chrono::system_clock::time_point at) {
  X509_STORE* trust = X509_STORE_new();
  X509* root = parse(root_der);
  X509_STORE_add_cert(trust, root);
  STACK_OF(X509)* chain = sk_X509_new_null();
  for (const auto& der : untrusted) sk_X509_push(chain, parse(der));
  X509* leaf = parse(leaf_der);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, trust, leaf, chain);
  X509_STORE_CTX_set_time(ctx, 0, std::chrono::system_clock::to_time_t(at));
  const int ok = X509_verify_cert(ctx);
  if (ok != 1) ADD_FAILURE() << X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx));
  X509_STORE_CTX_free(ctx);
  X509_free(leaf);
  sk_X509_pop_free(chain, X509_free);
  X509_free(root);
  X509_STORE_free(trust);
  return ok == 1;
}

using AdminKeys = AdminTest;

TEST_F(AdminKeys, GenerateListGetDelete) {
  const std::string label = unique("k");
  const KeyView made = svc_->generate_key(label, KeySpec::parse("ec-p256"));
  EXPECT_EQ(made.key.label, label);
  EXPECT_EQ(made.key.spec.name(), "ec-p256");
  EXPECT_TRUE(made.key.sensitive);
  EXPECT_FALSE(made.key.extractable);
  EXPECT_FALSE(made.certificate_pem);
  ASSERT_TRUE(store_->keys().get(label));
  EXPECT_EQ(store_->keys().get(label)->key_spec, "ec-p256");

  bool listed = false;
  for (const auto& k : svc_->list_keys()) listed = listed || k.key.label == label;
  EXPECT_TRUE(listed);
  EXPECT_EQ(svc_->get_key(label).key.id_hex, made.key.id_hex);

  svc_->delete_key(label);
  EXPECT_SIGIL_ERROR(svc_->get_key(label), Errc::hsm_key_not_found);
  EXPECT_SIGIL_ERROR(svc_->delete_key(label), Errc::hsm_key_not_found);
  EXPECT_FALSE(store_->keys().get(label));
}

TEST_F(AdminKeys, RefusesBadLabelsAndDuplicates) {
  EXPECT_SIGIL_ERROR(svc_->generate_key("bad label", KeySpec::parse("ec-p256")), Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(svc_->generate_key("", KeySpec::parse("ec-p256")), Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(svc_->generate_key(std::string(65, 'a'), KeySpec::parse("ec-p256")), Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(svc_->generate_key("a/b", KeySpec::parse("ec-p256")), Errc::invalid_argument);
  const std::string label = unique("Dup_1.x");
  svc_->generate_key(label, KeySpec::parse("ec-p256"));
  EXPECT_SIGIL_ERROR(svc_->generate_key(label, KeySpec::parse("ec-p256")), Errc::already_exists);
  try {
    svc_->generate_key("bad label", KeySpec::parse("ec-p256"));
  } catch (const Error& e) {
    EXPECT_TRUE(e.detail_is_public());
  }
}

TEST_F(AdminKeys, CsrIsSignedByTheKey) {
  const std::string label = unique("csr");
  svc_->generate_key(label, KeySpec::parse("ec-p256"));
  const std::string pem = svc_->create_csr(label, "CN=Alice,O=Example,C=EU");
  EXPECT_NE(pem.find("-----BEGIN CERTIFICATE REQUEST-----"), std::string::npos);
  const auto csr = ossl::read_csr(pem);  // checks the self-signature
  EXPECT_NE(csr.subject.find("Alice"), std::string::npos);
  EXPECT_EQ(csr.public_key_der, token_->public_key_der(label));
  EXPECT_SIGIL_ERROR(svc_->create_csr(label, " "), Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(svc_->create_csr(label, "NOPE=x"), Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(svc_->create_csr(unique("missing"), "CN=x"), Errc::hsm_key_not_found);
}

TEST_F(AdminKeys, IssueWithDemoCaGivesAChainOpenSslAccepts) {
  make_demo_pki();
  const std::string label = unique("issued");
  svc_->generate_key(label, KeySpec::parse("ec-p256"));
  const KeyView v = svc_->issue_with_demo_ca(label, CertificateIssue{"CN=Bob,O=Example,C=EU", 90, "signer"}, pki_dir());
  ASSERT_TRUE(v.certificate_pem && v.chain_pem && v.subject && v.not_after);
  EXPECT_NE(v.subject->find("Bob"), std::string::npos);
  const auto leaf = ossl::read_certificate(*v.certificate_pem);
  EXPECT_TRUE(ossl::certificate_matches_key(leaf, token_->public_key_der(label)));
  const auto chain = ossl::pem_to_der_chain(*v.chain_pem);
  ASSERT_EQ(chain.size(), 2u);  // issuing CA, root
  EXPECT_EQ(chain[0], issuing_der_);
  EXPECT_TRUE(chain_verifies(leaf, chain, root_der_, clock_.now()));
  // get_key sees the same certificate (it is in the store, not only in the return value).
  EXPECT_EQ(svc_->get_key(label).certificate_pem, v.certificate_pem);

  EXPECT_SIGIL_ERROR(svc_->issue_with_demo_ca(label, CertificateIssue{"CN=x", 0, "signer"}, pki_dir()),
                     Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(svc_->issue_with_demo_ca(label, CertificateIssue{"CN=x", 30, "root_ca"}, pki_dir()),
                     Errc::invalid_argument);
}

TEST_F(AdminKeys, IssueWithoutDemoPkiIsRefused) {
  const std::string label = unique("nopki");
  svc_->generate_key(label, KeySpec::parse("ec-p256"));
  EXPECT_SIGIL_ERROR(svc_->issue_with_demo_ca(label, CertificateIssue{"CN=x", 30, "signer"}, pki_dir()),
                     Errc::unsupported);
}

TEST_F(AdminKeys, ImportRefusesAnotherKeysCertificate) {
  make_demo_pki();
  const std::string mine = unique("mine");
  const std::string other = unique("other");
  svc_->generate_key(mine, KeySpec::parse("ec-p256"));
  svc_->generate_key(other, KeySpec::parse("ec-p256"));
  const Bytes others_cert = demo_leaf(token_->public_key_der(other));
  try {
    svc_->import_certificate(mine, ossl::der_to_pem(others_cert));
    ADD_FAILURE() << "imported another key's certificate";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::cert_key_mismatch);
    EXPECT_TRUE(e.detail_is_public());
  }
  EXPECT_FALSE(svc_->get_key(mine).certificate_pem);
  // DER input is accepted too, and the right key takes it.
  const Bytes own = demo_leaf(token_->public_key_der(mine));
  const KeyView v = svc_->import_certificate(mine, std::string(own.begin(), own.end()));
  EXPECT_EQ(v.certificate_pem, ossl::der_to_pem(own));
  EXPECT_EQ(v.chain_pem, std::nullopt);
}

TEST_F(AdminKeys, ImportRefusesGarbage) {
  const std::string label = unique("garbage");
  svc_->generate_key(label, KeySpec::parse("ec-p256"));
  for (const std::string& bad : {std::string("not a certificate"), std::string("\x30\x82\x01", 3),
                                 std::string("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")}) {
    try {
      svc_->import_certificate(label, bad);
      ADD_FAILURE() << "accepted garbage";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::cert_invalid) << e.detail();
      EXPECT_TRUE(e.detail_is_public());
      EXPECT_EQ(e.public_description().find("asn1"), std::string::npos);  // no OpenSSL text
    }
  }
  EXPECT_SIGIL_ERROR(svc_->import_certificate(label, ""), Errc::invalid_argument);
}

TEST_F(AdminKeys, ImportChecksTheChain) {
  make_demo_pki();
  const std::string label = unique("chain");
  svc_->generate_key(label, KeySpec::parse("ec-p256"));
  const std::string leaf = ossl::der_to_pem(demo_leaf(token_->public_key_der(label)));
  const std::string issuing = ossl::der_to_pem(issuing_der_);
  const std::string root = ossl::der_to_pem(root_der_);
  // A non-CA certificate in the chain.
  const std::string other = unique("notca");
  svc_->generate_key(other, KeySpec::parse("ec-p256"));
  const std::string not_ca = ossl::der_to_pem(demo_leaf(token_->public_key_der(other)));
  EXPECT_SIGIL_ERROR(svc_->import_certificate(label, leaf, not_ca), Errc::cert_invalid);
  // The first chain certificate does not issue the leaf.
  EXPECT_SIGIL_ERROR(svc_->import_certificate(label, leaf, root + issuing), Errc::cert_invalid);
  EXPECT_SIGIL_ERROR(svc_->import_certificate(label, leaf, "junk"), Errc::cert_invalid);
  // Correct order; the chain may also follow the leaf in the certificate text.
  const KeyView v = svc_->import_certificate(label, leaf + issuing + root);
  EXPECT_EQ(v.chain_pem, issuing + root);
}

}  // namespace
}  // namespace sigil::admin::test
