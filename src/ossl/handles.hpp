// One RAII idiom for every OpenSSL handle: the free function is part of the type.
// Internal header (src/), never included from include/sigil/.
#pragma once

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

namespace sigil::ossl {

template <auto Fn>
struct Deleter {
  template <typename T>
  void operator()(T* p) const noexcept {
    if (p != nullptr) Fn(p);
  }
};

template <typename T, auto Fn>
using Handle = std::unique_ptr<T, Deleter<Fn>>;

using PKey = Handle<EVP_PKEY, EVP_PKEY_free>;
using PKeyCtx = Handle<EVP_PKEY_CTX, EVP_PKEY_CTX_free>;
using MdCtx = Handle<EVP_MD_CTX, EVP_MD_CTX_free>;
using Cert = Handle<X509, X509_free>;
using Req = Handle<X509_REQ, X509_REQ_free>;
using Name = Handle<X509_NAME, X509_NAME_free>;
using Ext = Handle<X509_EXTENSION, X509_EXTENSION_free>;
using Bio = Handle<BIO, BIO_free_all>;
using BigNum = Handle<BIGNUM, BN_free>;
using Asn1Int = Handle<ASN1_INTEGER, ASN1_INTEGER_free>;
using Asn1Time = Handle<ASN1_TIME, ASN1_TIME_free>;
using EcdsaSig = Handle<ECDSA_SIG, ECDSA_SIG_free>;
inline void free_cert_stack(STACK_OF(X509) * s) { sk_X509_pop_free(s, X509_free); }
using CertStack = Handle<STACK_OF(X509), free_cert_stack>;

}  // namespace sigil::ossl
