#include "sigil/signing/documents.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>

#include "sigil/cms/cades.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/files.hpp"
#include "sigil/common/log.hpp"
#include "sigil/common/secure.hpp"

namespace sigil::signing {
namespace fs = std::filesystem;

namespace {

std::string_view as_text(const Bytes& b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

void write_bytes_atomic(const fs::path& out, const Bytes& data) { files::write_atomic(out, as_text(data), 0600); }

Bytes read_bytes(const fs::path& p) {
  const std::string s = files::read(p);
  return Bytes(s.begin(), s.end());
}

Bytes digest_file(HashAlg alg, const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw Error(Errc::io, "cannot read " + p.string());
  return cms::digest_stream(alg, in);
}

// Removes a temporary file unless it was released (renamed into place).
class TempFile {
 public:
  explicit TempFile(fs::path p) : path_(std::move(p)) {}
  ~TempFile() {
    std::error_code ec;
    if (!path_.empty()) fs::remove(path_, ec);
  }
  TempFile(TempFile&& o) noexcept : path_(std::exchange(o.path_, {})) {}
  TempFile& operator=(TempFile&& o) noexcept {
    std::swap(path_, o.path_);
    return *this;
  }
  const fs::path& path() const { return path_; }
  // Moves the file to `dest` (same file system) and forgets it.
  void commit_to(const fs::path& dest) {
    fs::rename(path_, dest);
    path_.clear();
  }

 private:
  fs::path path_;
};

// Runs `lift(level)`; when revocation data is unavailable and the policy allows it, runs it again
// at B-T and records the degrade.
template <typename Lift>
SignOutcome with_revocation_policy(const Sources& sources, SignatureLevel level, Lift&& lift) {
  SignOutcome out;
  out.level = level;
  try {
    lift(level);
  } catch (const Error& e) {
    if (e.code() != Errc::revocation_unavailable || !sources.degrade_without_revocation ||
        level < SignatureLevel::b_lt) {
      throw;
    }
    log::warn("revocation data unavailable ({}); signing at B-T as the policy allows", e.detail());
    lift(SignatureLevel::b_t);
    out.level = SignatureLevel::b_t;
    out.warnings.push_back("revocation data unavailable; signature produced at B-T instead of " +
                           std::string(level_name(level)));
  }
  return out;
}

// Stands in when no revocation source is configured (levels below B-LT never call it).
class NoRevocation final : public RevocationSource {
 public:
  RevocationData collect(const std::vector<Bytes>&) override {
    throw Error(Errc::revocation_unavailable, "no revocation source configured");
  }
};

RevocationSource& revocation_or_none(const Sources& s) {
  static NoRevocation none;
  return s.revocation != nullptr ? *s.revocation : none;
}

void require_sources(const Sources& s, SignatureLevel level) {
  if (level >= SignatureLevel::b_t && s.tsa == nullptr) {
    throw Error(Errc::unsupported, "no time-stamping authority is configured for level " +
                                       std::string(level_name(level)), true);
  }
  if (level >= SignatureLevel::b_lt && s.revocation == nullptr) {
    throw Error(Errc::unsupported, "no revocation source is configured for level " + std::string(level_name(level)),
                true);
  }
}

Bytes document_digest(const Document& d, HashAlg alg) { return d.digest ? *d.digest : digest_file(alg, d.path); }

// XAdES over several detached documents: the references, the document's own first.
std::vector<xades::XadesParams::DetachedReference> detached_references(const Document& doc, const DocumentRequest& req) {
  std::vector<xades::XadesParams::DetachedReference> out;
  auto add = [&](const Document& d) {
    if (d.path.empty() && !d.digest) throw Error(Errc::invalid_argument, "no document given", true);
    out.push_back({d.name.empty() ? "document" : d.name, document_digest(d, req.digest_alg)});
  };
  add(doc);
  for (const auto& d : req.more_documents) add(d);
  return out;
}

void check_combination(const DocumentRequest& req) {
  if (!req.more_documents.empty() && (req.format != Format::xades || req.packaging != Packaging::detached)) {
    throw Error(Errc::invalid_argument,
                "several documents in one signature: XAdES DETACHED only (CAdES and PAdES over several documents "
                "need an ASiC container, which Sigil does not support yet)",
                true);
  }
}

// (name, content) of every detached document, for the XAdES B-LTA archive time-stamp.
std::vector<std::pair<std::string, std::string>> detached_contents(const std::vector<Document>& docs) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& d : docs) {
    if (!d.path.empty()) out.emplace_back(d.name, files::read(d.path));
  }
  return out;
}

}  // namespace

