// Two-phase CAdES baseline B-B: signed attributes, the signing state, SignedData assembly.
#include "sigil/cms/cades.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstring>

#include "cms/internal.hpp"
#include "ossl/digest.hpp"
#include "ossl/error.hpp"
#include "ossl/handles.hpp"
#include "ossl/x509.hpp"
#include "sigil/common/error.hpp"

namespace sigil::cms {

using namespace sigil::asn1;
using namespace detail;

namespace {

constexpr std::size_t kChunk = 64 * 1024;
constexpr std::array<std::uint8_t, 6> kStateMagic = {'S', 'G', 'C', 'M', 'S', 0x01};  // format version 1

// Everything finish() needs, self-contained.
struct State {
  HashAlg digest_alg = HashAlg::sha256;
  SignatureScheme scheme = SignatureScheme::ecdsa;
  std::string content_type;
  Bytes signed_attrs;  // DER SET OF Attribute (data to be signed)
  std::vector<Bytes> chain;  // leaf first
  Bytes content_digest;
  Bytes existing_cms_hash;  // parallel signatures: SHA-256 of the CMS the signer is added to
};

Bytes encode_state(const State& s) {
  std::vector<Bytes> certs;
  for (const auto& c : s.chain) certs.push_back(octet_string(c));
  const Bytes body = sequence({integer(static_cast<std::uint64_t>(s.digest_alg)),
                               integer(static_cast<std::uint64_t>(s.scheme)), utf8_string(s.content_type),
                               octet_string(s.signed_attrs), sequence_of(certs), octet_string(s.content_digest),
                               octet_string(s.existing_cms_hash)});
  Bytes out(kStateMagic.begin(), kStateMagic.end());
  append(out, body);
  const Bytes sum = ossl::digest(HashAlg::sha256, out);
  append(out, sum);
  return out;
}

State decode_state(const Bytes& raw) {
  const auto corrupt = [](const std::string& why) { return Error(Errc::invalid_signing_state, "signing state: " + why); };
  if (raw.size() < kStateMagic.size() + 32 || !std::equal(kStateMagic.begin(), kStateMagic.end(), raw.begin()))
    throw corrupt("unknown format or version");
  const ByteView signed_part(raw.data(), raw.size() - 32);
  const Bytes sum = ossl::digest(HashAlg::sha256, signed_part);
  if (std::memcmp(sum.data(), raw.data() + raw.size() - 32, 32) != 0) throw corrupt("checksum mismatch");
  try {
    Reader top(signed_part.subspan(kStateMagic.size()));
    Reader r = top.enter(top.next(tag::kSequence, "state"));
    top.expect_done("state");
    State s;
    const auto alg = read_uint(r.next(tag::kInteger, "alg"));
    const auto scheme = read_uint(r.next(tag::kInteger, "scheme"));
    if (alg > 2 || scheme > 2) throw corrupt("bad algorithm");
    s.digest_alg = static_cast<HashAlg>(alg);
    s.scheme = static_cast<SignatureScheme>(scheme);
    const auto ct = r.next(tag::kUtf8String, "content type");
    s.content_type.assign(ct.value.begin(), ct.value.end());
    s.signed_attrs = r.next(tag::kOctetString, "attrs").value_bytes();
    Reader cr = r.enter(r.next(tag::kSequence, "chain"));
    while (!cr.done()) s.chain.push_back(cr.next(tag::kOctetString, "cert").value_bytes());
    s.content_digest = r.next(tag::kOctetString, "content digest").value_bytes();
    s.existing_cms_hash = r.next(tag::kOctetString, "cms hash").value_bytes();
    r.expect_done("state");
    if (s.chain.empty()) throw corrupt("no certificate");
    return s;
  } catch (const Error& e) {
    if (e.code() == Errc::invalid_signing_state) throw;
    throw corrupt(e.detail());
  }
}

void check_scheme_fits(const Bytes& leaf, SignatureScheme scheme) {
  const KeySpec spec = ossl::spki_key_spec(cert_fields(leaf).spki);
  const bool ok = spec.type == KeyType::ec ? scheme == SignatureScheme::ecdsa : scheme != SignatureScheme::ecdsa;
  if (!ok)
    throw Error(Errc::invalid_argument,
                "signature scheme " + std::string(scheme_name(scheme)) + " does not fit the " + spec.name() + " key",
                true);
}

Bytes signing_certificate_v2(const Bytes& leaf, HashAlg alg) {
  const CertFields f = cert_fields(leaf);
  // ESSCertIDv2 { hashAlgorithm DEFAULT sha256, certHash, issuerSerial { GeneralNames{directoryName}, serial } }
  const Bytes issuer_serial = sequence({sequence({explicit_tag(4, f.issuer)}), f.serial});
  Bytes cert_id;
  const Bytes hash = octet_string(ossl::digest(alg, leaf));
  if (alg == HashAlg::sha256)
    cert_id = sequence({hash, issuer_serial});
  else
    cert_id = sequence({digest_algorithm_id(alg), hash, issuer_serial});
  return sequence({sequence({cert_id})});
}

State build_state(const SignParams& params, const Bytes& content_digest) {
  if (params.signer.leaf.empty()) throw Error(Errc::invalid_argument, "CAdES: the signer certificate is required", true);
  if (content_digest.size() != digest_size(params.digest_alg))
    throw Error(Errc::invalid_argument, "CAdES: content digest length does not match " +
                                            std::string(hash_name(params.digest_alg)), true);
  check_scheme_fits(params.signer.leaf, params.scheme);
  for (const auto& c : params.signer.issuers) cert_fields(c);
  oid(params.content_type_oid);  // validates the OID

  std::vector<Bytes> attrs;
  attrs.push_back(attribute(oids::kContentType, oid(params.content_type_oid)));
  attrs.push_back(attribute(oids::kMessageDigest, octet_string(content_digest)));
  attrs.push_back(attribute(oids::kSigningCertificateV2, signing_certificate_v2(params.signer.leaf, params.digest_alg)));
  if (params.signing_time) attrs.push_back(attribute(oids::kSigningTime, asn1::time(*params.signing_time)));
  if (params.commitment_type_oid)
    attrs.push_back(attribute(oids::kCommitmentType, sequence({oid(*params.commitment_type_oid)})));
  if (params.policy) {
    const auto& p = *params.policy;
    if (p.hash.size() != digest_size(p.hash_alg))
      throw Error(Errc::invalid_argument, "CAdES: signature policy hash length does not match its algorithm", true);
    Bytes spid = concat({oid(p.oid), sequence({digest_algorithm_id(p.hash_alg), octet_string(p.hash)})});
    if (!p.uri.empty()) append(spid, sequence({sequence({oid(oids::kSpqEtsUri), ia5_string(p.uri)})}));
    attrs.push_back(attribute(oids::kPolicy, tlv(tag::kSequence, spid)));
  }
  State s;
  s.digest_alg = params.digest_alg;
  s.scheme = params.scheme;
  s.content_type = params.content_type_oid;
  s.signed_attrs = set_of(std::move(attrs));
  s.chain = params.signer.chain();
  s.content_digest = content_digest;
  return s;
}

Prepared to_prepared(const State& s) {
  Prepared p;
  p.digest_alg = s.digest_alg;
  p.data_to_be_signed = s.signed_attrs;
  p.digest = ossl::digest(s.digest_alg, s.signed_attrs);
  p.state = encode_state(s);
  return p;
}

// SignerInfo for the state and the signature value, which must verify.
Bytes make_signer_info(const State& s, const Bytes& signature_value) {
  const CertFields leaf = cert_fields(s.chain.front());
  const auto sig = normalized_verified_signature(leaf.spki, s.scheme, s.digest_alg,
                                                 ossl::digest(s.digest_alg, s.signed_attrs), signature_value);
  if (!sig) throw Error(Errc::invalid_signature_value, "signature value does not verify with the signer certificate");
  SignerInfoModel si;
  si.version = integer(1);
  si.sid = sequence({leaf.issuer, leaf.serial});  // IssuerAndSerialNumber
  si.digest_algorithm = digest_algorithm_id(s.digest_alg);
  si.signed_attrs = s.signed_attrs;
  si.signed_attrs[0] = tag::context(0);
  si.signature_algorithm = signature_algorithm_id(s.scheme, s.digest_alg);
  si.signature = octet_string(*sig);
  return write_signer_info(si);
}

SignedDataModel new_signed_data(const State& s, const Bytes& signer_info) {
  SignedDataModel m;
  m.content_type = s.content_type;
  m.digest_algorithms.push_back(digest_algorithm_id(s.digest_alg));
  for (const auto& c : s.chain) add_unique(m.certificates, c);
  m.signer_infos.push_back(signer_info);
  return m;
}

void write(std::ostream& out, ByteView b) {
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  if (!out) throw Error(Errc::io, "CMS: writing the output failed");
}

}  // namespace

Prepared prepare(const SignParams& params, const Bytes& content_digest) {
  return to_prepared(build_state(params, content_digest));
}

Bytes finish(const Bytes& state, const Bytes& signature_value) {
  const State s = decode_state(state);
  if (!s.existing_cms_hash.empty())
    throw Error(Errc::invalid_signing_state, "state of a parallel signature: use finish_parallel()");
  return assemble(new_signed_data(s, make_signer_info(s, signature_value)));
}

void finish_attached(const Bytes& state, const Bytes& signature_value, std::istream& content,
                     std::uint64_t content_length, std::ostream& out) {
  const State s = decode_state(state);
  if (!s.existing_cms_hash.empty())
    throw Error(Errc::invalid_signing_state, "state of a parallel signature: use finish_parallel()");
  const SignedDataModel m = new_signed_data(s, make_signer_info(s, signature_value));
  const Framing f = frame(m, content_length);
  write(out, f.prefix);
  ossl::MdCtx ctx(EVP_MD_CTX_new());
  ossl::check(ctx && EVP_DigestInit_ex(ctx.get(), ossl::md(s.digest_alg), nullptr) == 1, "EVP_DigestInit_ex");
  std::vector<char> buf(kChunk);
  std::uint64_t left = content_length;
  while (left > 0) {
    const auto want = static_cast<std::streamsize>(std::min<std::uint64_t>(left, buf.size()));
    content.read(buf.data(), want);
    const auto got = content.gcount();
    if (got <= 0) throw Error(Errc::invalid_argument, "CAdES: the content stream ended before content_length bytes");
    ossl::check(EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<std::size_t>(got)) == 1, "EVP_DigestUpdate");
    out.write(buf.data(), got);
    if (!out) throw Error(Errc::io, "CMS: writing the output failed");
    left -= static_cast<std::uint64_t>(got);
  }
  write(out, f.suffix);
  Bytes d(EVP_MAX_MD_SIZE);
  unsigned n = 0;
  ossl::check(EVP_DigestFinal_ex(ctx.get(), d.data(), &n) == 1, "EVP_DigestFinal_ex");
  d.resize(n);
  if (d != s.content_digest)
    throw Error(Errc::invalid_argument, "CAdES: the streamed content does not match the digest given to prepare()");
}

