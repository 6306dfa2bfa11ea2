// XAdES B-T, B-LT and B-LTA: unsigned signature properties added to a parsed signed document.
#include <libxml/tree.h>

#include <algorithm>

#include "internal.hpp"
#include "ossl/digest.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"
#include "sigil/xades/xades.hpp"
#include "xml.hpp"

namespace sigil::xades {
namespace {

using namespace detail;
using xml::kDsNs;
using xml::kXades141Ns;
using xml::kXadesNs;

Bytes b64(const xmlNode* el) {
  std::string t = xml::text(el);
  t.erase(std::remove_if(t.begin(), t.end(), [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }),
          t.end());
  try {
    return base64_decode(t);
  } catch (const Error&) {
    throw Error(Errc::invalid_document, "invalid base64 in a signature element", true);
  }
}

void add_unique(std::vector<Bytes>& to, const Bytes& b) {
  if (std::find(to.begin(), to.end(), b) == to.end()) to.push_back(b);
}

struct Target {
  xmlNode* sig = nullptr;
  xmlNode* signed_info = nullptr;
  xmlNode* signature_value = nullptr;
  xmlNode* key_info = nullptr;
  xmlNode* qp = nullptr;
  xmlNode* qp_object = nullptr;
  xmlNode* sp = nullptr;
};

Target find_target(xmlDoc* doc, const std::string& id) {
  std::vector<Target> found;
  for (xmlNode* sig : xml::find_all(xmlDocGetRootElement(doc), kDsNs, "Signature")) {
    Target t;
    t.sig = sig;
    for (xmlNode* obj : xml::children(sig, kDsNs, "Object")) {
      if (xmlNode* qp = xml::first_child(obj, kXadesNs, "QualifyingProperties")) {
        t.qp = qp;
        t.qp_object = obj;
        break;
      }
    }
    const std::string sid = xml::attr(sig, "Id");
    if (t.qp == nullptr || sid.empty() || xml::attr(t.qp, "Target") != "#" + sid) continue;
    if (!id.empty() && sid != id) continue;
    t.signed_info = xml::first_child(sig, kDsNs, "SignedInfo");
    t.signature_value = xml::first_child(sig, kDsNs, "SignatureValue");
    t.key_info = xml::first_child(sig, kDsNs, "KeyInfo");
    t.sp = xml::first_child(t.qp, kXadesNs, "SignedProperties");
    if (t.signed_info == nullptr || t.signature_value == nullptr || t.sp == nullptr) {
      throw Error(Errc::invalid_document, "XAdES signature " + sid + " is incomplete", true);
    }
    found.push_back(t);
  }
  if (found.empty()) {
    throw Error(Errc::invalid_document,
                id.empty() ? "no XAdES signature in the document" : "no XAdES signature with Id " + id, true);
  }
  return found.back();
}

xmlNs* ns_for(xmlNode* at, const char* href, const char* prefix) {
  if (xmlNs* ns = xmlSearchNsByHref(at->doc, at, xml::X(href))) return ns;
  return xmlNewNs(at, xml::X(href), xml::X(prefix));
}

// UnsignedProperties/UnsignedSignatureProperties, created when absent.
xmlNode* unsigned_signature_properties(const Target& t) {
  xmlNs* xa = ns_for(t.qp, kXadesNs, "xades");
  xmlNode* up = xml::first_child(t.qp, kXadesNs, "UnsignedProperties");
  if (up == nullptr) {
    up = xmlNewDocNode(t.qp->doc, xa, xml::X("UnsignedProperties"), nullptr);
    xmlAddNextSibling(t.sp, up);
  }
  xmlNode* usp = xml::first_child(up, kXadesNs, "UnsignedSignatureProperties");
  if (usp == nullptr) {
    usp = xmlNewDocNode(t.qp->doc, xa, xml::X("UnsignedSignatureProperties"), nullptr);
    if (up->children != nullptr) {
      xmlAddPrevSibling(up->children, usp);
    } else {
      xmlAddChild(up, usp);
    }
  }
  return usp;
}

// <PREFIX:name Id=..><ds:CanonicalizationMethod/><xades:EncapsulatedTimeStamp>..</..></..>
void add_timestamp_element(xmlNode* usp, bool xades141, const char* name, C14n alg, const Bytes& token,
                           const std::string& id) {
  xmlNs* ds = ns_for(usp, kDsNs, "ds");
  xmlNs* xa = ns_for(usp, kXadesNs, "xades");
  xmlNode* ts = xmlNewDocNode(usp->doc, xades141 ? nullptr : xa, xml::X(name), nullptr);
  xmlAddChild(usp, ts);
  if (xades141) {
    // declared on the element itself, so the extension stays self-contained
    xmlSetNs(ts, xmlNewNs(ts, xml::X(kXades141Ns), xml::X("xades141")));
  }
  xml::set_attr(ts, "Id", id);
  xml::set_attr(xml::add_element(ts, ds, "CanonicalizationMethod"), "Algorithm", c14n_uri(alg));
  xml::add_text_element(ts, xa, "EncapsulatedTimeStamp", base64_encode(token));
}

std::vector<Bytes> key_info_certs(const Target& t) {
  std::vector<Bytes> out;
  if (t.key_info == nullptr) return out;
  for (xmlNode* xd : xml::children(t.key_info, kDsNs, "X509Data")) {
    for (xmlNode* c : xml::children(xd, kDsNs, "X509Certificate")) out.push_back(b64(c));
  }
  return out;
}

// The certificate SigningCertificateV2 (or v1) names, among `pool`; else the first KeyInfo one.
Bytes signer_certificate(const Target& t, const std::vector<Bytes>& pool) {
  xmlNode* ssp = xml::first_child(t.sp, kXadesNs, "SignedSignatureProperties");
  xmlNode* sc = xml::first_child(ssp, kXadesNs, "SigningCertificateV2");
  if (sc == nullptr) sc = xml::first_child(ssp, kXadesNs, "SigningCertificate");
  xmlNode* cd = xml::first_child(xml::first_child(sc, kXadesNs, "Cert"), kXadesNs, "CertDigest");
  if (cd != nullptr) {
    try {
      const HashAlg alg = parse_digest_uri(xml::attr(xml::first_child(cd, kDsNs, "DigestMethod"), "Algorithm"));
      const Bytes want = b64(xml::first_child(cd, kDsNs, "DigestValue"));
      for (const Bytes& c : pool) {
        if (ossl::digest(alg, c) == want) return c;
      }
    } catch (const Error&) {
      // fall through to KeyInfo order
    }
  }
  if (pool.empty()) throw Error(Errc::invalid_document, "no signer certificate in KeyInfo", true);
  return pool.front();
}

std::vector<std::string> transforms_of(xmlNode* ref) {
  std::vector<std::string> out;
  for (xmlNode* tr : xml::children(xml::first_child(ref, kDsNs, "Transforms"), kDsNs, "Transform")) {
    out.push_back(xml::attr(tr, "Algorithm"));
  }
  return out;
}

// RFC 3986 percent-decoding of a detached reference URI ("a%20b.txt" -> "a b.txt"); malformed
// escapes stay as they are (they then match no name).
std::string percent_decode(const std::string& uri) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < uri.size(); ++i) {
    if (uri[i] == '%' && i + 2 < uri.size() && hex(uri[i + 1]) >= 0 && hex(uri[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(uri[i + 1]) * 16 + hex(uri[i + 2])));
      i += 2;
    } else {
      out.push_back(uri[i]);
    }
  }
  return out;
}