std::string_view format_name(Format f) {
  switch (f) {
    case Format::cades: return "CAdES";
    case Format::pades: return "PAdES";
    case Format::xades: return "XAdES";
  }
  return "CAdES";
}

std::string_view packaging_name(Packaging p) {
  switch (p) {
    case Packaging::enveloped: return "ENVELOPED";
    case Packaging::enveloping: return "ENVELOPING";
    case Packaging::detached: return "DETACHED";
  }
  return "DETACHED";
}

Packaging parse_packaging(std::string_view name) {
  std::string s;
  for (char c : name) s.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  if (s == "ENVELOPED") return Packaging::enveloped;
  if (s == "ENVELOPING" || s == "ATTACHED") return Packaging::enveloping;
  if (s == "DETACHED") return Packaging::detached;
  throw Error(Errc::invalid_argument,
              "Unsupported signature packaging : " + std::string(name) + " (ENVELOPED, ENVELOPING or DETACHED)", true);
}

struct DocumentSigner::Pending {
  Format format = Format::cades;
  DocumentRequest req;
  Document doc;
  SignerCerts certs;
  ToBeSigned tbs;
  Bytes state;
  Bytes content_digest;                // CAdES: the content digest under req.digest_alg
  std::optional<TempFile> prepared;    // PAdES: the copy with the /Contents hole
};

DocumentSigner::DocumentSigner(Sources sources, fs::path spool_dir)
    : sources_(sources), spool_dir_(std::move(spool_dir)) {}

fs::path DocumentSigner::temp_path(std::string_view suffix) const {
  return spool_dir_ / ("sign-" + random_token(12) + std::string(suffix));
}

