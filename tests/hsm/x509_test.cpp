// X.509 issuance and CSRs with token keys, cross-checked by OpenSSL's own verifier.
#include <gtest/gtest.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "ossl/handles.hpp"
#include "ossl/x509.hpp"
#include "sigil/common/error.hpp"
#include "softhsm_env.hpp"

namespace sigil {
namespace {

ossl::Cert parse(const Bytes& der) {
  const unsigned char* p = der.data();
  return ossl::Cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
}

// Verifies leaf against root (+ optional intermediate) with OpenSSL's chain builder.
bool openssl_verifies(const Bytes& root, const Bytes& inter, const Bytes& leaf) {
  auto r = parse(root), i = parse(inter), l = parse(leaf);
  ossl::Handle<X509_STORE, X509_STORE_free> store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), r.get());
  ossl::CertStack untrusted(sk_X509_new_null());
  if (i) sk_X509_push(untrusted.get(), X509_dup(i.get()));
  ossl::Handle<X509_STORE_CTX, X509_STORE_CTX_free> ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), l.get(), untrusted.get());
  return X509_verify_cert(ctx.get()) == 1;
}

TEST(X509, TokenKeysBuildAVerifiableChainForRsaAndEc) {
  auto token = test::open_test_token();
  for (const char* spec : {"rsa-3072", "ec-p384"}) {
    SCOPED_TRACE(spec);
    const std::string p = std::string("x509-") + spec;
    token->generate_key(KeySpec::parse(spec), p + "-root");
    token->generate_key(KeySpec::parse(spec), p + "-inter");
    token->generate_key(KeySpec::parse("ec-p256"), p + "-leaf");
    auto root_key = token->signer(p + "-root");
    auto inter_key = token->signer(p + "-inter");
    const auto now = std::chrono::system_clock::now();
    ossl::CertTemplate t;
    t.not_before = now - std::chrono::hours(1);
    t.not_after = now + std::chrono::hours(24 * 365);

    t.subject = "CN=Test Root,O=Sigil,C=DE";
    t.public_key_der = root_key->public_key_der();
    t.profile = ossl::CertProfile::root_ca;
    const Bytes root = ossl::issue_certificate(t, {}, *root_key);

    t.subject = "CN=Test Issuing CA,O=Sigil,C=DE";
    t.public_key_der = inter_key->public_key_der();
    t.profile = ossl::CertProfile::issuing_ca;
    const Bytes inter = ossl::issue_certificate(t, root, *root_key);

    t.subject = "CN=Alice Signer,O=Sigil,C=DE";
    t.public_key_der = token->public_key_der(p + "-leaf");
    t.profile = ossl::CertProfile::signer;
    t.ocsp_url = "http://127.0.0.1:1/ocsp";
    const Bytes leaf = ossl::issue_certificate(t, inter, *inter_key);

    EXPECT_TRUE(openssl_verifies(root, inter, leaf));
    EXPECT_FALSE(openssl_verifies(inter, {}, leaf)) << "chain must not verify against the wrong anchor";
    Bytes tampered = leaf;
    tampered[tampered.size() / 2] ^= 0x01;
    auto tc = parse(tampered);
    EXPECT_TRUE(!tc || !openssl_verifies(root, inter, tampered));

    const auto info = ossl::inspect_certificate(leaf);
    EXPECT_EQ(info.subject, "C=DE,O=Sigil,CN=Alice Signer");
    EXPECT_EQ(info.issuer, "C=DE,O=Sigil,CN=Test Issuing CA");
    EXPECT_FALSE(info.is_ca);
    EXPECT_TRUE(ossl::inspect_certificate(root).is_ca);
    EXPECT_TRUE(ossl::certificate_matches_key(leaf, token->public_key_der(p + "-leaf")));
    EXPECT_FALSE(ossl::certificate_matches_key(leaf, root_key->public_key_der()));
    EXPECT_EQ(ossl::pem_to_der_chain(ossl::der_to_pem(leaf) + ossl::der_to_pem(inter)), (std::vector<Bytes>{leaf, inter}));
  }
}

TEST(X509, CsrSignedByTokenKeyVerifies) {
  auto token = test::open_test_token();
  token->generate_key(KeySpec::parse("rsa-2048"), "csr-key");
  auto key = token->signer("csr-key");
  const Bytes csr = ossl::create_csr("CN=Bob,O=Sigil", *key);
  const auto info = ossl::read_csr(ossl::der_to_pem(csr, "CERTIFICATE REQUEST"));
  EXPECT_EQ(info.subject, "O=Sigil,CN=Bob");
  EXPECT_EQ(info.public_key_der, key->public_key_der());
  Bytes bad = csr;
  bad[bad.size() - 5] ^= 0x01;  // inside the signature
  EXPECT_THROW(ossl::read_csr(std::string(bad.begin(), bad.end())), Error);
}

}  // namespace
}  // namespace sigil
