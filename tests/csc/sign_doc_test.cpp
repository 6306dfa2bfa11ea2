// signatures/signDoc in-process over a real store, SoftHSM keys with certificates from the
// validators' test PKI, its RFC 3161 TSA and OCSP responder on 127.0.0.1, and the auth services
// (PIN; SAD or credential-scope token). Every output goes through the independent validators
// (--strict --level L --trust ROOT) and a tampered copy must fail.
#include <fstream>

#include "test_pdf.hpp"
#include "../admin/fixture.hpp"
#include "../admin/recording_sink.hpp"
#include "ossl/digest.hpp"
#include "sigil/api/csc.hpp"
#include "sigil/auth/authorization.hpp"
#include "sigil/auth/tokens.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/http/router.hpp"
#include "sigil/revocation/collector.hpp"
#include "sigil/signing/service.hpp"
#include "sigil/tsp/client.hpp"
#include "validator_pki.hpp"

namespace sigil::admin::test {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kSha256 = "2.16.840.1.101.3.4.2.1";
constexpr const char* kEcdsaSha256 = "1.2.840.10045.4.3.2";
constexpr const char* kSha256WithRsa = "1.2.840.113549.1.1.11";

sigil::test::ValidatorPki& pki() {
  static sigil::test::TempDir dir;
  static sigil::test::ValidatorPki p(dir.path() / "pki");
  return p;
}

std::string b64(std::string_view s) {
  return base64_encode(std::span(reinterpret_cast<const std::uint8_t*>(s.data()), s.size()));
}
std::string b64(const Bytes& b) { return base64_encode(b); }
std::string unb64(const json& j) {
  const Bytes b = base64_decode(j.get<std::string>());
  return std::string(b.begin(), b.end());
}

std::string make_pdf() { return sigil::test::minimal_pdf(); }

const std::string kXml = "<?xml version=\"1.0\"?>\n<order xmlns=\"urn:example\"><id>7</id></order>\n";

class SignDoc : public AdminTest {
 protected:
  SignDoc() {
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
    // The real clock for signing: the validators' TSA stamps with the real time, and a signing
    // time after the time-stamp is invalid.
    signing_ = std::make_unique<signing::SigningService>(*store_, *token_, system_clock_, sources, spool_);
    signing_->set_audit(&signatures_);
    tokens_ = std::make_unique<auth::TokenService>(store_->database(), clock_);
    auth::AuthorizationPolicy policy;
    policy.pin_hash = store::PasswordParams{1, 1024, 1};
    policy.max_signatures = 10;
    authz_ = std::make_unique<auth::AuthorizationService>(*store_, clock_, providers_, events_, policy);
    api::csc::CscContext ctx{*signing_, *tokens_, *authz_};
    ctx.users = &store_->users();
    ctx.multisign = 10;
    ctx.audit = &csc_audit_;
    api::csc::register_routes(router_, ctx);
    alice_ = make_user(unique("alice"));
    store_->users().set_password(alice_, "alice-password-1");
  }

  // An attended credential of alice (PIN 1234) on a fresh key certified by the validators' PKI.
  Credential credential(const std::string& spec, int scal) {
    const std::string label = unique("csc-doc");
    svc_->generate_key(label, KeySpec::parse(spec));
    auto key = token_->signer(label);
    const Bytes leaf = pki().issue(*key, label);
    svc_->import_certificate(label, ossl::der_to_pem(leaf),
                             ossl::der_to_pem(pki().inter_der()) + ossl::der_to_pem(pki().root_der()));
    NewCredential n;
    n.owner_username = store_->users().get(alice_)->username;
    n.key_label = label;
    n.scal = scal;
    n.second_factor = SecondFactor::pin;
    const auto c = svc_->create_credential(n);
    authz_->set_pin(c.id, "1234");
    return c;
  }

  struct Result {
    int status;
    json body;
    std::string error() const { return body.is_object() ? body.value("error", std::string()) : std::string(); }
    std::string description() const { return body.is_object() ? body.value("error_description", std::string()) : std::string(); }
  };

  Result call(const std::string& method, const json& body, const std::string& bearer) {
    http::Request req;
    req.method = "POST";
    req.set_target("/csc/v2/" + method);
    req.body = body.dump();
    req.body_size = req.body.size();
    req.remote_address = "127.0.0.1";
    if (!bearer.empty()) req.headers.emplace_back("Authorization", bearer);
    const auto res = router_.dispatch(req);
    return {res.status, res.body.empty() ? json() : json::parse(res.body)};
  }

