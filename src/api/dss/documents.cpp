#include "documents.hpp"

#include <cctype>
#include <ctime>
#include <fstream>

#include "ossl/x509.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/files.hpp"
#include "sigil/common/secure.hpp"

namespace sigil::api::dss {
namespace fs = std::filesystem;
namespace {

[[noreturn]] void bad(std::string message) { throw Error(Errc::invalid_argument, std::move(message), true); }

// DSS CommitmentTypeEnum -> (CMS OID, XAdES URI).
struct Commitment {
  std::string_view name, oid, uri;
};
constexpr Commitment kCommitments[] = {
    {"ProofOfOrigin", "1.2.840.113549.1.9.16.6.1", "http://uri.etsi.org/01903/v1.2.2#ProofOfOrigin"},
    {"ProofOfReceipt", "1.2.840.113549.1.9.16.6.2", "http://uri.etsi.org/01903/v1.2.2#ProofOfReceipt"},
    {"ProofOfDelivery", "1.2.840.113549.1.9.16.6.3", "http://uri.etsi.org/01903/v1.2.2#ProofOfDelivery"},
    {"ProofOfSender", "1.2.840.113549.1.9.16.6.4", "http://uri.etsi.org/01903/v1.2.2#ProofOfSender"},
    {"ProofOfApproval", "1.2.840.113549.1.9.16.6.5", "http://uri.etsi.org/01903/v1.2.2#ProofOfApproval"},
    {"ProofOfCreation", "1.2.840.113549.1.9.16.6.6", "http://uri.etsi.org/01903/v1.2.2#ProofOfCreation"},
};

std::chrono::system_clock::time_point parse_signing_date(const Json& v) {
  if (v.is_number_integer()) {
    // 1970-01-01 .. 2200-01-01: the nanosecond time_point overflows after 2262 (tests/fuzz dss_parameters-1).
    const std::int64_t ms = v.get<std::int64_t>();
    if (ms < 0 || ms > 7258118400000) bad("blevelParams.signingDate is out of range (1970 to 2200)");
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
  }
  if (v.is_string()) {  // ISO 8601 "2026-11-22T10:00:00Z" (Jackson accepts it too)
    std::tm tm{};
    const std::string s = v.get<std::string>();
    if (::strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) != nullptr && tm.tm_year >= 70 && tm.tm_year < 300) {
      return std::chrono::system_clock::from_time_t(::timegm(&tm));
    }
  }
  bad("blevelParams.signingDate must be epoch milliseconds or an ISO 8601 UTC time");
}

Bytes certificate(const Json& remote_certificate, std::string_view what) {
  const Json* enc = optional_member(remote_certificate, "encodedCertificate");
  if (enc == nullptr || !enc->is_string()) bad(std::string(what) + ".encodedCertificate must be defined!");
  try {
    const Bytes der = base64_decode(enc->get<std::string>());
    ossl::inspect_certificate(der);  // parses, or throws cert_invalid
    return der;
  } catch (const Error&) {
    bad(std::string(what) + " is not a base64 DER certificate");
  }
}

}  // namespace

SignatureScheme default_scheme_for(const Bytes& leaf_der) {
  const auto spec = ossl::spki_key_spec(ossl::inspect_certificate(leaf_der).public_key_der);
  return spec.type == KeyType::ec ? SignatureScheme::ecdsa : SignatureScheme::rsa_pkcs1;
}