Bytes sign_detached(const SignParams& params, const Bytes& content_digest, KeySigner& key) {
  const Prepared p = prepare(params, content_digest);
  return finish(p.state, key.sign_digest(params.scheme, params.digest_alg, p.digest));
}

void sign_attached(const SignParams& params, std::istream& content, KeySigner& key, std::ostream& out) {
  const auto start = content.tellg();
  const Bytes d = digest_stream(params.digest_alg, content);
  content.clear();
  const auto end = content.tellg();
  content.seekg(start);
  if (start < 0 || end < start || !content) throw Error(Errc::invalid_argument, "CAdES: attached content must be seekable");
  const Prepared p = prepare(params, d);
  finish_attached(p.state, key.sign_digest(params.scheme, params.digest_alg, p.digest), content,
                  static_cast<std::uint64_t>(end - start), out);
}

Bytes digest_stream(HashAlg alg, std::istream& in) {
  ossl::MdCtx ctx(EVP_MD_CTX_new());
  ossl::check(ctx && EVP_DigestInit_ex(ctx.get(), ossl::md(alg), nullptr) == 1, "EVP_DigestInit_ex");
  std::vector<char> buf(kChunk);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto got = in.gcount();
    if (got > 0) ossl::check(EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<std::size_t>(got)) == 1, "EVP_DigestUpdate");
  }
  if (in.bad()) throw Error(Errc::io, "reading the content failed");
  Bytes d(EVP_MAX_MD_SIZE);
  unsigned n = 0;
  ossl::check(EVP_DigestFinal_ex(ctx.get(), d.data(), &n) == 1, "EVP_DigestFinal_ex");
  d.resize(n);
  return d;
}

