#include "sigil/tsa/tsa.hpp"

#include <openssl/x509v3.h>

#include <sstream>

#include "ossl/digest.hpp"
#include "ossl/handles.hpp"
#include "ossl/x509.hpp"
#include "sigil/asn1/der.hpp"
#include "sigil/cms/cades.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/log.hpp"

namespace sigil::tsa {

using namespace sigil::asn1;

namespace {

const SystemClock kSystemClock;

std::string_view hash_oid(HashAlg a) {
  switch (a) {
    case HashAlg::sha256: return "2.16.840.1.101.3.4.2.1";
    case HashAlg::sha384: return "2.16.840.1.101.3.4.2.2";
    case HashAlg::sha512: return "2.16.840.1.101.3.4.2.3";
  }
  return "";
}

std::optional<HashAlg> hash_from_oid(std::string_view o) {
  for (const HashAlg a : {HashAlg::sha256, HashAlg::sha384, HashAlg::sha512})
    if (hash_oid(a) == o) return a;
  return std::nullopt;
}

// A request the TSA refuses, with the PKIFailureInfo bit to answer.
struct Rejection {
  FailureInfo info;
  std::string text;
};

// PKIFailureInfo as a DER BIT STRING with one named bit (trailing zero bits removed).
Bytes failure_bits(FailureInfo f) {
  const auto bit = static_cast<unsigned>(f);
  Bytes v(1 + bit / 8 + 1, 0);
  v[0] = static_cast<std::uint8_t>(7 - bit % 8);  // unused bits in the last octet
  v[1 + bit / 8] = static_cast<std::uint8_t>(0x80 >> (bit % 8));
  return tlv(tag::kBitString, v);
}

Bytes rejection_response(const Rejection& r) {
  return sequence({sequence({integer(2), sequence({utf8_string(r.text)}), failure_bits(r.info)})});
}

Bytes subject_name(const Bytes& cert) {
  Reader top(cert);
  Reader c = top.enter(top.next(tag::kSequence, "Certificate"));
  Reader tbs = c.enter(c.next(tag::kSequence, "tbsCertificate"));
  tbs.optional(tag::context(0));
  tbs.next(tag::kInteger, "serial");
  tbs.next(tag::kSequence, "signature");
  tbs.next(tag::kSequence, "issuer");
  tbs.next(tag::kSequence, "validity");
  return tbs.next(tag::kSequence, "subject").raw_bytes();
}

void check_tsa_certificate(const Bytes& der) {
  const unsigned char* p = der.data();
  ossl::Cert cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) throw Error(Errc::cert_invalid, "TSA certificate does not parse");
  const int idx = X509_get_ext_by_NID(cert.get(), NID_ext_key_usage, -1);
  const bool critical = idx >= 0 && X509_EXTENSION_get_critical(X509_get_ext(cert.get(), idx)) == 1;
  const bool ts = (X509_get_extension_flags(cert.get()) & EXFLAG_XKUSAGE) != 0 &&
                  (X509_get_extended_key_usage(cert.get()) & XKU_TIMESTAMP) != 0;
  if (!critical || !ts)
    throw Error(Errc::cert_invalid, "TSA certificate lacks a critical extendedKeyUsage timeStamping (RFC 3161 §2.3)", true);
}

}  // namespace

TimeStampAuthority::TimeStampAuthority(KeySigner& key, SignerCerts tsa_certs, TsaOptions options)
    : key_(key), certs_(std::move(tsa_certs)), options_(std::move(options)) {
  if (options_.policy_oid.empty()) throw Error(Errc::invalid_argument, "TSA: a policy OID is required", true);
  oid(options_.policy_oid);
  if (options_.accepted_hashes.empty()) throw Error(Errc::invalid_argument, "TSA: no accepted hash algorithm", true);
  if (certs_.leaf.empty()) throw Error(Errc::invalid_argument, "TSA: certificate required", true);
  check_tsa_certificate(certs_.leaf);
  if (!ossl::certificate_matches_key(certs_.leaf, key_.public_key_der()))
    throw Error(Errc::cert_key_mismatch, "TSA certificate does not match the key");
  scheme_ = key_.key_type() == KeyType::ec ? SignatureScheme::ecdsa : SignatureScheme::rsa_pkcs1;
  tsa_name_ = explicit_tag(0, explicit_tag(4, subject_name(certs_.leaf)));
  if (options_.clock == nullptr) options_.clock = &kSystemClock;
}

Bytes TimeStampAuthority::next_serial() {
  std::lock_guard lock(mu_);
  Bytes s = options_.serial_source ? options_.serial_source() : random_bytes(16);
  if (s.empty() || s.size() > 20) throw Error(Errc::internal, "TSA: serial number must have 1..20 octets");
  return integer_from_unsigned(s);
}