DocumentSigner::Pending DocumentSigner::prepare(const Document& doc, const DocumentRequest& req,
                                                const SignerCerts& certs, SignatureScheme scheme) {
  require_sources(sources_, req.level);
  Pending p;
  p.format = req.format;
  p.req = req;
  p.doc = doc;
  p.certs = certs;
  if (doc.path.empty() && !doc.digest) throw Error(Errc::invalid_argument, "no document given", true);
  check_combination(req);

  switch (req.format) {
    case Format::cades: {
      if (req.packaging == Packaging::enveloped) {
        throw Error(Errc::invalid_argument, "CAdES signatures are ENVELOPING or DETACHED, not ENVELOPED", true);
      }
      if (doc.path.empty() && req.packaging != Packaging::detached) {
        throw Error(Errc::invalid_argument, "an ENVELOPING CAdES signature needs the document, not its digest", true);
      }
      p.content_digest = doc.digest ? *doc.digest : digest_file(req.digest_alg, doc.path);
      if (p.content_digest.size() != digest_size(req.digest_alg)) {
        throw Error(Errc::invalid_argument, "the document digest does not fit " + std::string(hash_name(req.digest_alg)),
                    true);
      }
      cms::SignParams sp;
      sp.signer = certs;
      sp.digest_alg = req.digest_alg;
      sp.scheme = scheme;
      if (!req.cades_without_signing_time) sp.signing_time = req.signing_time;
      sp.commitment_type_oid = req.commitment_type;
      const auto prepared = cms::prepare(sp, p.content_digest);
      p.tbs = {prepared.digest_alg, prepared.data_to_be_signed, prepared.digest};
      p.state = prepared.state;
      break;
    }
    case Format::pades: {
      if (doc.path.empty()) throw Error(Errc::invalid_argument, "PAdES needs the PDF document, not its digest", true);
      if (req.packaging != Packaging::enveloped) {
        throw Error(Errc::invalid_argument, "PAdES signatures are ENVELOPED", true);
      }
      pades::PadesParams pp = req.pades;
      pp.signer = certs;
      pp.scheme = scheme;
      pp.digest_alg = req.digest_alg;
      pp.signing_time = req.signing_time;
      pp.commitment_type_oid = req.commitment_type;
      // B-LT/B-LTA are appended by extend() after finish(), so the revocation policy applies.
      pp.level = std::min(req.level, SignatureLevel::b_t);
      p.prepared.emplace(temp_path(".pdf"));
      const auto prepared = pades::prepare(doc.path, p.prepared->path(), pp);
      p.tbs = {prepared.digest_alg, prepared.data_to_be_signed, prepared.digest};
      p.state = prepared.state;
      break;
    }
    case Format::xades: {
      xades::XadesParams xp = req.xades;
      xp.signer = certs;
      xp.scheme = scheme;
      xp.digest_alg = req.digest_alg;
      xp.signing_time = req.signing_time;
      if (req.commitment_type) xp.commitment_type = req.commitment_type;
      xp.packaging = req.packaging == Packaging::enveloped    ? xades::Packaging::enveloped
                     : req.packaging == Packaging::enveloping ? xades::Packaging::enveloping
                                                              : xades::Packaging::detached;
      std::string content;
      if (!req.more_documents.empty()) {
        xp.detached_references = detached_references(doc, req);
      } else if (!doc.path.empty()) {
        if (fs::file_size(doc.path) > xp.limits.max_bytes) {
          throw Error(Errc::document_too_large, "XML document above " + std::to_string(xp.limits.max_bytes) + " bytes",
                      true);
        }
        content = files::read(doc.path);
      }
      if (!xp.detached_references.empty()) {
        // the references say it all
      } else if (xp.packaging == xades::Packaging::detached) {
        if (xp.detached_name.empty()) xp.detached_name = doc.name.empty() ? "document" : doc.name;
        if (doc.digest) xp.detached_digest = doc.digest;
      } else if (doc.path.empty()) {
        throw Error(Errc::invalid_argument, "an enveloped or enveloping XAdES signature needs the document", true);
      }
      // Deterministic Ids: phase 1 and phase 2 may run in different requests (DSS).
      {
        std::string seed = hex_encode(certs.leaf) + "|" + std::to_string(req.signing_time.time_since_epoch().count()) +
                           "|" + std::string(level_name(req.level)) + "|" + std::string(packaging_name(req.packaging)) +
                           "|" + doc.name + "|";
        seed += doc.digest ? hex_encode(*doc.digest) : (doc.path.empty() ? std::string() : hex_encode(digest_file(HashAlg::sha256, doc.path)));
        for (const auto& r : xp.detached_references) seed += "|" + r.name + "|" + hex_encode(r.digest);
        xp.id_seed = std::move(seed);
      }
      const auto prepared = xades::prepare(content, xp);
      p.tbs = {prepared.digest_alg, prepared.data_to_be_signed, prepared.digest};
      p.state = prepared.state;
      break;
    }
  }
  return p;
}

