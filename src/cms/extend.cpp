// CAdES baseline levels above B-B: B-T (signature-time-stamp), B-LT (certificates and revocation
// data in SignedData), B-LTA (archive-time-stamp-v3 with ats-hash-index-v3, EN 319 122-1 §5.5).
#include <algorithm>

#include "cms/parse_internal.hpp"
#include "ossl/digest.hpp"
#include "sigil/common/error.hpp"

namespace sigil::cms {

using namespace sigil::asn1;
using namespace detail;

namespace {

// A token from the Timestamper, checked to be a parsable TimeStampToken over `digest`.
Bytes checked_timestamp(Timestamper& tsa, HashAlg alg, const Bytes& digest) {
  Bytes token = tsa.timestamp(alg, digest);
  try {
    const ParsedTimestamp t = parse_timestamp(token);
    if (t.imprint_alg != alg || t.imprint != digest)
      throw Error(Errc::tsa_response_invalid, "time-stamp token: messageImprint differs from the request");
  } catch (const Error& e) {
    if (e.code() == Errc::tsa_response_invalid) throw;
    throw Error(Errc::tsa_response_invalid, "time-stamp token: " + e.detail());
  }
  return token;
}

bool has_attribute(const SignerInfoModel& si, std::string_view type) {
  return find_attribute(unsigned_attributes(si), type) != nullptr;
}

// leaf, its issuer, ... up to a self-issued certificate or the end of what `pool` holds.
std::vector<Bytes> build_chain(const Bytes& leaf, const std::vector<Bytes>& pool) {
  std::vector<std::pair<Bytes, CertFields>> known;
  for (const auto& c : pool) {
    try {
      known.emplace_back(c, cert_fields(c));
    } catch (const Error&) {
    }
  }
  std::vector<Bytes> chain{leaf};
  CertFields cur = cert_fields(leaf);
  while (!self_issued(cur) && chain.size() < 10) {
    const std::pair<Bytes, CertFields>* next = nullptr;
    for (const auto& k : known) {
      if (k.second.subject == cur.issuer && std::find(chain.begin(), chain.end(), k.first) == chain.end()) {
        next = &k;
        break;
      }
    }
    if (next == nullptr) break;
    chain.push_back(next->first);
    cur = next->second;
  }
  return chain;
}

Bytes add_validation_data(const Bytes& cms, RevocationSource& revocation, bool only_new_leaves) {
  SignedDataModel m = read_signed_data(cms);
  std::vector<Bytes> pool;
  for (const auto& c : m.certificates)
    if (!c.empty() && c[0] == tag::kSequence) pool.push_back(c);
  std::vector<Bytes> leaves;  // signers, then every time-stamping authority
  std::vector<Bytes> tsa_leaves;
  for (const auto& raw : m.signer_infos) {
    const SignerInfoModel si = read_signer_info(raw);
    const auto cert = find_cert_by_sid(si.sid, pool);
    if (!cert) throw Error(Errc::invalid_document, "CAdES B-LT: a signer certificate is not in the CMS");
    add_unique(leaves, *cert);
    for (const auto& a : unsigned_attributes(si)) {
      if (a.type != oids::kSignatureTimeStamp && a.type != oids::kArchiveTimeStampV3) continue;
      for (const auto v : a.values) {
        const ParsedTimestamp t = parse_timestamp(v);
        for (const auto& c : t.certificates) add_unique(pool, c);
        if (t.tsa_certificate.empty())
          throw Error(Errc::invalid_document, "CAdES B-LT: a time-stamp token does not carry its TSA certificate");
        add_unique(tsa_leaves, t.tsa_certificate);
      }
    }
  }
  for (const auto& t : tsa_leaves) add_unique(leaves, t);
  if (only_new_leaves) {
    // Already B-LT: validation data only for authorities whose certificate is not embedded yet
    // (a later time-stamp's TSA); the rest is there from the earlier extension.
    std::erase_if(leaves, [&m](const Bytes& l) {
      return std::find(m.certificates.begin(), m.certificates.end(), l) != m.certificates.end();
    });
  }
  for (const auto& leaf : leaves) {
    const std::vector<Bytes> chain = build_chain(leaf, pool);
    const RevocationData rd = revocation.collect(chain);
    for (const auto& c : chain) add_unique(m.certificates, c);
    for (const auto& c : rd.certificates) {
      cert_fields(c);
      add_unique(m.certificates, c);
      add_unique(pool, c);
    }
    for (const auto& crl : rd.crls) {
      const Element e = parse_single(crl, "CertificateList");
      if (e.tag != tag::kSequence) throw Error(Errc::invalid_document, "CAdES B-LT: a CRL is not a CertificateList");
      add_unique(m.crls, crl);
    }
    for (const auto& ocsp : rd.ocsp_responses) {
      const Element e = parse_single(ocsp, "OCSPResponse");
      if (e.tag != tag::kSequence) throw Error(Errc::invalid_document, "CAdES B-LT: an OCSP response is malformed");
      // RevocationInfoChoice other [1] OtherRevocationInfoFormat { id-ri-ocsp-response, OCSPResponse } (RFC 5940)
      add_unique(m.crls, tlv(tag::context(1), concat({oid(oids::kRiOcspResponse), ocsp})));
    }
  }
  return assemble(m);
}

Bytes hash_list(HashAlg alg, const std::vector<Bytes>& items) {
  std::vector<Bytes> out;
  for (const auto& i : items) out.push_back(octet_string(ossl::digest(alg, i)));
  return sequence_of(out);
}

// ATSHashIndexV3 (EN 319 122-1 §5.5.2) over the current certificates, crls and unsigned attributes.
Bytes ats_hash_index_v3(HashAlg alg, const SignedDataModel& m, const SignerInfoModel& si) {
  std::vector<Bytes> attr_hashes;
  for (const auto& a : unsigned_attributes(si))
    for (const auto v : a.values) attr_hashes.push_back(octet_string(ossl::digest(alg, concat({a.type_raw, v}))));
  Bytes inner;
  if (alg != HashAlg::sha256) append(inner, digest_algorithm_id(alg));  // DEFAULT {id-sha256}
  append(inner, hash_list(alg, m.certificates));
  append(inner, hash_list(alg, m.crls));
  append(inner, sequence_of(attr_hashes));
  return tlv(tag::kSequence, inner);
}

Bytes with_token_unsigned_attribute(const Bytes& token, const Bytes& attr) {
  SignedDataModel t = read_signed_data(token);
  SignerInfoModel si = read_signer_info(t.signer_infos.at(0));
  si.unsigned_attrs.push_back(attr);
  t.signer_infos[0] = write_signer_info(si);
  return assemble(t);
}

Bytes add_archive_timestamps(const Bytes& cms, Timestamper& tsa, const ExtendOptions& o) {
  SignedDataModel m = read_signed_data(assemble(read_signed_data(cms)));  // certificates/crls in output order
  Bytes content_hash;
  if (m.econtent) {
    content_hash = ossl::digest(o.timestamp_alg, *m.econtent);
  } else {
    if (!o.content_digest)
      throw Error(Errc::invalid_argument, "CAdES B-LTA of a detached signature needs the content digest", true);
    if (o.content_digest->size() != digest_size(o.timestamp_alg))
      throw Error(Errc::invalid_argument, "CAdES B-LTA: content digest length does not match the time-stamp hash", true);
    content_hash = *o.content_digest;
  }
  // §5.5.3: the content hash algorithm should be among SignedData.digestAlgorithms (not covered by
  // the imprint, so adding it changes nothing time-stamped).
  add_unique(m.digest_algorithms, digest_algorithm_id(o.timestamp_alg));
  const Bytes ctype = oid(m.content_type);
  for (auto& raw : m.signer_infos) {
    SignerInfoModel si = read_signer_info(raw);
    const Bytes index = ats_hash_index_v3(o.timestamp_alg, m, si);
    // §5.5.3: eContentType, hash(content), version, sid, digestAlgorithm, signedAttrs,
    // signatureAlgorithm, signature, ATSHashIndexV3, each as encoded.
    const Bytes input = concat({ctype, content_hash, si.version, si.sid, si.digest_algorithm, si.signed_attrs,
                                si.signature_algorithm, si.signature, index});
    Bytes token = checked_timestamp(tsa, o.timestamp_alg, ossl::digest(o.timestamp_alg, input));
    token = with_token_unsigned_attribute(token, attribute(oids::kAtsHashIndexV3, index));
    si.unsigned_attrs.push_back(attribute(oids::kArchiveTimeStampV3, token));
    raw = write_signer_info(si);
  }
  return assemble(m);
}

}  // namespace

Bytes add_signature_timestamp(const Bytes& cms, Timestamper& tsa, HashAlg alg) {
  SignedDataModel m = read_signed_data(cms);
  for (auto& raw : m.signer_infos) {
    SignerInfoModel si = read_signer_info(raw);
    if (has_attribute(si, oids::kSignatureTimeStamp)) continue;
    const Bytes sig = parse_single(si.signature, "signature").value_bytes();
    const Bytes token = checked_timestamp(tsa, alg, ossl::digest(alg, sig));
    si.unsigned_attrs.push_back(attribute(oids::kSignatureTimeStamp, token));
    raw = write_signer_info(si);
  }
  return assemble(m);
}

Bytes extend(const Bytes& cms, Timestamper& tsa, RevocationSource& revocation, const ExtendOptions& options) {
  if (options.target == SignatureLevel::b_b) return assemble(read_signed_data(cms));
  Bytes cur = add_signature_timestamp(cms, tsa, options.timestamp_alg);
  if (options.target == SignatureLevel::b_lt) {
    cur = add_validation_data(cur, revocation, false);
  } else if (options.target == SignatureLevel::b_lta) {
    const bool was_lt = parse(cms).level >= SignatureLevel::b_lt;
    cur = add_validation_data(cur, revocation, was_lt);
  }
  if (options.target == SignatureLevel::b_lta) cur = add_archive_timestamps(cur, tsa, options);
  return cur;
}

}  // namespace sigil::cms
