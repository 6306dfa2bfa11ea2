// The DSS one-document flow end to end, in-process: getDataToSign -> server-signing sign ->
// signDocument -> extendDocument, and the one-call sign-document/{alias}, for CAdES, PAdES and
// XAdES, with SoftHSM keys, certificates from the validators' test PKI, its real TSA and OCSP
// responder on 127.0.0.1. Every output goes through the independent validators (--strict), and a
// tampered copy must fail.
#include <fstream>
#include <sstream>

#include "../admin/fixture.hpp"
#include "ossl/digest.hpp"
#include "sigil/api/dss.hpp"
#include "sigil/audit/events.hpp"
#include "sigil/pades/pades.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/http/router.hpp"
#include "sigil/revocation/collector.hpp"
#include "sigil/signing/service.hpp"
#include "sigil/tsp/client.hpp"
#include "test_pdf.hpp"
#include "validator_pki.hpp"

namespace sigil::admin::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

// One PKI with its TSA and OCSP responder for the whole binary.
sigil::test::ValidatorPki& pki() {
  static sigil::test::TempDir dir;
  static sigil::test::ValidatorPki p(dir.path() / "pki");
  return p;
}

std::string b64(std::string_view s) {
  return base64_encode(std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}

using sigil::test::minimal_pdf;
std::string make_pdf() { return minimal_pdf(); }

class DssDocuments : public AdminTest {
 protected:
  DssDocuments() {
    spool_ = dir_.path() / "spool";
    fs::create_directories(spool_);
    tsp::ClientOptions to;
    to.endpoints.push_back({pki().tsa_url(), {}, {}, {}});
    to.trust_anchors_pem = files::read(pki().trust());
    tsa_ = std::make_unique<tsp::Client>(std::move(to), system_clock_);
    ocsp_ = std::make_unique<revocation::OcspClient>(revocation::OcspOptions{}, system_clock_);
    crls_ = std::make_unique<revocation::CrlCache>(revocation::CrlOptions{}, system_clock_);
    collector_ = std::make_unique<revocation::Collector>(*ocsp_, *crls_);
    signing::Sources sources{tsa_.get(), collector_.get(), false};
    signing_ = std::make_unique<signing::SigningService>(*store_, *token_, clock_, sources, spool_);
    api::dss::register_routes(router_, *signing_);
    user_ = make_user(unique("backoffice"), {store::Role::service});
  }

  // An unattended credential on a fresh SoftHSM key with a certificate from the validators' PKI.
  Credential credential(const std::string& spec) {
    const std::string label = unique("dss-doc");
    svc_->generate_key(label, KeySpec::parse(spec));
    auto key = token_->signer(label);
    const Bytes leaf = pki().issue(*key, label);
    svc_->import_certificate(label, ossl::der_to_pem(leaf),
                             ossl::der_to_pem(pki().inter_der()) + ossl::der_to_pem(pki().root_der()));
    NewCredential n;
    n.owner_username = store_->users().get(user_)->username;
    n.key_label = label;
    n.unattended = true;
    n.second_factor = SecondFactor::none;
    return svc_->create_credential(n);
  }

  json call(const std::string& target, const json& body, int expect_status = 200) {
    http::Request req;
    req.method = "POST";
    req.set_target(target);
    req.body = body.dump();
    req.body_size = req.body.size();
    const auto res = router_.dispatch(req, [&](const http::Request&) -> std::optional<http::Principal> {
      return http::Principal{user_, user_, {"service"}, {}};
    });
    EXPECT_EQ(res.status, expect_status) << res.body;
    return res.body.empty() ? json() : json::parse(res.body);
  }

  fs::path write(const std::string& name, const std::string& content) {
    const auto p = dir_.path() / name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }

  static std::string bytes_of(const json& remote_document) {
    const Bytes b = base64_decode(remote_document["bytes"].get<std::string>());
    return std::string(b.begin(), b.end());
  }

  // Runs `tool --strict --level L --trust ROOT args file`; expects `expected` exit code.
  void expect_valid(const std::string& tool, const fs::path& file, const std::string& level,
                    const std::string& extra = {}, int expected = 0) {
    const auto r = sigil::test::validate(tool, "--strict --level " + level + " --trust '" + pki().trust().string() +
                                                   "' " + extra + " '" + file.string() + "'");
    EXPECT_EQ(r.exit_code, expected) << tool << " " << file << "\n" << r.output;
  }

  // Flips one byte in the middle of the file.
  fs::path tampered(const fs::path& file, std::size_t offset_from_end = 0) {
    std::string c = files::read(file);
    const std::size_t at = offset_from_end ? c.size() - offset_from_end : c.size() / 2;
    c[at] = static_cast<char>(c[at] ^ 0x01);
    return write(file.filename().string() + ".tampered", c);
  }

  json parameters(const std::string& level, const std::string& packaging, const Credential& c) {
    json chain = json::array();
    for (const auto& der : ossl::pem_to_der_chain(c.certificate_pem + c.chain_pem)) chain.push_back({{"encodedCertificate", base64_encode(der)}});
    return json{{"signatureLevel", level},
                {"signaturePackaging", packaging},
                {"digestAlgorithm", "SHA256"},
                {"signingCertificate", {{"encodedCertificate", base64_encode(ossl::read_certificate(c.certificate_pem))}}},
                {"certificateChain", chain},
                {"blevelParams", {{"signingDate", 1795000000000LL}}}};
  }

  SystemClock system_clock_;
  fs::path spool_;
  std::unique_ptr<tsp::Client> tsa_;
  std::unique_ptr<revocation::OcspClient> ocsp_;
  std::unique_ptr<revocation::CrlCache> crls_;
  std::unique_ptr<revocation::Collector> collector_;
  std::unique_ptr<signing::SigningService> signing_;
  http::Router router_;
  std::string user_;
};

// The classic DSS flow with the key behind server-signing: getDataToSign twice gives the same
// bytes; the signature from sign/{alias} completes the document in signDocument.
TEST_F(DssDocuments, ClientOrchestratedCadesDetachedThenExtendedToLta) {
  const auto c = credential("ec-p256");
  const std::string data = "invoice 42\n";
  const json doc = {{"bytes", b64(data)}, {"name", "invoice.txt"}};
  const json params = parameters("CAdES_BASELINE_B", "DETACHED", c);
  const auto tbs1 = call("/services/rest/signature/one-document/getDataToSign", {{"parameters", params}, {"toSignDocument", doc}});
  const auto tbs2 = call("/services/rest/signature/one-document/getDataToSign", {{"parameters", params}, {"toSignDocument", doc}});
  ASSERT_EQ(tbs1, tbs2);
  const auto sig = call("/services/rest/server-signing/sign/" + c.id + "/SHA256", tbs1);
  const auto signed_doc = call("/services/rest/signature/one-document/signDocument",
                               {{"parameters", params}, {"signatureValue", sig}, {"toSignDocument", doc}});
  EXPECT_EQ(signed_doc["name"], "invoice-signed-cades-baseline-b.p7s");
  const auto data_file = write("invoice.txt", data);
  const auto p7s = write("invoice.p7s", bytes_of(signed_doc));
  expect_valid("validate-cades", p7s, "B-B", "--data '" + data_file.string() + "'");
  expect_valid("validate-cades", p7s, "B-B", "--data '" + write("other.txt", data + "x").string() + "'", 1);

  // extendDocument to B-LTA with the detached content.
  const auto extended = call("/services/rest/signature/one-document/extendDocument",
                             {{"toExtendDocument", {{"bytes", b64(bytes_of(signed_doc))}, {"name", "invoice.p7s"}}},
                              {"signatureProfile", "BASELINE_LTA"},
                              {"parameters", {{"detachedContents", json::array({doc})}}}});
  const auto lta = write("invoice-lta.p7s", bytes_of(extended));
  expect_valid("validate-cades", lta, "B-LTA", "--data '" + data_file.string() + "'");
}

// XAdES and PAdES through the two calls: phase 1 is deterministic for them too.
TEST_F(DssDocuments, ClientOrchestratedXadesAndPades) {
  const auto c = credential("ec-p256");
  const std::string xml = "<?xml version=\"1.0\"?>\n<order xmlns=\"urn:example\"><id>7</id></order>\n";
  struct Case {
    std::string level, packaging, content, name, tool, file;
  } cases[] = {{"XAdES_BASELINE_B", "ENVELOPED", xml, "order.xml", "validate-xades", "order-signed.xml"},
               {"PAdES_BASELINE_B", "ENVELOPED", make_pdf(), "sample.pdf", "validate-pades", "sample-2call.pdf"}};
  for (const auto& k : cases) {
    const json doc = {{"bytes", b64(k.content)}, {"name", k.name}};
    const json params = parameters(k.level, k.packaging, c);
    const auto tbs1 = call("/services/rest/signature/one-document/getDataToSign", {{"parameters", params}, {"toSignDocument", doc}});
    const auto tbs2 = call("/services/rest/signature/one-document/getDataToSign", {{"parameters", params}, {"toSignDocument", doc}});
    ASSERT_EQ(tbs1, tbs2) << k.level;
    const auto sig = call("/services/rest/server-signing/sign/" + c.id + "/SHA256", tbs1);
    const auto signed_doc = call("/services/rest/signature/one-document/signDocument",
                                 {{"parameters", params}, {"signatureValue", sig}, {"toSignDocument", doc}});
    expect_valid(k.tool, write(k.file, bytes_of(signed_doc)), "B-B");
  }
}

TEST_F(DssDocuments, OneCallPadesAtEveryLevel) {
  const auto c = credential("ec-p256");
  for (const std::string level : {"B", "T", "LT", "LTA"}) {
    json params = parameters("PAdES_BASELINE_" + level, "ENVELOPED", c);
    const auto r = call("/services/rest/server-signing/sign-document/" + c.id,
                        {{"parameters", params}, {"toSignDocument", {{"bytes", b64(make_pdf())}, {"name", "sample.pdf"}}}});
    const auto pdf = write("sample-" + level + ".pdf", bytes_of(r));
    expect_valid("validate-pades", pdf, "B-" + level);
    if (level == "B") expect_valid("validate-pades", tampered(pdf, 0), "B-B", {}, 1);
  }
}

// Sigil's pdfPassword parameter opens a user-password PDF; B-LT's DSS revision is encrypted too.
TEST_F(DssDocuments, EncryptedPdfWithPdfPassword) {
  const auto c = credential("ec-p256");
  const auto plain = write("plain.pdf", make_pdf());
  const auto enc = dir_.path() / "enc.pdf";
  auto r = sigil::test::run_command("qpdf --encrypt user-pw owner-pw 256 -- '" + plain.string() + "' '" + enc.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  json params = parameters("PAdES_BASELINE_LT", "ENVELOPED", c);
  const json doc = {{"bytes", b64(files::read(enc))}, {"name", "enc.pdf"}};
  const auto target = "/services/rest/server-signing/sign-document/" + c.id;
  auto err = call(target, {{"parameters", params}, {"toSignDocument", doc}}, 400);
  EXPECT_EQ(err["code"], "document_encrypted") << err.dump();
  params["pdfPassword"] = "wrong";
  err = call(target, {{"parameters", params}, {"toSignDocument", doc}}, 400);
  EXPECT_EQ(err["code"], "document_encrypted") << err.dump();
  params["pdfPassword"] = 42;
  call(target, {{"parameters", params}, {"toSignDocument", doc}}, 400);
  params["pdfPassword"] = "user-pw";
  const auto out = write("enc-signed.pdf", bytes_of(call(target, {{"parameters", params}, {"toSignDocument", doc}})));
  r = sigil::test::run_command("qpdf --password=user-pw --check '" + out.string() + "'");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = sigil::test::run_command("qpdf --check '" + out.string() + "' 2>&1");
  EXPECT_NE(r.exit_code, 0) << "the output must still need the password";
  r = sigil::test::run_command("pdfsig -nocert -upw user-pw '" + out.string() + "' 2>&1");
  EXPECT_NE(r.output.find("Signature is Valid."), std::string::npos) << r.output;
  // The DSS revision is there (encrypted): qpdf decrypts the catalog and finds /DSS.
  r = sigil::test::run_command("qpdf --password=user-pw --json --json-key=qpdf '" +
                               out.string() + "' | grep -q '\"/DSS\"'");
  EXPECT_EQ(r.exit_code, 0) << r.output;
}

TEST_F(DssDocuments, OneCallXadesAndCadesAttached) {
  const auto c = credential("rsa-2048");
  const std::string xml = "<?xml version=\"1.0\"?>\n<invoice xmlns=\"urn:example\"><total>42.00</total></invoice>\n";
  const auto x = call("/services/rest/server-signing/sign-document/" + c.id,
                      {{"parameters", parameters("XAdES_BASELINE_T", "ENVELOPED", c)},
                       {"toSignDocument", {{"bytes", b64(xml)}, {"name", "invoice.xml"}}}});
  const auto signed_xml = write("invoice-signed.xml", bytes_of(x));
  expect_valid("validate-xades", signed_xml, "B-T");
  std::string t = files::read(signed_xml);
  t.replace(t.find("42.00"), 5, "43.00");
  expect_valid("validate-xades", write("invoice-tampered.xml", t), "B-B", {}, 1);

  const auto cms = call("/services/rest/server-signing/sign-document/" + c.id,
                        {{"parameters", parameters("CAdES_BASELINE_LT", "ENVELOPING", c)},
                         {"toSignDocument", {{"bytes", b64("attached content")}, {"name", "a.txt"}}}});
  EXPECT_EQ(cms["name"], "a-signed-cades-baseline-lt.p7m");
  expect_valid("validate-cades", write("a.p7m", bytes_of(cms)), "B-LT");
}

TEST_F(DssDocuments, HashOnlyCadesNeverSeesTheDocument) {
  const auto c = credential("ec-p256");
  const std::string data = "stays on the client's premises";
  const Bytes digest = ossl::digest(HashAlg::sha256, data);
  const auto r = call("/services/rest/server-signing/sign-document/" + c.id,
                      {{"parameters", parameters("CAdES_BASELINE_T", "DETACHED", c)},
                       {"toSignDocument", {{"bytes", base64_encode(digest)}, {"digestAlgorithm", "SHA256"}, {"name", "d"}}}});
  expect_valid("validate-cades", write("d.p7s", bytes_of(r)), "B-T", "--data '" + write("d.txt", data).string() + "'");
}

// POST /api/v1/sign?profile=NAME: the raw document in, the signed document out.
TEST_F(DssDocuments, RawBodyWithANamedProfile) {
  const auto c = credential("ec-p256");
  signing::Profile profile;
  profile.name = "invoices";
  profile.credential_id = c.id;
  profile.request.format = signing::Format::pades;
  profile.request.level = SignatureLevel::b_t;
  profile.request.pades.reason = "Invoice";
  http::Router router;
  api::dss::register_routes(router, *signing_, {profile});
  auto post = [&](const std::string& target, const std::string& body) {
    http::Request req;
    req.method = "POST";
    req.set_target(target);
    req.body = body;
    req.body_size = body.size();
    return router.dispatch(req, [&](const http::Request&) -> std::optional<http::Principal> {
      return http::Principal{user_, user_, {"service"}, {}};
    });
  };
  const auto res = post("/api/v1/sign?profile=invoices&name=inv.pdf", make_pdf());
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(res.content_type, "application/pdf");
  EXPECT_EQ(res.header("X-Sigil-Signature-Level").value_or(""), "B-T");
  // Streamed from a spool file the server deletes once sent (a 1 GB PDF never sits in memory).
  ASSERT_FALSE(res.body_file.empty());
  EXPECT_TRUE(res.remove_body_file);
  EXPECT_TRUE(res.body.empty());
  expect_valid("validate-pades", write("raw.pdf", files::read(res.body_file)), "B-T");
  std::filesystem::remove(res.body_file);
  EXPECT_EQ(post("/api/v1/sign?profile=nope", make_pdf()).status, 404);
  EXPECT_EQ(post("/api/v1/sign", make_pdf()).status, 400);
  EXPECT_EQ(post("/api/v1/sign?profile=invoices", "").status, 400);
  EXPECT_EQ(post("/api/v1/sign?profile=invoices", "%PDF-1.4 truncated").status, 400);
}

TEST_F(DssDocuments, BadRequestsGetClearErrors) {
  const auto c = credential("ec-p256");
  auto expect = [&](const json& body, const std::string& target, int status, const std::string& needle) {
    const auto r = call(target, body, status);
    EXPECT_NE(r.value("error_description", "").find(needle), std::string::npos) << r.dump();
  };
  const std::string gdts = "/services/rest/signature/one-document/getDataToSign";
  const json doc = {{"bytes", b64("x")}};
  expect({{"toSignDocument", doc}}, gdts, 400, "parameters must be defined!");
  expect({{"parameters", {{"signaturePackaging", "DETACHED"}}}, {"toSignDocument", doc}}, gdts, 400, "signatureLevel must be defined!");
  expect({{"parameters", {{"signatureLevel", "CAdES_BES"}}}, {"toSignDocument", doc}}, gdts, 400, "Unsupported signature level");
  expect({{"parameters", {{"signatureLevel", "CAdES_BASELINE_B"}, {"signaturePackaging", "DETACHED"}}}, {"toSignDocument", doc}},
         gdts, 400, "signingCertificate must be defined!");
  // Not a PDF: a clear 400, no file left in the spool.
  expect({{"parameters", parameters("PAdES_BASELINE_B", "ENVELOPED", c)}, {"toSignDocument", {{"bytes", b64("not a pdf")}}}},
         "/services/rest/server-signing/sign-document/" + c.id, 400, "");
  // XML with a DTD is refused.
  expect({{"parameters", parameters("XAdES_BASELINE_B", "ENVELOPED", c)},
          {"toSignDocument", {{"bytes", b64("<!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><a>&x;</a>")}}}},
         "/services/rest/server-signing/sign-document/" + c.id, 400, "");
  // A signature value that is not over these bytes.
  const json params = parameters("CAdES_BASELINE_B", "DETACHED", c);
  expect({{"parameters", params}, {"toSignDocument", doc}, {"signatureValue", {{"algorithm", "ECDSA_SHA256"}, {"value", b64("garbage")}}}},
         "/services/rest/signature/one-document/signDocument", 400, "");
  std::size_t leftovers = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(spool_)) ++leftovers;
  EXPECT_EQ(leftovers, 0U);
}


// Records what the signing service audits.
class RecordingSink final : public audit::Sink {
 public:
  void append(audit::Event e) override { events.push_back(std::move(e)); }
  void check_available() override {}
  std::vector<audit::Event> events;
};

std::string sha256_b64(std::string_view s) { return base64_encode(ossl::digest(HashAlg::sha256, s)); }

// validate-xades --level B-LTA: xadesjs 2.6.8 cannot parse xades141:ArchiveTimeStamp and the
// validator does not recompute its imprint (tests/xades/env.cpp), so those two lines are tolerated
// and the checks that make up each level are required one by one instead.
void expect_xades_lta(const fs::path& file, const std::string& trust, const std::string& detached) {
  const auto r = sigil::test::validate("validate-xades", "--strict --level B-LTA --trust '" + trust + "' " + detached +
                                                           " '" + file.string() + "'");
  EXPECT_LE(r.exit_code, 1) << r.output;
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);) {
    const bool bad = line.rfind("FAIL", 0) == 0 || line.rfind("WARN", 0) == 0;
    const bool tolerated = line.find("Malformed element 'ArchiveTimeStamp'") != std::string::npos ||
                           line.find("ArchiveTimeStamp imprint not recomputed") != std::string::npos;
    EXPECT_FALSE(bad && !tolerated) << line << "\n" << r.output;
  }
  for (const char* need : {"PASS  sig.xmlsec1:", "PASS  sig.signature-binding:", "PASS  sig.chain:",
                           "PASS  sig.signature-time-stamp.message-imprint:", "PASS  sig.lt.certificates:",
                           "PASS  sig.archive-time-stamp.token.signature-value:"}) {
    EXPECT_NE(r.output.find(need), std::string::npos) << "missing " << need << "\n" << r.output;
  }
}