  std::string login() {
    const std::string username = store_->users().get(alice_)->username;
    const auto r = call("auth/login", json::object(), "Basic " + base64_encode(as_bytes(username + ":alice-password-1")));
    EXPECT_EQ(r.status, 200) << r.body;
    return "Bearer " + r.body.value("access_token", std::string());
  }

  std::string authorize(const std::string& bearer, const std::string& cred, unsigned n,
                        const std::vector<Bytes>& hashes = {}) {
    json body{{"credentialID", cred}, {"numSignatures", n}, {"authData", {{{"id", "PIN"}, {"value", "1234"}}}}};
    if (!hashes.empty()) {
      json hs = json::array();
      for (const auto& h : hashes) hs.push_back(b64(h));
      body["hashes"] = hs;
      body["hashAlgorithmOID"] = kSha256;
    }
    const auto r = call("credentials/authorize", body, bearer);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.body.value("SAD", std::string());
  }

  fs::path write(const std::string& name, const std::string& content) {
    const auto p = dir_.path() / name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }

  // Flips one byte in the middle of the file.
  fs::path tampered(const fs::path& file) {
    std::string c = files::read(file);
    c[c.size() / 2] = static_cast<char>(c[c.size() / 2] ^ 0x01);
    return write(file.filename().string() + ".tampered", c);
  }

  void expect_valid(const std::string& tool, const fs::path& file, const std::string& level,
                    const std::string& extra = {}, int expected = 0, bool strict = true) {
    const auto r = sigil::test::validate(tool, std::string(strict ? "--strict " : "") + "--level " + level +
                                                   " --trust '" + pki().trust().string() + "' " + extra + " '" +
                                                   file.string() + "'");
    EXPECT_EQ(r.exit_code, expected) << tool << " " << file << "\n" << r.output;
  }

  SystemClock system_clock_;
  fs::path spool_;
  std::unique_ptr<tsp::Client> tsa_;
  std::unique_ptr<revocation::OcspClient> ocsp_;
  std::unique_ptr<revocation::CrlCache> crls_;
  std::unique_ptr<revocation::Collector> collector_;
  std::unique_ptr<signing::SigningService> signing_;
  otp::ProviderRegistry providers_;
  auth::NoAuthEvents events_;
  std::unique_ptr<auth::TokenService> tokens_;
  std::unique_ptr<auth::AuthorizationService> authz_;
  sigil::test::RecordingSink signatures_;  // the signing service's sink
  sigil::test::RecordingSink csc_audit_;   // CscContext::audit
  http::Router router_;
  std::string alice_;
};

TEST_F(SignDoc, InfoAdvertisesWhatTheSourcesReach) {
  const auto r = call("info", json::object(), "");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body["conformance_levels"], json::array({"AdES-B-B", "AdES-B-T", "AdES-B-LT", "AdES-B-LTA"}));
  EXPECT_EQ(r.body["signature_formats"]["formats"], json::array({"C", "X", "P"}));
  EXPECT_EQ(r.body["validationInfo"], true);
}

