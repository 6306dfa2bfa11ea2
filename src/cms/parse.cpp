// Inspection (parse) and cryptographic self-check (verify) of CMS SignedData / CAdES.
#include "cms/parse_internal.hpp"
#include "ossl/digest.hpp"
#include "sigil/common/error.hpp"

namespace sigil::cms {

using namespace sigil::asn1;
using namespace detail;

namespace detail {

std::optional<Bytes> find_cert_by_sid(ByteView sid_raw, const std::vector<Bytes>& certs) {
  Reader r(sid_raw);
  const Element sid = r.next();
  if (sid.tag != tag::kSequence) return std::nullopt;  // subjectKeyIdentifier: not used by CAdES baseline here
  Reader s = r.enter(sid);
  const Bytes issuer = s.next(tag::kSequence, "issuer").raw_bytes();
  const Bytes serial = read_integer_magnitude(s.next(tag::kInteger, "serialNumber"));
  for (const auto& c : certs) {
    if (c.empty() || c[0] != tag::kSequence) continue;
    try {
      const CertFields f = cert_fields(c);
      if (f.issuer == issuer && read_integer_magnitude(parse_single(f.serial, "serial")) == serial) return c;
    } catch (const Error&) {
    }
  }
  return std::nullopt;
}

ParsedTimestamp parse_timestamp(ByteView token) {
  const SignedDataModel m = read_signed_data(token);
  if (m.content_type != oids::kTstInfo || !m.econtent)
    throw Error(Errc::invalid_document, "time-stamp token: eContentType is not id-ct-TSTInfo");
  if (m.signer_infos.size() != 1) throw Error(Errc::invalid_document, "time-stamp token: not exactly one SignerInfo");
  ParsedTimestamp t;
  t.token.assign(token.begin(), token.end());
  Reader top(*m.econtent);
  Reader r = top.enter(top.next(tag::kSequence, "TSTInfo"));
  top.expect_done("TSTInfo");
  read_uint(r.next(tag::kInteger, "TSTInfo.version"));
  read_oid(r.next(tag::kOid, "policy"));
  Reader mi = r.enter(r.next(tag::kSequence, "messageImprint"));
  t.imprint_alg = parse_digest_algorithm(mi.next(tag::kSequence, "hashAlgorithm").raw);
  t.imprint = mi.next(tag::kOctetString, "hashedMessage").value_bytes();
  r.next(tag::kInteger, "serialNumber");
  t.gen_time = read_time(r.next(tag::kGeneralizedTime, "genTime"));
  for (const auto& c : m.certificates)
    if (!c.empty() && c[0] == tag::kSequence) t.certificates.push_back(c);
  const SignerInfoModel si = read_signer_info(m.signer_infos[0]);
  if (auto c = find_cert_by_sid(si.sid, t.certificates)) t.tsa_certificate = *c;
  return t;
}

std::vector<Attribute> unsigned_attributes(const SignerInfoModel& si) {
  std::vector<Attribute> out;
  for (const auto& a : si.unsigned_attrs)
    for (auto& x : read_attributes(a)) out.push_back(std::move(x));
  return out;
}

std::vector<Attribute> signed_attributes(const SignerInfoModel& si) {
  return read_attributes(parse_single(si.signed_attrs, "signedAttrs").value);
}

}  // namespace detail

ParsedCms parse(const Bytes& cms) {
  const SignedDataModel m = read_signed_data(cms);
  ParsedCms p;
  p.content_type_oid = m.content_type;
  p.attached = m.econtent.has_value();
  if (m.econtent) p.content = *m.econtent;
  {
    Reader top(cms);
    Reader ci = top.enter(top.next());
    ci.next();
    Reader w = ci.enter(ci.next());
    Reader sd = w.enter(w.next());
    p.version = static_cast<unsigned>(read_uint(sd.next(tag::kInteger, "version")));
  }
  for (const auto& d : m.digest_algorithms) {
    Reader r(d);
    Reader s = r.enter(r.next(tag::kSequence, "AlgorithmIdentifier"));
    p.digest_algorithm_oids.push_back(read_oid(s.next(tag::kOid, "algorithm")));
  }
  for (const auto& c : m.certificates)
    if (!c.empty() && c[0] == tag::kSequence) p.certificates.push_back(c);
  for (const auto& c : m.crls) {
    if (c.empty()) continue;
    if (c[0] == tag::kSequence) {
      p.crls.push_back(c);
    } else if (c[0] == tag::context(1)) {
      Reader r(c);
      Reader o = r.enter(r.next());
      if (read_oid(o.next(tag::kOid, "otherRevInfoFormat")) == oids::kRiOcspResponse)
        p.ocsp_responses.push_back(o.next(tag::kSequence, "OCSPResponse").raw_bytes());
    }
  }
  bool all_t = !m.signer_infos.empty(), all_lt = all_t, all_lta = all_t;
  const bool have_revocation = !p.crls.empty() || !p.ocsp_responses.empty();
  for (const auto& raw : m.signer_infos) {
    const SignerInfoModel si = read_signer_info(raw);
    ParsedSigner s;
    s.signer_info = raw;
    if (auto c = find_cert_by_sid(si.sid, p.certificates)) s.certificate = *c;
    s.digest_alg = parse_digest_algorithm(si.digest_algorithm);
    const SigAlg sa = parse_signature_algorithm(si.signature_algorithm);
    s.scheme = sa.scheme;
    {
      Reader r(si.signature_algorithm);
      Reader a = r.enter(r.next());
      s.signature_algorithm_oid = read_oid(a.next(tag::kOid, "algorithm"));
    }
    s.signature = parse_single(si.signature, "signature").value_bytes();
    for (const auto& a : signed_attributes(si)) {
      Reader v(a.values.front());
      if (a.type == oids::kMessageDigest) s.message_digest = v.next(tag::kOctetString, "message-digest").value_bytes();
      if (a.type == oids::kSigningTime) s.signing_time = read_time(v.next());
      if (a.type == oids::kSigningCertificateV2) s.signing_certificate_v2 = true;
      if (a.type == oids::kCommitmentType) {
        Reader c = v.enter(v.next(tag::kSequence, "CommitmentTypeIndication"));
        s.commitment_type_oid = read_oid(c.next(tag::kOid, "commitmentTypeId"));
      }
      if (a.type == oids::kPolicy) {
        const Element e = v.next();
        if (e.tag == tag::kSequence) {
          Reader c = v.enter(e);
          s.policy_oid = read_oid(c.next(tag::kOid, "sigPolicyId"));
        }
      }
    }
    bool signer_revocation = have_revocation;
    for (const auto& a : unsigned_attributes(si)) {
      s.unsigned_attribute_oids.push_back(a.type);
      for (const auto v : a.values) {
        if (a.type == oids::kSignatureTimeStamp) s.signature_timestamps.push_back(parse_timestamp(v));
        if (a.type == oids::kArchiveTimeStampV3) s.archive_timestamps.push_back(parse_timestamp(v));
      }
      if (a.type == oids::kRevocationValues) signer_revocation = true;
    }
    all_t &= !s.signature_timestamps.empty();
    all_lt &= !s.signature_timestamps.empty() && signer_revocation;
    all_lta &= !s.signature_timestamps.empty() && signer_revocation && !s.archive_timestamps.empty();
    p.signers.push_back(std::move(s));
  }
  p.level = all_lta ? SignatureLevel::b_lta : all_lt ? SignatureLevel::b_lt : all_t ? SignatureLevel::b_t
                                                                                   : SignatureLevel::b_b;
  return p;
}

void verify(const Bytes& cms, const std::optional<Bytes>& detached_content) {
  const SignedDataModel m = read_signed_data(cms);
  std::vector<Bytes> certs;
  for (const auto& c : m.certificates)
    if (!c.empty() && c[0] == tag::kSequence) certs.push_back(c);
  const Bytes* content = m.econtent ? &*m.econtent : detached_content ? &*detached_content : nullptr;
  if (content == nullptr) throw Error(Errc::invalid_argument, "verify: detached CMS without content");
  if (m.signer_infos.empty()) throw Error(Errc::invalid_signature_value, "verify: no SignerInfo");
  for (const auto& raw : m.signer_infos) {
    const SignerInfoModel si = read_signer_info(raw);
    const auto cert = find_cert_by_sid(si.sid, certs);
    if (!cert) throw Error(Errc::invalid_signature_value, "verify: signer certificate not in the CMS");
    const HashAlg dalg = parse_digest_algorithm(si.digest_algorithm);
    const SigAlg sa = parse_signature_algorithm(si.signature_algorithm);
    const auto attrs = signed_attributes(si);
    const Attribute* md = find_attribute(attrs, oids::kMessageDigest);
    if (md == nullptr) throw Error(Errc::invalid_signature_value, "verify: message-digest attribute missing");
    if (parse_single(md->values.front(), "message-digest").value_bytes() != ossl::digest(dalg, *content))
      throw Error(Errc::invalid_signature_value, "verify: message-digest does not match the content");
    const HashAlg salg = sa.hash.value_or(dalg);
    const Bytes sig = parse_single(si.signature, "signature").value_bytes();
    if (!normalized_verified_signature(cert_fields(*cert).spki, sa.scheme, salg,
                                       ossl::digest(salg, signed_attrs_as_set(si)), sig))
      throw Error(Errc::invalid_signature_value, "verify: signature value does not verify");
  }
}

}  // namespace sigil::cms