ParsedParameters parse_parameters(const Json& parameters, std::chrono::system_clock::time_point now) {
  if (!parameters.is_object()) bad("parameters must be defined!");
  ParsedParameters out;
  auto& req = out.request;

  // signatureLevel: <FORMAT>_BASELINE_<B|T|LT|LTA>
  out.level_name = string_member(parameters, "signatureLevel");
  const std::string& lvl = out.level_name;
  if (lvl.rfind("PAdES_", 0) == 0) {
    req.format = signing::Format::pades;
  } else if (lvl.rfind("XAdES_", 0) == 0) {
    req.format = signing::Format::xades;
  } else if (lvl.rfind("CAdES_", 0) == 0) {
    req.format = signing::Format::cades;
  } else {
    bad("Unsupported signature level : " + lvl);
  }
  if (lvl.find("_BASELINE_") == std::string::npos) bad("Unsupported signature level : " + lvl + " (BASELINE levels only)");
  try {
    req.level = parse_level(lvl);
  } catch (const Error&) {
    bad("Unsupported signature level : " + lvl);
  }

  if (const Json* a = optional_member(parameters, "asicContainerType")) {
    asic_container_unsupported(*a);
  }
  if (const Json* p = optional_member(parameters, "signaturePackaging")) {
    if (!p->is_string()) bad("signaturePackaging must be a string");
    req.packaging = signing::parse_packaging(p->get<std::string>());
  } else if (req.format == signing::Format::pades) {
    req.packaging = signing::Packaging::enveloped;
  } else {
    bad("signaturePackaging must be defined!");
  }
  // XAdES ENVELOPING: embedXML true puts an XML document into ds:Object as XML, false (DSS's
  // default) base64-encodes any content there. Absent: as XML (the document must then be XML).
  if (const Json* x = optional_member(parameters, "embedXML")) {
    if (!x->is_boolean()) bad("embedXML must be true or false");
    req.xades.enveloping_xml = x->get<bool>();
  }
  if (const Json* d = optional_member(parameters, "digestAlgorithm")) {
    if (!d->is_string()) bad("digestAlgorithm must be a string");
    req.digest_alg = parse_digest_algorithm(d->get<std::string>());
  }
  if (const Json* e = optional_member(parameters, "encryptionAlgorithm")) {
    if (!e->is_string()) bad("encryptionAlgorithm must be a string");
    const std::string enc = e->get<std::string>();
    if (enc == "RSA") out.scheme = SignatureScheme::rsa_pkcs1;
    else if (enc == "RSASSA_PSS") out.scheme = SignatureScheme::rsa_pss;
    else if (enc == "ECDSA" || enc == "PLAIN_ECDSA") out.scheme = SignatureScheme::ecdsa;
    else bad("Unsupported encryption algorithm : " + enc);
  }

  if (const Json* c = optional_member(parameters, "signingCertificate")) {
    SignerCerts certs;
    certs.leaf = certificate(*c, "signingCertificate");
    if (const Json* chain = optional_member(parameters, "certificateChain")) {
      if (!chain->is_array()) bad("certificateChain must be an array");
      for (const auto& item : *chain) {
        Bytes der = certificate(item, "certificateChain[]");
        if (der != certs.leaf) certs.issuers.push_back(std::move(der));
      }
    }
    out.certs = std::move(certs);
  }

  // blevelParams (Jackson's spelling) or bLevelParams.
  const Json* b = optional_member(parameters, "blevelParams");
  if (b == nullptr) b = optional_member(parameters, "bLevelParams");
  req.signing_time = std::chrono::time_point_cast<std::chrono::seconds>(now);
  if (b != nullptr) {
    if (const Json* d = optional_member(*b, "signingDate")) req.signing_time = parse_signing_date(*d);
    if (const Json* ct = optional_member(*b, "commitmentTypeIndications")) {
      if (!ct->is_array()) bad("blevelParams.commitmentTypeIndications must be an array");
      if (ct->size() > 1) bad("one commitment type indication at most");
      for (const auto& item : *ct) {
        const std::string name = item.is_string() ? item.get<std::string>() : std::string();
        bool found = false;
        for (const auto& c : kCommitments) {
          if (c.name == name) {
            req.commitment_type = std::string(req.format == signing::Format::xades ? c.uri : c.oid);
            found = true;
          }
        }
        if (!found) bad("Unsupported commitment type : " + name);
      }
    }
    if (const Json* roles = optional_member(*b, "claimedSignerRoles")) {
      if (!roles->is_array()) bad("blevelParams.claimedSignerRoles must be an array");
      for (const auto& r : *roles) {
        if (r.is_string()) req.xades.claimed_roles.push_back(r.get<std::string>());
      }
    }
  }
  // DSS' signingDate has millisecond precision; the formats carry whole seconds.
  req.signing_time = std::chrono::time_point_cast<std::chrono::seconds>(req.signing_time);

  // Sigil extension: the password of an encrypted PDF (DSS itself has PAdESSignatureParameters
  // .passwordProtection, not exposed in its REST parameters).
  if (const Json* pw = optional_member(parameters, "pdfPassword"); pw != nullptr && !pw->is_null()) {
    if (!pw->is_string()) bad("pdfPassword must be a string");
    if (req.format != signing::Format::pades) bad("pdfPassword applies to PAdES only");
    if (!pw->get_ref<const std::string&>().empty()) {
      req.pades.password = std::make_shared<const SecretString>(pw->get<std::string>());
    }
  }
  // PAdES visible signature (imageParameters.fieldParameters / textParameters).
  if (const Json* image = optional_member(parameters, "imageParameters")) {
    if (req.format != signing::Format::pades) bad("imageParameters apply to PAdES only");
    pades::Appearance a;
    a.y_from_top = true;  // DSS' originY is measured from the top of the page
    if (const Json* f = optional_member(*image, "fieldParameters")) {
      if (const Json* id = optional_member(*f, "fieldId"); id != nullptr && id->is_string()) {
        req.pades.field_name = id->get<std::string>();
      }
      auto number = [&](const char* name, double& target) {
        if (const Json* v = optional_member(*f, name)) {
          if (!v->is_number()) bad(std::string("imageParameters.fieldParameters.") + name + " must be a number");
          target = v->get<double>();
        }
      };
      number("originX", a.x);
      number("originY", a.y);
      number("width", a.width);
      number("height", a.height);
      if (const Json* page = optional_member(*f, "page")) {
        if (!page->is_number_integer() || page->get<std::int64_t>() < 1) bad("imageParameters.fieldParameters.page must be >= 1");
        a.page = static_cast<unsigned>(page->get<std::int64_t>());
      }
    }
    if (const Json* t = optional_member(*image, "textParameters")) {
      if (const Json* text = optional_member(*t, "text"); text != nullptr && text->is_string()) {
        a.free_text = text->get<std::string>();
      }
    }
    req.pades.appearance = a;
  }
  return out;
}

