#include "sigil/pades/pades.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <map>

#include <openssl/evp.h>

#include "ossl/digest.hpp"
#include "ossl/x509.hpp"
#include "pades/cms_inspect.hpp"
#include "pades/fields.hpp"
#include "pades/writer.hpp"
#include "sigil/cms/cades.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"

namespace sigil::pades {
namespace {

using pdf::Object;
using pdf::Ref;

constexpr std::string_view kStateMagic = "SIGIL-PADES-STATE-1";
constexpr std::size_t kDocTimestampBytes = 20480;

// ---- opaque state

struct State {
  std::string output;
  std::uint64_t file_size = 0, hole_offset = 0, hole_length = 0;
  SignatureLevel level = SignatureLevel::b_b;
  HashAlg alg = HashAlg::sha256;
  Bytes cms_state;
  std::vector<Bytes> chain;
};

void put_u64(Bytes& b, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void put_blob(Bytes& b, std::span<const std::uint8_t> d) {
  put_u64(b, d.size());
  b.insert(b.end(), d.begin(), d.end());
}

Bytes encode_state(const State& s) {
  Bytes b(kStateMagic.begin(), kStateMagic.end());
  put_blob(b, as_bytes(s.output));
  put_u64(b, s.file_size);
  put_u64(b, s.hole_offset);
  put_u64(b, s.hole_length);
  put_u64(b, static_cast<std::uint64_t>(s.level));
  put_u64(b, static_cast<std::uint64_t>(s.alg));
  put_blob(b, s.cms_state);
  put_u64(b, s.chain.size());
  for (const auto& c : s.chain) put_blob(b, c);
  return b;
}

State decode_state(const Bytes& b) {
  const auto bad = [] { return Error(Errc::invalid_signing_state, "corrupt PAdES signing state"); };
  std::size_t pos = 0;
  auto u64 = [&]() {
    if (b.size() - pos < 8) throw bad();
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | b[pos++];
    return v;
  };
  auto blob = [&]() {
    const auto n = u64();
    if (n > b.size() - pos) throw bad();
    Bytes out(b.begin() + static_cast<std::ptrdiff_t>(pos), b.begin() + static_cast<std::ptrdiff_t>(pos + n));
    pos += n;
    return out;
  };
  if (b.size() < kStateMagic.size() || !std::equal(kStateMagic.begin(), kStateMagic.end(), b.begin())) throw bad();
  pos = kStateMagic.size();
  State s;
  const Bytes out = blob();
  s.output.assign(out.begin(), out.end());
  s.file_size = u64();
  s.hole_offset = u64();
  s.hole_length = u64();
  const auto lvl = u64(), alg = u64();
  if (lvl > 3 || alg > 2) throw bad();
  s.level = static_cast<SignatureLevel>(lvl);
  s.alg = static_cast<HashAlg>(alg);
  s.cms_state = blob();
  const auto n = u64();
  if (n > 16) throw bad();
  for (std::uint64_t i = 0; i < n; ++i) s.chain.push_back(blob());
  if (pos != b.size()) throw bad();
  return s;
}

// ---- helpers

class RwFile {
 public:
  RwFile(const std::filesystem::path& p, int flags) : fd_(::open(p.c_str(), flags | O_CLOEXEC)) {
    if (fd_ < 0) throw Error(Errc::io, "open " + p.string() + ": " + std::strerror(errno));
  }
  ~RwFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  RwFile(const RwFile&) = delete;
  RwFile& operator=(const RwFile&) = delete;
  int fd() const { return fd_; }
  std::uint64_t size() const {
    struct stat st{};
    if (::fstat(fd_, &st) != 0) throw Error(Errc::io, "fstat failed");
    return static_cast<std::uint64_t>(st.st_size);
  }
  std::string read(std::uint64_t at, std::size_t n) const {
    std::string s(n, '\0');
    std::size_t done = 0;
    while (done < n) {
      const auto r = ::pread(fd_, s.data() + done, n - done, static_cast<off_t>(at + done));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) throw Error(Errc::io, "read failed");
      done += static_cast<std::size_t>(r);
    }
    return s;
  }
  void write(std::uint64_t at, std::string_view d) const {
    std::size_t done = 0;
    while (done < d.size()) {
      const auto w = ::pwrite(fd_, d.data() + done, d.size() - done, static_cast<off_t>(at + done));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) throw Error(Errc::io, std::string("write failed: ") + std::strerror(errno));
      done += static_cast<std::size_t>(w);
    }
  }
  void sync() const {
    if (::fsync(fd_) != 0) throw Error(Errc::io, "fsync failed");
  }