Bytes TimeStampAuthority::issue_token(const Bytes& message_imprint_der, const Bytes* nonce_der, bool cert_req) {
  Bytes accuracy;
  if (options_.accuracy.count() > 0) {
    const auto secs = options_.accuracy.count() / 1000, millis = options_.accuracy.count() % 1000;
    Bytes inner;
    if (secs > 0) append(inner, integer(static_cast<std::uint64_t>(secs)));
    if (millis > 0) append(inner, implicit_tag(0, integer(static_cast<std::uint64_t>(millis))));
    accuracy = tlv(tag::kSequence, inner);
  }
  Bytes tst = concat({integer(1), oid(options_.policy_oid), message_imprint_der, next_serial(),
                      generalized_time(options_.clock->now()), accuracy});
  if (nonce_der != nullptr) append(tst, *nonce_der);
  append(tst, tsa_name_);
  tst = tlv(tag::kSequence, tst);

  cms::SignParams p;
  p.signer = certs_;
  p.digest_alg = options_.signing_hash;
  p.scheme = scheme_;
  p.content_type_oid = std::string(cms::kIdCtTstInfo);
  const cms::Prepared prep = cms::prepare(p, ossl::digest(options_.signing_hash, tst));
  Bytes sig;
  try {
    sig = key_.sign_digest(scheme_, options_.signing_hash, prep.digest);
  } catch (const Error& e) {
    throw Error(Errc::tsa_unavailable, "TSA: signing failed: " + std::string(e.info().name) + ": " + e.detail());
  }
  std::istringstream in(std::string(tst.begin(), tst.end()));
  std::ostringstream out;
  cms::finish_attached(prep.state, sig, in, tst.size(), out);
  const std::string o = out.str();
  Bytes token(o.begin(), o.end());
  if (!cert_req) token = cms::replace_certificates(token, {});
  return token;
}

Bytes TimeStampAuthority::respond(const Bytes& der_request) {
  Bytes imprint, nonce;
  bool have_nonce = false, cert_req = false;
  try {
    Reader top(der_request);
    Reader r = top.enter(top.next(tag::kSequence, "TimeStampReq"));
    top.expect_done("TimeStampReq");
    if (read_uint(r.next(tag::kInteger, "version")) != 1) throw Rejection{FailureInfo::bad_request, "version must be 1"};
    const Element mi = r.next(tag::kSequence, "messageImprint");
    Reader mr = r.enter(mi);
    Reader ar = mr.enter(mr.next(tag::kSequence, "hashAlgorithm"));
    const std::string alg_oid = read_oid(ar.next(tag::kOid, "algorithm"));
    if (!ar.done()) {
      const Element params = ar.next();
      if (params.tag != tag::kNull || !params.value.empty()) throw Rejection{FailureInfo::bad_alg, "unexpected hash parameters"};
    }
    ar.expect_done("hashAlgorithm");
    const Element hashed = mr.next(tag::kOctetString, "hashedMessage");
    mr.expect_done("messageImprint");
    const auto alg = hash_from_oid(alg_oid);
    if (!alg || std::find(options_.accepted_hashes.begin(), options_.accepted_hashes.end(), *alg) ==
                    options_.accepted_hashes.end())
      throw Rejection{FailureInfo::bad_alg, "hash algorithm " + alg_oid + " not accepted"};
    if (hashed.value.size() != digest_size(*alg))
      throw Rejection{FailureInfo::bad_data_format, "hashedMessage length does not match the algorithm"};
    imprint = mi.raw_bytes();
    if (auto pol = r.optional(tag::kOid)) {
      if (read_oid(*pol) != options_.policy_oid) throw Rejection{FailureInfo::unaccepted_policy, "policy not accepted"};
    }
    if (auto n = r.optional(tag::kInteger)) {
      if (n->value.empty() || n->value.size() > 64) throw Rejection{FailureInfo::bad_data_format, "bad nonce"};
      nonce = n->raw_bytes();
      have_nonce = true;
    }
    if (auto b = r.optional(tag::kBoolean)) cert_req = read_boolean(*b);
    if (r.optional(tag::context(0))) throw Rejection{FailureInfo::unaccepted_extension, "extensions not supported"};
    r.expect_done("TimeStampReq");
  } catch (const Rejection& rej) {
    return rejection_response(rej);
  } catch (const Error& e) {
    return rejection_response({FailureInfo::bad_data_format, "malformed TimeStampReq"});
  }
  try {
    return sequence({sequence({integer(0)}), issue_token(imprint, have_nonce ? &nonce : nullptr, cert_req)});
  } catch (const Error& e) {
    log::warn("TSA: cannot issue a token: {}: {}", e.info().name, e.detail());
    return rejection_response({FailureInfo::system_failure, "time-stamp could not be issued"});
  }
}

Bytes TimeStampAuthority::timestamp(HashAlg alg, const Bytes& digest) {
  if (std::find(options_.accepted_hashes.begin(), options_.accepted_hashes.end(), alg) == options_.accepted_hashes.end())
    throw Error(Errc::invalid_argument, "TSA: hash algorithm not accepted", true);
  if (digest.size() != digest_size(alg)) throw Error(Errc::invalid_argument, "TSA: digest length does not match", true);
  const Bytes imprint = sequence({sequence({oid(hash_oid(alg)), null()}), octet_string(digest)});
  const Bytes nonce = integer_from_unsigned(random_bytes(8));
  return issue_token(imprint, &nonce, true);
}

}  // namespace sigil::tsa