// timestampDocument on a PDF: a document time-stamp revision (incremental), audited. On a B-B
// signed PDF it lifts the signature to B-T (the validator accepts a later document time-stamp).
TEST_F(DssDocuments, TimestampDocumentOnPdf) {
  RecordingSink sink;
  signing_->set_audit(&sink);
  const auto c = credential("ec-p256");
  const std::string pdf = make_pdf();
  const auto stamped = call("/services/rest/signature/one-document/timestampDocument",
                            {{"timestampParameters", {{"digestAlgorithm", "SHA256"},
                                                      {"canonicalizationMethod", "http://www.w3.org/2001/10/xml-exc-c14n#"},
                                                      {"timestampContainerForm", "PDF"}}},
                             {"toTimestampDocument", {{"bytes", b64(pdf)}, {"digestAlgorithm", nullptr}, {"name", "sample.pdf"}}}});
  EXPECT_EQ(stamped["name"], "sample-timestamped.pdf");
  const std::string out = bytes_of(stamped);
  EXPECT_EQ(out.substr(0, pdf.size()), pdf);  // an incremental update: the original bytes stay
  const auto file = write("stamped.pdf", out);
  const auto sigs = pades::list_signatures(file);
  ASSERT_EQ(sigs.size(), 1U);
  EXPECT_TRUE(sigs[0].doc_timestamp);
  EXPECT_EQ(sigs[0].sub_filter, "ETSI.RFC3161");
  EXPECT_NE(out.find("/DocTimeStamp"), std::string::npos);
  ASSERT_EQ(sink.events.size(), 1U);
  EXPECT_EQ(sink.events[0].type, "signature.create");
  EXPECT_EQ(sink.events[0].outcome, "success");
  EXPECT_EQ(sink.events[0].details["format"], "pades");
  EXPECT_EQ(sink.events[0].details["document.1.name"], "sample.pdf");

  // A B-B signature is not B-T; the document time-stamp makes it B-T; a tampered copy fails.
  const auto signed_doc = call("/services/rest/server-signing/sign-document/" + c.id,
                               {{"parameters", parameters("PAdES_BASELINE_B", "ENVELOPED", c)},
                                {"toSignDocument", {{"bytes", b64(pdf)}, {"name", "doc.pdf"}}}});
  const auto bb = write("doc-bb.pdf", bytes_of(signed_doc));
  expect_valid("validate-pades", bb, "B-T", "", 1);
  const auto lifted = call("/services/rest/signature/one-document/timestampDocument",
                           {{"timestampParameters", {{"digestAlgorithm", "SHA512"}, {"timestampContainerForm", "PDF"}}},
                            {"toTimestampDocument", {{"bytes", b64(bytes_of(signed_doc))}, {"name", "doc.pdf"}}}});
  const auto bt = write("doc-bt.pdf", bytes_of(lifted));
  EXPECT_EQ(pades::list_signatures(bt).size(), 2U);
  expect_valid("validate-pades", bt, "B-T");
  expect_valid("validate-pades", tampered(bt, fs::file_size(bt) - 100), "B-T", "", 1);  // the page content
  signing_->set_audit(nullptr);
}