 private:
  int fd_;
};

// Writes `der` as hex into the zero-filled hole [hole_offset, +hole_length) ('<' … '>').
void fill_hole(const std::filesystem::path& file, std::uint64_t hole_offset, std::uint64_t hole_length,
               const Bytes& der) {
  std::string hex = hex_encode(der);
  for (auto& c : hex) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (hex.size() > hole_length - 2)
    throw Error(Errc::invalid_argument,
                "the signature (" + std::to_string(der.size()) + " bytes) does not fit the reserved /Contents (" +
                    std::to_string((hole_length - 2) / 2) + " bytes); raise contents_size",
                true);
  RwFile f(file, O_RDWR);
  f.write(hole_offset + 1, hex);
  f.sync();
}

void check_hole(const RwFile& f, const State& s) {
  if (f.size() != s.file_size) throw Error(Errc::invalid_signing_state, "the prepared file has changed");
  if (s.hole_length < 2 || s.hole_length > (64u << 20)) throw Error(Errc::invalid_signing_state, "bad hole");
  const std::string hole = f.read(s.hole_offset, static_cast<std::size_t>(s.hole_length));
  if (hole.front() != '<' || hole.back() != '>' ||
      hole.find_first_not_of('0', 1) != hole.size() - 1)
    throw Error(Errc::invalid_signing_state, "the prepared file's /Contents is not an empty placeholder");
}

std::size_t estimate_contents(const PadesParams& p) {
  std::size_t n = 4096 + p.signer.leaf.size();
  for (const auto& c : p.signer.issuers) n += c.size();
  if (p.level != SignatureLevel::b_b) n += 12288;
  return (n + 1023) / 1024 * 1024;
}

std::string format_utc(std::chrono::system_clock::time_point t) {
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::vector<std::string> appearance_lines(const Appearance& a, const PadesParams& p, const std::string& name) {
  if (!a.lines.empty()) return a.lines;
  std::vector<std::string> l;
  if (a.show_name && !name.empty()) l.push_back("Signed by: " + name);
  if (a.show_date) l.push_back("Date: " + format_utc(p.signing_time));
  if (a.show_reason && !p.reason.empty()) l.push_back("Reason: " + p.reason);
  if (a.show_location && !p.location.empty()) l.push_back("Location: " + p.location);
  if (!a.free_text.empty()) l.push_back(a.free_text);
  return l;
}

bool same_file(const std::filesystem::path& a, const std::filesystem::path& b) {
  std::error_code ec;
  return std::filesystem::exists(b, ec) && std::filesystem::equivalent(a, b, ec);
}

void copy_pdf(const std::filesystem::path& from, const std::filesystem::path& to) {
  std::error_code ec;
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing, ec);
  if (ec) throw Error(Errc::io, "copy " + from.string() + " → " + to.string() + ": " + ec.message());
}

// ---- B-LT: DSS

struct DssSignature {
  Bytes contents;                            // /Contents bytes as stored (with padding)
  std::vector<std::vector<Bytes>> chains;    // signer chain, TSA chains
};

std::vector<std::vector<Bytes>> timestamp_chains(const Bytes& cms_der, const std::vector<Bytes>& extra_pool) {
  std::vector<std::vector<Bytes>> out;
  const auto c = detail::inspect_cms(cms_der);
  for (const auto& tok : c.timestamps) {
    const auto t = detail::inspect_cms(tok);
    if (t.signer.empty()) continue;
    std::vector<Bytes> pool = t.certs;
    pool.insert(pool.end(), extra_pool.begin(), extra_pool.end());
    out.push_back(detail::build_chain(t.signer, pool));
  }
  return out;
}

void append_dss(const std::filesystem::path& file, const std::vector<DssSignature>& sigs, RevocationSource& rev,
                const SecretString* password) {
  pdf::Document doc(file, password);
  doc.check_can_sign();
  pdf::Update up(doc);
  const Ref catalog_ref = doc.trailer().get("Root").as_ref();
  Object catalog = doc.catalog();
  const Object old = doc.resolve(catalog.get("DSS"));
  Object certs = old.is_dict() ? doc.resolve(old.get("Certs")) : Object{};
  Object ocsps = old.is_dict() ? doc.resolve(old.get("OCSPs")) : Object{};
  Object crls = old.is_dict() ? doc.resolve(old.get("CRLs")) : Object{};
  Object vri = old.is_dict() ? doc.resolve(old.get("VRI")) : Object{};
  if (!certs.is_array()) certs = Object::array();
  if (!ocsps.is_array()) ocsps = Object::array();
  if (!crls.is_array()) crls = Object::array();
  if (!vri.is_dict()) vri = Object::dict();

  std::map<Bytes, Ref> written;
  auto stream_ref = [&](const Bytes& data, Object& list) {
    const auto it = written.find(data);
    if (it != written.end()) return it->second;
    const Ref r = up.add_stream(Object::dict(), std::string(data.begin(), data.end()));
    written.emplace(data, r);
    list.items().push_back(Object::ref(r));
    return r;
  };
  for (const auto& s : sigs) {
    Object vcert = Object::array(), vocsp = Object::array(), vcrl = Object::array();
    auto add_unique = [](Object& arr, Ref r) {
      for (const auto& x : arr.items())
        if (x.is_ref() && x.as_ref() == r) return;
      arr.items().push_back(Object::ref(r));
    };
    for (const auto& chain : s.chains) {
      if (chain.empty()) continue;
      for (const auto& c : chain) add_unique(vcert, stream_ref(c, certs));
      if (chain.size() == 1) continue;  // a lone self-signed certificate has no revocation status
      const RevocationData data = rev.collect(chain);
      for (const auto& c : data.certificates) add_unique(vcert, stream_ref(c, certs));
      for (const auto& o : data.ocsp_responses) add_unique(vocsp, stream_ref(o, ocsps));
      for (const auto& c : data.crls) add_unique(vcrl, stream_ref(c, crls));
    }
    Object entry = Object::dict();
    if (!vcert.items().empty()) entry.set("Cert", vcert);
    if (!vocsp.items().empty()) entry.set("OCSP", vocsp);
    if (!vcrl.items().empty()) entry.set("CRL", vcrl);
    // VRI key: uppercase hex SHA-1 of the signature's /Contents bytes.
    Bytes sha1(20);
    {
      unsigned n = 0;
      EVP_Digest(s.contents.data(), s.contents.size(), sha1.data(), &n, EVP_sha1(), nullptr);
    }
    std::string key = hex_encode(sha1);
    for (auto& c : key) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    vri.set(key, entry);
  }
  Object dss = Object::dict();
  dss.set("Type", Object::name("DSS"));
  if (!certs.items().empty()) dss.set("Certs", certs);
  if (!ocsps.items().empty()) dss.set("OCSPs", ocsps);
  if (!crls.items().empty()) dss.set("CRLs", crls);
  dss.set("VRI", vri);
  catalog.set("DSS", Object::ref(up.add(dss)));
  up.put(catalog_ref, catalog);
  pdf::write_revision(doc, up.build(), file, true);
}

// ---- B-LTA: document time-stamp

void append_doc_timestamp(const std::filesystem::path& file, Timestamper& tsa, HashAlg alg,
                          const SecretString* password) {
  pdf::Document doc(file, password);
  doc.check_can_sign();
  pdf::Update up(doc);
  detail::SignatureSlot slot;
  slot.default_prefix = "DocTimeStamp";
  slot.doc_timestamp = true;
  slot.sig_body = pdf::signature_dict_body("DocTimeStamp", "ETSI.RFC3161", kDocTimestampBytes, "");
  const auto sig_num = detail::add_signature_objects(doc, up, slot);
  const auto w = pdf::write_signature_revision(doc, up.build(), sig_num, file, true, alg);
  const Bytes token = tsa.timestamp(alg, w.digest);
  fill_hole(file, w.hole_offset, w.hole_length, token);
}

}  // namespace