// PAdES at every level, one SCAL1 SAD for four documents in one call (lenient spellings).
TEST_F(SignDoc, PadesAtEveryLevel) {
  const auto c = credential("ec-p256", 1);
  const std::string bearer = login();
  const std::string sad = authorize(bearer, c.id, 4);
  const std::string pdf = make_pdf();
  json documents = json::array();
  for (const char* level : {"Ades-B-B", "AdES-B-T", "AdeS-B-LT", "PAdES-B-LTA"}) {
    documents.push_back({{"document", b64(pdf)},
                         {"signature_format", level[0] == 'P' ? "PAdES" : "P"},
                         {"conformance_level", level},
                         {"signAlgo", kEcdsaSha256},
                         {"signed_envelope_property", "Revision"},
                         {"signed_props", {{{"attribute_name", "Reason"}, {"attribute_value", "Approved"}}}}});
  }
  auto r = call("signatures/signDoc",
                json{{"credentialID", c.id}, {"SAD", sad}, {"documents", documents}, {"clientData", "batch-9"}}, bearer);
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.body["DocumentWithSignature"].size(), 4u);
  EXPECT_EQ(r.body["SignatureObject"].size(), 0u);
  const char* levels[] = {"B-B", "B-T", "B-LT", "B-LTA"};
  for (int i = 0; i < 4; ++i) {
    const auto f = write("signed-" + std::to_string(i) + ".pdf", unb64(r.body["DocumentWithSignature"][i]));
    expect_valid("validate-pades", f, levels[i]);
    if (i == 0 || i == 3) expect_valid("validate-pades", tampered(f), levels[i], {}, 1);
  }
  // one signature.create record per document, with the CSC details
  const auto events = signatures_.events();
  ASSERT_GE(events.size(), 4u);
  const auto& last = events.back();
  EXPECT_EQ(last.type, "signature.create");
  EXPECT_EQ(last.outcome, "success");
  EXPECT_EQ(last.details.at("format"), "pades");
  EXPECT_EQ(last.details.at("level"), "B-LTA");
  EXPECT_EQ(last.details.at("credential_id"), c.id);
  EXPECT_EQ(last.details.at("client_data"), "batch-9");
  EXPECT_EQ(last.details.at("csc_method"), "signatures/signDoc");
  // the SAD is used up (4 of 4)
  auto again = call("signatures/signDoc",
                    json{{"credentialID", c.id}, {"SAD", sad}, {"documents", {documents[0]}}}, bearer);
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(again.description(), "Invalid parameter SAD");
}

// XAdES enveloped / enveloping / detached and CAdES attached / detached over documents, RSA.
TEST_F(SignDoc, XadesAndCadesDocuments) {
  const auto c = credential("rsa-2048", 1);
  const std::string bearer = login();
  const std::string sad = authorize(bearer, c.id, 5);
  const std::string data = "invoice 42\n";
  json documents = json::array({
      // B-LT: xadesjs cannot parse xades141:ArchiveTimeStamp (tests/xades checks B-LTA piece by piece)
      {{"document", b64(kXml)}, {"signature_format", "X"}, {"conformance_level", "AdES-B-LT"}, {"signAlgo", kSha256WithRsa}},
      {{"document", b64(data)}, {"signature_format", "XAdES"}, {"conformance_level", "AdES-B-B"}, {"signAlgo", kSha256WithRsa},
       {"signed_envelope_property", "Enveloping"}},
      {{"document", b64(data)}, {"signature_format", "X"}, {"conformance_level", "AdES-B-T"}, {"signAlgo", kSha256WithRsa},
       {"signed_envelope_property", "Detached"}},
      {{"document", b64(data)}, {"signature_format", "C"}, {"conformance_level", "AdES-B-LT"}, {"signAlgo", kSha256WithRsa},
       {"signed_envelope_property", "Attached"}},
      {{"document", b64(data)}, {"signature_format", "CAdES"}, {"conformance_level", "AdES-B-LTA"},
       {"signAlgo", "1.2.840.113549.1.1.1"}, {"signed_envelope_property", "Detached"}},
  });
  auto r = call("signatures/signDoc", json{{"credentialID", c.id}, {"SAD", sad}, {"documents", documents}}, bearer);
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.body["DocumentWithSignature"].size(), 3u);
  ASSERT_EQ(r.body["SignatureObject"].size(), 2u);
  const auto enveloped = write("enveloped.xml", unb64(r.body["DocumentWithSignature"][0]));
  expect_valid("validate-xades", enveloped, "B-LT");
  {  // the signed content changed (the middle of the file is unsigned validation data)
    std::string x = files::read(enveloped);
    x.replace(x.find("<id>7</id>"), 10, "<id>8</id>");
    expect_valid("validate-xades", write("enveloped-tampered.xml", x), "B-B", {}, 1);
  }
  expect_valid("validate-xades", write("enveloping.xml", unb64(r.body["DocumentWithSignature"][1])), "B-B");
  const auto p7m = write("attached.p7m", unb64(r.body["DocumentWithSignature"][2]));
  expect_valid("validate-cades", p7m, "B-LT");
  expect_valid("validate-cades", tampered(p7m), "B-B", {}, 1);

  const auto data_file = write("document-3.bin", data);
  expect_valid("validate-xades", write("detached.xml", unb64(r.body["SignatureObject"][0])), "B-T",
               "--detached '" + data_file.string() + "'");
  const auto p7s = write("detached.p7s", unb64(r.body["SignatureObject"][1]));
  expect_valid("validate-cades", p7s, "B-LTA", "--data '" + data_file.string() + "'");
  expect_valid("validate-cades", p7s, "B-B", "--data '" + write("other.bin", data + "x").string() + "'", 1);
}