SignOutcome DocumentSigner::complete(Pending& p, const Bytes& signature_value, const fs::path& out) {
  const auto level = p.req.level;
  switch (p.format) {
    case Format::cades: {
      Bytes signed_cms;
      if (p.req.packaging == Packaging::detached) {
        signed_cms = cms::finish(p.state, signature_value);
      } else {
        TempFile attached(temp_path(".p7m"));
        {
          std::ifstream in(p.doc.path, std::ios::binary);
          std::ofstream o(attached.path(), std::ios::binary | std::ios::trunc);
          if (!in || !o) throw Error(Errc::io, "cannot open the document or the output");
          cms::finish_attached(p.state, signature_value, in, fs::file_size(p.doc.path), o);
          o.flush();
          if (!o) throw Error(Errc::io, "cannot write " + attached.path().string());
        }
        if (level == SignatureLevel::b_b) {
          attached.commit_to(out);
          return SignOutcome{level, {}};
        }
        signed_cms = read_bytes(attached.path());
      }
      if (level == SignatureLevel::b_b) {
        write_bytes_atomic(out, signed_cms);
        return SignOutcome{level, {}};
      }
      Bytes lifted;
      auto outcome = with_revocation_policy(sources_, level, [&](SignatureLevel l) {
        cms::ExtendOptions o;
        o.target = l;
        o.timestamp_alg = p.req.digest_alg;
        o.content_digest = p.content_digest;
        lifted = cms::extend(signed_cms, *sources_.tsa, revocation_or_none(sources_), o);
      });
      write_bytes_atomic(out, lifted);
      return outcome;
    }
    case Format::pades: {
      pades::Services services{sources_.tsa, sources_.revocation};
      pades::finish(p.state, signature_value, services);
      if (level <= SignatureLevel::b_t) {
        p.prepared->commit_to(out);
        return SignOutcome{level, {}};
      }
      TempFile lifted(temp_path(".pdf"));
      auto outcome = with_revocation_policy(sources_, level, [&](SignatureLevel l) {
        if (l <= SignatureLevel::b_t) {
          fs::copy_file(p.prepared->path(), lifted.path(), fs::copy_options::overwrite_existing);
        } else {
          pades::extend(p.prepared->path(), lifted.path(), l, services, p.req.pades.password.get());
        }
      });
      lifted.commit_to(out);
      return outcome;
    }
    case Format::xades: {
      const std::string signed_xml = xades::finish(p.state, signature_value);
      if (level == SignatureLevel::b_b) {
        files::write_atomic(out, signed_xml, 0600);
        return SignOutcome{level, {}};
      }
      std::string lifted;
      auto outcome = with_revocation_policy(sources_, level, [&](SignatureLevel l) {
        xades::Sources xs{sources_.tsa, sources_.revocation, p.req.digest_alg};
        xades::ExtendParams ep;
        ep.c14n = p.req.xades.c14n;
        if (p.req.packaging == Packaging::detached && !p.req.more_documents.empty()) {
          std::vector<Document> all{p.doc};
          all.insert(all.end(), p.req.more_documents.begin(), p.req.more_documents.end());
          ep.detached_documents = detached_contents(all);
        } else if (p.req.packaging == Packaging::detached && !p.doc.path.empty()) {
          ep.detached_data = files::read(p.doc.path);
        }
        lifted = xades::extend(signed_xml, l, xs, ep);
      });
      files::write_atomic(out, lifted, 0600);
      return outcome;
    }
  }
  throw Error(Errc::internal, "unknown format");
}

ToBeSigned DocumentSigner::data_to_sign(const Document& doc, const DocumentRequest& req, const SignerCerts& certs,
                                        SignatureScheme scheme) {
  return prepare(doc, req, certs, scheme).tbs;
}

SignOutcome DocumentSigner::sign_document(const Document& doc, const DocumentRequest& req, const SignerCerts& certs,
                                          SignatureScheme scheme, const Bytes& signature_value, const fs::path& out) {
  auto p = prepare(doc, req, certs, scheme);
  return complete(p, signature_value, out);
}

SignOutcome DocumentSigner::sign_with_key(const Document& doc, const DocumentRequest& req, const SignerCerts& certs,
                                          SignatureScheme scheme, KeySigner& key, const fs::path& out) {
  auto p = prepare(doc, req, certs, scheme);
  const Bytes value = key.sign_digest(scheme, p.tbs.digest_alg, p.tbs.digest);
  return complete(p, value, out);
}

DocumentSigner::Prepared::Prepared(std::unique_ptr<Pending> p) : pending_(std::move(p)) {}
DocumentSigner::Prepared::Prepared(Prepared&&) noexcept = default;
DocumentSigner::Prepared& DocumentSigner::Prepared::operator=(Prepared&&) noexcept = default;
DocumentSigner::Prepared::~Prepared() = default;
const ToBeSigned& DocumentSigner::Prepared::to_be_signed() const { return pending_->tbs; }

DocumentSigner::Prepared DocumentSigner::prepare_signature(const Document& doc, const DocumentRequest& req,
                                                           const SignerCerts& certs, SignatureScheme scheme) {
  return Prepared(std::make_unique<Pending>(prepare(doc, req, certs, scheme)));
}

SignOutcome DocumentSigner::finish_signature(Prepared& prepared, const Bytes& signature_value, const fs::path& out) {
  if (!prepared.pending_) throw Error(Errc::internal, "finish_signature on an empty Prepared");
  return complete(*prepared.pending_, signature_value, out);
}