// ------------------------------------------------------------------------------------ API

Prepared prepare(const std::filesystem::path& input, const std::filesystem::path& output, const PadesParams& params) {
  if (params.signer.leaf.empty()) throw Error(Errc::invalid_argument, "no signer certificate", true);
  if (output.empty() || same_file(input, output))
    throw Error(Errc::invalid_argument, "the output must be a different file than the input", true);
  pdf::Document doc(input, params.password.get());
  doc.check_can_sign();
  const detail::PdfaClaim pdfa = detail::read_pdfa_claim(doc);
  std::size_t contents = params.contents_size != 0 ? params.contents_size : estimate_contents(params);
  if (contents < 1024 || contents > (8u << 20))
    throw Error(Errc::invalid_argument, "contents_size must be between 1 KiB and 8 MiB", true);
  if (pdfa.pdfa() && contents > pdfa.max_string_bytes()) {
    // PDF/A bounds every string, /Contents included: an estimate is clamped, a request refused.
    if (params.contents_size != 0)
      throw Error(Errc::invalid_argument,
                  "the document is " + pdfa.label() + ": contents_size may not exceed " +
                      std::to_string(pdfa.max_string_bytes()) + " bytes (its string length limit)",
                  true);
    contents = pdfa.max_string_bytes();
  }

  const std::string name = !params.signer_name.empty() ? params.signer_name : ossl::common_name(params.signer.leaf);
  std::string extra = "/M" + pdf::to_pdf(pdf::Object::string(pdf::pdf_date(
                                 std::chrono::duration_cast<std::chrono::seconds>(params.signing_time.time_since_epoch()).count())));
  if (!name.empty()) extra += "/Name" + pdf::to_pdf(detail::text_string(name));
  if (!params.reason.empty()) extra += "/Reason" + pdf::to_pdf(detail::text_string(params.reason));
  if (!params.location.empty()) extra += "/Location" + pdf::to_pdf(detail::text_string(params.location));
  if (!params.contact_info.empty()) extra += "/ContactInfo" + pdf::to_pdf(detail::text_string(params.contact_info));
  if (params.certification != 0) {
    // ISO 32000-1 §12.8.2.2 / Table 253: a signature reference with the DocMDP transform.
    extra += "/Reference[<</Type/SigRef/TransformMethod/DocMDP/TransformParams<</Type/TransformParams/P " +
             std::to_string(params.certification) + "/V/1.2>>>>]";
  }

  pdf::Update up(doc);
  detail::SignatureSlot slot;
  slot.field_name = params.field_name;
  slot.certification = params.certification;
  slot.pdfa = pdfa;
  slot.appearance = params.appearance ? &*params.appearance : nullptr;
  if (params.appearance) slot.lines = appearance_lines(*params.appearance, params, name);
  slot.sig_body = pdf::signature_dict_body("Sig", "ETSI.CAdES.detached", contents, extra);
  const auto sig_num = detail::add_signature_objects(doc, up, slot);
  pdf::WrittenRevision w;
  try {
    w = pdf::write_signature_revision(doc, up.build(), sig_num, output, false, params.digest_alg);
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(output, ec);
    throw;
  }

  cms::SignParams sp;
  sp.signer = params.signer;
  sp.digest_alg = params.digest_alg;
  sp.scheme = params.scheme;
  sp.commitment_type_oid = params.commitment_type_oid;
  const cms::Prepared cp = cms::prepare(sp, w.digest);

  State s;
  s.output = std::filesystem::absolute(output).string();
  s.file_size = w.file_size;
  s.hole_offset = w.hole_offset;
  s.hole_length = w.hole_length;
  s.level = params.level;
  s.alg = params.digest_alg;
  s.cms_state = cp.state;
  s.chain = params.signer.chain();
  Prepared out;
  out.digest_alg = cp.digest_alg;
  out.data_to_be_signed = cp.data_to_be_signed;
  out.digest = cp.digest;
  out.state = encode_state(s);
  return out;
}

