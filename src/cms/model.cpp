#include <algorithm>

#include "cms/internal.hpp"
#include "ossl/digest.hpp"
#include "sigil/common/error.hpp"

namespace sigil::cms::detail {

using namespace sigil::asn1;

namespace {
[[noreturn]] void bad(const std::string& what) { throw Error(Errc::invalid_document, "CMS: " + what); }
}  // namespace

// ---------------------------------------------------------------- algorithms
std::string_view digest_oid(HashAlg alg) {
  switch (alg) {
    case HashAlg::sha256: return "2.16.840.1.101.3.4.2.1";
    case HashAlg::sha384: return "2.16.840.1.101.3.4.2.2";
    case HashAlg::sha512: return "2.16.840.1.101.3.4.2.3";
  }
  throw Error(Errc::invalid_argument, "unknown hash algorithm");
}

std::optional<HashAlg> hash_from_oid(std::string_view d) {
  for (const HashAlg a : {HashAlg::sha256, HashAlg::sha384, HashAlg::sha512})
    if (digest_oid(a) == d) return a;
  return std::nullopt;
}

Bytes digest_algorithm_id(HashAlg alg) { return sequence({asn1::oid(digest_oid(alg))}); }

Bytes signature_algorithm_id(SignatureScheme scheme, HashAlg alg) {
  const int i = alg == HashAlg::sha256 ? 0 : alg == HashAlg::sha384 ? 1 : 2;
  switch (scheme) {
    case SignatureScheme::rsa_pkcs1: {
      static constexpr std::string_view kOids[] = {"1.2.840.113549.1.1.11", "1.2.840.113549.1.1.12",
                                                   "1.2.840.113549.1.1.13"};
      return sequence({asn1::oid(kOids[i]), null()});
    }
    case SignatureScheme::ecdsa: {
      static constexpr std::string_view kOids[] = {"1.2.840.10045.4.3.2", "1.2.840.10045.4.3.3", "1.2.840.10045.4.3.4"};
      return sequence({asn1::oid(kOids[i])});
    }
    case SignatureScheme::rsa_pss: {
      // RSASSA-PSS-params (RFC 4055): hash, MGF1 with the same hash, salt = hash length, trailer 1.
      const Bytes hash_id = sequence({asn1::oid(digest_oid(alg)), null()});
      const Bytes params = sequence({explicit_tag(0, hash_id),
                                     explicit_tag(1, sequence({asn1::oid(oids::kMgf1), hash_id})),
                                     explicit_tag(2, integer(digest_size(alg)))});
      return sequence({asn1::oid(oids::kRsaPss), params});
    }
  }
  throw Error(Errc::invalid_argument, "unknown signature scheme");
}

HashAlg parse_digest_algorithm(ByteView raw) {
  Reader r(raw);
  Reader s = r.enter(r.next(tag::kSequence, "AlgorithmIdentifier"));
  const std::string o = read_oid(s.next(tag::kOid, "algorithm"));
  const auto h = hash_from_oid(o);
  if (!h) throw Error(Errc::unsupported, "digest algorithm " + o + " is not supported");
  return *h;
}

SigAlg parse_signature_algorithm(ByteView raw) {
  Reader r(raw);
  Reader s = r.enter(r.next(tag::kSequence, "AlgorithmIdentifier"));
  const std::string o = read_oid(s.next(tag::kOid, "algorithm"));
  static const std::pair<std::string_view, SigAlg> kTable[] = {
      {"1.2.840.113549.1.1.11", {SignatureScheme::rsa_pkcs1, HashAlg::sha256}},
      {"1.2.840.113549.1.1.12", {SignatureScheme::rsa_pkcs1, HashAlg::sha384}},
      {"1.2.840.113549.1.1.13", {SignatureScheme::rsa_pkcs1, HashAlg::sha512}},
      {"1.2.840.10045.4.3.2", {SignatureScheme::ecdsa, HashAlg::sha256}},
      {"1.2.840.10045.4.3.3", {SignatureScheme::ecdsa, HashAlg::sha384}},
      {"1.2.840.10045.4.3.4", {SignatureScheme::ecdsa, HashAlg::sha512}},
      {oids::kRsaEncryption, {SignatureScheme::rsa_pkcs1, std::nullopt}},
      {oids::kEcPublicKey, {SignatureScheme::ecdsa, std::nullopt}},
  };
  for (const auto& [k, v] : kTable)
    if (k == o) return v;
  if (o == oids::kRsaPss) {
    Reader p = s.enter(s.next(tag::kSequence, "RSASSA-PSS-params"));
    HashAlg h = HashAlg::sha256;
    bool have_hash = false;
    if (auto e = p.optional(tag::context(0))) {
      Reader hr = p.enter(*e);
      h = parse_digest_algorithm(hr.next(tag::kSequence, "hashAlgorithm").raw);
      have_hash = true;
    }
    if (!have_hash) throw Error(Errc::unsupported, "RSASSA-PSS with SHA-1 is not supported");
    if (auto e = p.optional(tag::context(1))) {
      Reader mr = p.enter(*e);
      Reader m = mr.enter(mr.next(tag::kSequence, "maskGenAlgorithm"));
      if (read_oid(m.next(tag::kOid, "mgf")) != oids::kMgf1) throw Error(Errc::unsupported, "PSS: MGF is not MGF1");
      if (parse_digest_algorithm(m.next(tag::kSequence, "mgf hash").raw) != h)
        throw Error(Errc::unsupported, "PSS: MGF1 hash differs from the message hash");
    }
    if (auto e = p.optional(tag::context(2))) {
      Reader sr = p.enter(*e);
      if (read_uint(sr.next(tag::kInteger, "saltLength")) != digest_size(h))
        throw Error(Errc::unsupported, "PSS: salt length differs from the hash length");
    } else {
      throw Error(Errc::unsupported, "PSS: default salt length 20 is not supported");
    }
    return {SignatureScheme::rsa_pss, h};
  }
  throw Error(Errc::unsupported, "signature algorithm " + o + " is not supported");
}

// ---------------------------------------------------------------- certificates
CertFields cert_fields(ByteView der) {
  try {
    Reader top(der);
    Reader c = top.enter(top.next(tag::kSequence, "Certificate"));
    top.expect_done("Certificate");
    Reader tbs = c.enter(c.next(tag::kSequence, "tbsCertificate"));
    tbs.optional(tag::context(0));  // version
    CertFields f;
    f.serial = tbs.next(tag::kInteger, "serialNumber").raw_bytes();
    tbs.next(tag::kSequence, "signature");
    f.issuer = tbs.next(tag::kSequence, "issuer").raw_bytes();
    tbs.next(tag::kSequence, "validity");
    f.subject = tbs.next(tag::kSequence, "subject").raw_bytes();
    f.spki = tbs.next(tag::kSequence, "subjectPublicKeyInfo").raw_bytes();
    return f;
  } catch (const Error& e) {
    throw Error(Errc::cert_invalid, "certificate: " + e.detail());
  }
}

bool self_issued(const CertFields& c) { return c.subject == c.issuer; }

// ---------------------------------------------------------------- attributes
Bytes attribute(std::string_view type_oid, ByteView value) {
  return sequence({asn1::oid(type_oid), set_of({Bytes(value.begin(), value.end())})});
}

std::vector<Attribute> read_attributes(ByteView set_contents) {
  std::vector<Attribute> out;
  Reader r(set_contents, 3);
  while (!r.done()) {
    const Element a = r.next(tag::kSequence, "Attribute");
    Reader ar = r.enter(a);
    Attribute at;
    at.raw = a.raw;
    const Element t = ar.next(tag::kOid, "attrType");
    at.type_raw = t.raw;
    at.type = read_oid(t);
    Reader vr = ar.enter(ar.next(tag::kSet, "attrValues"));
    ar.expect_done("Attribute");
    while (!vr.done()) at.values.push_back(vr.next().raw);
    if (at.values.empty()) bad("attribute " + at.type + " without values");
    out.push_back(std::move(at));
  }
  return out;
}

const Attribute* find_attribute(const std::vector<Attribute>& attrs, std::string_view type) {
  for (const auto& a : attrs)
    if (a.type == type) return &a;
  return nullptr;
}

// ---------------------------------------------------------------- SignerInfo
SignerInfoModel read_signer_info(ByteView raw) {
  Reader top(raw, 2);
  Reader r = top.enter(top.next(tag::kSequence, "SignerInfo"));
  top.expect_done("SignerInfo");
  SignerInfoModel si;
  const Element v = r.next(tag::kInteger, "SignerInfo.version");
  si.version = v.raw_bytes();
  const auto sid = r.next();
  if (sid.tag != tag::kSequence && sid.tag != tag::context(0, false)) bad("SignerInfo.sid");
  si.sid = sid.raw_bytes();
  si.digest_algorithm = r.next(tag::kSequence, "digestAlgorithm").raw_bytes();
  const auto sa = r.next(tag::context(0), "signedAttrs");  // CAdES requires signed attributes
  read_attributes(sa.value);
  si.signed_attrs = sa.raw_bytes();
  si.signature_algorithm = r.next(tag::kSequence, "signatureAlgorithm").raw_bytes();
  si.signature = r.next(tag::kOctetString, "signature").raw_bytes();
  if (auto ua = r.optional(tag::context(1))) {
    for (const auto& a : read_attributes(ua->value)) si.unsigned_attrs.emplace_back(a.raw.begin(), a.raw.end());
  }
  r.expect_done("SignerInfo");
  return si;
}

Bytes write_signer_info(const SignerInfoModel& si) {
  Bytes inner = concat({si.version, si.sid, si.digest_algorithm, si.signed_attrs, si.signature_algorithm, si.signature});
  if (!si.unsigned_attrs.empty()) {
    // Unsigned attributes keep their order of addition (EN 319 122-1: time-stamps and validation
    // data build on each other; the archive-time-stamp-v3 hash index lists them in order).
    Bytes attrs;
    for (const auto& a : si.unsigned_attrs) append(attrs, a);
    append(inner, tlv(tag::context(1), attrs));
  }
  return tlv(tag::kSequence, inner);
}

Bytes signed_attrs_as_set(const SignerInfoModel& si) {
  Bytes s = si.signed_attrs;
  s[0] = tag::kSet;
  return s;
}

// ---------------------------------------------------------------- SignedData
SignedDataModel read_signed_data(ByteView content_info) {
  Reader top(content_info);
  Reader ci = top.enter(top.next(tag::kSequence, "ContentInfo"));
  top.expect_done("ContentInfo");
  if (read_oid(ci.next(tag::kOid, "contentType")) != oids::kSignedData) bad("ContentInfo is not SignedData");
  Reader wrap = ci.enter(ci.next(tag::context(0), "ContentInfo.content"));
  ci.expect_done("ContentInfo");
  Reader sd = wrap.enter(wrap.next(tag::kSequence, "SignedData"));
  wrap.expect_done("SignedData");
  SignedDataModel m;
  read_uint(sd.next(tag::kInteger, "SignedData.version"));
  Reader da = sd.enter(sd.next(tag::kSet, "digestAlgorithms"));
  while (!da.done()) m.digest_algorithms.push_back(da.next(tag::kSequence, "DigestAlgorithmIdentifier").raw_bytes());
  Reader eci = sd.enter(sd.next(tag::kSequence, "encapContentInfo"));
  m.content_type = read_oid(eci.next(tag::kOid, "eContentType"));
  if (auto ec = eci.optional(tag::context(0))) {
    Reader er = eci.enter(*ec);
    const auto os = er.next(tag::kOctetString, "eContent (primitive OCTET STRING)");
    er.expect_done("eContent");
    m.econtent = os.value_bytes();
  }
  eci.expect_done("encapContentInfo");
  if (auto certs = sd.optional(tag::context(0))) {
    Reader cr = sd.enter(*certs);
    while (!cr.done()) m.certificates.push_back(cr.next().raw_bytes());
  }
  if (auto crls = sd.optional(tag::context(1))) {
    Reader rr = sd.enter(*crls);
    while (!rr.done()) m.crls.push_back(rr.next().raw_bytes());
  }
  Reader sis = sd.enter(sd.next(tag::kSet, "signerInfos"));
  sd.expect_done("SignedData");
  while (!sis.done()) m.signer_infos.push_back(sis.next(tag::kSequence, "SignerInfo").raw_bytes());
  return m;
}

namespace {
unsigned signed_data_version(const SignedDataModel& sd) {
  // RFC 5652 §5.1
  for (const auto& c : sd.crls)
    if (!c.empty() && c[0] == tag::context(1)) return 5;
  for (const auto& c : sd.certificates)
    if (!c.empty() && c[0] == tag::context(3)) return 5;
  if (sd.content_type != oids::kData) return 3;
  for (const auto& si : sd.signer_infos) {
    Reader r(si);
    Reader s = r.enter(r.next(tag::kSequence, "SignerInfo"));
    if (read_uint(s.next(tag::kInteger, "SignerInfo.version")) == 3) return 3;
  }
  return 1;
}

Bytes set_body(std::vector<Bytes> items) {  // DER SET OF contents (sorted)
  const Bytes s = set_of(std::move(items));
  const Element e = parse_single(s, "set");
  return e.value_bytes();
}
}  // namespace

Framing frame(const SignedDataModel& sd, std::optional<std::uint64_t> content_length) {
  const Bytes version = integer(signed_data_version(sd));
  const Bytes digest_algs = set_of(sd.digest_algorithms);
  const Bytes ctype = asn1::oid(sd.content_type);
  Bytes tail;
  if (!sd.certificates.empty()) append(tail, tlv(tag::context(0), set_body(sd.certificates)));
  if (!sd.crls.empty()) append(tail, tlv(tag::context(1), set_body(sd.crls)));
  Bytes sis;
  for (const auto& s : sd.signer_infos) append(sis, s);
  append(tail, tlv(tag::kSet, sis));

  // encapContentInfo, possibly with [0] { OCTET STRING (content_length) } whose octets are streamed.
  Bytes eci_head;  // everything of encapContentInfo before the content octets
  std::uint64_t eci_len = ctype.size();
  Bytes econtent_headers;
  if (content_length) {
    const std::uint64_t os_len = header_size(*content_length) + *content_length;
    const std::uint64_t e0_len = header_size(os_len) + os_len;
    econtent_headers = concat({header(tag::context(0), os_len), header(tag::kOctetString, *content_length)});
    eci_len += e0_len;
  }
  eci_head = concat({header(tag::kSequence, eci_len), ctype, econtent_headers});
  const std::uint64_t eci_total = header_size(eci_len) + eci_len;
  const std::uint64_t sd_len = version.size() + digest_algs.size() + eci_total + tail.size();
  const std::uint64_t sd_total = header_size(sd_len) + sd_len;
  const Bytes ci_oid = asn1::oid(oids::kSignedData);
  const std::uint64_t ci_len = ci_oid.size() + header_size(sd_total) + sd_total;
  Framing f;
  f.prefix = concat({header(tag::kSequence, ci_len), ci_oid, header(tag::context(0), sd_total),
                     header(tag::kSequence, sd_len), version, digest_algs, eci_head});
  f.suffix = std::move(tail);
  return f;
}

Bytes assemble(const SignedDataModel& sd) {
  Framing f = frame(sd, sd.econtent ? std::optional<std::uint64_t>(sd.econtent->size()) : std::nullopt);
  Bytes out = std::move(f.prefix);
  if (sd.econtent) append(out, *sd.econtent);
  append(out, f.suffix);
  return out;
}

void add_unique(std::vector<Bytes>& list, const Bytes& item) {
  if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
}

std::optional<Bytes> normalized_verified_signature(const Bytes& spki, SignatureScheme scheme, HashAlg alg,
                                                   const Bytes& digest, const Bytes& signature) {
  std::vector<Bytes> candidates;
  if (scheme == SignatureScheme::ecdsa) {
    // DER ECDSA-Sig-Value, or raw r||s (PKCS#11): try both forms, keep the one that verifies.
    try {
      Reader r(signature);
      Reader s = r.enter(r.next(tag::kSequence, "ECDSA-Sig-Value"));
      r.expect_done("ECDSA-Sig-Value");
      read_integer_magnitude(s.next(tag::kInteger, "r"));
      read_integer_magnitude(s.next(tag::kInteger, "s"));
      s.expect_done("ECDSA-Sig-Value");
      candidates.push_back(signature);
    } catch (const Error&) {
    }
    if (!signature.empty() && signature.size() % 2 == 0 && signature.size() <= 132) {
      try {
        candidates.push_back(ossl::ecdsa_raw_to_der(signature));
      } catch (const Error&) {
      }
    }
  } else {
    candidates.push_back(signature);
  }
  for (const auto& c : candidates) {
    try {
      if (ossl::verify_digest(spki, scheme, alg, digest, c)) return c;
    } catch (const Error&) {
    }
  }
  return std::nullopt;
}

}  // namespace sigil::cms::detail
