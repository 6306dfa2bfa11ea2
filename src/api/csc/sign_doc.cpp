// signatures/signDoc: AdES signatures the server builds, over whole documents (`documents`:
// PAdES, XAdES, CAdES at B-B..B-LTA) or over the client's digests (`documentDigests`: a detached
// CMS, or a detached XAdES, per digest).
//
// The SAD (or the credential-scope token) is bound to the documents, not to the data-to-be-signed
// the server computes: for `documentDigests` to the given hashes, for `documents` to the hash of
// each document's bytes under the entry's hash algorithm (what a SCAL2 client authorises; §2.2,
// §4.16 "Document or documentDigest does not match authorized hash"). Order: parameters, every
// document prepared, the SAD consumed for exactly these documents, then the HSM (ADR 0016).
#include <algorithm>
#include <cctype>
#include <fstream>

#include "csc.hpp"
#include "ossl/digest.hpp"
#include "sigil/auth/authorization.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/common/files.hpp"
#include "sigil/common/secure.hpp"

namespace sigil::api::csc::detail {
namespace {
namespace fs = std::filesystem;

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Spool files of one call, removed when the call ends.
class Spool {
 public:
  explicit Spool(fs::path dir) : dir_(std::move(dir)) {}
  ~Spool() {
    std::error_code ec;
    for (const auto& p : paths_) fs::remove(p, ec);
  }
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;
  fs::path next(std::string_view suffix) {
    paths_.push_back(dir_ / ("csc-" + random_token(12) + std::string(suffix)));
    return paths_.back();
  }