void finish(const Bytes& state, const Bytes& signature_value, const Services& services, const SecretString* password) {
  const State s = decode_state(state);
  if (s.level != SignatureLevel::b_b && services.tsa == nullptr)
    throw Error(Errc::invalid_argument, "a time-stamp source is required for " + std::string(level_name(s.level)), true);
  if ((s.level == SignatureLevel::b_lt || s.level == SignatureLevel::b_lta) && services.revocation == nullptr)
    throw Error(Errc::invalid_argument, "a revocation source is required for " + std::string(level_name(s.level)), true);
  {
    const RwFile f(s.output, O_RDONLY);
    check_hole(f, s);
  }
  // B-LT/B-LTA re-open the file: a missing or wrong password fails now, before the hole is used.
  if (s.level == SignatureLevel::b_lt || s.level == SignatureLevel::b_lta) (void)pdf::Document(s.output, password);
  Bytes cms_der = cms::finish(s.cms_state, signature_value);
  if (s.level != SignatureLevel::b_b)
    cms_der = cms::add_signature_timestamp(cms_der, *services.tsa, s.alg);
  fill_hole(s.output, s.hole_offset, s.hole_length, cms_der);
  if (s.level == SignatureLevel::b_lt || s.level == SignatureLevel::b_lta) {
    DssSignature d;
    d.contents = cms_der;
    d.contents.resize(static_cast<std::size_t>((s.hole_length - 2) / 2), 0);
    d.chains.push_back(s.chain);
    for (auto& c : timestamp_chains(cms_der, s.chain)) d.chains.push_back(std::move(c));
    append_dss(s.output, {d}, *services.revocation, password);
  }
  if (s.level == SignatureLevel::b_lta) append_doc_timestamp(s.output, *services.tsa, s.alg, password);
}