// The detached data of the reference `uri`: the named document, else detached_data, else null.
const std::string* detached_data_for(const std::string& uri, const ExtendParams& ep) {
  const std::string name = percent_decode(uri);
  for (const auto& [n, data] : ep.detached_documents) {
    if (n == name || n == uri) return &data;
  }
  return ep.detached_data ? &*ep.detached_data : nullptr;
}

// The octets a ds:Reference covers, fed to `h` (EN 319 132-1 §5.5.2.2 step 1).
void feed_reference(xmlDoc* doc, const Target& t, xmlNode* ref, Hasher& h, const ExtendParams& ep) {
  const xmlAttr* uri_attr = xmlHasNsProp(ref, xml::X("URI"), nullptr);
  const std::string uri = xml::attr(ref, "URI");
  bool enveloped = false;
  bool base64 = false;
  C14n alg = C14n::inclusive;  // the default when a node-set has to become octets
  for (const std::string& tr : transforms_of(ref)) {
    if (tr == kEnvelopedTransform) {
      enveloped = true;
    } else if (tr == kBase64Transform) {
      base64 = true;
    } else {
      alg = parse_c14n_uri(tr);
    }
  }
  if (uri_attr != nullptr && uri.empty()) {
    if (enveloped) {
      xml::c14n_document_excluding(doc, t.sig, alg, h.sink());
    } else {
      xml::c14n_document(doc, alg, h.sink());
    }
    return;
  }
  if (!uri.empty() && uri[0] == '#') {
    xmlNode* node = xml::find_by_id(doc, uri.substr(1));
    if (node == nullptr) throw Error(Errc::invalid_document, "reference " + uri + " points nowhere", true);
    if (base64) {
      const Bytes data = b64(node);
      h.update(data.data(), data.size());
    } else if (enveloped) {
      throw Error(Errc::unsupported, "enveloped-signature transform on a same-document reference", true);
    } else {
      xml::c14n_subtree(node, alg, h.sink());
    }
    return;
  }
  const std::string* data = detached_data_for(uri, ep);
  if (data == nullptr) {
    throw Error(Errc::invalid_argument,
                "B-LTA over a detached signature needs the detached data (reference '" + uri + "')", true);
  }
  h.update(reinterpret_cast<const std::uint8_t*>(data->data()), data->size());
}

