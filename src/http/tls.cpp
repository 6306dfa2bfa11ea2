#include "tls.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <array>
#include <string>

#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"

namespace sigil::http::detail {
namespace {

namespace ssl = boost::asio::ssl;

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
}

std::string name_text(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return {};
  return bio_text(bio.get());
}

// Mozilla "intermediate": forward-secret AEAD suites only (TLS 1.3 suites are OpenSSL's default).
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384";

[[noreturn]] void fail(const std::string& what, const std::exception& e) {
  ERR_clear_error();
  throw Error(Errc::config_invalid, "TLS: " + what + ": " + e.what(), true);
}

}  // namespace

std::unique_ptr<ssl::context> make_server_context(const config::TlsConfig& tls) {
  if (tls.min_version != "1.2" && tls.min_version != "1.3") {
    throw Error(Errc::config_invalid, "TLS: min_version must be \"1.2\" or \"1.3\"", true);
  }
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                   ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::no_compression |
                   ssl::context::single_dh_use);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_min_proto_version(native, tls.min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION);
  SSL_CTX_set_cipher_list(native, kTls12Ciphers);
  SSL_CTX_set_dh_auto(native, 1);

  try {
    ctx->use_certificate_chain_file(tls.cert_file.string());
  } catch (const std::exception& e) {
    fail("cannot load certificate chain '" + tls.cert_file.string() + "'", e);
  }
  try {
    ctx->use_private_key_file(tls.key_file.string(), ssl::context::pem);
  } catch (const std::exception& e) {
    fail("cannot load private key '" + tls.key_file.string() + "'", e);
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    ERR_clear_error();
    throw Error(Errc::config_invalid, "TLS: private key does not match the certificate", true);
  }

  if (tls.client_certs != config::ClientCertMode::none) {
    if (tls.client_ca_file.empty()) {
      throw Error(Errc::config_invalid, "TLS: client_certs requires client_ca_file", true);
    }
    try {
      ctx->load_verify_file(tls.client_ca_file.string());
    } catch (const std::exception& e) {
      fail("cannot load client CA file '" + tls.client_ca_file.string() + "'", e);
    }
    // Advertise the acceptable CAs so clients with several certificates pick the right one.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(tls.client_ca_file.c_str())) {
      SSL_CTX_set_client_CA_list(native, names);
    }
    // optional: a presented certificate must verify; required: one must also be presented.
    ssl::verify_mode mode = ssl::verify_peer;
    if (tls.client_certs == config::ClientCertMode::required) mode |= ssl::verify_fail_if_no_peer_cert;
    ctx->set_verify_mode(mode);
  } else {
    ctx->set_verify_mode(ssl::verify_none);
  }
  return ctx;
}

std::optional<ClientCertInfo> verified_client_cert(SSL* ssl) noexcept {
  try {
    X509* cert = SSL_get0_peer_certificate(ssl);
    if (cert == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return std::nullopt;
    ClientCertInfo info;
    info.subject = name_text(X509_get_subject_name(cert));
    info.issuer = name_text(X509_get_issuer_name(cert));
    if (std::unique_ptr<BIGNUM, BnFree> bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)); bn) {
      if (char* hex = BN_bn2hex(bn.get())) {
        info.serial_hex = hex;
        OPENSSL_free(hex);
      }
    }
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int md_len = 0;
    if (X509_digest(cert, EVP_sha256(), md.data(), &md_len) == 1) {
      info.sha256_fingerprint = hex_encode({md.data(), md_len});
    }
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (bio && PEM_write_bio_X509(bio.get(), cert) == 1) info.pem = bio_text(bio.get());
    return info;
  } catch (...) {
    ERR_clear_error();
    return std::nullopt;
  }
}

}  // namespace sigil::http::detail