void sign(const std::filesystem::path& input, const std::filesystem::path& output, const PadesParams& params,
          KeySigner& key, const Services& services) {
  const Prepared p = prepare(input, output, params);
  const Bytes sig = key.sign_digest(params.scheme, p.digest_alg, p.digest);
  finish(p.state, sig, services, params.password.get());
}

std::vector<SignatureInfo> list_signatures(const std::filesystem::path& path, const SecretString* password) {
  pdf::Document doc(path, password);
  std::vector<SignatureInfo> out;
  for (const auto& f : detail::all_fields(doc)) {
    if (f.ft != "Sig") continue;
    const Object v = doc.resolve(f.dict.get("V"));
    if (!v.is_dict()) continue;
    SignatureInfo info;
    info.field_name = f.name;
    info.sub_filter = v.get("SubFilter").is_name() ? v.get("SubFilter").text() : "";
    info.doc_timestamp = info.sub_filter == "ETSI.RFC3161";
    const Object br = doc.resolve(v.get("ByteRange"));
    if (br.is_array())
      for (const auto& x : br.items()) info.byte_range.push_back(x.is_int() ? static_cast<std::uint64_t>(x.as_int()) : 0);
    const Object& c = v.get("Contents");
    if (c.is_string()) info.contents.assign(c.text().begin(), c.text().end());
    const Object refs = doc.resolve(v.get("Reference"));
    if (refs.is_array()) {
      for (const auto& r : refs.items()) {
        const Object ref = doc.resolve(r);
        if (!ref.is_dict() || !ref.get("TransformMethod").is_name("DocMDP")) continue;
        const Object tp = doc.resolve(ref.get("TransformParams"));
        const Object& pv = tp.is_dict() ? tp.get("P") : Object{};
        info.certification = pv.is_int() ? static_cast<int>(pv.as_int()) : 2;
      }
    }
    out.push_back(std::move(info));
  }
  return out;
}