TEST_F(DssDocuments, TimestampDocumentRefusesWhatNeedsAsic) {
  auto expect = [&](const json& body, const std::string& target, const std::string& needle) {
    const auto r = call(target, body, 400);
    EXPECT_NE(r.value("error_description", "").find(needle), std::string::npos) << r.dump();
  };
  const std::string ts = "/services/rest/signature/one-document/timestampDocument";
  const json xml = {{"bytes", b64("<a/>")}, {"name", "a.xml"}};
  expect({{"timestampParameters", {{"timestampContainerForm", "PDF"}}}, {"toTimestampDocument", xml}}, ts, "ASiC");
  expect({{"toTimestampDocument", xml}}, ts, "ASiC");
  expect({{"timestampParameters", {{"timestampContainerForm", "ASiC_E"}}}, {"toTimestampDocument", {{"bytes", b64(make_pdf())}}}},
         ts, "ASiC");
  expect({{"timestampParameters", {{"timestampContainerForm", "XML"}}}, {"toTimestampDocument", {{"bytes", b64(make_pdf())}}}},
         ts, "timestampContainerForm");
  expect({{"timestampParameters", {{"digestAlgorithm", "MD5"}}}, {"toTimestampDocument", {{"bytes", b64(make_pdf())}}}}, ts,
         "Unsupported digest algorithm");
  expect({{"timestampParameters", {{"timestampContainerForm", "PDF"}}}}, ts, "toTimestampDocument must be defined!");
  expect({{"toTimestampDocument", {{"bytes", sha256_b64("x")}, {"digestAlgorithm", "SHA256"}}}}, ts, "not a digest");
  expect({{"toTimestampDocument", {{"bytes", b64("%PDF-1.4 truncated")}}}}, ts, "");
  expect({{"timestampParameters", {{"timestampContainerForm", "ASiC_E"}}},
          {"toTimestampDocuments", json::array({{{"bytes", b64(make_pdf())}, {"name", "a.pdf"}}})}},
         "/services/rest/signature/multiple-documents/timestampDocument", "ASiC");
  std::size_t leftovers = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(spool_)) ++leftovers;
  EXPECT_EQ(leftovers, 0U);
}

