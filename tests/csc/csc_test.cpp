// The CSC API v2 in-process (Router::dispatch) over a real store, SoftHSM keys, the auth services
// (PIN, delivered OTP over the file channel, SADs) and the built-in TSA. Every signature is checked
// by the independent validate-raw-signature; time-stamp tokens by openssl ts -verify.
#include <atomic>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "../admin/fixture.hpp"
#include "ossl/digest.hpp"
#include "sigil/api/csc.hpp"
#include "sigil/asn1/der.hpp"
#include "sigil/auth/authorization.hpp"
#include "sigil/auth/oauth.hpp"
#include "sigil/auth/tokens.hpp"
#include "sigil/bootstrap/auth_runtime.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/http/router.hpp"
#include "sigil/otp/channels.hpp"
#include "sigil/otp/delivered.hpp"
#include "sigil/otp/secret_box.hpp"
#include "sigil/signing/service.hpp"
#include "sigil/tsa/tsa.hpp"
#include "../admin/recording_sink.hpp"
#include "validator_pki.hpp"

namespace sigil::admin::test {
namespace {

using nlohmann::json;

constexpr const char* kSha256 = "2.16.840.1.101.3.4.2.1";
constexpr const char* kSha384 = "2.16.840.1.101.3.4.2.2";
constexpr const char* kEcdsaSha256 = "1.2.840.10045.4.3.2";
constexpr const char* kRsaEncryption = "1.2.840.113549.1.1.1";
constexpr const char* kSha256WithRsa = "1.2.840.113549.1.1.11";
constexpr const char* kRsaPss = "1.2.840.113549.1.1.10";

std::string b64(const Bytes& b) { return base64_encode(b); }
Bytes sha256(const std::string& s) { return ossl::digest(HashAlg::sha256, s); }

// RSASSA-PSS-params with SHA-256, MGF1-SHA-256 and `salt`.
std::string pss_params(unsigned salt) {
  const Bytes sha = asn1::sequence({asn1::oid(kSha256), asn1::null()});
  const Bytes mgf = asn1::sequence({asn1::oid("1.2.840.113549.1.1.8"), sha});
  return b64(asn1::sequence({asn1::explicit_tag(0, sha), asn1::explicit_tag(1, mgf),
                             asn1::explicit_tag(2, asn1::integer(salt))}));
}

class Csc : public AdminTest {
 protected:
  Csc() : box_(otp::SecretBox::generate_key()) {
    alice_ = make_user(unique("alice"));
    store_->users().set_password(alice_, "alice-password-1");
    bob_ = make_user(unique("bob"));
    store_->users().set_password(bob_, "bob-password-1");
    tokens_ = std::make_unique<auth::TokenService>(store_->database(), clock_);
    channels_.add(std::make_shared<otp::FileChannel>(outbox(), "file", "username"));
    otp::DeliveredOptions d;
    d.name = "sms";
    d.channel = "file";
    providers_.add(std::make_shared<otp::DeliveredCodeProvider>(store_->database(), clock_, box_, channels_, d));
    auth::AuthorizationPolicy policy;
    policy.otp_provider = "sms";
    policy.pin_hash = store::PasswordParams{1, 1024, 1};
    policy.max_signatures = 10;
    authz_ = std::make_unique<auth::AuthorizationService>(*store_, clock_, providers_, events_, policy);
    signing_ = std::make_unique<signing::SigningService>(*store_, *token_, clock_);
    make_tsa();
    api::csc::CscContext ctx{*signing_, *tokens_, *authz_};
    ctx.users = &store_->users();
    ctx.timestamper = tsa_.get();
    ctx.otp_delivered = true;
    ctx.multisign = 10;
    ctx.audit = &csc_audit_;
    // SCAL1 signHash: the SAD's spend, sad.used and signature.create in one commit, as sigild does.
    ctx.commit_sad_with = [this](const auth::SadSpend& spend, audit::Event signature_record) {
      spend_events_.on_spend_with(spend, std::move(signature_record), store_->database());
    };
    context_ = std::make_unique<api::csc::CscContext>(ctx);
    api::csc::register_routes(router_, ctx);
  }

  std::filesystem::path outbox() const { return dir_.path() / "outbox.txt"; }

  void make_tsa() {
    make_demo_pki();
    const std::string label = unique("csc-tsa");
    svc_->generate_key(label, KeySpec::parse("ec-p256"));
    const auto view =
        svc_->issue_with_demo_ca(label, CertificateIssue{"CN=" + label + ",O=Sigil Test,C=EU", 30, "tsa"}, pki_dir());
    tsa_pem_ = *view.certificate_pem;
    tsa_key_ = token_->signer(label);
    SignerCerts certs{ossl::read_certificate(tsa_pem_), {issuing_der_, root_der_}};
    tsa::TsaOptions o;
    o.policy_oid = "1.3.6.1.4.1.99999.1";
    o.clock = &clock_;
    tsa_ = std::make_unique<tsa::TimeStampAuthority>(*tsa_key_, certs, o);
  }

  // A credential of `owner` on a fresh key.
  Credential credential(const std::string& owner, const std::string& spec, SecondFactor factor, int scal,
                        const std::string& pin = "1234") {
    const std::string label = unique("csc");
    svc_->generate_key(label, KeySpec::parse(spec));
    svc_->issue_with_demo_ca(label, CertificateIssue{"CN=" + label + ",O=Sigil Test,C=EU", 30, "signer"}, pki_dir());
    NewCredential n;
    n.owner_username = store_->users().get(owner)->username;
    n.key_label = label;
    n.description = "test " + spec;
    n.scal = scal;
    n.second_factor = factor;
    const auto c = svc_->create_credential(n);
    if (factor == SecondFactor::pin || factor == SecondFactor::pin_otp) authz_->set_pin(c.id, pin);
    return c;
  }

  struct Result {
    int status;
    json body;
    const std::string& error() const {
      static const std::string none;
      return body.is_object() && body.contains("error") ? body["error"].get_ref<const std::string&>() : none;
    }
    std::string description() const { return body.value("error_description", std::string()); }
  };

  Result call(const std::string& method, const json& body, const std::string& authorization = {},
              std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::Request req;
    req.method = "POST";
    req.set_target(method.front() == '/' ? method : "/csc/v2/" + method);  // "/csc/v1/..." as given
    req.body = body.is_null() ? std::string() : body.dump();
    req.body_size = req.body.size();
    req.remote_address = "127.0.0.1";
    if (!authorization.empty()) req.headers.emplace_back("Authorization", authorization);
    for (auto& h : headers) req.headers.push_back(std::move(h));
    const auto res = router_.dispatch(req);
    return {res.status, res.body.empty() ? json() : json::parse(res.body)};
  }

  std::string login(const std::string& user_id, const std::string& password) {
    const std::string username = store_->users().get(user_id)->username;
    const std::string basic = "Basic " + base64_encode(as_bytes(username + ":" + password));
    const auto r = call("auth/login", json::object(), basic);
    EXPECT_EQ(r.status, 200) << r.body;
    return "Bearer " + r.body.value("access_token", std::string());
  }