int certification_level(const std::filesystem::path& pdf, const SecretString* password) {
  pdf::Document doc(pdf, password);
  return detail::docmdp_level(doc);
}

void add_document_timestamp(const std::filesystem::path& pdf, const std::filesystem::path& output, Timestamper& tsa,
                            HashAlg alg, const SecretString* password) {
  if (!output.empty() && !same_file(pdf, output)) copy_pdf(pdf, output);
  append_doc_timestamp(output.empty() ? pdf : output, tsa, alg, password);
}

void extend(const std::filesystem::path& pdf_path, const std::filesystem::path& output, SignatureLevel target,
            const Services& services, const SecretString* password) {
  if (target == SignatureLevel::b_b) return;
  if (services.tsa == nullptr) throw Error(Errc::invalid_argument, "a time-stamp source is required", true);
  if (target != SignatureLevel::b_t && services.revocation == nullptr)
    throw Error(Errc::invalid_argument, "a revocation source is required", true);
  if (!output.empty() && !same_file(pdf_path, output)) copy_pdf(pdf_path, output);
  const std::filesystem::path file = output.empty() ? pdf_path : output;
  const auto sigs = list_signatures(file, password);
  auto end_of = [](const SignatureInfo& s) { return s.byte_range.size() == 4 ? s.byte_range[2] + s.byte_range[3] : 0; };
  std::uint64_t last_doc_ts_end = 0;
  for (const auto& s : sigs)
    if (s.doc_timestamp) last_doc_ts_end = std::max(last_doc_ts_end, end_of(s));
  std::vector<DssSignature> dss;
  bool missing_ts = false;
  bool any = false;
  for (const auto& s : sigs) {
    if (s.doc_timestamp) {
      // Earlier document time-stamps are kept valid by the DSS too (their TSA chain).
      const auto t = detail::inspect_cms(s.contents);
      if (!t.signer.empty()) {
        DssSignature d;
        d.contents = s.contents;
        d.chains.push_back(detail::build_chain(t.signer, t.certs));
        dss.push_back(std::move(d));
      }
      continue;
    }
    if (s.sub_filter != "ETSI.CAdES.detached") continue;
    any = true;
    const auto c = detail::inspect_cms(s.contents);
    if (c.signer.empty()) throw Error(Errc::invalid_document, "signature without its signer certificate");
    // A signature-time-stamp, or a later document time-stamp, gives B-T.
    if (c.timestamps.empty() && last_doc_ts_end <= end_of(s)) missing_ts = true;
    DssSignature d;
    d.contents = s.contents;
    d.chains.push_back(detail::build_chain(c.signer, c.certs));
    for (auto& tc : timestamp_chains(s.contents, c.certs)) d.chains.push_back(std::move(tc));
    dss.push_back(std::move(d));
  }
  if (!any) throw Error(Errc::invalid_document, "no PAdES signature to extend", true);
  if (missing_ts) {
    append_doc_timestamp(file, *services.tsa, HashAlg::sha256, password);
    if (target != SignatureLevel::b_t) {
      // The new document time-stamp's TSA chain joins the DSS.
      const auto all = list_signatures(file, password);
      const auto newest = std::max_element(all.begin(), all.end(), [&](const auto& a, const auto& b) {
        return end_of(a) < end_of(b);
      });
      const auto t = detail::inspect_cms(newest->contents);
      if (!t.signer.empty()) {
        DssSignature d;
        d.contents = newest->contents;
        d.chains.push_back(detail::build_chain(t.signer, t.certs));
        dss.push_back(std::move(d));
      }
    }
  }
  if (target == SignatureLevel::b_t) return;
  append_dss(file, dss, *services.revocation, password);
  if (target == SignatureLevel::b_lta) append_doc_timestamp(file, *services.tsa, HashAlg::sha256, password);
}

}  // namespace sigil::pades