// multiple-documents: one detached XAdES signature over two documents and a digest document,
// getDataToSign deterministic, the server-signing key in between, then extended to B-LTA with
// the detached contents. The validator gets each document by name; a changed one fails.
TEST_F(DssDocuments, MultipleDocumentsDetachedXades) {
  RecordingSink sink;
  signing_->set_audit(&sink);
  const auto c = credential("ec-p256");
  const std::string hello = "Hello", world = "World", third = "third document, hash only\n";
  const json docs = json::array({{{"bytes", b64(hello)}, {"digestAlgorithm", nullptr}, {"name", "test1.bin"}},
                                 {{"bytes", b64(world)}, {"name", "test2.bin"}},
                                 {{"bytes", sha256_b64(third)}, {"digestAlgorithm", "SHA256"}, {"name", "third.txt"}}});
  const json params = parameters("XAdES_BASELINE_B", "DETACHED", c);
  const std::string base = "/services/rest/signature/multiple-documents/";
  const auto tbs1 = call(base + "getDataToSignMultiple", {{"parameters", params}, {"toSignDocuments", docs}});
  const auto tbs2 = call(base + "getDataToSign", {{"parameters", params}, {"toSignDocuments", docs}});
  ASSERT_EQ(tbs1, tbs2);
  const std::string signed_info = bytes_of(tbs1);
  EXPECT_NE(signed_info.find("URI=\"test1.bin\""), std::string::npos) << signed_info;
  EXPECT_NE(signed_info.find("URI=\"test2.bin\""), std::string::npos) << signed_info;
  EXPECT_NE(signed_info.find("URI=\"third.txt\""), std::string::npos) << signed_info;
  EXPECT_NE(signed_info.find(sha256_b64(hello)), std::string::npos);
  EXPECT_NE(signed_info.find(sha256_b64(third)), std::string::npos);
  // Names are percent-encoded in the URI.
  json spaced = docs;
  spaced[1]["name"] = "test 2.bin";
  EXPECT_NE(bytes_of(call(base + "getDataToSign", {{"parameters", params}, {"toSignDocuments", spaced}})).find("URI=\"test%202.bin\""),
            std::string::npos);
  // Another order is another signature.
  json swapped = docs;
  std::swap(swapped[0], swapped[1]);
  EXPECT_NE(call(base + "getDataToSign", {{"parameters", params}, {"toSignDocuments", swapped}}), tbs1);

  const auto sig = call("/services/rest/server-signing/sign/" + c.id + "/SHA256", tbs1);
  const auto signed_doc = call(base + "signDocument", {{"parameters", params}, {"signatureValue", sig}, {"toSignDocuments", docs}});
  EXPECT_EQ(signed_doc["name"], "test1-signed-xades-baseline-b.xml");
  const auto xml = write("multi.xml", bytes_of(signed_doc));
  const auto d1 = write("test1.bin", hello);
  const auto d2 = write("test2.bin", world);
  const auto d3 = write("third.txt", third);
  const std::string detached = "--detached '" + d1.string() + "' --detached '" + d2.string() + "' --detached '" + d3.string() + "'";
  expect_valid("validate-xades", xml, "B-B", detached);
  fs::create_directories(dir_.path() / "changed");
  const auto changed = dir_.path() / "changed" / "test2.bin";
  std::ofstream(changed, std::ios::binary) << "World!";
  expect_valid("validate-xades", xml, "B-B",
               "--detached '" + d1.string() + "' --detached '" + changed.string() + "' --detached '" + d3.string() + "'", 1);
  expect_valid("validate-xades", tampered(xml), "B-B", detached, 1);
  // server-signing's sign is one record (raw), signDocument the other.
  ASSERT_EQ(sink.events.size(), 2U);
  EXPECT_EQ(sink.events[0].details["format"], "raw");
  EXPECT_EQ(sink.events[1].details["format"], "xades");
  EXPECT_EQ(sink.events[1].details["document.1.name"], "test1.bin");
  EXPECT_EQ(sink.events[1].outcome, "success");

  // extendDocument with every detached content (the digest document's data too: B-LTA needs it).
  json contents = json::array({docs[0], docs[1], {{"bytes", b64(third)}, {"name", "third.txt"}}});
  const auto extended = call(base + "extendDocument",
                             {{"toExtendDocument", {{"bytes", b64(bytes_of(signed_doc))}, {"name", "multi.xml"}}},
                              {"parameters", {{"signatureLevel", "XAdES_BASELINE_LTA"}, {"detachedContents", contents}}}});
  EXPECT_EQ(extended["name"], "multi-extended.xml");
  const auto lta = write("multi-lta.xml", bytes_of(extended));
  expect_xades_lta(lta, pki().trust().string(), detached);
  // Without the data of one reference, B-LTA cannot be computed: a 400 naming the reference.
  contents.erase(2);
  const auto missing = call(base + "extendDocument",
                            {{"toExtendDocument", {{"bytes", b64(bytes_of(signed_doc))}, {"name", "multi.xml"}}},
                             {"parameters", {{"signatureLevel", "XAdES_BASELINE_LTA"}, {"detachedContents", contents}}}},
                            400);
  EXPECT_NE(missing.value("error_description", "").find("third.txt"), std::string::npos) << missing.dump();
  signing_->set_audit(nullptr);
}

