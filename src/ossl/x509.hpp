// X.509 certificates and PKCS#10 requests signed through a KeySigner (a token key never leaves
// the token: OpenSSL builds the to-be-signed part, the signer signs its digest, and the signed
// structure is assembled here).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "sigil/common/crypto_types.hpp"

namespace sigil::ossl {

enum class CertProfile {
  root_ca,     // self-signed CA: basicConstraints CA, keyCertSign+cRLSign
  issuing_ca,  // subordinate CA, pathlen 0
  signer,      // end entity: digitalSignature+nonRepudiation (eIDAS signatures)
  tsa,         // RFC 3161: digitalSignature, critical EKU timeStamping
  ocsp,        // delegated responder: EKU OCSPSigning, id-pkix-ocsp-nocheck
  tls_server,  // digitalSignature+keyEncipherment, EKU serverAuth, SAN
  tls_client,  // digitalSignature, EKU clientAuth
};

struct CertTemplate {
  std::string subject;                  // "CN=...,O=...,C=.." (RFC 4514-ish, comma separated)
  Bytes public_key_der;                 // SubjectPublicKeyInfo of the subject key
  CertProfile profile = CertProfile::signer;
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
  std::vector<std::string> dns_names;   // SAN dNSName
  std::vector<std::string> ip_addresses;  // SAN iPAddress
  std::string ocsp_url;                 // AIA OCSP
  std::string ca_issuers_url;           // AIA caIssuers
  std::string crl_url;                  // CRL distribution point
};

// Issues a certificate. `issuer_cert_der` empty = self-signed (the signer holds the subject key).
// ECDSA keys sign with ecdsa-with-SHAx, RSA keys with shaXWithRSAEncryption.
Bytes issue_certificate(const CertTemplate& tmpl, const Bytes& issuer_cert_der, KeySigner& issuer_key,
                        HashAlg hash = HashAlg::sha256);

// PKCS#10 request for the signer's key, signed by it.
Bytes create_csr(const std::string& subject, KeySigner& key, HashAlg hash = HashAlg::sha256);

struct CsrInfo {
  std::string subject;
  Bytes public_key_der;
};
// Parses a PEM or DER CSR and checks its self-signature; throws Error(cert_invalid).
CsrInfo read_csr(const std::string& pem_or_der);

struct CertInfo {
  std::string subject;
  std::string issuer;
  std::string serial_hex;
  std::string not_before;  // RFC 3339
  std::string not_after;
  std::string sha256_fingerprint_hex;
  Bytes public_key_der;
  bool is_ca = false;
};
CertInfo inspect_certificate(const Bytes& der);
// The subject's first commonName as UTF-8; empty when there is none or `der` is not a certificate.
std::string common_name(const Bytes& der);

// PEM <-> DER. pem_to_der_chain reads every CERTIFICATE block, in order.
std::string der_to_pem(const Bytes& der, const char* label = "CERTIFICATE");
std::vector<Bytes> pem_to_der_chain(const std::string& pem);
// One certificate from PEM or DER bytes.
Bytes read_certificate(const std::string& pem_or_der);

// True when `cert_der`'s public key equals `spki_der`.
bool certificate_matches_key(const Bytes& cert_der, const Bytes& spki_der);

}  // namespace sigil::ossl

namespace sigil::ossl {
// SubjectPublicKeyInfo from raw key components as PKCS#11 returns them.
Bytes rsa_spki(const Bytes& modulus, const Bytes& public_exponent);
// `ec_params_der`: DER OID of the named curve (CKA_EC_PARAMS); `ec_point`: CKA_EC_POINT, either
// the DER OCTET STRING PKCS#11 specifies or the raw uncompressed point some modules return.
Bytes ec_spki(const Bytes& ec_params_der, const Bytes& ec_point);
// DER OID of the named curve for P-256/384/521 (bits 256/384/521), for CKA_EC_PARAMS.
Bytes ec_curve_oid_der(unsigned bits);
// Key type and size (RSA modulus bits or EC field bits) of a SubjectPublicKeyInfo.
KeySpec spki_key_spec(const Bytes& spki_der);
}  // namespace sigil::ossl