  std::string authorize(const std::string& bearer, const std::string& cred, unsigned n, const std::vector<Bytes>& hashes,
                        const std::string& pin = "1234") {
    json body{{"credentialID", cred}, {"numSignatures", n}, {"authData", {{{"id", "PIN"}, {"value", pin}}}}};
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

  Result sign(const std::string& bearer, const std::string& cred, const std::string& sad, const std::vector<Bytes>& hashes,
              const std::string& algo, json extra = json::object()) {
    json body = std::move(extra);
    body["credentialID"] = cred;
    if (!sad.empty()) body["SAD"] = sad;
    json hs = json::array();
    for (const auto& h : hashes) hs.push_back(b64(h));
    body["hashes"] = hs;
    body["signAlgo"] = algo;
    return call("signatures/signHash", body, bearer);
  }

  // validate-raw-signature's exit code.
  int validate(const Credential& c, const std::string& alg, const Bytes& hash, const std::string& sig_b64,
               const std::string& extra = {}) {
    const auto cert = dir_.path() / "cert.pem";
    std::ofstream(cert) << c.certificate_pem;
    const auto r = sigil::test::validate("validate-raw-signature", "--cert '" + cert.string() + "' --alg " + alg +
                                                                      " --hash-b64 '" + b64(hash) + "' --sig-b64 '" +
                                                                      sig_b64 + "' " + extra);
    if (r.exit_code != 0 && extra.find("--quiet") == std::string::npos) std::cerr << r.output;
    return r.exit_code;
  }

  otp::SecretBox box_;
  otp::ProviderRegistry providers_;
  otp::ChannelRegistry channels_;
  auth::NoAuthEvents events_;
  std::unique_ptr<auth::TokenService> tokens_;
  std::unique_ptr<auth::AuthorizationService> authz_;
  std::unique_ptr<signing::SigningService> signing_;
  std::unique_ptr<KeySigner> tsa_key_;
  std::unique_ptr<tsa::TimeStampAuthority> tsa_;
  std::string tsa_pem_;
  sigil::test::RecordingSink csc_audit_;  // CscContext::audit (csc.* records)
  sigil::test::RecordingSink spend_audit_;  // SCAL1 signHash: sad.used + signature.create
  bootstrap::AuditAuthEvents spend_events_{spend_audit_};
  std::unique_ptr<api::csc::CscContext> context_;
  http::Router router_;
  std::string alice_;
  std::string bob_;
};

TEST_F(Csc, InfoNeedsNoAuthenticationAndListsWhatIsServed) {
  const auto r = call("info", json{{"lang", "en-US"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body["specs"], "2.0.0.2");
  EXPECT_EQ(r.body["authType"], json::array({"basic"}));
  const auto& m = r.body["methods"];
  for (const char* name : {"auth/login", "credentials/list", "credentials/authorize", "signatures/signHash",
                           "signatures/timestamp", "credentials/extendTransaction"}) {
    EXPECT_NE(std::find(m.begin(), m.end(), name), m.end()) << name;
  }
  for (const char* name : {"signatures/signDoc", "credentials/authorizeCheck", "credentials/getChallenge"}) {
    EXPECT_NE(std::find(m.begin(), m.end(), name), m.end()) << name;
  }
  EXPECT_EQ(std::find(m.begin(), m.end(), "signatures/signPolling"), m.end());
  EXPECT_EQ(r.body["signature_formats"]["formats"], json::array({"C", "X", "P"}));
  EXPECT_EQ(r.body["signature_formats"]["envelope_properties"].size(), 3u);
  // this signing service has no TSA and no revocation source: B-B only
  EXPECT_EQ(r.body["conformance_levels"], json::array({"AdES-B-B"}));
  EXPECT_EQ(r.body["validationInfo"], false);
  EXPECT_EQ(call("info", nullptr).status, 200);  // empty body
  EXPECT_FALSE(r.body.contains("oauth2"));  // no authorization server beside these routes
}

TEST_F(Csc, InfoAdvertisesTheOAuthServerBesideIt) {
  http::Router router;
  api::csc::CscContext ctx = *context_;
  ctx.oauth2_base = std::string();  // derive from the Host header
  api::csc::register_routes(router, ctx);
  http::Request req;
  req.method = "POST";
  req.set_target("/csc/v2/info");
  req.headers.emplace_back("Host", "sign.example.com:8443");
  const auto res = router.dispatch(req);
  ASSERT_EQ(res.status, 200) << res.body;
  const json body = json::parse(res.body);
  EXPECT_EQ(body["authType"], json::array({"basic", "oauth2code", "oauth2client"}));
  EXPECT_EQ(body["oauth2"], "https://sign.example.com:8443/csc/v2");

  http::Router fixed;
  ctx.oauth2_base = "https://portal.example.com/sign/csc/v2";
  api::csc::register_routes(fixed, ctx);
  EXPECT_EQ(json::parse(fixed.dispatch(req).body)["oauth2"], "https://portal.example.com/sign/csc/v2");
}

TEST_F(Csc, V1InfoHasTheV1Shape) {
  const auto r = call("/csc/v1/info", json{{"lang", "en-US"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body["specs"], "1.0.4.0");
  for (const char* k : {"name", "logo", "region", "lang", "description", "authType", "methods"}) {
    EXPECT_TRUE(r.body.contains(k)) << k;
  }
  for (const char* k : {"signAlgorithms", "signature_formats", "conformance_levels"}) EXPECT_FALSE(r.body.contains(k)) << k;
  const auto& m = r.body["methods"];
  for (const char* name : {"credentials/sendOTP", "signatures/signHash", "signatures/timestamp"}) {
    EXPECT_NE(std::find(m.begin(), m.end(), name), m.end()) << name;
  }
  for (const char* name : {"credentials/getChallenge", "signatures/signDoc", "credentials/authorizeCheck"}) {
    EXPECT_EQ(std::find(m.begin(), m.end(), name), m.end()) << name;
  }
  EXPECT_EQ(call("/csc/v1/signatures/signDoc", json::object()).status, 501);
}

// A CSC 1.0.4.0 client end to end on /csc/v1/: login, list with paging, info with authMode/PIN/OTP,
// authorize with PIN (+ OTP after sendOTP) and v1 `hash` without an algorithm, signHash with
// `hash` + `hashAlgo`, extendTransaction, timestamp; v1 error codes.
TEST_F(Csc, V1ClientEndToEnd) {
  const auto cred = credential(alice_, "ec-p256", SecondFactor::pin_otp, 2);
  credential(alice_, "ec-p256", SecondFactor::pin, 1);
  const std::string username = store_->users().get(alice_)->username;
  const auto login_r = call("/csc/v1/auth/login", json::object(),
                            "Basic " + base64_encode(as_bytes(username + ":alice-password-1")));
  ASSERT_EQ(login_r.status, 200) << login_r.body;
  const std::string bearer = "Bearer " + login_r.body["access_token"].get<std::string>();

  auto page = call("/csc/v1/credentials/list", json{{"maxResults", 1}, {"credentialInfo", true}}, bearer);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.body["credentialIDs"].size(), 1u);
  EXPECT_TRUE(page.body.contains("nextPageToken"));
  EXPECT_FALSE(page.body.contains("credentialInfos"));  // v1 has none

  auto info = call("/csc/v1/credentials/info", json{{"credentialID", cred.id}, {"certInfo", true}}, bearer);
  ASSERT_EQ(info.status, 200) << info.body;
  EXPECT_EQ(info.body["authMode"], "explicit");
  EXPECT_FALSE(info.body.contains("auth"));
  EXPECT_EQ(info.body["PIN"]["presence"], "true");
  EXPECT_EQ(info.body["OTP"]["presence"], "true");
  EXPECT_EQ(info.body["OTP"]["type"], "online");
  EXPECT_EQ(info.body["key"]["status"], "enabled");
  EXPECT_EQ(info.body["cert"]["status"], "valid");
  EXPECT_EQ(info.body["multisign"], 10);

  const Bytes h1 = sha256("v1 first");
  const Bytes h2 = sha256("v1 second");
  ASSERT_EQ(call("/csc/v1/credentials/sendOTP", json{{"credentialID", cred.id}}, bearer).status, 204);
  std::string code;
  {
    std::ifstream in(outbox());
    std::string line, last;
    while (std::getline(in, line)) last = line;
    std::istringstream fields(last);
    std::string expires, txid, recipient;
    fields >> expires >> txid >> recipient >> code;
  }
  ASSERT_FALSE(code.empty());
  json body{{"credentialID", cred.id}, {"numSignatures", 2}, {"hash", {b64(h1)}}, {"PIN", "9999"}, {"OTP", code}};
  auto wrong_pin = call("/csc/v1/credentials/authorize", body, bearer);
  EXPECT_EQ(wrong_pin.status, 400);
  EXPECT_EQ(wrong_pin.error(), "invalid_pin") << wrong_pin.body;
  ASSERT_EQ(call("/csc/v1/credentials/sendOTP", json{{"credentialID", cred.id}}, bearer).status, 204);
  {
    std::ifstream in(outbox());
    std::string line, last;
    while (std::getline(in, line)) last = line;
    std::istringstream fields(last);
    std::string expires, txid, recipient;
    fields >> expires >> txid >> recipient >> code;
  }
  body["PIN"] = "1234";
  body["OTP"] = "000000";
  auto wrong_otp = call("/csc/v1/credentials/authorize", body, bearer);
  EXPECT_EQ(wrong_otp.error(), "invalid_otp") << wrong_otp.body;
  ASSERT_EQ(call("/csc/v1/credentials/sendOTP", json{{"credentialID", cred.id}}, bearer).status, 204);
  {
    std::ifstream in(outbox());
    std::string line, last;
    while (std::getline(in, line)) last = line;
    std::istringstream fields(last);
    std::string expires, txid, recipient;
    fields >> expires >> txid >> recipient >> code;
  }
  body["OTP"] = code;
  auto ok = call("/csc/v1/credentials/authorize", body, bearer);
  ASSERT_EQ(ok.status, 200) << ok.body;
  const std::string sad1 = ok.body["SAD"];

  auto s1 = call("/csc/v1/signatures/signHash",
                 json{{"credentialID", cred.id}, {"SAD", sad1}, {"hash", {b64(h1)}}, {"hashAlgo", kSha256},
                      {"signAlgo", kEcdsaSha256}},
                 bearer);
  ASSERT_EQ(s1.status, 200) << s1.body;
  EXPECT_EQ(validate(cred, kEcdsaSha256, h1, s1.body["signatures"][0]), 0);

  auto ext = call("/csc/v1/credentials/extendTransaction",
                  json{{"credentialID", cred.id}, {"SAD", sad1}, {"hash", {b64(h2)}}}, bearer);
  ASSERT_EQ(ext.status, 200) << ext.body;
  auto s2 = call("/csc/v1/signatures/signHash",
                 json{{"credentialID", cred.id}, {"SAD", ext.body["SAD"]}, {"hash", {b64(h2)}}, {"signAlgo", kEcdsaSha256}},
                 bearer);
  ASSERT_EQ(s2.status, 200) << s2.body;
  EXPECT_EQ(validate(cred, kEcdsaSha256, h2, s2.body["signatures"][0]), 0);

  auto ts = call("/csc/v1/signatures/timestamp", json{{"hash", b64(h1)}, {"hashAlgo", kSha256}}, bearer);
  EXPECT_EQ(ts.status, 200) << ts.body;
  EXPECT_EQ(call("/csc/v1/auth/revoke", json{{"token", bearer.substr(7)}}, bearer).status, 204);
  EXPECT_EQ(call("/csc/v1/credentials/list", json::object(), bearer).error(), "invalid_token");
}

TEST_F(Csc, AuthorizeCheckHasNoPendingHandles) {
  const std::string bearer = login(alice_, "alice-password-1");
  auto missing = call("credentials/authorizeCheck", json::object(), bearer);
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.description(), "Missing (or invalid type) string parameter handle");
  auto unknown = call("credentials/authorizeCheck", json{{"handle", "h_123"}}, bearer);
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(unknown.error(), "invalid_request");
  EXPECT_EQ(unknown.description(), "Invalid parameter handle");
  EXPECT_EQ(call("credentials/authorizeCheck", json{{"handle", "h_123"}}).status, 401);
}

// csc.* records for list/info/authorize (who, credential, clientData sanitised, lang), the
// signature.create record of signHash with the same details, and fail closed.
TEST_F(Csc, CallsAreAuditedAndFailClosed) {
  sigil::test::RecordingSink signatures;
  signing_->set_audit(&signatures);
  const auto cred = credential(alice_, "ec-p256", SecondFactor::pin, 1);
  const std::string bearer = login(alice_, "alice-password-1");
  csc_audit_.clear();

  const std::string long_data = "portal-tx-42\n\x01" + std::string(400, 'x');
  ASSERT_EQ(call("credentials/list", json{{"clientData", long_data}, {"lang", "en-US<script>"}}, bearer).status, 200);
  auto e = csc_audit_.last();
  EXPECT_EQ(e.type, "csc.credentials.list");
  EXPECT_EQ(e.outcome, "success");
  EXPECT_EQ(e.principal, alice_);
  EXPECT_EQ(e.details.at("api"), "csc");
  EXPECT_EQ(e.details.at("count"), "1");
  EXPECT_EQ(e.details.at("lang"), "en-USscript");
  const std::string cd = e.details.at("client_data");
  EXPECT_EQ(cd.rfind("portal-tx-42", 0), 0u) << cd;
  EXPECT_LE(cd.size(), 259u);
  EXPECT_TRUE(std::all_of(cd.begin(), cd.end(), [](char c) { return c >= 0x20 && c < 0x7f; })) << cd;

  ASSERT_EQ(call("/csc/v1/credentials/info", json{{"credentialID", cred.id}, {"clientData", "tx-1"}}, bearer).status, 200);
  e = csc_audit_.last();
  EXPECT_EQ(e.type, "csc.credentials.info");
  EXPECT_EQ(e.details.at("credential_id"), cred.id);
  EXPECT_EQ(e.details.at("csc_version"), "v1");
  EXPECT_EQ(e.details.at("client_data"), "tx-1");

  auto refused = call("credentials/info", json{{"credentialID", "cred_nope"}}, bearer);
  EXPECT_EQ(refused.status, 400);
  e = csc_audit_.last();
  EXPECT_EQ(e.outcome, "failure");
  EXPECT_EQ(e.details.at("credential_id"), "cred_nope");
  EXPECT_EQ(e.details.at("error"), "invalid_request");

  const std::string sad = authorize(bearer, cred.id, 2, {});
  EXPECT_EQ(csc_audit_.last().type, "csc.credentials.authorize");
  EXPECT_EQ(csc_audit_.last().details.at("num_signatures"), "2");
  const Bytes h = sha256("audited");
  const auto before = csc_audit_.events().size();
  ASSERT_EQ(sign(bearer, cred.id, sad, {h}, kEcdsaSha256, json{{"clientData", "sign-7"}}).status, 200);
  EXPECT_EQ(csc_audit_.events().size(), before);  // the signature's record is signature.create
  const auto sig = spend_audit_.last();  // SCAL1: committed with the SAD's spend
  EXPECT_EQ(sig.type, "signature.create");
  EXPECT_EQ(sig.details.at("client_data"), "sign-7");
  EXPECT_EQ(sig.details.at("csc_method"), "signatures/signHash");

  // fail closed: no record, no answer
  csc_audit_.unavailable = true;
  auto down = call("credentials/list", json::object(), bearer);
  EXPECT_EQ(down.status, 503);
  EXPECT_EQ(down.error(), "temporarily_unavailable");
  auto no_sign = sign(bearer, cred.id, sad, {h}, kEcdsaSha256);
  EXPECT_EQ(no_sign.status, 503);
  csc_audit_.unavailable = false;
  csc_audit_.fail_append = true;
  EXPECT_EQ(call("credentials/info", json{{"credentialID", cred.id}}, bearer).status, 503);
  csc_audit_.fail_append = false;
  // the refused signHash spent nothing: the SAD still has its second signature
  EXPECT_EQ(sign(bearer, cred.id, sad, {h}, kEcdsaSha256).status, 200);
  signing_->set_audit(nullptr);
}

// SCAL1 (ADR 0021): signHash signs, then spends the SAD and records sad.used and signature.create
// in one commit; a spend refused there releases nothing. SCAL2 spends the SAD before the key is
// used, in its own commit (consume_sad), so nothing reaches commit_sad_with.
TEST_F(Csc, Scal1SpendsItsSadInTheSignaturesCommit) {
  const auto cred = credential(alice_, "ec-p256", SecondFactor::pin, 1);
  const std::string bearer = login(alice_, "alice-password-1");
  const std::string sad = authorize(bearer, cred.id, 1, {});
  const Bytes h = sha256("one commit");
  spend_audit_.clear();
  const auto ok = sign(bearer, cred.id, sad, {h}, kEcdsaSha256);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(validate(cred, kEcdsaSha256, h, ok.body["signatures"][0]), 0);
  auto records = spend_audit_.events();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0].type, "sad.used");
  EXPECT_FALSE(records[0].details.at("sad_id").empty());  // known only inside the commit
  EXPECT_EQ(records[1].type, "signature.create");
  EXPECT_EQ(records[1].outcome, "success");
  const auto used = [&] {
    return store_->database().query_one("SELECT used_count FROM sads WHERE id = $1", {records[0].details.at("sad_id")})
        ->get_int(0);
  };
  EXPECT_EQ(used(), 1);

  // The budget is spent: the next call signs, the commit refuses, nothing leaves and nothing is spent.
  const auto again = sign(bearer, cred.id, sad, {h}, kEcdsaSha256);
  EXPECT_EQ(again.status, 400);
  EXPECT_EQ(again.error(), "invalid_request");
  EXPECT_FALSE(again.body.contains("signatures"));
  EXPECT_EQ(spend_audit_.events().size(), 2u);
  EXPECT_EQ(used(), 1);

  // A token revoked behind the token cache's back (another process): refused at the commit.
  const std::string sad2 = authorize(bearer, cred.id, 2, {});
  store_->database().exec("UPDATE auth_tokens SET revoked_at = 1 WHERE kind = 'access' AND user_id = $1", {alice_});
  const auto revoked = sign(bearer, cred.id, sad2, {h}, kEcdsaSha256);
  EXPECT_EQ(revoked.status, 401) << revoked.body;
  EXPECT_EQ(revoked.error(), "invalid_token");
  EXPECT_EQ(spend_audit_.events().size(), 2u);

  // The commit fails (audit down): 503 and no signature. (With sigild's AuditLog the spend rolls
  // back with it: AuditTest.AppendAllWithChainsTheRecordsInOrderOrNone.)
  const std::string bearer2 = login(alice_, "alice-password-1");
  const std::string sad3 = authorize(bearer2, cred.id, 1, {});
  spend_audit_.fail_append = true;
  const auto down = sign(bearer2, cred.id, sad3, {h}, kEcdsaSha256);
  EXPECT_EQ(down.status, 503);
  EXPECT_FALSE(down.body.contains("signatures"));
  spend_audit_.fail_append = false;

  // SCAL2: spent first through consume_sad; commit_sad_with is not used.
  const auto cred2 = credential(alice_, "ec-p256", SecondFactor::pin, 2);
  const std::string sad4 = authorize(bearer2, cred2.id, 1, {h});
  const auto before = spend_audit_.events().size();
  EXPECT_EQ(sign(bearer2, cred2.id, sad4, {h}, kEcdsaSha256).status, 200);
  EXPECT_EQ(spend_audit_.events().size(), before);
}

// Concurrent SCAL1 calls on one SAD: each signs before its commit, but only as many signatures
// as the SAD allows are released; the others are refused and spend nothing.
TEST_F(Csc, ConcurrentScal1CallsReleaseExactlyTheBudget) {
  const auto cred = credential(alice_, "ec-p256", SecondFactor::pin, 1);
  const std::string bearer = login(alice_, "alice-password-1");
  const std::string sad = authorize(bearer, cred.id, 5, {});
  const Bytes h = sha256("concurrent");
  std::atomic<int> ok{0};
  std::atomic<int> refused{0};
  std::atomic<int> other{0};
  std::vector<std::string> released;
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 3; ++i) {
        const auto r = sign(bearer, cred.id, sad, {h}, kEcdsaSha256);
        if (r.status == 200) {
          ++ok;
          std::lock_guard lock(mu);
          released.push_back(r.body["signatures"][0].get<std::string>());
        } else if (r.status == 400 && r.error() == "invalid_request") {
          ++refused;
        } else {
          ++other;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 5);
  EXPECT_EQ(refused.load(), 7);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(store_->database().query_one("SELECT MAX(used_count) FROM sads WHERE credential_id = $1", {cred.id})->get_int(0), 5);
  ASSERT_FALSE(released.empty());
  EXPECT_EQ(validate(cred, kEcdsaSha256, h, released.front()), 0);
}

// schemas/csc.openapi.yaml parses as YAML and names exactly the registered routes and verbs.
TEST_F(Csc, OpenApiDescribesExactlyTheRoutes) {
  const auto routes = api::csc::route_list(*context_);
  const auto list = dir_.path() / "routes.txt";
  {
    std::ofstream out(list);
    for (const auto& r : routes) out << r << "\n";
  }
  const std::filesystem::path src = std::getenv("SIGIL_SOURCE_DIR") != nullptr ? std::getenv("SIGIL_SOURCE_DIR") : ".";
  const auto yaml = src / "schemas" / "csc.openapi.yaml";
  const std::string script =
      "import sys, yaml\n"
      "doc = yaml.safe_load(open(sys.argv[1]))\n"
      "assert doc['openapi'].startswith('3.0'), doc['openapi']\n"
      "base = doc['servers'][0]['url'].rstrip('/')\n"
      "got = set()\n"
      "for path, ops in doc['paths'].items():\n"
      "    for verb in ops:\n"
      "        if verb in ('get','post','put','delete','patch'): got.add(verb.upper() + ' ' + base + path)\n"
      "want = set(l.strip() for l in open(sys.argv[2]) if l.strip())\n"
      "for x in sorted(want - got): print('missing from the OpenAPI file:', x)\n"
      "for x in sorted(got - want): print('not registered:', x)\n"
      "sys.exit(0 if got == want else 1)\n";
  const auto py = dir_.path() / "check.py";
  std::ofstream(py) << script;
  const auto r = sigil::test::run_command("/usr/bin/python3 '" + py.string() + "' '" + yaml.string() + "' '" +
                                          list.string() + "'");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_GT(routes.size(), 20u);
}

// An administrator's password change that lands after a login checked the old password and before
// its token is written: no token, an auth.failure with the reason, and the new password works.
TEST_F(Csc, APasswordChangeDuringALoginVoidsIt) {
  const std::string username = store_->users().get(alice_)->username;
  const auto tokens = [&] {
    return store_->database().query_one("SELECT COUNT(*) FROM auth_tokens WHERE user_id = $1", {alice_})->get_int(0);
  };
  const auto before = tokens();
  csc_audit_.on_next_check = [&] { store_->users().set_password(alice_, "set-by-the-admin-1"); };
  const auto r = call("auth/login", json{{"rememberMe", true}},
                      "Basic " + base64_encode(as_bytes(username + ":alice-password-1")));
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.error(), "authentication_error");
  EXPECT_FALSE(r.body.contains("access_token"));
  EXPECT_EQ(tokens(), before);
  EXPECT_EQ(csc_audit_.last().type, "auth.failure");
  EXPECT_EQ(csc_audit_.last().details.at("reason"), "login_superseded");
  EXPECT_EQ(csc_audit_.last().principal, alice_);
  EXPECT_NE(login(alice_, "set-by-the-admin-1"), "Bearer ");
}

TEST_F(Csc, LoginListInfoRevoke) {
  const auto cred = credential(alice_, "ec-p256", SecondFactor::pin_otp, 2);
  credential(bob_, "ec-p256", SecondFactor::pin, 1);

  const std::string username = store_->users().get(alice_)->username;
  auto bad = call("auth/login", json::object(), "Basic " + base64_encode(as_bytes(username + ":wrong")));
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.error(), "authentication_error");
  // A refused login is a security event: auth.failure with the reason, never the password.
  EXPECT_EQ(csc_audit_.last().type, "auth.failure");
  EXPECT_EQ(csc_audit_.last().principal, username);
  EXPECT_EQ(csc_audit_.last().details.at("reason"), "bad_credentials");
  EXPECT_EQ(csc_audit_.last().details.at("api"), "csc");
  EXPECT_EQ(csc_audit_.last().details.at("principal_id"), alice_);
  EXPECT_EQ(call("auth/login", json::object(), "Basic !!!").status, 401);
  EXPECT_EQ(call("auth/login", json::object(), "Basic " + base64_encode(as_bytes(std::string("nocolon")))).error(),
            "invalid_request");

