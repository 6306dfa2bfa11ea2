#include "test_pki.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>

namespace sigil::http::test {
namespace {

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
  void operator()(X509* c) const { X509_free(c); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
using Cert = std::unique_ptr<X509, CertFree>;

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test PKI: ") + what);
}

Key make_key() {
  Key key(EVP_EC_gen("P-256"));
  check(key != nullptr, "EVP_EC_gen");
  return key;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  check(ext != nullptr, "X509V3_EXT_conf_nid");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

enum class Kind { ca, server, client };

// issuer == nullptr: self-signed.
Cert make_cert(EVP_PKEY* key, const char* cn, Kind kind, X509* issuer, EVP_PKEY* issuer_key, long serial) {
  Cert cert(X509_new());
  check(cert != nullptr, "X509_new");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("Sigil Test"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
  X509* signer = issuer != nullptr ? issuer : cert.get();
  X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
  add_ext(cert.get(), signer, NID_subject_key_identifier, "hash");
  if (issuer != nullptr) add_ext(cert.get(), signer, NID_authority_key_identifier, "keyid");
  switch (kind) {
    case Kind::ca:
      add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
      add_ext(cert.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
      break;
    case Kind::server:
      add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
      add_ext(cert.get(), signer, NID_key_usage, "critical,digitalSignature");
      add_ext(cert.get(), signer, NID_ext_key_usage, "serverAuth");
      add_ext(cert.get(), signer, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
      break;
    case Kind::client:
      add_ext(cert.get(), signer, NID_basic_constraints, "critical,CA:FALSE");
      add_ext(cert.get(), signer, NID_key_usage, "critical,digitalSignature");
      add_ext(cert.get(), signer, NID_ext_key_usage, "clientAuth");
      break;
  }
  check(X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) > 0, "X509_sign");
  return cert;
}

void write_cert(const std::filesystem::path& path, X509* cert) {
  FILE* f = std::fopen(path.c_str(), "w");
  check(f != nullptr, "fopen");
  const int ok = PEM_write_X509(f, cert);
  std::fclose(f);
  check(ok == 1, "PEM_write_X509");
}

void write_key(const std::filesystem::path& path, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  check(f != nullptr, "fopen");
  const int ok = PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
  check(ok == 1, "PEM_write_PrivateKey");
}

}  // namespace

TestPki TestPki::generate(const std::filesystem::path& dir) {
  TestPki p;
  p.server_ca = dir / "server-ca.pem";
  p.server_cert = dir / "server.pem";
  p.server_key = dir / "server.key";
  p.client_ca = dir / "client-ca.pem";
  p.client_cert = dir / "client.pem";
  p.client_key = dir / "client.key";
  p.rogue_cert = dir / "rogue.pem";
  p.rogue_key = dir / "rogue.key";

  auto server_ca_key = make_key();
  auto server_ca = make_cert(server_ca_key.get(), "Test Server CA", Kind::ca, nullptr, nullptr, 1);
  auto server_key = make_key();
  auto server = make_cert(server_key.get(), "localhost", Kind::server, server_ca.get(), server_ca_key.get(), 2);
  write_cert(p.server_ca, server_ca.get());
  write_cert(p.server_cert, server.get());
  write_key(p.server_key, server_key.get());

  auto client_ca_key = make_key();
  auto client_ca = make_cert(client_ca_key.get(), "Test Client CA", Kind::ca, nullptr, nullptr, 3);
  auto client_key = make_key();
  auto client = make_cert(client_key.get(), "test-client", Kind::client, client_ca.get(), client_ca_key.get(), 0x1234);
  write_cert(p.client_ca, client_ca.get());
  write_cert(p.client_cert, client.get());
  write_key(p.client_key, client_key.get());

  auto rogue_ca_key = make_key();
  auto rogue_ca = make_cert(rogue_ca_key.get(), "Rogue CA", Kind::ca, nullptr, nullptr, 5);
  auto rogue_key = make_key();
  auto rogue = make_cert(rogue_key.get(), "rogue-client", Kind::client, rogue_ca.get(), rogue_ca_key.get(), 6);
  write_cert(p.rogue_cert, rogue.get());
  write_key(p.rogue_key, rogue_key.get());
  return p;
}

}  // namespace sigil::http::test