 private:
  fs::path dir_;
  std::vector<fs::path> paths_;
};

signing::Format parse_format(const Json& e) {
  const Json* m = member(e, "signature_format");
  if (m == nullptr || !m->is_string() || m->get_ref<const std::string&>().empty()) {
    fail("Missing (or invalid type) string parameter signature_format");
  }
  const std::string f = lower(m->get_ref<const std::string&>());
  if (f == "c" || f == "cades") return signing::Format::cades;
  if (f == "x" || f == "xades") return signing::Format::xades;
  if (f == "p" || f == "pades") return signing::Format::pades;
  fail("Invalid parameter signature_format");  // J (JAdES) is not supported
}

// "AdES-B-B" (also "Ades-B-T", "AdeS-B-LT", "PAdES-B-LTA", "AdES-B", "B-T", ...); default B-B.
SignatureLevel parse_conformance(const Json& e) {
  const auto given = opt_string(e, "conformance_level");
  if (!given) return SignatureLevel::b_b;
  std::string l = lower(*given);
  for (std::string_view prefix : {"ades-", "cades-", "xades-", "pades-", "ades_", "cades_", "xades_", "pades_"}) {
    if (l.rfind(prefix, 0) == 0) {
      l.erase(0, prefix.size());
      break;
    }
  }
  std::replace(l.begin(), l.end(), '_', '-');
  if (l == "b-b" || l == "b" || l == "baseline-b") return SignatureLevel::b_b;
  if (l == "b-t" || l == "t" || l == "baseline-t") return SignatureLevel::b_t;
  if (l == "b-lt" || l == "lt" || l == "baseline-lt") return SignatureLevel::b_lt;
  if (l == "b-lta" || l == "lta" || l == "baseline-lta") return SignatureLevel::b_lta;
  fail("Invalid parameter conformance_level");
}

// signed_envelope_property per format (§8.2). PAdES: Revision (an approval signature) or
// Certification (a DocMDP certification signature with P=2: form filling and signing allowed).
signing::Packaging parse_envelope(const Json& e, signing::Format f, bool digests) {
  const auto given = opt_string(e, "signed_envelope_property");
  const std::string p = given ? lower(*given) : std::string();
  switch (f) {
    case signing::Format::cades:
      if (p.empty()) return digests ? signing::Packaging::detached : signing::Packaging::enveloping;
      if (p == "detached") return signing::Packaging::detached;
      if ((p == "attached" || p == "enveloping") && !digests) return signing::Packaging::enveloping;
      break;
    case signing::Format::xades:
      if (p.empty()) return digests ? signing::Packaging::detached : signing::Packaging::enveloped;
      if (p == "detached") return signing::Packaging::detached;
      if (p == "enveloped" && !digests) return signing::Packaging::enveloped;
      if (p == "enveloping" && !digests) return signing::Packaging::enveloping;
      break;
    case signing::Format::pades:
      if (p.empty() || p == "revision" || p == "enveloped" || (p == "certification" && !digests))
        return signing::Packaging::enveloped;
      break;
  }
  fail("Invalid parameter signed_envelope_property");
}

// signed_props: the PAdES dictionary entries (Reason, Location, ContactInfo, Name; the value is
// the text). Anything else is refused rather than silently left out.
void apply_signed_props(const Json& e, signing::Format f, signing::DocumentRequest& req) {
  const Json* props = member(e, "signed_props");
  if (props == nullptr) return;
  if (!props->is_array()) fail("Invalid parameter signed_props");
  for (const auto& p : *props) {
    if (!p.is_object()) fail("Invalid parameter signed_props");
    const auto name = opt_string(p, "attribute_name");
    const auto value = opt_string(p, "attribute_value");
    if (!name || !value || f != signing::Format::pades || value->size() > 512) fail("Invalid parameter signed_props");
    if (*name == "Reason") {
      req.pades.reason = *value;
    } else if (*name == "Location") {
      req.pades.location = *value;
    } else if (*name == "ContactInfo") {
      req.pades.contact_info = *value;
    } else if (*name == "Name") {
      req.pades.signer_name = *value;
    } else {
      fail("Invalid parameter signed_props");
    }
  }
}

// signAlgo of an entry. For `documents` the server hashes, so an algorithm without an implied
// hash (rsaEncryption, id-ecPublicKey, RSASSA-PSS without params) gets SHA-256.
SignAlgo entry_algo(const Json& e, bool documents) {
  if (!documents || member(e, "hashAlgorithmOID") != nullptr || member(e, "signAlgoParams") != nullptr) {
    return resolve_sign_algo(e);
  }
  Json copy = e;
  const auto algo = opt_string(e, "signAlgo");
  if (algo && (*algo == "1.2.840.113549.1.1.1" || *algo == "1.2.840.10045.2.1" || *algo == "1.2.840.113549.1.1.10")) {
    copy["hashAlgorithmOID"] = std::string(hash_oid(HashAlg::sha256));
  }
  return resolve_sign_algo(copy);
}

// An array parameter, or a lone object taken as an array of one (lenient).
const Json* array_param(const Json& body, const char* name, const std::string& invalid) {
  const Json* m = member(body, name);
  if (m == nullptr) return nullptr;
  if (!m->is_array() && !m->is_object()) fail(invalid);
  if (m->is_array() && m->empty()) fail(invalid);
  return m;
}

bool looks_like_xml(const std::string& content) {
  std::size_t i = 0;
  if (content.rfind("\xEF\xBB\xBF", 0) == 0) i = 3;
  while (i < content.size() && std::isspace(static_cast<unsigned char>(content[i]))) ++i;
  return i < content.size() && content[i] == '<';
}

std::string_view extension(signing::Format f, signing::Packaging p, bool detached_output) {
  if (f == signing::Format::pades) return ".pdf";
  if (f == signing::Format::xades) return ".xml";
  return detached_output || p == signing::Packaging::detached ? ".p7s" : ".p7m";
}

struct Output {
  fs::path path;
  bool embedded = false;  // DocumentWithSignature (else SignatureObject)
};

http::Response sign_doc(CscContext& ctx, http::Request& req, Call& call) {
  const Session s = authenticate(ctx, req, call);
  const Json& body = call.body;
  if (member(body, "credentialID") == nullptr && member(body, "signatureQualifier") != nullptr) {
    fail("Invalid parameter signatureQualifier: name the credential with credentialID");
  }
  call.credential_id = req_string(body, "credentialID");
  const auto a = owned_credential(ctx, s, call.credential_id);
  if (const auto mode = opt_string(body, "operationMode"); mode && *mode != "S") fail("Invalid parameter operationMode");

  const Json* documents = array_param(body, "documents", "Invalid array parameter documents");
  const Json* digests = array_param(body, "documentDigests", "Invalid object parameter documentDigests");
  if (documents != nullptr && digests != nullptr) fail("Both documentDigests and documents parameters passed");
  if (documents == nullptr && digests == nullptr) fail("Empty documentDigests and documents objects");
  const bool with_documents = documents != nullptr;
  Json items = with_documents ? *documents : *digests;
  if (items.is_object()) items = Json::array({items});
  bool validation_info = opt_bool(body, "returnValidationInfo", false);

  if (!a.enabled) fail("The credential identified by credentialID is disabled");
  if (!certificate_valid(ctx, a)) fail("Signing certificate is expired or not yet valid");

  // Parameters of every entry, then the documents spooled and hashed.
  Spool spool(ctx.signing.spool_dir());
  const auto now = std::chrono::time_point_cast<std::chrono::seconds>(ctx.signing.clock().now());
  std::vector<signing::AuthorizedDocument> jobs;
  std::vector<Output> outputs;
  std::vector<Bytes> sad_hashes;
  std::optional<HashAlg> sad_alg;
  std::size_t total_bytes = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const Json& e = items[i];
    if (!e.is_object()) fail(with_documents ? "Invalid array parameter documents" : "Invalid object parameter documentDigests");
    const signing::Format format = parse_format(e);
    const SignatureLevel level = parse_conformance(e);
    const signing::Packaging packaging = parse_envelope(e, format, !with_documents);
    const SignAlgo alg = entry_algo(e, with_documents);
    if (!a.credential.allows(alg.scheme, alg.hash)) fail("Invalid parameter signAlgo");
    if (sad_alg && *sad_alg != alg.hash) fail("Invalid parameter signAlgo: one hash algorithm per signDoc call");
    sad_alg = alg.hash;

    signing::DocumentRequest r;
    r.format = format;
    r.level = level;
    r.packaging = packaging;
    r.digest_alg = alg.hash;
    r.signing_time = now;
    if (format == signing::Format::pades && lower(opt_string(e, "signed_envelope_property").value_or("")) == "certification")
      r.pades.certification = 2;
    apply_signed_props(e, format, r);

    if (with_documents) {
      const auto text = opt_string(e, "document");
      if (!text || text->empty()) fail("Missing (or invalid type) string parameter document");
      if (text->size() / 4 * 3 > ctx.max_document_bytes + 3) fail("Document too large");
      Bytes content;
      try {
        content = base64_decode(*text);
      } catch (const Error&) {
        fail("Invalid Base64 documents string parameter");
      }
      if (content.empty()) fail("Invalid Base64 documents string parameter");
      total_bytes += content.size();
      if (content.size() > ctx.max_document_bytes || total_bytes > 4 * ctx.max_document_bytes) {
        fail("Document too large");
      }
      const std::string_view view(reinterpret_cast<const char*>(content.data()), content.size());
      if (format == signing::Format::xades && packaging == signing::Packaging::enveloping) {
        r.xades.enveloping_xml = looks_like_xml(std::string(view));
      }
      signing::Document doc;
      doc.path = spool.next(".in");
      doc.name = "document-" + std::to_string(i + 1) +
                 (format == signing::Format::pades ? ".pdf" : format == signing::Format::xades ? ".xml" : ".bin");
      files::write_atomic(doc.path, view, 0600);
      sad_hashes.push_back(ossl::digest(alg.hash, view));
      const bool embedded = packaging != signing::Packaging::detached;
      outputs.push_back({spool.next(extension(format, packaging, false)), embedded});
      jobs.push_back({std::move(doc), r, alg.scheme, outputs.back().path});
    } else {
      const auto hashes = opt_hashes(e);
      if (!hashes) fail("Missing (or invalid type) array parameter hashes");
      const auto named = hashes_algorithm(e, *hashes, false);
      if (*named != alg.hash) fail("String parameter hashAlgorithmOID contradicts with signAlgo parameter");
      if (format == signing::Format::pades) {
        // The client builds the PDF: it gets the CMS for /Contents (no signing-time attribute,
        // time-stamped for B-T and above); B-LT material comes as validationInfo (§4.16).
        r.format = signing::Format::cades;
        r.packaging = signing::Packaging::detached;
        r.cades_without_signing_time = true;
        r.level = std::min(level, SignatureLevel::b_t);
        if (level >= SignatureLevel::b_lt) validation_info = true;
      }
      for (std::size_t k = 0; k < hashes->size(); ++k) {
        const Bytes& h = (*hashes)[k];
        if (h.size() != digest_size(alg.hash)) fail("Invalid digest value length");
        signing::Document doc;
        doc.name = "digest-" + std::to_string(i + 1) + "-" + std::to_string(k + 1);
        doc.digest = h;
        sad_hashes.push_back(h);
        outputs.push_back({spool.next(extension(r.format, r.packaging, true)), false});
        jobs.push_back({std::move(doc), r, alg.scheme, outputs.back().path});
      }
    }
    if (jobs.size() > ctx.max_documents || jobs.size() > ctx.multisign) fail("Too many documents or digests in one call");
  }
  call.details.emplace_back("document_count", std::to_string(jobs.size()));