  const auto remembered = call("auth/login", json{{"rememberMe", "true"}},
                               "Basic " + base64_encode(as_bytes(username + ":alice-password-1")));
  ASSERT_EQ(remembered.status, 200) << remembered.body;
  EXPECT_TRUE(remembered.body.contains("refresh_token"));
  EXPECT_EQ(csc_audit_.last().type, "auth.success");
  EXPECT_EQ(csc_audit_.last().principal, alice_);
  EXPECT_EQ(csc_audit_.last().details.at("method"), "password");
  EXPECT_EQ(remembered.body["expires_in"], 3600);
  const std::string bearer = "Bearer " + remembered.body["access_token"].get<std::string>();

  // list with infos: only alice's credential; booleans as strings (§11)
  auto list = call("credentials/list",
                   json{{"credentialInfo", "true"}, {"certificates", "chain"}, {"certInfo", true}, {"authInfo", true},
                        {"clientData", "x"}, {"unknownField", 1}},
                   bearer);
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.body["credentialIDs"], json::array({cred.id}));
  ASSERT_EQ(list.body["credentialInfos"].size(), 1u);
  const auto& ci = list.body["credentialInfos"][0];
  EXPECT_EQ(ci["credentialID"], cred.id);
  EXPECT_EQ(ci["cert"]["certificates"].size(), 3u);  // leaf, issuing, root