// documentDigests: a detached CMS (C), a detached XAdES (X) per hash; P gives the CMS for the
// client's PDF (no signing-time, time-stamped) plus the validation material for its DSS.
TEST_F(SignDoc, DocumentDigests) {
  const auto c = credential("ec-p256", 2);
  const std::string bearer = login();
  const std::string d1 = "first detached content\n";
  const std::string d2 = "second detached content\n";
  const Bytes h1 = ossl::digest(HashAlg::sha256, d1);
  const Bytes h2 = ossl::digest(HashAlg::sha256, d2);
  const std::string sad = authorize(bearer, c.id, 4, {h1, h2, h1, h2});  // SCAL2: bound to the digests
  json digests = json::array({
      {{"hashes", {b64(h1), b64(h2)}}, {"hashAlgorithmOID", kSha256}, {"signature_format", "C"},
       {"conformance_level", "AdES-B-T"}, {"signAlgo", kEcdsaSha256}},
      {{"hashes", {b64(h1)}}, {"hashAlgorithmOID", kSha256}, {"signature_format", "X"}, {"conformance_level", "AdES-B-T"},
       {"signAlgo", kEcdsaSha256}},
      {{"hashes", {b64(h2)}}, {"hashAlgorithmOID", kSha256}, {"signature_format", "P"}, {"conformance_level", "AdES-B-LT"},
       {"signAlgo", kEcdsaSha256}},
  });
  auto r = call("signatures/signDoc",
                json{{"credentialID", c.id}, {"SAD", sad}, {"documentDigests", digests}, {"returnValidationInfo", true}},
                bearer);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body["DocumentWithSignature"].size(), 0u);
  ASSERT_EQ(r.body["SignatureObject"].size(), 4u);
  const auto f1 = write("d1.txt", d1);
  const auto f2 = write("d2.txt", d2);
  const auto cms1 = write("d1.p7s", unb64(r.body["SignatureObject"][0]));
  expect_valid("validate-cades", cms1, "B-T", "--data '" + f1.string() + "'");
  expect_valid("validate-cades", cms1, "B-B", "--data '" + f2.string() + "'", 1);
  expect_valid("validate-cades", write("d2.p7s", unb64(r.body["SignatureObject"][1])), "B-T", "--data '" + f2.string() + "'");
  expect_valid("validate-xades", write("d1.xml", unb64(r.body["SignatureObject"][2])), "B-T",
               "--detached '" + f1.string() + "'");
  // the PAdES CMS: no signing-time attribute (a CAdES validator WARNs about that, so not --strict)
  const auto pdf_cms = write("pdf.p7s", unb64(r.body["SignatureObject"][3]));
  expect_valid("validate-cades", pdf_cms, "B-T", "--data '" + f2.string() + "'", 0, false);
  const auto& vi = r.body["validationInfo"];
  ASSERT_TRUE(vi.is_object()) << r.body;
  EXPECT_GE(vi["certificates"].size(), 3u);
  EXPECT_GE(vi["ocsp"].size() + vi["crl"].size(), 2u);  // signer and intermediate

  // SCAL2: a digest the SAD was not authorised for -> 403 invalid_hash, nothing spent
  const std::string sad2 = authorize(bearer, c.id, 1, {h1});
  json other = {{{"hashes", {b64(h2)}}, {"hashAlgorithmOID", kSha256}, {"signature_format", "C"}, {"signAlgo", kEcdsaSha256}}};
  auto refused = call("signatures/signDoc", json{{"credentialID", c.id}, {"SAD", sad2}, {"documentDigests", other}}, bearer);
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(refused.error(), "invalid_hash");
  other[0]["hashes"] = {b64(h1)};
  EXPECT_EQ(call("signatures/signDoc", json{{"credentialID", c.id}, {"SAD", sad2}, {"documentDigests", other}}, bearer).status,
            200);
}