SignOutcome DocumentSigner::extend(Format format, const fs::path& signed_doc, SignatureLevel level, const fs::path& out,
                                   const std::optional<fs::path>& detached) {
  require_sources(sources_, level);
  switch (format) {
    case Format::cades: {
      const Bytes in = read_bytes(signed_doc);
      std::optional<Bytes> content_digest;
      if (detached) content_digest = digest_file(HashAlg::sha256, *detached);
      Bytes lifted;
      auto outcome = with_revocation_policy(sources_, level, [&](SignatureLevel l) {
        cms::ExtendOptions o;
        o.target = l;
        o.content_digest = content_digest;
        lifted = cms::extend(in, *sources_.tsa, revocation_or_none(sources_), o);
      });
      write_bytes_atomic(out, lifted);
      return outcome;
    }
    case Format::pades: {
      TempFile lifted(temp_path(".pdf"));
      pades::Services services{sources_.tsa, sources_.revocation};
      auto outcome = with_revocation_policy(sources_, level,
                                            [&](SignatureLevel l) { pades::extend(signed_doc, lifted.path(), l, services); });
      lifted.commit_to(out);
      return outcome;
    }
    case Format::xades: {
      xades::ExtendParams ep;
      if (detached) ep.detached_data = files::read(*detached);
      return extend_xades(signed_doc, level, out, ep);
    }
  }
  throw Error(Errc::internal, "unknown format");
}

SignOutcome DocumentSigner::extend(Format format, const fs::path& signed_doc, SignatureLevel level, const fs::path& out,
                                   const std::vector<Document>& detached) {
  for (const auto& d : detached) {
    if (d.path.empty()) throw Error(Errc::invalid_argument, "detachedContents must carry the data, not a digest", true);
  }
  if (format != Format::xades || detached.size() < 2) {
    if (detached.size() > 1) {
      throw Error(Errc::invalid_argument, "several detached documents: XAdES only (CAdES and PAdES need ASiC)", true);
    }
    return extend(format, signed_doc, level, out,
                  detached.empty() ? std::nullopt : std::optional<fs::path>(detached.front().path));
  }
  require_sources(sources_, level);
  xades::ExtendParams ep;
  ep.detached_documents = detached_contents(detached);
  return extend_xades(signed_doc, level, out, ep);
}

SignOutcome DocumentSigner::extend_xades(const fs::path& signed_doc, SignatureLevel level, const fs::path& out,
                                         const xades::ExtendParams& ep) {
  const std::string in = files::read(signed_doc);
  std::string lifted;
  auto outcome = with_revocation_policy(sources_, level, [&](SignatureLevel l) {
    lifted = xades::extend(in, l, xades::Sources{sources_.tsa, sources_.revocation, HashAlg::sha256}, ep);
  });
  files::write_atomic(out, lifted, 0600);
  return outcome;
}

SignOutcome DocumentSigner::timestamp_pdf(const fs::path& pdf, HashAlg digest_alg, const fs::path& out) {
  require_sources(sources_, SignatureLevel::b_t);
  TempFile stamped(temp_path(".pdf"));
  pades::add_document_timestamp(pdf, stamped.path(), *sources_.tsa, digest_alg);
  stamped.commit_to(out);
  return SignOutcome{SignatureLevel::b_t, {}};
}

}  // namespace sigil::signing

#include "sigil/signing/profiles.hpp"

namespace sigil::signing {

const Profile& find_profile(const std::vector<Profile>& profiles, std::string_view name) {
  for (const auto& p : profiles) {
    if (p.name == name) return p;
  }
  throw Error(Errc::not_found, "no signing profile named '" + std::string(name) + "'", true);
}

void apply_appearance(DocumentRequest& request, const AppearanceTemplates& templates, std::string_view name) {
  if (request.format != Format::pades) {
    throw Error(Errc::invalid_argument, "an appearance applies to PAdES only", true);
  }
  if (name == "none") {
    request.pades.appearance.reset();
    return;
  }
  const auto it = templates.find(name);
  if (it == templates.end()) {
    throw Error(Errc::invalid_argument, "no appearance template named '" + std::string(name) + "'", true);
  }
  request.pades.appearance = it->second;
}

}  // namespace sigil::signing