  // paging
  credential(alice_, "ec-p256", SecondFactor::pin, 1);
  auto page = call("credentials/list", json{{"maxResults", 1}}, bearer);
  ASSERT_EQ(page.status, 200) << page.body;
  EXPECT_EQ(page.body["credentialIDs"].size(), 1u);
  auto next = call("credentials/list", json{{"maxResults", 1}, {"pageToken", page.body["nextPageToken"]}}, bearer);
  ASSERT_EQ(next.status, 200) << next.body;
  EXPECT_EQ(next.body["credentialIDs"].size(), 1u);
  EXPECT_NE(next.body["credentialIDs"][0], page.body["credentialIDs"][0]);
  EXPECT_EQ(call("credentials/list", json{{"userID", bob_}}, bearer).description(), "userID parameter MUST be null");

  auto info = call("credentials/info", json{{"credentialID", cred.id}, {"certificates", "single"}, {"authInfo", true}},
                   bearer);
  ASSERT_EQ(info.status, 200) << info.body;
  const auto& b = info.body;
  EXPECT_EQ(b["key"]["status"], "enabled");
  EXPECT_EQ(b["key"]["algo"], json::array({kEcdsaSha256, "1.2.840.10045.4.3.3", "1.2.840.10045.4.3.4"}));
  EXPECT_EQ(b["key"]["len"], 256);
  EXPECT_EQ(b["key"]["curve"], "1.2.840.10045.3.1.7");
  EXPECT_EQ(b["cert"]["status"], "valid");
  EXPECT_EQ(b["cert"]["certificates"].size(), 1u);
  EXPECT_EQ(base64_decode(b["cert"]["certificates"][0].get<std::string>()), ossl::read_certificate(cred.certificate_pem));
  EXPECT_NE(b["cert"]["subjectDN"].get<std::string>().find("CN=" + cred.key_label), std::string::npos);
  EXPECT_NE(b["cert"]["issuerDN"].get<std::string>().find("Test Issuing CA"), std::string::npos);
  EXPECT_FALSE(b["cert"]["serialNumber"].get<std::string>().empty());
  const auto generalized = [](const std::string& t) {  // YYYYMMDDHHMMSSZ (std::regex trips GCC 12 + ASan)
    return t.size() == 15 && t.back() == 'Z' &&
           std::all_of(t.begin(), t.end() - 1, [](char c) { return c >= '0' && c <= '9'; });
  };
  EXPECT_TRUE(generalized(b["cert"]["validFrom"].get<std::string>()));
  EXPECT_TRUE(generalized(b["cert"]["validTo"].get<std::string>()));
  EXPECT_EQ(b["auth"]["mode"], "explicit");
  EXPECT_EQ(b["auth"]["expression"], "PIN AND OTP");
  EXPECT_EQ(b["auth"]["objects"].size(), 2u);
  EXPECT_EQ(b["auth"]["objects"][1]["type"], "ChallengeResponse");
  EXPECT_EQ(b["authMode"], "explicit");
  EXPECT_EQ(b["PIN"]["presence"], "true");
  EXPECT_EQ(b["OTP"]["type"], "online");
  EXPECT_EQ(b["SCAL"], "2");
  EXPECT_EQ(b["multisign"], 10);
  EXPECT_EQ(call("credentials/info", json{{"credentialID", cred.id}, {"certificates", "all"}}, bearer).description(),
            "Invalid parameter certificates");
  EXPECT_EQ(call("credentials/info", json::object(), bearer).description(),
            "Missing (or invalid type) string parameter credentialID");

