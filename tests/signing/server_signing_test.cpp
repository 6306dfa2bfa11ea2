// The DSS server-signing API over the signing service, in-process (Router::dispatch), with real
// SoftHSM keys; every signature is checked by the independent validate-raw-signature.
#include <fstream>

#include "../admin/fixture.hpp"
#include "ossl/digest.hpp"
#include "sigil/api/dss.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/http/router.hpp"
#include "sigil/signing/service.hpp"
#include "../admin/recording_sink.hpp"
#include "validator_pki.hpp"

namespace sigil::admin::test {
namespace {

using nlohmann::json;

class ServerSigning : public AdminTest {
 protected:
  ServerSigning() {
    service_user_ = make_user(unique("backoffice"), {store::Role::service});
    other_user_ = make_user(unique("other"), {store::Role::service});
    signing_ = std::make_unique<signing::SigningService>(*store_, *token_, clock_);
    api::dss::register_routes(router_, *signing_);
  }

  // An unattended credential on a fresh key of `spec` owned by `owner`.
  Credential credential(const std::string& owner_id, const std::string& spec = "ec-p256") {
    if (issuing_der_.empty()) make_demo_pki();
    const std::string label = unique("dss");
    svc_->generate_key(label, KeySpec::parse(spec));
    svc_->issue_with_demo_ca(label, CertificateIssue{"CN=" + label + ",O=Sigil Test,C=EU", 30, "signer"}, pki_dir());
    NewCredential n;
    n.owner_username = store_->users().get(owner_id)->username;
    n.key_label = label;
    n.unattended = true;
    n.second_factor = SecondFactor::none;
    return svc_->create_credential(n);
  }

  struct Result {
    int status;
    json body;
  };
  Result call(const std::string& method, const std::string& target, const json& body = nullptr,
              const std::string& user_id = {}) {
    http::Request req;
    req.method = method;
    req.set_target(target);
    if (!body.is_null()) req.body = body.dump();
    req.body_size = req.body.size();
    req.remote_address = "127.0.0.1";
    const std::string as = user_id.empty() ? service_user_ : user_id;
    const auto auth = [&](const http::Request&) -> std::optional<http::Principal> {
      return http::Principal{as, as, {"service"}, {}};
    };
    const auto res = router_.dispatch(req, auth);
    return {res.status, res.body.empty() ? json() : json::parse(res.body)};
  }

  // validate-raw-signature exit code for a signature over `data`.
  int validate_raw(const Credential& c, const std::string& alg, const std::string& data, const std::string& sig_b64,
                   const std::string& extra = {}) {
    const auto cert = dir_.path() / "cert.pem";
    const auto file = dir_.path() / "data.bin";
    std::ofstream(cert) << c.certificate_pem;
    std::ofstream(file, std::ios::binary) << data;
    const auto r = sigil::test::validate("validate-raw-signature", "--cert '" + cert.string() + "' --alg " + alg +
                                                                      " --data '" + file.string() + "' --sig-b64 " +
                                                                      sig_b64 + " " + extra);
    if (r.exit_code != 0) std::cerr << r.output;
    return r.exit_code;
  }

  http::Router router_;
  std::unique_ptr<signing::SigningService> signing_;
  std::string service_user_;
  std::string other_user_;
};

TEST_F(ServerSigning, ListsOnlyTheCallersUnattendedCredentials) {
  const auto mine = credential(service_user_);
  const auto theirs = credential(other_user_);
  const auto r = call("GET", "/services/rest/server-signing/keys");
  ASSERT_EQ(r.status, 200) << r.body.dump();
  ASSERT_TRUE(r.body.is_array());
  bool found = false;
  for (const auto& k : r.body) {
    EXPECT_NE(k["alias"], theirs.id);
    if (k["alias"] == mine.id) {
      found = true;
      EXPECT_EQ(k["encryptionAlgo"], "ECDSA");
      EXPECT_EQ(base64_decode(k["certificate"]["encodedCertificate"].get<std::string>()),
                ossl::read_certificate(mine.certificate_pem));
      EXPECT_GE(k["certificateChain"].size(), 2U);
    }
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(call("GET", "/services/rest/server-signing/key/" + mine.id).body["alias"], mine.id);
  // Another user's credential is invisible, not forbidden.
  const auto other = call("GET", "/services/rest/server-signing/key/" + theirs.id);
  EXPECT_EQ(other.status, 404);
  EXPECT_EQ(other.body["error"], "not_found");
}

TEST_F(ServerSigning, SignsDataAndDigestsVerifiably) {
  const auto c = credential(service_user_);
  const std::string data = "Hello World!";
  const auto r = call("POST", "/services/rest/server-signing/sign/" + c.id + "/SHA256",
                      json{{"bytes", base64_encode(std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()))}});
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["algorithm"], "ECDSA_SHA256");
  EXPECT_EQ(validate_raw(c, "ecdsa", data, r.body["value"], "--md sha256"), 0);
  // The independent check can fail: other data is rejected.
  EXPECT_EQ(validate_raw(c, "ecdsa", data + "!", r.body["value"], "--md sha256"), 1);