Bytes replace_certificates(const Bytes& cms, const std::vector<Bytes>& certificates) {
  SignedDataModel m = read_signed_data(cms);
  m.certificates.clear();
  for (const auto& c : certificates) {
    cert_fields(c);
    add_unique(m.certificates, c);
  }
  return assemble(m);
}

// ---------------------------------------------------------------- parallel signatures
Prepared prepare_parallel(const Bytes& existing_cms, const SignParams& params, const Bytes& content_digest) {
  const SignedDataModel m = read_signed_data(existing_cms);
  if (m.content_type != params.content_type_oid)
    throw Error(Errc::invalid_argument, "parallel signature: eContentType differs from the existing CMS", true);
  if (m.econtent && ossl::digest(params.digest_alg, *m.econtent) != content_digest)
    throw Error(Errc::invalid_argument, "parallel signature: the digest does not match the encapsulated content", true);
  State s = build_state(params, content_digest);
  s.existing_cms_hash = ossl::digest(HashAlg::sha256, existing_cms);
  return to_prepared(s);
}

Bytes finish_parallel(const Bytes& existing_cms, const Bytes& state, const Bytes& signature_value) {
  const State s = decode_state(state);
  if (s.existing_cms_hash.empty() || s.existing_cms_hash != ossl::digest(HashAlg::sha256, existing_cms))
    throw Error(Errc::invalid_signing_state, "parallel signature: the state belongs to a different CMS");
  SignedDataModel m = read_signed_data(existing_cms);
  m.signer_infos.push_back(make_signer_info(s, signature_value));
  add_unique(m.digest_algorithms, digest_algorithm_id(s.digest_alg));
  for (const auto& c : s.chain) add_unique(m.certificates, c);
  return assemble(m);
}

}  // namespace sigil::cms