  // bob sees neither the list nor the info of alice's credential
  const std::string bob = login(bob_, "bob-password-1");
  auto other = call("credentials/info", json{{"credentialID", cred.id}}, bob);
  EXPECT_EQ(other.status, 400);
  EXPECT_EQ(other.description(), "Invalid parameter credentialID");

  // tokens: none, forged, lenient "Bearer: x", revoked
  auto none = call("credentials/list", json::object());
  EXPECT_EQ(none.status, 401);
  auto forged = call("credentials/list", json::object(), "Bearer at_forged");
  EXPECT_EQ(forged.status, 401);
  EXPECT_EQ(forged.error(), "invalid_token");
  EXPECT_EQ(call("credentials/list", json::object(), "Bearer: " + bearer.substr(7)).status, 200);
  auto revoked = call("auth/revoke", json{{"token", bearer.substr(7)}, {"token_type_hint", "access_token"}}, bearer);
  EXPECT_EQ(revoked.status, 204);
  EXPECT_EQ(call("credentials/list", json::object(), bearer).error(), "invalid_token");

  // re-login with the refresh token
  auto again = call("auth/login", json{{"refresh_token", remembered.body["refresh_token"]}});
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(csc_audit_.last().type, "auth.success");
  EXPECT_EQ(csc_audit_.last().details.at("method"), "refresh_token");
  EXPECT_EQ(call("credentials/list", json::object(), "Bearer " + again.body["access_token"].get<std::string>()).status,
            200);
  EXPECT_EQ(call("auth/login", json{{"refresh_token", remembered.body["refresh_token"]}}).status, 400);  // rotated
  EXPECT_EQ(csc_audit_.last().type, "auth.failure");
  EXPECT_EQ(csc_audit_.last().details.at("reason"), "grant_invalid");
}