SpooledDocument::SpooledDocument(const Json& remote_document, const fs::path& spool_dir, HashAlg expected_digest_alg) {
  if (!remote_document.is_object()) bad("remoteDocument must be defined!");
  Bytes bytes = base64_member(remote_document, "bytes");
  if (const Json* n = optional_member(remote_document, "name"); n != nullptr && n->is_string()) {
    doc_.name = n->get<std::string>();
  }
  if (doc_.name.empty()) doc_.name = "RemoteDocument";
  if (const Json* d = optional_member(remote_document, "digestAlgorithm")) {
    // A digest document: `bytes` is the digest (hash-only signing; the document stays with the client).
    if (!d->is_string()) bad("digestAlgorithm must be a string");
    if (parse_digest_algorithm(d->get<std::string>()) != expected_digest_alg) {
      bad("the digest document's digestAlgorithm must equal parameters.digestAlgorithm");
    }
    if (bytes.size() != digest_size(expected_digest_alg)) bad("the digest document has the wrong length");
    doc_.digest = std::move(bytes);
    return;
  }
  doc_.path = spool_dir / ("dss-" + random_token(12) + ".in");
  files::write_atomic(doc_.path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()), 0600);
}

SpooledDocument::~SpooledDocument() {
  std::error_code ec;
  if (!doc_.path.empty()) fs::remove(doc_.path, ec);
}

Json remote_document_from_file(const fs::path& file, const std::string& name) {
  const std::string content = files::read(file);
  std::error_code ec;
  fs::remove(file, ec);
  return Json{{"bytes", base64_encode(std::span(reinterpret_cast<const std::uint8_t*>(content.data()), content.size()))},
              {"digestAlgorithm", nullptr},
              {"name", name}};
}

std::string output_name(const std::string& input_name, const std::string& level_name, signing::Format format,
                        signing::Packaging packaging, const std::string& verb) {
  std::string base = input_name;
  const auto dot = base.rfind('.');
  if (dot != std::string::npos && dot > 0) base.erase(dot);
  std::string level;
  for (char c : level_name) level.push_back(c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  std::string ext;
  switch (format) {
    case signing::Format::pades: ext = ".pdf"; break;
    case signing::Format::xades: ext = ".xml"; break;
    case signing::Format::cades: ext = packaging == signing::Packaging::detached ? ".p7s" : ".p7m"; break;
  }
  return base + "-" + verb + "-" + level + ext;
}

fs::path output_path(const fs::path& spool_dir) { return spool_dir / ("dss-" + random_token(12) + ".out"); }

RemoveOnExit::~RemoveOnExit() {
  std::error_code ec;
  fs::remove(path, ec);
}

http::Response signed_response(const fs::path& out, const std::string& name, const signing::SignOutcome& outcome) {
  auto res = http::Response::json(200, remote_document_from_file(out, name));
  res.set_header("X-Sigil-Signature-Level", std::string(level_name(outcome.level)));
  for (const auto& w : outcome.warnings) res.headers.emplace_back("X-Sigil-Warning", w);
  return res;
}

void asic_unsupported(const std::string& what) {
  throw Error(Errc::unsupported, what + " needs an ASiC container, which Sigil does not support yet", true);
}

void asic_container_unsupported(const Json& type) {
  const std::string name = type.is_string() ? type.get<std::string>() : type.dump();
  throw Error(Errc::unsupported,
              "ASiC containers (asicContainerType " + name +
                  ") are not supported yet; leave asicContainerType null (several documents are signed as one "
                  "detached XAdES signature)",
              true);
}

signing::Format sniff_format(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  char head[8] = {};
  in.read(head, sizeof head);
  const std::string_view h(head, static_cast<std::size_t>(in.gcount()));
  if (h.rfind("%PDF-", 0) == 0) return signing::Format::pades;
  if (h.rfind("PK\x03\x04", 0) == 0) asic_unsupported("a ZIP document (ASiC-S/ASiC-E)");
  const auto first = h.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
  if (first != std::string_view::npos && h[first] == '<') return signing::Format::xades;
  return signing::Format::cades;
}

}  // namespace sigil::api::dss