TEST_F(DssDocuments, MultipleDocumentsBadInput) {
  const auto c = credential("ec-p256");
  const std::string base = "/services/rest/signature/multiple-documents/";
  const json docs = json::array({{{"bytes", b64("Hello")}, {"name", "a.bin"}}, {{"bytes", b64("World")}, {"name", "b.bin"}}});
  auto expect = [&](const json& body, const std::string& target, const std::string& needle) {
    const auto r = call(target, body, 400);
    EXPECT_NE(r.value("error_description", "").find(needle), std::string::npos) << r.dump();
  };
  const json xades = parameters("XAdES_BASELINE_B", "DETACHED", c);
  expect({{"parameters", parameters("CAdES_BASELINE_B", "DETACHED", c)}, {"toSignDocuments", docs}}, base + "getDataToSign", "ASiC");
  expect({{"parameters", parameters("PAdES_BASELINE_B", "ENVELOPED", c)}, {"toSignDocuments", docs}}, base + "getDataToSign", "ASiC");
  json asic = xades;
  asic["asicContainerType"] = "ASiC_E";
  expect({{"parameters", asic}, {"toSignDocuments", docs}}, base + "getDataToSignMultiple", "ASiC");
  expect({{"parameters", parameters("XAdES_BASELINE_B", "ENVELOPING", c)}, {"toSignDocuments", docs}}, base + "getDataToSign",
         "DETACHED");
  expect({{"parameters", xades}, {"toSignDocuments", json::array()}}, base + "getDataToSign", "toSignDocuments");
  expect({{"parameters", xades}}, base + "getDataToSign", "toSignDocuments must be defined!");
  json same = docs;
  same[1]["name"] = "a.bin";
  expect({{"parameters", xades}, {"toSignDocuments", same}}, base + "getDataToSign", "a.bin");
  json slash = docs;
  slash[1]["name"] = "../etc/passwd";
  expect({{"parameters", xades}, {"toSignDocuments", slash}}, base + "getDataToSign", "plain relative file name");
  json no_cert = xades;
  no_cert.erase("signingCertificate");
  expect({{"parameters", no_cert}, {"toSignDocuments", docs}}, base + "getDataToSign", "signingCertificate must be defined!");
  // A signature value that is not over these documents (DER ECDSA of other data).
  const auto other = call("/services/rest/server-signing/sign/" + c.id + "/SHA256", {{"bytes", b64("other")}});
  expect({{"parameters", xades}, {"signatureValue", other}, {"toSignDocuments", docs}}, base + "signDocument", "");
  expect({{"parameters", xades}, {"signatureValue", {{"algorithm", "ECDSA_SHA512"}, {"value", b64("x")}}}, {"toSignDocuments", docs}},
         base + "signDocument", "does not match");
  // extendDocument of an ASiC container (a ZIP).
  expect({{"toExtendDocument", {{"bytes", b64(std::string("PK\x03\x04rest of a zip"))}, {"name", "c.asice"}}},
          {"parameters", {{"signatureLevel", "XAdES_BASELINE_T"}}}},
         base + "extendDocument", "ASiC");
  expect({{"toExtendDocument", {{"bytes", b64("<a/>")}}}, {"parameters", {{"signatureLevel", "XAdES_BASELINE_T"}, {"asicContainerType", "ASiC_E"}}}},
         base + "extendDocument", "ASiC");
  std::size_t leftovers = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(spool_)) ++leftovers;
  EXPECT_EQ(leftovers, 0U);
}

}  // namespace
}  // namespace sigil::admin::test