TEST_F(Csc, EcdsaScal2WithPin) {
  const auto cred = credential(alice_, "ec-p256", SecondFactor::pin, 2);
  const std::string bearer = login(alice_, "alice-password-1");
  const Bytes h = sha256("document one");

  auto no_hashes = call("credentials/authorize",
                        json{{"credentialID", cred.id}, {"numSignatures", 1}, {"authData", {{{"id", "PIN"}, {"value", "1234"}}}}},
                        bearer);
  EXPECT_EQ(no_hashes.status, 400);
  EXPECT_EQ(no_hashes.error(), "invalid_request");
  auto wrong_pin = call("credentials/authorize",
                        json{{"credentialID", cred.id}, {"numSignatures", 1}, {"hashes", {b64(h)}},
                             {"hashAlgorithmOID", kSha256}, {"authData", {{{"id", "PIN"}, {"value", "9999"}}}}},
                        bearer);
  EXPECT_EQ(wrong_pin.status, 400);
  EXPECT_EQ(wrong_pin.error(), "invalid_authentication_data");
  auto too_many = call("credentials/authorize",
                       json{{"credentialID", cred.id}, {"numSignatures", 11}, {"hashes", {b64(h)}},
                            {"hashAlgorithmOID", kSha256}, {"authData", {{{"id", "PIN"}, {"value", "1234"}}}}},
                       bearer);
  EXPECT_EQ(too_many.description(), "Numbers of signatures is too high");
  auto bad_len = call("credentials/authorize",
                      json{{"credentialID", cred.id}, {"numSignatures", 1}, {"hashes", {b64(h)}},
                           {"hashAlgorithmOID", kSha384}, {"authData", {{{"id", "PIN"}, {"value", "1234"}}}}},
                      bearer);
  EXPECT_EQ(bad_len.description(), "Invalid digest value length");

  // numSignatures as a string, the hash as base64url (§11)
  json body{{"credentialID", cred.id}, {"numSignatures", "1"}, {"hashes", {base64url_encode(h)}},
            {"hashAlgorithmOID", kSha256}, {"authData", {{{"id", "PIN"}, {"value", "1234"}}}}, {"clientData", "tx-1"}};
  auto ok = call("credentials/authorize", body, bearer);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.body["expiresIn"], 300);
  const std::string sad = ok.body["SAD"];

  // parameters are checked before the SAD is spent
  EXPECT_EQ(sign(bearer, cred.id, sad, {h}, kSha256WithRsa).description(), "Invalid parameter signAlgo");
  EXPECT_EQ(sign(bearer, cred.id, sad, {h}, "1.2.3.4").description(), "Invalid parameter signAlgo");
  EXPECT_EQ(sign(bearer, cred.id, sad, {h}, kEcdsaSha256, json{{"hashAlgorithmOID", kSha384}}).error(),
            "invalid_request");
  EXPECT_EQ(sign(bearer, cred.id, "", {h}, kEcdsaSha256).description(), "Missing (or invalid type) string parameter SAD");
  auto empty = call("signatures/signHash",
                    json{{"credentialID", cred.id}, {"SAD", sad}, {"hashes", json::array()}, {"signAlgo", kEcdsaSha256}},
                    bearer);
  EXPECT_EQ(empty.description(), "Empty hash array");

  auto r = sign(bearer, cred.id, sad, {h}, kEcdsaSha256, json{{"hashAlgorithmOID", kSha256}});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.body["signatures"].size(), 1u);
  const std::string sig = r.body["signatures"][0];
  EXPECT_EQ(validate(cred, kEcdsaSha256, h, sig, "--ecdsa-format der"), 0);
  EXPECT_EQ(validate(cred, kEcdsaSha256, sha256("another document"), sig, "--quiet"), 1);

  auto reuse = sign(bearer, cred.id, sad, {h}, kEcdsaSha256);
  EXPECT_EQ(reuse.status, 400);
  EXPECT_EQ(reuse.error(), "invalid_request");
  EXPECT_EQ(reuse.description(), "Invalid parameter SAD");
}

TEST_F(Csc, RsaPkcs1AndPss) {
  const auto cred = credential(alice_, "rsa-2048", SecondFactor::pin, 1);
  const std::string bearer = login(alice_, "alice-password-1");
  auto info = call("credentials/info", json{{"credentialID", cred.id}}, bearer);
  ASSERT_EQ(info.status, 200) << info.body;
  EXPECT_EQ(info.body["key"]["len"], 2048);
  EXPECT_FALSE(info.body["key"].contains("curve"));
  EXPECT_EQ(info.body["SCAL"], "1");
  const auto& algos = info.body["key"]["algo"];
  for (const char* oid : {kSha256WithRsa, kRsaPss, kRsaEncryption}) {
    EXPECT_NE(std::find(algos.begin(), algos.end(), oid), algos.end()) << oid;
  }

  const std::string sad = authorize(bearer, cred.id, 3, {});  // SCAL1: any 3 hashes
  const Bytes h1 = sha256("one");
  const Bytes h2 = sha256("two");
  const Bytes h3 = sha256("three");

  EXPECT_EQ(sign(bearer, cred.id, sad, {h1}, kRsaEncryption).description(),
            "Missing (or invalid type) string parameter hashAlgorithmOID");
  auto salt20 = sign(bearer, cred.id, sad, {h3}, kRsaPss, json{{"signAlgoParams", pss_params(20)}});
  EXPECT_EQ(salt20.status, 400);
  EXPECT_NE(salt20.description().find("salt length"), std::string::npos) << salt20.body;
  EXPECT_EQ(sign(bearer, cred.id, sad, {h3}, kRsaPss).description(),
            "Missing (or invalid type) string parameter signAlgoParams");

  auto p1 = sign(bearer, cred.id, sad, {h1}, kRsaEncryption, json{{"hashAlgorithmOID", kSha256}});
  ASSERT_EQ(p1.status, 200) << p1.body;
  EXPECT_EQ(validate(cred, kRsaEncryption, h1, p1.body["signatures"][0]), 0);
  auto p2 = sign(bearer, cred.id, sad, {h2}, kSha256WithRsa);
  ASSERT_EQ(p2.status, 200) << p2.body;
  EXPECT_EQ(validate(cred, kSha256WithRsa, h2, p2.body["signatures"][0]), 0);
  EXPECT_EQ(validate(cred, kSha256WithRsa, h1, p2.body["signatures"][0], "--quiet"), 1);
  auto p3 = sign(bearer, cred.id, sad, {h3}, kRsaPss, json{{"signAlgoParams", pss_params(32)}});
  ASSERT_EQ(p3.status, 200) << p3.body;
  EXPECT_EQ(validate(cred, kRsaPss, h3, p3.body["signatures"][0], "--pss-saltlen digest"), 0);

  EXPECT_EQ(sign(bearer, cred.id, sad, {h1}, kSha256WithRsa).description(), "Invalid parameter SAD");  // 3 used
}

