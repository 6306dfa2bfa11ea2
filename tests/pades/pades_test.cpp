// PAdES end to end: SoftHSM keys, certificates from the validator PKI, a generated corpus
// (tests/pades/make_corpus.sh), every output checked by validate-pades --strict.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>

#include "pades/pades_fixture.hpp"
#include "sigil/common/clock.hpp"
#include "sigil/tsp/client.hpp"

namespace sigil::test {
namespace {

namespace fs = std::filesystem;
using pades::PadesParams;

const fs::path& corpus() { return pades_corpus(); }

std::string qpdf_stamp(const fs::path& pdf);

class PadesTest : public PadesFixture {
 protected:
  static void sign(const fs::path& in, const fs::path& out, const PadesParams& p, const TestSigner& s) {
    pades::sign(in, out, p, *s.key, services());
  }
  static std::string read(const fs::path& p) { return files::read(p); }
  // A small 8x8 PNG written by hand: RGBA (alpha → a soft mask) or RGB.
  static fs::path write_png(const fs::path& png, bool alpha) {
    const auto r = run_command(std::string("/usr/bin/python3 -c \"import zlib,struct,sys\n") +
                               "a=" + (alpha ? "True" : "False") + "\n"
                               "w,h=8,8\n"
                               "px=bytes([255,0,0,128]) if a else bytes([255,0,0])\n"
                               "raw=b''.join(b'\\x00'+px*w for _ in range(h))\n"
                               "def ch(t,d): return struct.pack('>I',len(d))+t+d+struct.pack('>I',zlib.crc32(t+d))\n"
                               "sys.stdout.buffer.write(b'\\x89PNG\\r\\n\\x1a\\n'+ch(b'IHDR',struct.pack('>IIBBBBB',w,h,8,6 if a else 2,0,0,0))+ch(b'IDAT',zlib.compress(raw))+ch(b'IEND',b''))\" > '" +
                               png.string() + "'");
    if (r.exit_code != 0) throw std::runtime_error("png: " + r.output);
    return png;
  }
};

TEST_F(PadesTest, BaselineBOnEveryXrefFlavour) {
  const std::vector<std::pair<std::string, const TestSigner*>> cases = {
      {"classic.pdf", &rsa()}, {"objstm.pdf", &ec()}, {"linearized.pdf", &ec()}, {"updated.pdf", &rsa()},
      {"hybrid.pdf", &ec()}};
  for (const auto& [name, signer] : cases) {
    const fs::path out = tmp_.path() / ("signed-" + name);
    sign(corpus() / name, out, params(*signer), *signer);
    const std::string in = read(corpus() / name), o = read(out);
    ASSERT_GT(o.size(), in.size());
    EXPECT_EQ(o.compare(0, in.size(), in), 0) << name << ": earlier bytes must stay identical";
    const auto v = check(out, SignatureLevel::b_b);
    EXPECT_EQ(v.exit_code, 0) << name << "\n" << v.output;
    const auto sigs = pades::list_signatures(out);
    ASSERT_EQ(sigs.size(), 1u);
    EXPECT_EQ(sigs[0].field_name, "Signature1");
    EXPECT_EQ(sigs[0].sub_filter, "ETSI.CAdES.detached");
  }
}

// Files from other writers than ours and qpdf, at every level (the PDF 1.3 PoDoFo file has an
// embedded font and PoDoFo's xref layout; cairo's has its own object numbering and compression).
TEST_F(PadesTest, OtherProducersAtEveryLevel) {
  for (const char* name : {"podofo.pdf", "cairo.pdf"}) {
    ASSERT_TRUE(fs::exists(corpus() / name)) << name << ": scripts/install-deps installs its producer";
    for (const auto level : {SignatureLevel::b_b, SignatureLevel::b_t, SignatureLevel::b_lt, SignatureLevel::b_lta}) {
      const fs::path out = tmp_.path() / (std::string(level_name(level)) + "-" + name);
      sign(corpus() / name, out, params(ec(), level), ec());
      const auto v = check(out, level);
      EXPECT_EQ(v.exit_code, 0) << name << " " << level_name(level) << "\n" << v.output;
    }
    // A second signer keeps both valid; a flipped byte in the original revision is caught.
    const fs::path first = tmp_.path() / (std::string("B-B-") + name), second = tmp_.path() / (std::string("2-") + name);
    sign(first, second, params(rsa()), rsa());
    auto v = check(second, SignatureLevel::b_b);
    EXPECT_EQ(v.exit_code, 0) << v.output;
    EXPECT_NE(v.output.find("2 signature(s)"), std::string::npos) << v.output;
    std::string bytes = read(second);
    bytes[bytes.size() / 4] = static_cast<char>(bytes[bytes.size() / 4] ^ 1);
    const fs::path bad = tmp_.path() / (std::string("bad-") + name);
    std::ofstream(bad, std::ios::binary) << bytes;
    v = check(bad, SignatureLevel::b_b);
    EXPECT_EQ(v.exit_code, 1) << v.output;
  }
}

TEST_F(PadesTest, TwoPhaseChangesOnlyTheHole) {
  const fs::path out = tmp_.path() / "two-phase.pdf";
  const auto p = params(ec());
  const pades::Prepared prep = pades::prepare(corpus() / "base.pdf", out, p);
  EXPECT_EQ(prep.digest.size(), 32u);
  EXPECT_FALSE(prep.data_to_be_signed.empty());
  const std::string before = read(out);
  const Bytes sig = ec().key->sign_digest(ec().scheme, prep.digest_alg, prep.digest);
  pades::finish(prep.state, sig);
  const std::string after = read(out);
  ASSERT_EQ(before.size(), after.size());
  const auto sigs = pades::list_signatures(out);
  ASSERT_EQ(sigs.size(), 1u);
  const auto& br = sigs[0].byte_range;
  ASSERT_EQ(br.size(), 4u);
  EXPECT_EQ(br[0], 0u);
  EXPECT_EQ(br[2] + br[3], after.size());
  EXPECT_EQ(before.compare(0, br[1], after, 0, br[1]), 0);
  EXPECT_EQ(before.compare(br[2], br[3], after, br[2], br[3]), 0);
  EXPECT_NE(before, after);
  // The state is single-use: the hole is no longer empty.
  EXPECT_SIGIL_ERROR(pades::finish(prep.state, sig), Errc::invalid_signing_state);
}

TEST_F(PadesTest, TamperedCopyFails) {
  const fs::path out = tmp_.path() / "signed.pdf";
  sign(corpus() / "base.pdf", out, params(ec()), ec());
  std::string s = read(out);
  const auto at = s.find("Hello, PAdES");
  ASSERT_NE(at, std::string::npos);
  s[at] = 'J';
  const fs::path bad = tmp_.path() / "tampered.pdf";
  std::ofstream(bad, std::ios::binary) << s;
  const auto v = check(bad, SignatureLevel::b_b);
  EXPECT_EQ(v.exit_code, 1) << v.output;
}

TEST_F(PadesTest, ThreeSignersInSequenceAllValid) {
  const fs::path a = tmp_.path() / "1.pdf", b = tmp_.path() / "2.pdf", c = tmp_.path() / "3.pdf";
  sign(corpus() / "objstm.pdf", a, params(rsa()), rsa());
  auto p2 = params(ec());
  p2.field_name = "Second";
  sign(a, b, p2, ec());
  const auto& p384 = CmsEnvironment::get().signer("ec-p384");
  auto p3 = params(p384);
  p3.appearance = pades::Appearance{};
  p3.appearance->page = 2;
  sign(b, c, p3, p384);
  const auto sigs = pades::list_signatures(c);
  ASSERT_EQ(sigs.size(), 3u);
  EXPECT_EQ(sigs[1].field_name, "Second");
  const auto v = check(c, SignatureLevel::b_b);
  EXPECT_EQ(v.exit_code, 0) << v.output;
  EXPECT_NE(v.output.find("3 signature(s)"), std::string::npos) << v.output;
}

TEST_F(PadesTest, ExistingEmptyFieldVisibleWithImage) {
  const fs::path png = write_png(tmp_.path() / "logo.png", true);
  const fs::path out = tmp_.path() / "field.pdf";
  auto p = params(rsa());
  p.field_name = "Approval";
  p.appearance = pades::Appearance{};
  p.appearance->image = png;
  p.appearance->free_text = "Genehmigt – Größe ÄÖÜ €";
  sign(corpus() / "sigfield.pdf", out, p, rsa());
  const auto sigs = pades::list_signatures(out);
  ASSERT_EQ(sigs.size(), 1u);
  EXPECT_EQ(sigs[0].field_name, "Approval");
  const auto v = check(out, SignatureLevel::b_b);
  EXPECT_EQ(v.exit_code, 0) << v.output;
  // Signing the same field again is refused.
  EXPECT_SIGIL_ERROR(pades::prepare(out, tmp_.path() / "again.pdf", p), Errc::invalid_argument);
}

TEST_F(PadesTest, VisibleWithEmbeddedTrueTypeFont) {
  const fs::path ttf = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
  if (!fs::exists(ttf)) GTEST_SKIP() << "fonts-dejavu-core not installed";
  const fs::path out = tmp_.path() / "font.pdf";
  auto p = params(ec());
  p.appearance = pades::Appearance{};
  p.appearance->font = ttf;
  p.appearance->x = 300;
  p.appearance->y = 132;  // from the top: the box spans 600..660 on the 792 pt page
  p.appearance->y_from_top = true;
  // Beyond Latin-1: Polish, Czech, Hungarian, Greek (eIDAS signers' names), and one character
  // DejaVu Sans lacks (shown as '?').
  const std::string text = "Łukasz Żółć – Dvořák Őrs – Ελλάδα € ½ \xF0\x9F\x80\x80";
  p.appearance->lines = {"Signed by: " + text};
  sign(corpus() / "classic.pdf", out, p, ec());
  const auto v = check(out, SignatureLevel::b_b);
  EXPECT_EQ(v.exit_code, 0) << v.output;
  EXPECT_EQ(qpdf_stamp(out), "font=/Type0:True image=none");
  const std::string pdf = read(out);
  EXPECT_NE(pdf.find("/Rect [300.00 600.00 500.00 660.00]"), std::string::npos);
  // Independent reading of what the stamp shows: qpdf flattens the appearance into the page and
  // poppler's pdftotext extracts it through our ToUnicode map.
  const fs::path flat = tmp_.path() / "flat.pdf";
  auto r = run_command("qpdf --flatten-annotations=all '" + out.string() + "' '" + flat.string() + "' && pdftotext -f 1 -l 1 '" +
                       flat.string() + "' -");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("Signed by: Łukasz Żółć – Dvořák Őrs – Ελλάδα € ½ ?"), std::string::npos) << r.output;
}

TEST_F(PadesTest, LevelsTLtLta) {
  for (const auto level : {SignatureLevel::b_t, SignatureLevel::b_lt, SignatureLevel::b_lta}) {
    const fs::path out = tmp_.path() / ("level-" + std::string(level_name(level)) + ".pdf");
    sign(corpus() / "classic.pdf", out, params(ec(), level), ec());
    const auto v = check(out, level);
    EXPECT_EQ(v.exit_code, 0) << level_name(level) << "\n" << v.output;
  }
}

TEST_F(PadesTest, SecondSignerOnAnLtaDocumentMergesTheDss) {
  const fs::path a = tmp_.path() / "lta.pdf", b = tmp_.path() / "lta-lt.pdf";
  sign(corpus() / "objstm.pdf", a, params(rsa(), SignatureLevel::b_lta), rsa());
  sign(a, b, params(ec(), SignatureLevel::b_lt), ec());
  const auto sigs = pades::list_signatures(b);
  ASSERT_EQ(sigs.size(), 3u);  // Signature1, DocTimeStamp1, Signature2
  const auto v = check(b, SignatureLevel::b_lt);
  EXPECT_EQ(v.exit_code, 0) << v.output;
  EXPECT_NE(v.output.find("/VRI with 2 entries"), std::string::npos) << v.output;
}

TEST_F(PadesTest, BtWithTheProductionTspClient) {
  SystemClock clock;
  tsp::ClientOptions o;
  o.endpoints.push_back(tsp::TsaEndpoint{CmsEnvironment::get().pki().tsa_url(), {}, {}, {}});
  o.trust_anchors_pem = files::read(CmsEnvironment::get().pki().trust());
  tsp::Client client(std::move(o), clock);
  const fs::path out = tmp_.path() / "bt.pdf";
  const auto& p384 = CmsEnvironment::get().signer("ec-p384");
  pades::sign(corpus() / "linearized.pdf", out, params(p384, SignatureLevel::b_t), *p384.key, {&client, nullptr});
  const auto v = check(out, SignatureLevel::b_t);
  EXPECT_EQ(v.exit_code, 0) << v.output;
}

TEST_F(PadesTest, ExtendBtToLt) {
  const fs::path out = tmp_.path() / "bt.pdf", ext = tmp_.path() / "lt.pdf";
  const auto& pss = CmsEnvironment::get().signer("rsa-pss");
  sign(corpus() / "updated.pdf", out, params(pss, SignatureLevel::b_t), pss);
  pades::extend(out, ext, SignatureLevel::b_lt, services());
  EXPECT_EQ(pades::list_signatures(ext).size(), 1u);  // no document time-stamp needed for B-LT
  const auto v = check(ext, SignatureLevel::b_lt);
  EXPECT_EQ(v.exit_code, 0) << v.output;
}

TEST_F(PadesTest, ExtendBToLta) {
  const fs::path out = tmp_.path() / "b.pdf", ext = tmp_.path() / "lta.pdf";
  sign(corpus() / "base.pdf", out, params(rsa()), rsa());
  pades::extend(out, ext, SignatureLevel::b_lta, services());
  const auto v = check(ext, SignatureLevel::b_lta);
  EXPECT_EQ(v.exit_code, 0) << v.output;
}

// qpdf's view of the certification: the /P of the DocMDP signature that the catalog's /Perms names
// (0 when there is none) - read independently of our reader.
int qpdf_docmdp(const fs::path& pdf) {
  const auto r = run_command(
      "qpdf --json --json-key=qpdf '" + pdf.string() +
      "' | /usr/bin/python3 -c \"import json,sys\n"
      "j=json.load(sys.stdin)['qpdf'][1]\n"
      "o=lambda r: j['obj:'+r]['value']\n"
      "cat=o(j['trailer']['value']['/Root'])\n"
      "p=cat.get('/Perms')\n"
      "p=o(p) if isinstance(p,str) else p\n"
      "sig=o(p['/DocMDP']) if p else None\n"
      "ref=sig['/Reference'][0] if sig else None\n"
      "ref=o(ref) if isinstance(ref,str) else ref\n"
      "print(ref['/TransformParams']['/P'] if ref and ref['/TransformMethod']=='/DocMDP' else 0)\"");
  if (r.exit_code != 0) throw std::runtime_error("qpdf --json: " + r.output);
  return std::stoi(r.output);
}

TEST_F(PadesTest, CertificationSignaturesAndWhatTheyAllow) {
  for (const int level : {1, 2, 3}) {
    SCOPED_TRACE("P=" + std::to_string(level));
    const fs::path cert = tmp_.path() / ("certified-" + std::to_string(level) + ".pdf");
    auto p = params(rsa());
    p.certification = level;
    sign(corpus() / "sigfield.pdf", cert, p, rsa());
    auto v = check(cert, SignatureLevel::b_b);
    EXPECT_EQ(v.exit_code, 0) << v.output;
    EXPECT_EQ(qpdf_docmdp(cert), level);
    EXPECT_EQ(pades::certification_level(cert), level);
    const auto sigs = pades::list_signatures(cert);
    ASSERT_EQ(sigs.size(), 1u);
    EXPECT_EQ(sigs[0].certification, level);

    // A second signature in a new field: only P=3 allows it (a new field is an annotation).
    const fs::path second = tmp_.path() / ("second-new-" + std::to_string(level) + ".pdf");
    auto q = params(ec());
    q.field_name = "Counter";
    if (level == 3) {
      sign(cert, second, q, ec());
      v = check(second, SignatureLevel::b_b);
      EXPECT_EQ(v.exit_code, 0) << v.output;
      EXPECT_NE(v.output.find("2 signature(s)"), std::string::npos) << v.output;
    } else {
      EXPECT_SIGIL_ERROR(pades::prepare(cert, second, q), Errc::document_locked);
      EXPECT_FALSE(fs::exists(second)) << "nothing is written when the change is refused";
    }
    // A second signature in the existing empty field, visible: P=2 and P=3.
    const fs::path filled = tmp_.path() / ("second-field-" + std::to_string(level) + ".pdf");
    q.field_name = "Approval";
    q.appearance = pades::Appearance{};
    if (level == 1) {
      EXPECT_SIGIL_ERROR(pades::prepare(cert, filled, q), Errc::document_locked);
    } else {
      sign(cert, filled, q, ec());
      v = check(filled, SignatureLevel::b_b);
      EXPECT_EQ(v.exit_code, 0) << v.output;
      EXPECT_EQ(pades::list_signatures(filled).size(), 2u);
      EXPECT_EQ(qpdf_docmdp(filled), level) << "the certification survives the approval signature";
    }
    // DSS and document time-stamps are not changes in the DocMDP sense (ISO 32000-2): even P=1
    // documents can be raised to B-LTA.
    const fs::path lta = tmp_.path() / ("certified-lta-" + std::to_string(level) + ".pdf");
    pades::extend(cert, lta, SignatureLevel::b_lta, services());
    v = check(lta, SignatureLevel::b_lta);
    EXPECT_EQ(v.exit_code, 0) << v.output;
  }
  // Certifying at B-LTA in one go (the DSS and document time-stamp revisions follow the certification).
  const fs::path lta = tmp_.path() / "certify-lta.pdf";
  auto p = params(ec(), SignatureLevel::b_lta);
  p.certification = 1;
  sign(corpus() / "objstm.pdf", lta, p, ec());
  auto v = check(lta, SignatureLevel::b_lta);
  EXPECT_EQ(v.exit_code, 0) << v.output;
  EXPECT_EQ(qpdf_docmdp(lta), 1);
  // Tampering with the certified document is detected.
  std::string bytes = read(lta);
  const auto at = bytes.find("/P 1/V/1.2");
  ASSERT_NE(at, std::string::npos);
  bytes[at + 3] = '3';
  const fs::path bad = tmp_.path() / "certify-tampered.pdf";
  std::ofstream(bad, std::ios::binary) << bytes;
  v = check(bad, SignatureLevel::b_b);
  EXPECT_EQ(v.exit_code, 1) << v.output;

  // Only the first signature may certify; /P is 1..3.
  const fs::path signed_once = tmp_.path() / "approval.pdf";
  sign(corpus() / "base.pdf", signed_once, params(ec()), ec());
  auto c = params(ec());
  c.certification = 2;
  EXPECT_SIGIL_ERROR(pades::prepare(signed_once, tmp_.path() / "late-cert.pdf", c), Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(pades::prepare(corpus() / "docmdp.pdf", tmp_.path() / "re-cert.pdf", c), Errc::invalid_argument);
  c.certification = 4;
  EXPECT_SIGIL_ERROR(pades::prepare(corpus() / "base.pdf", tmp_.path() / "p4.pdf", c), Errc::invalid_argument);
  EXPECT_EQ(pades::certification_level(signed_once), 0);
}

// What qpdf sees in the appearance of the newest widget on page 1: "font=<Subtype>:<FontFile2?>
// image=<ColorSpace>:<SMask?>".
std::string qpdf_stamp(const fs::path& pdf) {
  const auto r = run_command(
      "qpdf --json --json-key=qpdf '" + pdf.string() +
      "' | /usr/bin/python3 -c \"import json,sys\n"
      "j=json.load(sys.stdin)['qpdf'][1]\n"
      "o=lambda r: j['obj:'+r]['value'] if isinstance(r,str) else r\n"
      "cat=o(j['trailer']['value']['/Root'])\n"
      "page=o(o(cat['/Pages'])['/Kids'][0])\n"
      "w=o(o(page['/Annots'])[-1])\n"
      "res=o(j['obj:'+w['/AP']['/N']]['stream']['dict']['/Resources'])\n"
      "out=[]\n"
      "f=o(res.get('/Font',{}).get('/F0')) if '/Font' in res else None\n"
      "d=o(o(f['/DescendantFonts'])[0]) if f and '/DescendantFonts' in f else f\n"
      "out.append('font='+(f['/Subtype']+':'+str('/FontFile2' in o(d['/FontDescriptor'])) if d and '/FontDescriptor' in d else (f['/Subtype']+':False' if f else 'none')))\n"
      "im=res.get('/XObject',{}).get('/Im0')\n"
      "d=j['obj:'+im]['stream']['dict'] if im else None\n"
      "out.append('image='+(d['/ColorSpace']+':'+str('/SMask' in d) if d else 'none'))\n"
      "print(' '.join(out))\"");
  if (r.exit_code != 0) throw std::runtime_error("qpdf --json: " + r.output);
  auto s = r.output;
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

TEST_F(PadesTest, PdfaDocumentsStayPdfa) {
  const fs::path ttf = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
  if (!fs::exists(ttf)) GTEST_SKIP() << "fonts-dejavu-core not installed";
  const fs::path dir = tmp_.path() / "pdfa";
  const char* src = std::getenv("SIGIL_SOURCE_DIR");
  const auto made = run_command("/usr/bin/python3 '" + (fs::path(src != nullptr ? src : ".") / "tests" / "pades" /
                                                        "make_pdfa.py").string() + "' '" + dir.string() + "'");
  ASSERT_EQ(made.exit_code, 0) << made.output;
  const fs::path rgba = write_png(tmp_.path() / "rgba.png", true), rgb = write_png(tmp_.path() / "rgb.png", false);
  auto visible = [&](std::optional<fs::path> font, std::optional<fs::path> image) {
    auto p = params(ec());
    p.appearance = pades::Appearance{};
    p.appearance->font = std::move(font);
    p.appearance->image = std::move(image);
    p.appearance->free_text = "Geprüft – Größe";
    return p;
  };
  auto signs = [&](const std::string& in, const pades::PadesParams& p, const std::string& expect_stamp) {
    SCOPED_TRACE(in + " → " + expect_stamp);
    const fs::path out = tmp_.path() / ("signed-" + in);
    sign(dir / in, out, p, ec());
    const auto v = check(out, SignatureLevel::b_b);
    EXPECT_EQ(v.exit_code, 0) << v.output;
    // The XMP claim is untouched (an incremental update leaves every earlier byte as it was).
    const std::string orig = read(dir / in), signed_bytes = read(out);
    EXPECT_EQ(signed_bytes.compare(0, orig.size(), orig), 0);
    if (!expect_stamp.empty()) {
      EXPECT_EQ(qpdf_stamp(out), expect_stamp);
    }
  };
  auto refused = [&](const std::string& in, const pades::PadesParams& p, const std::string& why) {
    const fs::path out = tmp_.path() / ("refused-" + in);
    try {
      pades::prepare(dir / in, out, p);
      ADD_FAILURE() << in << ": accepted, expected a refusal mentioning '" << why << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::invalid_argument) << e.detail();
      EXPECT_NE(e.detail().find(why), std::string::npos) << e.detail();
    }
    EXPECT_FALSE(fs::exists(out)) << "nothing is written when the request would break PDF/A";
  };
  // PDF/A-2B with an RGB output intent: embedded font, RGB image with a soft mask (allowed since -2).
  signs("pdfa2b.pdf", visible(ttf, rgba), "font=/Type0:True image=/DeviceRGB:True");
  refused("pdfa2b.pdf", visible(std::nullopt, std::nullopt), "PDF/A-2B: every font must be embedded");
  // PDF/A-1B: no transparency.
  refused("pdfa1b.pdf", visible(ttf, rgba), "PDF/A-1B: PDF/A-1 forbids transparency");
  signs("pdfa1b.pdf", visible(ttf, rgb), "font=/Type0:True image=/DeviceRGB:False");
  // A CMYK output intent does not cover an RGB image; text (DeviceGray) is fine.
  refused("pdfa2b-cmyk.pdf", visible(ttf, rgb), "does not match the PDF/A output intent");
  signs("pdfa2b-cmyk.pdf", visible(ttf, std::nullopt), "font=/Type0:True image=none");
  // No output intent: no device colour at all; an invisible signature adds nothing to paint.
  refused("pdfa2b-nointent.pdf", visible(ttf, std::nullopt), "no PDF/A output intent");
  signs("pdfa2b-nointent.pdf", params(ec()), "");
  // PDF/A-2 bounds strings to 32767 bytes, the signature's /Contents included.
  auto big = params(ec());
  big.contents_size = 40000;
  refused("pdfa2b.pdf", big, "may not exceed 32767");
  // A 1 MB attribute value claims nothing (and must not hurt the reader): Helvetica is allowed.
  signs("pdfa-hostile.pdf", visible(std::nullopt, std::nullopt), "font=/Type1:False image=none");
  // Not PDF/A: Helvetica (not embedded) stays allowed.
  const fs::path plain = tmp_.path() / "plain.pdf";
  sign(corpus() / "base.pdf", plain, visible(std::nullopt, rgba), ec());
  EXPECT_EQ(qpdf_stamp(plain), "font=/Type1:False image=/DeviceRGB:True");
}

TEST_F(PadesTest, MalformedInputsGiveTheDocumentedErrors) {
  const auto p = params(ec());
  const fs::path out = tmp_.path() / "x.pdf";
  EXPECT_SIGIL_ERROR(pades::prepare(corpus() / "truncated.pdf", out, p), Errc::invalid_document);
  EXPECT_SIGIL_ERROR(pades::prepare(corpus() / "garbage.pdf", out, p), Errc::invalid_document);
  EXPECT_SIGIL_ERROR(pades::prepare(corpus() / "enc-aes256-user.pdf", out, p), Errc::document_encrypted);
  EXPECT_SIGIL_ERROR(pades::prepare(corpus() / "docmdp.pdf", out, p), Errc::document_locked);
  EXPECT_SIGIL_ERROR(pades::prepare(corpus() / "base.pdf", corpus() / "base.pdf", p), Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(pades::prepare(tmp_.path() / "missing.pdf", out, p), Errc::io);
  // Every prefix of a valid file fails cleanly (no crash, no hang).
  const std::string base = read(corpus() / "objstm.pdf");
  for (std::size_t n = 0; n < base.size(); n += 37) {
    const fs::path cut = tmp_.path() / "cut.pdf";
    std::ofstream(cut, std::ios::binary) << base.substr(0, n);
    try {
      pades::prepare(cut, out, p);
      ADD_FAILURE() << "prefix " << n << " accepted";
    } catch (const Error& e) {
      EXPECT_TRUE(e.code() == Errc::invalid_document || e.code() == Errc::unsupported) << e.detail();
    }
  }
}

TEST_F(PadesTest, MutatedInputsNeverCrash) {
  // Deterministic byte mutations of every xref flavour: prepare() either succeeds or throws
  // sigil::Error (under ASan/UBSan this is the poor man's fuzzer for the reader).
  std::uint32_t seed = 12345;
  int handled = 0;
  for (const char* name : {"objstm.pdf", "sigfield.pdf", "linearized.pdf", "updated.pdf", "hybrid.pdf"})
    handled += prepare_mutations(corpus() / name, params(ec()), 60, seed);
  EXPECT_EQ(handled, 300);
}

TEST_F(PadesTest, BadStateAndSignatureValue) {
  const fs::path out = tmp_.path() / "s.pdf";
  const auto prep = pades::prepare(corpus() / "base.pdf", out, params(ec()));
  Bytes corrupt = prep.state;
  corrupt.resize(corrupt.size() / 2);
  EXPECT_SIGIL_ERROR(pades::finish(corrupt, Bytes(64, 1)), Errc::invalid_signing_state);
  EXPECT_SIGIL_ERROR(pades::finish(Bytes{1, 2, 3}, Bytes(64, 1)), Errc::invalid_signing_state);
  const Bytes wrong = ec().key->sign_digest(ec().scheme, HashAlg::sha256, Bytes(32, 7));
  EXPECT_SIGIL_ERROR(pades::finish(prep.state, wrong), Errc::invalid_signature_value);
  // B-T without a time-stamp source is refused before anything is written.
  const auto prep_t = pades::prepare(corpus() / "base.pdf", tmp_.path() / "t.pdf", params(ec(), SignatureLevel::b_t));
  EXPECT_SIGIL_ERROR(pades::finish(prep_t.state, wrong), Errc::invalid_argument);
}

TEST_F(PadesTest, TooSmallContentsIsReported) {
  auto p = params(rsa());
  p.contents_size = 1024;
  EXPECT_SIGIL_ERROR(sign(corpus() / "base.pdf", tmp_.path() / "small.pdf", p, rsa()), Errc::invalid_argument);
}

// Memory does not grow with the file: a PDF with one huge (sparse) content stream is signed and
// the peak RSS compared. Off by default (disk and time); SIGIL_PADES_LARGE_MB=1024 for 1 GiB.
TEST_F(PadesTest, LargeFileMemoryIsBounded) {
  const char* mb_env = std::getenv("SIGIL_PADES_LARGE_MB");
  if (mb_env == nullptr) GTEST_SKIP() << "set SIGIL_PADES_LARGE_MB to run";
  const std::uint64_t big = std::stoull(mb_env) << 20;
  const fs::path in = tmp_.path() / "large.pdf", out = tmp_.path() / "large-signed.pdf";
  {
    std::string head = "%PDF-1.4\n";
    std::vector<std::uint64_t> off;
    auto obj = [&](const std::string& body) {
      off.push_back(head.size());
      head += std::to_string(off.size()) + " 0 obj\n" + body + "\nendobj\n";
    };
    obj("<</Type /Catalog /Pages 2 0 R>>");
    obj("<</Type /Pages /Kids [3 0 R] /Count 1>>");
    obj("<</Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R>>");
    off.push_back(head.size());
    head += "4 0 obj\n<</Length " + std::to_string(big) + ">>\nstream\n";
    std::ofstream f(in, std::ios::binary);
    f << head;
    f.seekp(static_cast<std::streamoff>(head.size() + big));  // a sparse run of zero bytes (spaces would do as well)
    std::string tail = "\nendstream\nendobj\n";
    const std::uint64_t xref = head.size() + big + tail.size();
    tail += "xref\n0 5\n0000000000 65535 f \n";
    for (const auto o : off) {
      char line[32];
      std::snprintf(line, sizeof line, "%010llu 00000 n \n", static_cast<unsigned long long>(o));
      tail += line;
    }
    tail += "trailer\n<</Size 5 /Root 1 0 R>>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
    f << tail;
  }
  rusage before{};
  ::getrusage(RUSAGE_SELF, &before);
  sign(in, out, params(ec()), ec());
  rusage after{};
  ::getrusage(RUSAGE_SELF, &after);
  const long grown_kb = after.ru_maxrss - before.ru_maxrss;
  std::printf("signed %llu MiB; peak RSS %ld KiB before, %ld KiB after (+%ld KiB)\n",
              static_cast<unsigned long long>(big >> 20), before.ru_maxrss, after.ru_maxrss, grown_kb);
  EXPECT_LT(grown_kb, 64 * 1024);
  const auto sigs = pades::list_signatures(out);
  ASSERT_EQ(sigs.size(), 1u);
  EXPECT_EQ(sigs[0].byte_range[2] + sigs[0].byte_range[3], fs::file_size(out));
}

}  // namespace
}  // namespace sigil::test
