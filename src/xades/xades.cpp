// XAdES B-B: the ds:Signature assembled on a libxml2 tree, canonicalised with libxml2's C14N.
#include "sigil/xades/xades.hpp"

#include <libxml/tree.h>

#include <algorithm>
#include <cstring>
#include <initializer_list>

#include "internal.hpp"
#include "stream.hpp"
#include "ossl/digest.hpp"
#include "ossl/x509.hpp"
#include "sigil/common/clock.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/secure.hpp"
#include "xml.hpp"

namespace sigil::xades {
namespace {

using namespace detail;
using xml::add_element;
using xml::add_text_element;
using xml::set_attr;

constexpr std::string_view kStateMagic = "SIGIL-XADES-STATE-1";

// --- state: a tiny length-prefixed record ---------------------------------------------------------
void put_u64(Bytes& out, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void put_blob(Bytes& out, std::string_view b) {
  put_u64(out, b.size());
  out.insert(out.end(), b.begin(), b.end());
}
void put_blob(Bytes& out, const Bytes& b) {
  put_blob(out, std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

class Reader {
 public:
  explicit Reader(const Bytes& b) : b_(b) {}
  std::uint64_t u64() {
    need(8);
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | b_[pos_++];
    return v;
  }
  std::string_view blob() {
    const std::uint64_t n = u64();
    need(n);
    std::string_view s(reinterpret_cast<const char*>(b_.data()) + pos_, static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return s;
  }
  Bytes bytes() {
    const auto s = blob();
    return Bytes(s.begin(), s.end());
  }
  bool done() const { return pos_ == b_.size(); }

 private:
  void need(std::uint64_t n) const {
    if (n > b_.size() - pos_) throw Error(Errc::invalid_signing_state, "XAdES signing state is truncated");
  }
  const Bytes& b_;
  std::size_t pos_ = 0;
};

struct State {
  SignatureScheme scheme = SignatureScheme::ecdsa;
  HashAlg hash = HashAlg::sha256;
  Bytes spki;
  Bytes digest;
  std::uint64_t placeholder_at = 0;
  std::uint64_t placeholder_len = 0;
  std::string_view xml;  // decode: a view into the state bytes
};

// The XML goes in as parts (prefix, signature, suffix) so that a large document is copied once.
Bytes encode_state(const State& s, std::initializer_list<std::string_view> xml_parts) {
  Bytes out;
  put_blob(out, kStateMagic);
  put_u64(out, static_cast<std::uint64_t>(s.scheme));
  put_u64(out, static_cast<std::uint64_t>(s.hash));
  put_blob(out, s.spki);
  put_blob(out, s.digest);
  put_u64(out, s.placeholder_at);
  put_u64(out, s.placeholder_len);
  std::uint64_t total = 0;
  for (auto part : xml_parts) total += part.size();
  out.reserve(out.size() + 8 + total);
  put_u64(out, total);
  for (auto part : xml_parts) {
    const std::size_t at = out.size();
    out.resize(at + part.size());
    if (!part.empty()) std::memcpy(out.data() + at, part.data(), part.size());
  }
  return out;
}

State decode_state(const Bytes& b) {
  Reader r(b);
  if (r.blob() != kStateMagic) throw Error(Errc::invalid_signing_state, "not a XAdES signing state");
  State s;
  const auto scheme = r.u64();
  const auto hash = r.u64();
  if (scheme > 2 || hash > 2) throw Error(Errc::invalid_signing_state, "XAdES state: bad algorithm");
  s.scheme = static_cast<SignatureScheme>(scheme);
  s.hash = static_cast<HashAlg>(hash);
  s.spki = r.bytes();
  s.digest = r.bytes();
  s.placeholder_at = r.u64();
  s.placeholder_len = r.u64();
  s.xml = r.blob();
  if (!r.done() || s.placeholder_len == 0 || s.placeholder_at > s.xml.size() ||
      s.placeholder_len > s.xml.size() - s.placeholder_at || s.digest.size() != digest_size(s.hash)) {
    throw Error(Errc::invalid_signing_state, "XAdES signing state is inconsistent");
  }
  return s;
}

// --- parameters ---------------------------------------------------------------------------------
// RFC 3986 percent-encoding of a plain relative file name (no path, no dot segments).
std::string detached_uri(const std::string& name) {
  if (name.empty() || name == "." || name == ".." || name.find_first_of("/\\") != std::string::npos) {
    throw Error(Errc::invalid_argument, "detached_name must be a plain relative file name", true);
  }
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : name) {
    if (std::isalnum(c) != 0 || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// A detached data reference: its URI and the digest of the data.
struct DataRef {
  std::string uri;
  Bytes digest;
};

void check_digest_length(const XadesParams& p, const Bytes& digest, const std::string& what) {
  if (digest.size() != digest_size(p.digest_alg)) {
    throw Error(Errc::invalid_argument, what + " has the wrong length for the digest algorithm", true);
  }
}

// The references of a detached signature: detached_references, or the one document.
std::vector<DataRef> detached_refs(const XadesParams& p, std::string_view document) {
  std::vector<DataRef> out;
  if (p.detached_references.empty()) {
    DataRef r{detached_uri(p.detached_name), {}};
    if (p.detached_digest) {
      check_digest_length(p, *p.detached_digest, "detached_digest");
      r.digest = *p.detached_digest;
    } else {
      r.digest = ossl::digest(p.digest_alg, document);
    }
    out.push_back(std::move(r));
    return out;
  }
  if (!document.empty() || p.detached_digest) {
    throw Error(Errc::invalid_argument, "detached_references replace the document and detached_digest", true);
  }
  for (const auto& d : p.detached_references) {
    DataRef r{detached_uri(d.name), d.digest};
    check_digest_length(p, r.digest, "the digest of detached document '" + d.name + "'");
    for (const auto& o : out) {
      if (o.uri == r.uri) throw Error(Errc::invalid_argument, "two detached documents are named '" + d.name + "'", true);
    }
    out.push_back(std::move(r));
  }
  return out;
}

void check_key(const XadesParams& p, const Bytes& spki) {
  const KeySpec spec = ossl::spki_key_spec(spki);
  if (p.scheme == SignatureScheme::ecdsa && spec.type != KeyType::ec) {
    throw Error(Errc::invalid_argument, "ECDSA needs an EC signer certificate", true);
  }
  if (p.scheme == SignatureScheme::rsa_pkcs1 && spec.type != KeyType::rsa) {
    throw Error(Errc::invalid_argument, "RSA PKCS#1 v1.5 needs an RSA signer certificate", true);
  }
}

xmlNode* find_parent(xmlDoc* doc, const XadesParams& p) {
  xmlNode* root = xmlDocGetRootElement(doc);
  if (p.parent_local_name.empty()) return root;
  const auto hits = xml::find_all(root, p.parent_namespace.c_str(), p.parent_local_name.c_str());
  if (hits.empty()) {
    throw Error(Errc::invalid_argument, "no element {" + p.parent_namespace + "}" + p.parent_local_name +
                                            " to hold the enveloped signature", true);
  }
  return hits.front();
}

void add_digest(xmlNode* parent, xmlNs* ds, const std::string& method_uri, xmlNode** value_out,
                std::string_view value = {}) {
  set_attr(add_element(parent, ds, "DigestMethod"), "Algorithm", method_uri);
  xmlNode* v = add_text_element(parent, ds, "DigestValue", value);
  if (value_out != nullptr) *value_out = v;
}

[[noreturn]] void throw_has_signature() {
  throw Error(Errc::unsupported,
              "the document already holds a ds:Signature; an enveloped signature would invalidate it", true);
}

// Inclusive C14N 1.0 copies xml:lang/xml:space/xml:base of the signature's ancestors into
// SignedInfo and SignedProperties. libxml2, xmlsec and Santuario do; xadesjs and lxml's subtree
// C14N do not, so such a signature would verify in some places only. We refuse to make one.
[[noreturn]] void throw_inherited_xml_attributes() {
  throw Error(Errc::unsupported,
              "inclusive C14N under an element carrying xml:* attributes is not interoperable; use exclusive C14N",
              true);
}

bool has_xml_attributes(const xmlNode* n) {
  for (; n != nullptr && n->type == XML_ELEMENT_NODE; n = n->parent) {
    for (const xmlAttr* a = n->properties; a != nullptr; a = a->next) {
      if (a->ns != nullptr && xmlStrEqual(a->ns->href, XML_XML_NAMESPACE)) return true;
    }
  }
  return false;
}

// A stand-in for the root of a streamed document: its in-scope namespaces and xml:* attributes,
// so that inclusive C14N of the signature's parts sees the context it will have in the document.
xmlNode* context_element(xmlDoc* doc, const stream::Result& sr) {
  xmlNode* root = xmlNewDocNode(doc, nullptr, xml::X("context"), nullptr);
  xmlDocSetRootElement(doc, root);
  for (const auto& [prefix, uri] : sr.root_namespaces) {
    if (prefix.empty() && uri.empty()) continue;
    xmlNewNs(root, xml::X(uri.c_str()), prefix.empty() ? nullptr : xml::X(prefix.c_str()));
  }
  if (!sr.root_xml_attributes.empty()) {
    xmlNs* xml_ns = xmlSearchNs(doc, root, xml::X("xml"));
    for (const auto& [local, value] : sr.root_xml_attributes) {
      xmlSetNsProp(root, xml_ns, xml::X(local.c_str()), xml::X(value.c_str()));
    }
  }
  return root;
}

std::string placeholder() { return "SIGIL-SIGNATURE-VALUE-" + hex_encode(random_bytes(16)); }

std::size_t ecdsa_field_bytes(const Bytes& spki) { return (ossl::spki_key_spec(spki).bits + 7) / 8; }

}  // namespace

void XadesParams::apply(const XadesProfile& profile) {
  packaging = profile.packaging;
  c14n = profile.c14n;
  digest_alg = profile.digest_alg;
  policy = profile.policy;
  commitment_type = profile.commitment_type;
}

void check_document(std::string_view xml_text, const Limits& limits) { (void)xml::parse(xml_text, limits); }

Prepared prepare(std::string_view document, const XadesParams& p) {
  if (p.signer.leaf.empty()) throw Error(Errc::invalid_argument, "signer certificate missing", true);
  const ossl::CertInfo leaf = ossl::inspect_certificate(p.signer.leaf);
  check_key(p, leaf.public_key_der);
  const std::string sig_method = signature_uri(p.scheme, p.digest_alg);
  const std::string dig_method = digest_uri(p.digest_alg);
  const std::string c14n_method = c14n_uri(p.c14n);

  // 1. The document, and the digest of the data where it does not depend on the signature.
  xml::Doc doc;
  std::size_t splice_at = std::string::npos;  // enveloped fast path: where the signature goes
  std::vector<std::string> taken_ids;
  xml::Doc content;  // enveloping XML: the parsed data, copied into ds:Object
  xmlNode* parent = nullptr;
  Bytes data_digest;
  std::string mime = p.mime_type;
  std::string data_uri;
  std::vector<DataRef> more_refs;  // detached: the references after the first
  switch (p.packaging) {
    case Packaging::enveloped: {
      if (p.parent_local_name.empty()) {
        // Fast path: canonicalise while parsing (SAX, no tree), splice the signature into the bytes.
        stream::Result sr = stream::canonicalise(document, p.limits, p.c14n, p.digest_alg);
        if (sr.has_signature) throw_has_signature();
        if (p.c14n == C14n::inclusive && !sr.root_xml_attributes.empty()) throw_inherited_xml_attributes();
        if (sr.root_end_tag != std::string::npos) {
          splice_at = sr.root_end_tag;
          data_digest = std::move(sr.digest);
          taken_ids = std::move(sr.ids);
          doc = xml::new_doc();
          parent = context_element(doc.get(), sr);
          if (mime.empty()) mime = "text/xml";
          break;
        }
      }
      doc = xml::parse(document, p.limits);
      // Another enveloped ds:Signature would be covered by ours and, worse, ours would sit inside the
      // data its enveloped-signature transform covers: it would break. Parallel enveloped
      // signatures need an XPath exclusion transform, which we do not emit.
      if (!xml::find_all(xmlDocGetRootElement(doc.get()), xml::kDsNs, "Signature").empty()) throw_has_signature();
      parent = find_parent(doc.get(), p);
      if (p.c14n == C14n::inclusive && has_xml_attributes(parent)) throw_inherited_xml_attributes();
      Hasher h(p.digest_alg);
      xml::c14n_document(doc.get(), p.c14n, h.sink());  // = enveloped-signature transform + C14N
      data_digest = h.final();
      taken_ids = xml::all_ids(doc.get());
      if (mime.empty()) mime = "text/xml";
      break;
    }
    case Packaging::enveloping:
      doc = xml::new_doc();
      if (p.enveloping_xml) {
        content = xml::parse(document, p.limits);
      } else if (document.size() > p.limits.max_bytes) {
        throw Error(Errc::document_too_large, "document exceeds the size limit", true);
      }
      if (mime.empty()) mime = p.enveloping_xml ? "text/xml" : "application/octet-stream";
      break;
    case Packaging::detached: {
      doc = xml::new_doc();
      more_refs = detached_refs(p, document);
      data_uri = std::move(more_refs.front().uri);
      data_digest = std::move(more_refs.front().digest);
      more_refs.erase(more_refs.begin());
      if (mime.empty()) mime = "application/octet-stream";
      break;
    }
  }
  if (!p.detached_references.empty() && p.packaging != Packaging::detached) {
    throw Error(Errc::invalid_argument, "several documents can only be signed DETACHED", true);
  }

  // 2. Ids, unique in the document.
  std::string id;
  if (p.id_seed.empty()) {
    id = fresh_id(taken_ids);
  } else {
    const std::string base = "id-" + hex_encode(ossl::digest(HashAlg::sha256, p.id_seed)).substr(0, 16);
    id = base;
    for (int n = 1; std::any_of(taken_ids.begin(), taken_ids.end(),
                                [&](const std::string& t) { return t.rfind(id, 0) == 0; });
         ++n) {
      id = base + "-" + std::to_string(n);
    }
  }
  const std::string id_ref = id + "-ref0";
  const std::string id_sp = id + "-signedprops";
  const std::string id_sv = id + "-sigvalue";
  const std::string id_obj = id + "-object0";

  // 3. ds:Signature.
  xmlNode* sig = xmlNewDocNode(doc.get(), nullptr, xml::X("Signature"), nullptr);
  if (sig == nullptr) throw Error(Errc::internal, "xmlNewDocNode failed");
  xmlNs* ds = xmlNewNs(sig, xml::X(xml::kDsNs), xml::X("ds"));
  xmlSetNs(sig, ds);
  if (parent != nullptr) {
    xmlAddChild(parent, sig);
  } else {
    xmlDocSetRootElement(doc.get(), sig);
  }
  set_attr(sig, "Id", id);

  xmlNode* si = add_element(sig, ds, "SignedInfo");
  set_attr(add_element(si, ds, "CanonicalizationMethod"), "Algorithm", c14n_method);
  set_attr(add_element(si, ds, "SignatureMethod"), "Algorithm", sig_method);

  xmlNode* ref = add_element(si, ds, "Reference");
  set_attr(ref, "Id", id_ref);
  xmlNode* data_digest_el = nullptr;
  switch (p.packaging) {
    case Packaging::enveloped: {
      set_attr(ref, "URI", "");
      xmlNode* ts = add_element(ref, ds, "Transforms");
      set_attr(add_element(ts, ds, "Transform"), "Algorithm", kEnvelopedTransform);
      set_attr(add_element(ts, ds, "Transform"), "Algorithm", c14n_method);
      break;
    }
    case Packaging::enveloping: {
      set_attr(ref, "URI", "#" + id_obj);
      xmlNode* ts = add_element(ref, ds, "Transforms");
      set_attr(add_element(ts, ds, "Transform"), "Algorithm", p.enveloping_xml ? c14n_method : kBase64Transform);
      break;
    }
    case Packaging::detached: set_attr(ref, "URI", data_uri); break;
  }
  add_digest(ref, ds, dig_method, &data_digest_el);
  std::vector<std::string> ref_ids{id_ref};
  for (const DataRef& r : more_refs) {
    xmlNode* more = add_element(si, ds, "Reference");
    ref_ids.push_back(id + "-ref" + std::to_string(ref_ids.size()));
    set_attr(more, "Id", ref_ids.back());
    set_attr(more, "URI", r.uri);
    add_digest(more, ds, dig_method, nullptr, base64_encode(r.digest));
  }

  xmlNode* spref = add_element(si, ds, "Reference");
  set_attr(spref, "Type", kSignedPropertiesType);
  set_attr(spref, "URI", "#" + id_sp);
  set_attr(add_element(add_element(spref, ds, "Transforms"), ds, "Transform"), "Algorithm", c14n_method);
  xmlNode* sp_digest_el = nullptr;
  add_digest(spref, ds, dig_method, &sp_digest_el);

  const std::string marker = placeholder();
  xmlNode* sv = add_text_element(sig, ds, "SignatureValue", marker);
  set_attr(sv, "Id", id_sv);

  xmlNode* x509 = add_element(add_element(sig, ds, "KeyInfo"), ds, "X509Data");
  for (const Bytes& c : p.signer.chain()) {
    (void)parse_cert(c, "signer chain certificate");
    add_text_element(x509, ds, "X509Certificate", base64_encode(c));
  }

  xmlNode* data_obj = nullptr;
  if (p.packaging == Packaging::enveloping) {
    data_obj = add_element(sig, ds, "Object");
    set_attr(data_obj, "Id", id_obj);
    set_attr(data_obj, "MimeType", mime);
    if (p.enveloping_xml) {
      xmlNode* copy = xmlDocCopyNode(xmlDocGetRootElement(content.get()), doc.get(), 1);
      if (copy == nullptr || xmlAddChild(data_obj, copy) == nullptr) throw Error(Errc::internal, "xmlDocCopyNode failed");
      content.reset();
    } else {
      set_attr(data_obj, "Encoding", kBase64Transform);
      xml::set_text(data_obj, base64_encode(as_bytes(document)));
    }
  }

  // 4. xades:QualifyingProperties.
  xmlNode* qp = xmlNewDocNode(doc.get(), nullptr, xml::X("QualifyingProperties"), nullptr);
  xmlAddChild(add_element(sig, ds, "Object"), qp);
  xmlNs* xa = xmlNewNs(qp, xml::X(xml::kXadesNs), xml::X("xades"));
  xmlSetNs(qp, xa);
  set_attr(qp, "Target", "#" + id);
  xmlNode* sp = add_element(qp, xa, "SignedProperties");
  set_attr(sp, "Id", id_sp);
  xmlNode* ssp = add_element(sp, xa, "SignedSignatureProperties");
  const auto when = p.signing_time.value_or(std::chrono::system_clock::now());
  add_text_element(ssp, xa, "SigningTime", to_rfc3339(when));
  xmlNode* cert = add_element(add_element(ssp, xa, "SigningCertificateV2"), xa, "Cert");
  add_digest(add_element(cert, xa, "CertDigest"), ds, dig_method, nullptr,
             base64_encode(ossl::digest(p.digest_alg, p.signer.leaf)));
  add_text_element(cert, xa, "IssuerSerialV2", issuer_serial_v2(p.signer.leaf));
  if (p.policy) {
    const auto& pol = *p.policy;
    if (pol.identifier.empty() || pol.hash.empty()) {
      throw Error(Errc::invalid_argument, "signature policy needs an identifier and a hash", true);
    }
    xmlNode* spid = add_element(add_element(ssp, xa, "SignaturePolicyIdentifier"), xa, "SignaturePolicyId");
    xmlNode* pid = add_element(spid, xa, "SigPolicyId");
    add_text_element(pid, xa, "Identifier", pol.identifier);
    if (!pol.description.empty()) add_text_element(pid, xa, "Description", pol.description);
    add_digest(add_element(spid, xa, "SigPolicyHash"), ds, policy_digest_uri(pol.hash_alg), nullptr,
               base64_encode(pol.hash));
    if (!pol.uri.empty()) {
      add_text_element(add_element(add_element(spid, xa, "SigPolicyQualifiers"), xa, "SigPolicyQualifier"), xa,
                       "SPURI", pol.uri);
    }
  }
  if (!p.claimed_roles.empty()) {
    xmlNode* roles = add_element(add_element(ssp, xa, "SignerRoleV2"), xa, "ClaimedRoles");
    for (const auto& r : p.claimed_roles) add_text_element(roles, xa, "ClaimedRole", r);
  }
  xmlNode* sdop = add_element(sp, xa, "SignedDataObjectProperties");
  for (const std::string& ref_id : ref_ids) {
    xmlNode* dof = add_element(sdop, xa, "DataObjectFormat");
    set_attr(dof, "ObjectReference", "#" + ref_id);
    add_text_element(dof, xa, "MimeType", mime);
  }
  if (p.commitment_type) {
    xmlNode* cti = add_element(sdop, xa, "CommitmentTypeIndication");
    add_text_element(add_element(cti, xa, "CommitmentTypeId"), xa, "Identifier", *p.commitment_type);
    add_element(cti, xa, "AllSignedDataObjects");
  }

  // 5. Digests in their final context, then the canonical SignedInfo.
  if (p.packaging == Packaging::enveloping) {
    data_digest = p.enveloping_xml
                      ? ossl::digest(p.digest_alg, xml::c14n_subtree_bytes(data_obj, p.c14n))
                      : ossl::digest(p.digest_alg, document);  // base64 transform: the decoded bytes
  }
  xml::set_text(data_digest_el, base64_encode(data_digest));
  xml::set_text(sp_digest_el, base64_encode(ossl::digest(p.digest_alg, xml::c14n_subtree_bytes(sp, p.c14n))));

  Prepared out;
  out.digest_alg = p.digest_alg;
  out.data_to_be_signed = xml::c14n_subtree_bytes(si, p.c14n);
  out.digest = ossl::digest(p.digest_alg, out.data_to_be_signed);

  State st;
  st.scheme = p.scheme;
  st.hash = p.digest_alg;
  st.spki = leaf.public_key_der;
  st.digest = out.digest;
  st.placeholder_len = marker.size();
  if (splice_at != std::string::npos) {
    // The original bytes stay as they are; only the signature is serialised.
    const std::string sig_xml = xml::serialize_element(sig);
    doc.reset();
    const auto at = sig_xml.find(marker);
    if (at == std::string::npos) throw Error(Errc::internal, "SignatureValue placeholder not found");
    st.placeholder_at = splice_at + at;
    out.state = encode_state(st, {document.substr(0, splice_at), sig_xml, document.substr(splice_at)});
  } else {
    const std::string whole = xml::serialize(doc.get());
    doc.reset();
    const auto at = whole.find(marker);
    if (at == std::string::npos || whole.find(marker, at + 1) != std::string::npos) {
      throw Error(Errc::internal, "SignatureValue placeholder not found exactly once");
    }
    st.placeholder_at = at;
    out.state = encode_state(st, {whole});
  }
  return out;
}

std::string finish(const Bytes& state, const Bytes& signature_value) {
  State st = decode_state(state);
  Bytes raw = signature_value;
  Bytes der = signature_value;
  if (st.scheme == SignatureScheme::ecdsa) {
    const std::size_t field = ecdsa_field_bytes(st.spki);
    try {
      if (signature_value.size() == 2 * field) {
        der = ossl::ecdsa_raw_to_der(signature_value);
      } else {
        raw = ossl::ecdsa_der_to_raw(signature_value, field);
      }
    } catch (const Error& e) {
      throw Error(Errc::invalid_signature_value, "ECDSA signature value is neither r||s nor DER: " + e.detail());
    }
  }
  bool ok = false;
  try {
    ok = ossl::verify_digest(st.spki, st.scheme, st.hash, st.digest, der);
  } catch (const Error&) {
    ok = false;
  }
  if (!ok) {
    throw Error(Errc::invalid_signature_value, "signature value does not verify with the signer certificate", true);
  }
  const std::string value = base64_encode(raw);
  const auto at = static_cast<std::size_t>(st.placeholder_at);
  std::string out;
  out.reserve(st.xml.size() - static_cast<std::size_t>(st.placeholder_len) + value.size());
  out.append(st.xml.substr(0, at));
  out.append(value);
  out.append(st.xml.substr(at + static_cast<std::size_t>(st.placeholder_len)));
  return out;
}

std::string sign(std::string_view document, const XadesParams& params, KeySigner& key, SignatureLevel level,
                 const Sources& sources) {
  const Prepared prep = prepare(document, params);
  const Bytes sv = key.sign_digest(params.scheme, prep.digest_alg, prep.digest, true);
  std::string signed_xml = finish(prep.state, sv);
  if (level == SignatureLevel::b_b) return signed_xml;
  ExtendParams ep;
  ep.c14n = params.c14n;
  ep.limits = params.limits;
  if (params.packaging == Packaging::detached && !params.detached_digest) ep.detached_data = std::string(document);
  // Our own output is bigger than the input: allow for the signature itself.
  ep.limits.max_bytes = std::max(ep.limits.max_bytes, signed_xml.size());
  return extend(signed_xml, level, sources, ep);
}

}  // namespace sigil::xades