// SCAL2 with documents: the client authorises the hash of each document; another document is
// refused with 403 invalid_hash before anything is signed.
TEST_F(SignDoc, Scal2DocumentsAreBoundByTheirHash) {
  const auto c = credential("ec-p256", 2);
  const std::string bearer = login();
  const std::string pdf = make_pdf();
  const std::string sad = authorize(bearer, c.id, 1, {ossl::digest(HashAlg::sha256, pdf)});
  json wrong = {{{"document", b64(pdf + "\n%another revision\n")}, {"signature_format", "P"}, {"signAlgo", kEcdsaSha256}}};
  auto refused = call("signatures/signDoc", json{{"credentialID", c.id}, {"SAD", sad}, {"documents", wrong}}, bearer);
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_EQ(refused.error(), "invalid_hash");
  EXPECT_EQ(refused.description(), "Document or documentDigest does not match authorized hash");
  json right = {{{"document", b64(pdf)}, {"signature_format", "P"}, {"conformance_level", "AdES-B-T"}, {"signAlgo", kEcdsaSha256}}};
  auto ok = call("signatures/signDoc", json{{"credentialID", c.id}, {"SAD", sad}, {"documents", right}}, bearer);
  ASSERT_EQ(ok.status, 200) << ok.body;
  expect_valid("validate-pades", write("scal2.pdf", unb64(ok.body["DocumentWithSignature"][0])), "B-T");
}

TEST_F(SignDoc, ParametersAreCheckedBeforeTheSadIsSpent) {
  const auto c = credential("ec-p256", 1);
  const std::string bearer = login();
  const std::string sad = authorize(bearer, c.id, 1);
  const json doc{{"document", b64(kXml)}, {"signature_format", "X"}, {"signAlgo", kEcdsaSha256}};
  const auto with = [&](json d) {
    return call("signatures/signDoc", json{{"credentialID", c.id}, {"SAD", sad}, {"documents", {d}}}, bearer);
  };
  json d = doc;
  d["signature_format"] = "J";
  EXPECT_EQ(with(d).description(), "Invalid parameter signature_format");
  d = doc;
  d.erase("signature_format");
  EXPECT_EQ(with(d).description(), "Missing (or invalid type) string parameter signature_format");
  d = doc;
  d["conformance_level"] = "AdES-C";
  EXPECT_EQ(with(d).description(), "Invalid parameter conformance_level");
  d = doc;
  d["signed_envelope_property"] = "Attached";
  EXPECT_EQ(with(d).description(), "Invalid parameter signed_envelope_property");
  d = doc;
  d["signature_format"] = "P";
  d["signed_envelope_property"] = "Certification";
  EXPECT_EQ(with(d).status, 400);
  d = doc;
  d["document"] = "!!not base64!!";
  EXPECT_EQ(with(d).description(), "Invalid Base64 documents string parameter");
  d = doc;
  d["signAlgo"] = kSha256WithRsa;
  EXPECT_EQ(with(d).description(), "Invalid parameter signAlgo");
  d = doc;
  d["signature_format"] = "P";  // not a PDF: refused while preparing, before the SAD
  EXPECT_EQ(with(d).status, 400);
  EXPECT_EQ(call("signatures/signDoc", json{{"credentialID", c.id}, {"SAD", sad}}, bearer).description(),
            "Empty documentDigests and documents objects");
  json both{{"credentialID", c.id}, {"SAD", sad}, {"documents", {doc}}};
  both["documentDigests"] = json::array({json{{"hashes", {b64(ossl::digest(HashAlg::sha256, kXml))}}}});
  EXPECT_EQ(call("signatures/signDoc", both, bearer).description(), "Both documentDigests and documents parameters passed");
  EXPECT_EQ(call("signatures/signDoc", json{{"credentialID", c.id}, {"documents", {doc}}}, bearer).description(),
            "Missing (or invalid type) string parameter SAD");
  EXPECT_EQ(call("signatures/signDoc", json{{"credentialID", c.id}, {"SAD", sad}, {"documents", {doc}}}, "").status, 401);

  // the failures were audited (csc.signatures.signDoc, failure); the SAD is still whole
  EXPECT_EQ(csc_audit_.last().type, "csc.signatures.signDoc");
  EXPECT_EQ(csc_audit_.last().outcome, "failure");
  auto ok = with(doc);
  ASSERT_EQ(ok.status, 200) << ok.body;
  expect_valid("validate-xades", write("after-refusals.xml", unb64(ok.body["DocumentWithSignature"][0])), "B-B");
}

}  // namespace
}  // namespace sigil::admin::test