TEST_F(Csc, SeveralHashesInOneCall) {
  sigil::test::RecordingSink sink;
  signing_->set_audit(&sink);
  const auto cred = credential(alice_, "ec-p256", SecondFactor::pin, 2);
  const std::string bearer = login(alice_, "alice-password-1");
  const Bytes h1 = sha256("a");
  const Bytes h2 = sha256("b");
  const std::string sad = authorize(bearer, cred.id, 2, {h1, h2});
  auto r = sign(bearer, cred.id, sad, {h1, h2}, kEcdsaSha256);
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.body["signatures"].size(), 2u);
  EXPECT_EQ(validate(cred, kEcdsaSha256, h1, r.body["signatures"][0]), 0);
  EXPECT_EQ(validate(cred, kEcdsaSha256, h2, r.body["signatures"][1]), 0);

  // one audit record for the call, naming the API, the credential and both digests
  const auto e = sink.last();
  EXPECT_EQ(e.outcome, "success");
  EXPECT_EQ(e.principal, alice_);
  EXPECT_EQ(e.details.at("api"), "csc");
  EXPECT_EQ(e.details.at("credential_id"), cred.id);
  EXPECT_EQ(e.details.at("document.2.digest"), "sha256:" + hex_encode(h2));
  signing_->set_audit(nullptr);
}

TEST_F(Csc, SadMisuseIsRefused) {
  const auto cred = credential(alice_, "ec-p256", SecondFactor::pin, 2);
  const auto second = credential(alice_, "ec-p256", SecondFactor::pin, 2);
  const auto bobs = credential(bob_, "ec-p256", SecondFactor::pin, 2);
  const std::string alice = login(alice_, "alice-password-1");
  const std::string bob = login(bob_, "bob-password-1");
  const Bytes h = sha256("authorized");
  const std::string sad = authorize(alice, cred.id, 1, {h});

  auto other_hash = sign(alice, cred.id, sad, {sha256("not authorized")}, kEcdsaSha256);
  EXPECT_EQ(other_hash.status, 400);
  EXPECT_EQ(other_hash.error(), "invalid_request");
  EXPECT_EQ(other_hash.description(), "Hash is not authorized by the SAD");
  auto more = sign(alice, cred.id, sad, {h, h}, kEcdsaSha256);
  EXPECT_EQ(more.status, 400);
  auto other_cred = sign(alice, second.id, sad, {h}, kEcdsaSha256);
  EXPECT_EQ(other_cred.description(), "Invalid parameter SAD");
  auto other_user = sign(bob, bobs.id, sad, {h}, kEcdsaSha256);
  EXPECT_EQ(other_user.description(), "Invalid parameter SAD");
  auto not_owned = sign(bob, cred.id, sad, {h}, kEcdsaSha256);
  EXPECT_EQ(not_owned.description(), "Invalid parameter credentialID");
  auto forged = sign(alice, cred.id, "sad_forged", {h}, kEcdsaSha256);
  EXPECT_EQ(forged.description(), "Invalid parameter SAD");

  clock_.advance(std::chrono::seconds{301});
  auto expired = sign(alice, cred.id, sad, {h}, kEcdsaSha256);
  EXPECT_EQ(expired.status, 400);
  EXPECT_EQ(expired.error(), "invalid_request");
  EXPECT_EQ(expired.description(), "SAD expired");
}

