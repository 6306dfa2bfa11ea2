#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include "ossl/error.hpp"
#include "ossl/handles.hpp"
#include "ossl/x509.hpp"

namespace sigil::ossl {
namespace {

using ParamBld = Handle<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using Params = Handle<OSSL_PARAM, OSSL_PARAM_free>;

Bytes from_params(const char* type, OSSL_PARAM* params) {
  PKeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  check(ctx && EVP_PKEY_fromdata_init(ctx.get()) == 1, "EVP_PKEY_fromdata_init");
  check(EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params) == 1, "EVP_PKEY_fromdata", Errc::hsm_general);
  PKey key(raw);
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key.get(), &der);
  if (len <= 0) fail("i2d_PUBKEY");
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

const char* curve_name(unsigned bits) {
  switch (bits) {
    case 256: return "prime256v1";
    case 384: return "secp384r1";
    case 521: return "secp521r1";
    default: throw Error(Errc::invalid_argument, "unsupported EC curve size " + std::to_string(bits), true);
  }
}

}  // namespace

Bytes rsa_spki(const Bytes& modulus, const Bytes& public_exponent) {
  BigNum n(BN_bin2bn(modulus.data(), static_cast<int>(modulus.size()), nullptr));
  BigNum e(BN_bin2bn(public_exponent.data(), static_cast<int>(public_exponent.size()), nullptr));
  ParamBld bld(OSSL_PARAM_BLD_new());
  check(n && e && bld && OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) == 1 &&
            OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) == 1,
        "RSA params");
  Params params(OSSL_PARAM_BLD_to_param(bld.get()));
  return from_params("RSA", params.get());
}

Bytes ec_curve_oid_der(unsigned bits) {
  ASN1_OBJECT* obj = OBJ_txt2obj(curve_name(bits), 0);
  unsigned char* der = nullptr;
  const int len = i2d_ASN1_OBJECT(obj, &der);
  ASN1_OBJECT_free(obj);
  if (len <= 0) fail("i2d_ASN1_OBJECT");
  Bytes out(der, der + len);
  OPENSSL_free(der);
  return out;
}

Bytes ec_spki(const Bytes& ec_params_der, const Bytes& ec_point) {
  const unsigned char* p = ec_params_der.data();
  Handle<ASN1_OBJECT, ASN1_OBJECT_free> oid(d2i_ASN1_OBJECT(nullptr, &p, static_cast<long>(ec_params_der.size())));
  if (!oid) fail("CKA_EC_PARAMS is not a named curve OID", Errc::hsm_general);
  const char* group = OBJ_nid2sn(OBJ_obj2nid(oid.get()));
  // CKA_EC_POINT is DER OCTET STRING { 04 || X || Y } per PKCS#11; unwrap it when present.
  Bytes point = ec_point;
  if (!point.empty() && point[0] == 0x04 && point.size() > 2) {
    const unsigned char* q = point.data();
    Handle<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free> os(d2i_ASN1_OCTET_STRING(nullptr, &q, static_cast<long>(point.size())));
    if (os && q == point.data() + point.size()) {
      point.assign(ASN1_STRING_get0_data(os.get()), ASN1_STRING_get0_data(os.get()) + ASN1_STRING_length(os.get()));
    }
  }
  ParamBld bld(OSSL_PARAM_BLD_new());
  check(bld && OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) == 1 &&
            OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()) == 1,
        "EC params");
  Params params(OSSL_PARAM_BLD_to_param(bld.get()));
  return from_params("EC", params.get());
}

KeySpec spki_key_spec(const Bytes& spki_der) {
  const unsigned char* p = spki_der.data();
  PKey key(d2i_PUBKEY(nullptr, &p, static_cast<long>(spki_der.size())));
  if (!key) fail("invalid public key", Errc::invalid_argument);
  const bool ec = EVP_PKEY_base_id(key.get()) == EVP_PKEY_EC;
  return {ec ? KeyType::ec : KeyType::rsa, static_cast<unsigned>(EVP_PKEY_get_bits(key.get()))};
}

}  // namespace sigil::ossl