Bytes archive_imprint(xmlDoc* doc, const Target& t, xmlNode* usp, C14n alg, HashAlg hash, const ExtendParams& ep) {
  Hasher h(hash);
  std::vector<std::string> referenced;
  for (xmlNode* ref : xml::children(t.signed_info, kDsNs, "Reference")) {
    feed_reference(doc, t, ref, h, ep);
    referenced.push_back(xml::attr(ref, "URI"));
  }
  xml::c14n_subtree(t.signed_info, alg, h.sink());
  xml::c14n_subtree(t.signature_value, alg, h.sink());
  if (t.key_info != nullptr) xml::c14n_subtree(t.key_info, alg, h.sink());
  for (xmlNode* c = usp->children; c != nullptr; c = c->next) {
    if (c->type == XML_ELEMENT_NODE) xml::c14n_subtree(c, alg, h.sink());
  }
  for (xmlNode* obj : xml::children(t.sig, kDsNs, "Object")) {
    if (obj == t.qp_object) continue;
    const std::string oid = xml::attr(obj, "Id");
    if (!oid.empty() && std::find(referenced.begin(), referenced.end(), "#" + oid) != referenced.end()) continue;
    xml::c14n_subtree(obj, alg, h.sink());
  }
  return h.final();
}

}  // namespace

std::string extend(std::string_view signed_xml, SignatureLevel level, const Sources& src, const ExtendParams& ep) {
  xml::Doc doc = xml::parse(signed_xml, ep.limits);
  const Target t = find_target(doc.get(), ep.signature_id);
  if (level == SignatureLevel::b_b) return xml::serialize(doc.get());
  if (src.tsa == nullptr) throw Error(Errc::invalid_argument, "a time-stamp source is needed above B-B", true);
  xmlNode* usp = unsigned_signature_properties(t);
  xmlNs* xa = ns_for(usp, kXadesNs, "xades");
  const std::string sid = xml::attr(t.sig, "Id");
  std::vector<std::string> taken = xml::all_ids(doc.get());

  // B-T: SignatureTimeStamp over C14N(ds:SignatureValue).
  if (xml::children(usp, kXadesNs, "SignatureTimeStamp").empty()) {
    const Bytes imprint = ossl::digest(src.timestamp_hash, xml::c14n_subtree_bytes(t.signature_value, ep.c14n));
    const Bytes token = src.tsa->timestamp(src.timestamp_hash, imprint);
    const std::string id = fresh_id(taken) + "-sigts";
    taken.push_back(id);
    add_timestamp_element(usp, false, "SignatureTimeStamp", ep.c14n, token, id);
  }

  // B-LT: the signer's and the TSAs' chains and proof they are not revoked.
  if (level >= SignatureLevel::b_lt && xml::children(usp, kXadesNs, "RevocationValues").empty()) {
    if (src.revocation == nullptr) throw Error(Errc::invalid_argument, "a revocation source is needed for B-LT", true);
    const std::vector<Bytes> kcerts = key_info_certs(t);
    const std::vector<Bytes> signer_chain = build_chain(signer_certificate(t, kcerts), kcerts);
    std::vector<std::vector<Bytes>> chains{signer_chain};
    for (xmlNode* ts : xml::children(usp, kXadesNs, "SignatureTimeStamp")) {
      auto chain = timestamp_tsa_chain(b64(xml::first_child(ts, kXadesNs, "EncapsulatedTimeStamp")), kcerts);
      if (!chain.empty()) chains.push_back(std::move(chain));
    }
    std::vector<Bytes> certs;
    std::vector<Bytes> ocsps;
    std::vector<Bytes> crls;
    for (const auto& chain : chains) {
      const RevocationData rd = src.revocation->collect(chain);
      for (const auto& c : chain) add_unique(certs, c);
      for (const auto& c : rd.certificates) add_unique(certs, c);
      for (const auto& o : rd.ocsp_responses) add_unique(ocsps, o);
      for (const auto& c : rd.crls) add_unique(crls, c);
    }
    if (xml::children(usp, kXadesNs, "CertificateValues").empty()) {
      xmlNode* cv = xml::add_element(usp, xa, "CertificateValues");
      for (const auto& c : certs) xml::add_text_element(cv, xa, "EncapsulatedX509Certificate", base64_encode(c));
    }
    xmlNode* rv = xml::add_element(usp, xa, "RevocationValues");
    if (!crls.empty()) {
      xmlNode* cv = xml::add_element(rv, xa, "CRLValues");
      for (const auto& c : crls) xml::add_text_element(cv, xa, "EncapsulatedCRLValue", base64_encode(c));
    }
    if (!ocsps.empty()) {
      xmlNode* ov = xml::add_element(rv, xa, "OCSPValues");
      for (const auto& o : ocsps) xml::add_text_element(ov, xa, "EncapsulatedOCSPValue", base64_encode(o));
    }
  }

  // B-LTA: an archive time-stamp over everything so far.
  if (level == SignatureLevel::b_lta) {
    const Bytes imprint = archive_imprint(doc.get(), t, usp, ep.c14n, src.timestamp_hash, ep);
    const Bytes token = src.tsa->timestamp(src.timestamp_hash, imprint);
    const std::string id = fresh_id(taken) + "-archivets";
    add_timestamp_element(usp, true, "ArchiveTimeStamp", ep.c14n, token, id);
  }
  (void)sid;
  return xml::serialize(doc.get());
}

}  // namespace sigil::xades