TEST_F(Csc, DeliveredOtpThroughGetChallenge) {
  const auto cred = credential(alice_, "ec-p256", SecondFactor::pin_otp, 2);
  const std::string bearer = login(alice_, "alice-password-1");
  const Bytes h = sha256("otp document");

  EXPECT_EQ(call("credentials/getChallenge", json{{"credentialID", cred.id}, {"authObjectID", "PIN"}}, bearer).description(),
            "Invalid parameter authObjectID");
  auto ch = call("credentials/getChallenge", json{{"credentialID", cred.id}, {"authObjectID", "OTP"}}, bearer);
  ASSERT_EQ(ch.status, 204) << ch.body;
  std::ifstream in(outbox());
  std::string line, last;
  while (std::getline(in, line)) last = line;
  std::istringstream fields(last);
  std::string expires, txid, recipient, code;
  fields >> expires >> txid >> recipient >> code;
  ASSERT_FALSE(code.empty());

  json body{{"credentialID", cred.id}, {"numSignatures", 1}, {"hashes", {b64(h)}}, {"hashAlgorithmOID", kSha256},
            {"authData", {{{"id", "PIN"}, {"value", "1234"}}}}};
  auto missing = call("credentials/authorize", body, bearer);
  EXPECT_EQ(missing.status, 400);
  // the OTP in the x-otp header
  auto ok = call("credentials/authorize", body, bearer, {{"x-otp", code}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  auto r = sign(bearer, cred.id, ok.body["SAD"], {h}, kEcdsaSha256);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(validate(cred, kEcdsaSha256, h, r.body["signatures"][0]), 0);

  // a replayed code
  auto replay = call("credentials/authorize", body, bearer, {{"x-otp", code}});
  EXPECT_EQ(replay.error(), "invalid_authentication_data");
}

TEST_F(Csc, ExtendTransactionForTheNextHash) {
  const auto cred = credential(alice_, "ec-p256", SecondFactor::pin, 2);
  const std::string bearer = login(alice_, "alice-password-1");
  const Bytes h1 = sha256("first");
  const Bytes h2 = sha256("second, over the first signature");
  const std::string sad1 = authorize(bearer, cred.id, 2, {h1});
  ASSERT_EQ(sign(bearer, cred.id, sad1, {h1}, kEcdsaSha256).status, 200);
  auto ext = call("credentials/extendTransaction",
                  json{{"credentialID", cred.id}, {"SAD", sad1}, {"hashes", {b64(h2)}}, {"hashAlgorithmOID", kSha256}},
                  bearer);
  ASSERT_EQ(ext.status, 200) << ext.body;
  const std::string sad2 = ext.body["SAD"];
  EXPECT_EQ(sign(bearer, cred.id, sad1, {h2}, kEcdsaSha256).description(), "Invalid parameter SAD");  // revoked
  auto r = sign(bearer, cred.id, sad2, {h2}, kEcdsaSha256);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(validate(cred, kEcdsaSha256, h2, r.body["signatures"][0]), 0);
  EXPECT_EQ(sign(bearer, cred.id, sad2, {h2}, kEcdsaSha256).description(), "Invalid parameter SAD");
}

TEST_F(Csc, CredentialScopeTokenStandsInForTheSad) {
  const auto cred = credential(alice_, "ec-p256", SecondFactor::pin, 2);
  const Bytes h = sha256("oauth2code document");
  auth::OAuthClients clients(store_->database(), clock_);
  auth::OAuthService oauth(store_->database(), clock_, clients, *tokens_);
  auth::NewOAuthClient nc;
  nc.name = "portal";
  nc.redirect_uris = {"https://portal.example.com/cb"};
  const auto portal = clients.add(nc);
  const std::string verifier(64, 'v');

  auth::CredentialAuthRequest a;  // what the login page does
  a.user_id = alice_;
  a.credential_id = cred.id;
  a.pin = SecretString("1234");
  a.num_signatures = 1;
  a.hashes = {h};
  a.hash_alg = HashAlg::sha256;
  const auth::Sad sad = authz_->authorize_credential(a);
  auth::AuthorizationRequest r;
  r.client_id = portal.client.client_id;
  r.redirect_uri = "https://portal.example.com/cb";
  r.scope = "credential";
  r.credential_id = cred.id;
  r.code_challenge = auth::pkce_s256(verifier);
  const SecretString code = oauth.issue_code(r, alice_, sad.id);
  const auto t = oauth.exchange_code(portal.client.client_id, portal.secret.view(), code.view(), r.redirect_uri, verifier);
  const std::string bearer = "Bearer " + std::string(t.access_token.view());

  EXPECT_EQ(call("credentials/info", json{{"credentialID", cred.id}}, bearer).status, 200);
  auto authorize_refused = call("credentials/authorize", json{{"credentialID", cred.id}, {"numSignatures", 1}}, bearer);
  EXPECT_EQ(authorize_refused.status, 401);
  auto res = sign(bearer, cred.id, "", {h}, kEcdsaSha256);  // no SAD: the token is the SAD
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(validate(cred, kEcdsaSha256, h, res.body["signatures"][0]), 0);
  EXPECT_EQ(sign(bearer, cred.id, "", {h}, kEcdsaSha256).description(), "Invalid parameter SAD");
}

TEST_F(Csc, UnknownMethodsAnswer501) {
  auto r = call("signatures/signPolling", json::object());
  EXPECT_EQ(r.status, 501);
  EXPECT_EQ(r.error(), "not_implemented");
  EXPECT_EQ(call("oauth2/authorize", json::object()).status, 501);
  EXPECT_EQ(call("/csc/v1/oauth2/token", json::object()).status, 501);
  // a literal route registered by someone else (the OAuth endpoints) wins over the catch-alls
  router_.add("POST", "/csc/v2/oauth2/token", http::AuthRequirement::none(), [](http::Request&) {
    return http::Response::json(200, json{{"token_endpoint", true}});
  });
  auto literal = call("oauth2/token", json::object());
  EXPECT_EQ(literal.status, 200);
  EXPECT_EQ(literal.body["token_endpoint"], true);
  EXPECT_EQ(call("oauth2/authorize", json::object()).status, 501);
  http::Request get;
  get.method = "GET";
  get.set_target("/csc/v2/info");
  EXPECT_EQ(router_.dispatch(get).status, 200);
}

TEST_F(Csc, DisabledCredentialAndLockout) {
  const auto cred = credential(alice_, "ec-p256", SecondFactor::pin, 1);
  const std::string bearer = login(alice_, "alice-password-1");
  const std::string sad = authorize(bearer, cred.id, 1, {});
  store_->credentials().set_status(cred.id, "disabled");
  auto info = call("credentials/info", json{{"credentialID", cred.id}}, bearer);
  ASSERT_EQ(info.status, 200) << info.body;
  EXPECT_EQ(info.body["key"]["status"], "disabled");
  auto refused = call("credentials/authorize",
                      json{{"credentialID", cred.id}, {"numSignatures", 1}, {"authData", {{{"id", "PIN"}, {"value", "1234"}}}}},
                      bearer);
  EXPECT_EQ(refused.description(), "The credential identified by credentialID is disabled");
  EXPECT_EQ(sign(bearer, cred.id, sad, {sha256("x")}, kEcdsaSha256).description(),
            "The credential identified by credentialID is disabled");
  auto only_valid = call("credentials/list", json{{"onlyValid", true}}, bearer);
  EXPECT_EQ(only_valid.body["credentialIDs"], json::array());

  // five wrong PINs (over two transactions) lock the user: "Credential locked"
  const auto other = credential(alice_, "ec-p256", SecondFactor::pin, 1);
  json wrong{{"credentialID", other.id}, {"numSignatures", 1}, {"authData", {{{"id", "PIN"}, {"value", "0000"}}}}};
  Result last{0, {}};
  for (int i = 0; i < 6; ++i) last = call("credentials/authorize", wrong, bearer);
  EXPECT_EQ(last.status, 400);
  EXPECT_EQ(last.error(), "invalid_request");
  EXPECT_EQ(last.description(), "Credential locked");
}

TEST_F(Csc, TimestampVerifiesWithOpenssl) {
  const std::string bearer = login(alice_, "alice-password-1");
  const Bytes h = sha256("to be time-stamped");
  EXPECT_EQ(call("signatures/timestamp", json{{"hash", b64(h)}}).status, 401);
  EXPECT_EQ(call("signatures/timestamp", json{{"hash", b64(h)}, {"hashAlgo", kSha384}}, bearer).description(),
            "Invalid digest value length");
  EXPECT_EQ(call("signatures/timestamp", json{{"hash", b64(h)}, {"hashAlgo", kSha256}, {"nonce", "xyz"}}, bearer)
                .description(),
            "Invalid parameter nonce");

  const auto ca = dir_.path() / "ca.pem";
  std::ofstream(ca) << ossl::der_to_pem(root_der_) << ossl::der_to_pem(issuing_der_);
  const auto tsa = dir_.path() / "tsa.pem";
  std::ofstream(tsa) << tsa_pem_;
  for (const json& extra : {json::object(), json{{"nonce", "0123456789abcdef0123456789abcdef"}}}) {
    json body{{"hash", b64(h)}, {"hashAlgo", kSha256}};
    body.update(extra);
    auto r = call("signatures/timestamp", body, bearer);
    ASSERT_EQ(r.status, 200) << r.body;
    const auto token = dir_.path() / "token.der";
    const Bytes der = base64_decode(r.body["timestamp"].get<std::string>());
    std::ofstream(token, std::ios::binary).write(reinterpret_cast<const char*>(der.data()), static_cast<long>(der.size()));
    const auto v = sigil::test::run_command("openssl ts -verify -digest " + hex_encode(h) + " -in '" + token.string() +
                                            "' -token_in -CAfile '" + ca.string() + "' -untrusted '" + tsa.string() +
                                            "' -attime " + std::to_string(to_unix(clock_.now())));
    EXPECT_EQ(v.exit_code, 0) << v.output;
    if (extra.contains("nonce")) {
      const auto text = sigil::test::run_command("openssl ts -reply -in '" + token.string() + "' -token_in -text");
      EXPECT_NE(text.output.find("Nonce: 0x0123456789ABCDEF0123456789ABCDEF"), std::string::npos) << text.output;
    }
  }
}

}  // namespace
}  // namespace sigil::admin::test