  std::string sad;
  if (const auto given = opt_string(body, "SAD")) {
    sad = *given;
  } else if (s.credential_scope()) {
    sad = s.access_token;  // the credential-scope token is the SAD (§2.4)
  } else {
    fail("Missing (or invalid type) string parameter SAD");
  }

  // validationInfo before anything is spent: a revocation failure costs no signature.
  Json validation;
  if (validation_info) {
    if (ctx.signing.sources().revocation == nullptr) fail("Invalid parameter returnValidationInfo: no revocation source");
    const auto chain = a.credential.certs.chain();
    const RevocationData rev = ctx.signing.revocation_data(chain);
    Json ocsp = Json::array();
    Json crl = Json::array();
    Json certs = Json::array();
    for (const auto& o : rev.ocsp_responses) ocsp.push_back(base64_encode(o));
    for (const auto& c : rev.crls) crl.push_back(base64_encode(c));
    for (const auto& c : chain) certs.push_back(base64_encode(c));
    for (const auto& c : rev.certificates) certs.push_back(base64_encode(c));
    validation = {{"ocsp", ocsp}, {"crl", crl}, {"certificates", certs}};
  }

  auth::SadUse use;
  use.user_id = s.token.user_id;
  use.client_id = s.token.client_id;
  use.token_id = s.token.id;
  use.credential_id = a.credential.id;
  use.hashes = sad_hashes;
  use.hash_alg = sad_alg.value_or(HashAlg::sha256);
  const auto consume = [&] {
    try {
      (void)ctx.authorization.consume_sad(sad, use);
    } catch (const auth::AuthError& e) {
      if (e.failure() == auth::AuthFailure::sad_hash_not_authorized) {
        fail("Document or documentDigest does not match authorized hash", 403, "invalid_hash");
      }
      throw;
    }
  };
  (void)ctx.signing.sign_documents_authorized(s.caller, a.credential.id, jobs, consume);
  call.signed_ok = true;  // each document recorded as signature.create by the signing service

  Json with_signature = Json::array();
  Json objects = Json::array();
  for (const auto& o : outputs) {
    const std::string bytes = files::read(o.path);
    (o.embedded ? with_signature : objects)
        .push_back(base64_encode(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size())));
  }
  Json out{{"DocumentWithSignature", with_signature}, {"SignatureObject", objects}};
  if (validation_info) out["validationInfo"] = validation;
  return http::Response::json(200, out);
}

}  // namespace

void register_sign_doc(Registry& r) { add(r, "signatures/signDoc", sign_doc, kV2, Audit::signature); }

}  // namespace sigil::api::csc::detail