  // sign-digest with PLAIN_ECDSA: raw r||s of the field size.
  const Bytes digest = ossl::digest(HashAlg::sha384, data);
  const auto p = call("POST", "/services/rest/server-signing/sign-digest-with-signature-algo/" + c.id + "/PLAIN_ECDSA_SHA384",
                      json{{"algorithm", "SHA384"}, {"value", base64_encode(digest)}});
  ASSERT_EQ(p.status, 200) << p.body.dump();
  EXPECT_EQ(base64_decode(p.body["value"].get<std::string>()).size(), 64U);
  EXPECT_EQ(validate_raw(c, "ecdsa", data, p.body["value"], "--md sha384 --ecdsa-format raw"), 0);
}

TEST_F(ServerSigning, RsaPkcs1AndPss) {
  const auto c = credential(service_user_, "rsa-2048");
  const std::string data = "invoice 2026-0001";
  const Bytes digest = ossl::digest(HashAlg::sha256, data);
  const auto r = call("POST", "/services/rest/server-signing/sign-digest/" + c.id,
                      json{{"algorithm", "SHA256"}, {"value", base64_encode(digest)}});
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["algorithm"], "RSA_SHA256");
  EXPECT_EQ(validate_raw(c, "rsa-pkcs1", data, r.body["value"], "--md sha256"), 0);

  const auto pss = call("POST", "/services/rest/server-signing/sign-with-signature-algo/" + c.id + "/RSA_SSA_PSS_SHA512_MGF1",
                        json{{"bytes", base64_encode(std::span(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()))}});
  ASSERT_EQ(pss.status, 200) << pss.body.dump();
  EXPECT_EQ(validate_raw(c, "rsa-pss", data, pss.body["value"], "--md sha512 --pss-saltlen digest"), 0);
}

TEST_F(ServerSigning, BadInputGetsAClearJsonError) {
  const auto c = credential(service_user_);
  const std::string base = "/services/rest/server-signing/";
  auto expect = [](const Result& r, int status, const std::string& needle) {
    EXPECT_EQ(r.status, status) << r.body.dump();
    ASSERT_TRUE(r.body.is_object());
    EXPECT_NE(r.body.value("error_description", "").find(needle), std::string::npos) << r.body.dump();
  };
  expect(call("POST", base + "sign/" + c.id + "/SHA256", json::object()), 400, "bytes must be defined!");
  expect(call("POST", base + "sign/" + c.id + "/SHA256", json{{"bytes", "%%%"}}), 400, "base64");
  expect(call("POST", base + "sign/" + c.id + "/SHA1", json{{"bytes", "AA=="}}), 400, "Unsupported digest algorithm");
  expect(call("POST", base + "sign-digest/" + c.id, json{{"algorithm", "SHA256"}, {"value", "AAAA"}}), 400,
         "digest length");
  expect(call("POST", base + "sign-with-signature-algo/" + c.id + "/RSA_SHA256", json{{"bytes", "AA=="}}), 400,
         "does not allow rsa-pkcs1-sha256");
  expect(call("POST", base + "sign-with-signature-algo/" + c.id + "/MD5_RSA", json{{"bytes", "AA=="}}), 400,
         "Unsupported signature algorithm");
  expect(call("POST", base + "sign/cred_nope/SHA256", json{{"bytes", "AA=="}}), 404, "no usable unattended credential");

  // Malformed JSON: the HTTP layer's error model.
  http::Request req;
  req.method = "POST";
  req.set_target(base + "sign/" + c.id + "/SHA256");
  req.body = "{\"bytes\":";
  req.body_size = req.body.size();
  const auto res = router_.dispatch(req, [&](const http::Request&) -> std::optional<http::Principal> {
    return http::Principal{service_user_, "", {"service"}, {}};
  });
  EXPECT_EQ(res.status, 400);
  // A disabled or attended credential is not usable unattended.
  svc_->set_credential_status(c.id, CredentialStatus::disabled);
  expect(call("POST", base + "sign/" + c.id + "/SHA256", json{{"bytes", "AA=="}}), 404, "no usable");
}

// Every signature is recorded before its result goes out; without a writable audit log nothing is
// signed (fail closed).
TEST_F(ServerSigning, EverySignatureIsAuditedAndTheAuditLogFailsClosed) {
  sigil::test::RecordingSink sink;
  signing_->set_audit(&sink);
  const auto c = credential(service_user_);
  const Bytes digest = ossl::digest(HashAlg::sha256, std::string("audited"));
  const std::string target = "/services/rest/server-signing/sign-digest/" + c.id;
  ASSERT_EQ(call("POST", target, json{{"algorithm", "SHA256"}, {"value", base64_encode(digest)}}).status, 200);
  auto e = sink.last();
  EXPECT_EQ(e.type, "signature.create");
  EXPECT_EQ(e.outcome, "success");
  EXPECT_EQ(e.details["credential_id"], c.id);
  EXPECT_EQ(e.details["api"], "dss");
  EXPECT_EQ(e.details["algorithm"], "ecdsa-sha256");
  EXPECT_EQ(e.details["document.1.digest"], "sha256:" + hex_encode(digest));

  // A refused signature is recorded as a failure.
  EXPECT_EQ(call("POST", "/services/rest/server-signing/sign-with-signature-algo/" + c.id + "/RSA_SHA256",
                 json{{"bytes", "AA=="}}).status, 400);
  EXPECT_EQ(sink.last().outcome, "failure");
  EXPECT_EQ(sink.last().details["error"], "invalid_argument");

  // The log refuses the record: 503 and no signature value.
  sink.fail_append = true;
  const auto r = call("POST", target, json{{"algorithm", "SHA256"}, {"value", base64_encode(digest)}});
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body["code"], "audit_unavailable");
  EXPECT_FALSE(r.body.contains("value"));
  sink.fail_append = false;
  sink.unavailable = true;
  EXPECT_EQ(call("POST", target, json{{"algorithm", "SHA256"}, {"value", base64_encode(digest)}}).status, 503);
  signing_->set_audit(nullptr);
}

}  // namespace
}  // namespace sigil::admin::test
