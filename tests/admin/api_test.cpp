// The admin REST API in-process: http::Router::dispatch with hand-built requests, no sockets.
#include <algorithm>
#include <cctype>
#include <cstring>

#include "fixture.hpp"
#include "recording_sink.hpp"
#include "sigil/api/admin.hpp"
#include "sigil/http/router.hpp"

namespace sigil::admin::test {
namespace {

using nlohmann::json;

class AdminApi : public AdminTest {
 protected:
  AdminApi() {
    admin_id_ = make_user("root-admin", {store::Role::admin});
    api::admin::register_routes(router_, *svc_, clock_, pki_dir(), audit_,
                                {[this](const std::string& user_id) {
                                  if (revoke_fails_) throw Error(Errc::store_unavailable, "store down");
                                  revoked_.push_back(user_id);
                                }});
  }
  std::vector<std::string> revoked_;  // users whose sessions the routes ended (UserSessions::revoke)
  bool revoke_fails_ = false;

  struct Result {
    int status;
    json body;  // null for an empty body
  };

  // `as`: "admin", "signer" (a principal without the admin role), "" (anonymous), or
  // "Bearer <key>" (a real API key, checked by the store).
  Result call(const std::string& method, const std::string& target, const std::string& body = {},
              const std::string& as = "admin") {
    http::Request req;
    req.method = method;
    req.set_target(target);
    req.body = body;
    req.body_size = body.size();
    req.remote_address = "198.51.100.9";
    req.request_id = "req-test";
    if (as.rfind("Bearer ", 0) == 0) req.headers.emplace_back("Authorization", as);
    const auto authenticator = [&](const http::Request& r) -> std::optional<http::Principal> {
      if (as == "admin") return http::Principal{admin_id_, "root-admin", {"admin"}, {}};
      if (as == "signer") return http::Principal{"someone", "someone", {"signer"}, {}};
      const auto h = r.header("Authorization");
      if (!h) return std::nullopt;
      const auto user_id = store_->api_keys().authenticate(h->substr(7));
      if (!user_id) return std::nullopt;
      http::Principal p{*user_id, "", {}, {}};
      const auto user = store_->users().get(*user_id);  // a named copy: ranging over a temporary's member dangles
      for (const auto role : user->roles) p.roles.emplace_back(store::to_string(role));
      return p;
    };
    const auto res = router_.dispatch(req, authenticator);
    return {res.status, res.body.empty() ? json() : json::parse(res.body)};
  }
  Result post(const std::string& target, const json& body) { return call("POST", target, body.dump()); }

  // Error bodies carry exactly the error model ({error, error_description} plus http's optional
  // registry `code`), and a description that mentions `needle`.
  static void expect_error(const Result& r, int status, const std::string& needle = {}) {
    EXPECT_EQ(r.status, status) << r.body.dump();
    ASSERT_TRUE(r.body.is_object()) << r.body.dump();
    EXPECT_TRUE(r.body.contains("error"));
    ASSERT_TRUE(r.body.contains("error_description"));
    EXPECT_EQ(r.body.size(), r.body.contains("code") ? 3u : 2u) << r.body.dump();
    if (!needle.empty()) {
      EXPECT_NE(r.body["error_description"].get<std::string>().find(needle), std::string::npos) << r.body.dump();
    }
  }

  sigil::test::RecordingSink audit_;
  http::Router router_;
  std::string admin_id_;
};

constexpr const char* kBase = "/api/admin/v1";
std::string at(const std::string& path) {
  return kBase + path;
}

// Every admin route; the OpenAPI test below keeps schemas/admin.openapi.yaml in step with it.
const std::vector<std::pair<std::string, std::string>> kRoutes = {
    {"GET", "/token"},
    {"GET", "/token/mechanisms"},
    {"POST", "/keys"},
    {"GET", "/keys"},
    {"GET", "/keys/{label}"},
    {"DELETE", "/keys/{label}"},
    {"POST", "/keys/{label}/csr"},
    {"PUT", "/keys/{label}/certificate"},
    {"POST", "/keys/{label}/certificate/issue"},
    {"POST", "/credentials"},
    {"GET", "/credentials"},
    {"GET", "/credentials/{id}"},
    {"POST", "/credentials/{id}/assign"},
    {"POST", "/credentials/{id}/disable"},
    {"POST", "/credentials/{id}/enable"},
    {"POST", "/users"},
    {"GET", "/users"},
    {"GET", "/users/{username}"},
    {"POST", "/users/{username}/disable"},
    {"POST", "/users/{username}/enable"},
    {"POST", "/users/{username}/unlock"},
    {"PUT", "/users/{username}/password"},
    {"POST", "/users/{username}/apikeys"},
    {"GET", "/users/{username}/apikeys"},
    {"DELETE", "/apikeys/{id}"},
};

std::string concrete(std::string path) {
  for (const char* p : {"{label}", "{id}", "{username}"}) {
    if (const auto at_pos = path.find(p); at_pos != std::string::npos) path.replace(at_pos, std::strlen(p), "x");
  }
  return path;
}

TEST_F(AdminApi, OpenApiDescribesEveryRoute) {
  const std::string yaml = files::read(std::filesystem::path(SIGIL_SOURCE_DIR) / "schemas/admin.openapi.yaml");
  for (const auto& [method, path] : kRoutes) {
    const auto start = yaml.find("\n  " + path + ":\n");
    ASSERT_NE(start, std::string::npos) << path << " missing from the OpenAPI file";
    const auto end = yaml.find("\n  /", start + 1);
    std::string verb = method;
    std::transform(verb.begin(), verb.end(), verb.begin(), [](unsigned char c) { return std::tolower(c); });
    EXPECT_NE(yaml.substr(start, end - start).find("\n    " + verb + ":"), std::string::npos) << method << " " << path;
  }
}

TEST_F(AdminApi, EveryRouteNeedsTheAdminRole) {
  const auto anonymous = call("GET", at("/keys"), {}, "");
  expect_error(anonymous, 401);
  const auto signer = call("GET", at("/users"), {}, "signer");
  expect_error(signer, 403);
  // The registry message only: no principal ids or role names from the internal detail.
  EXPECT_EQ(signer.body["error_description"].get<std::string>().find("someone"), std::string::npos);
  // 403/401 (not 404/405) also proves each route is registered with this method.
  for (const auto& [method, path] : kRoutes) {
    EXPECT_EQ(call(method, at(concrete(path)), "{}", "signer").status, 403) << method << " " << path;
    EXPECT_EQ(call(method, at(concrete(path)), "{}", "").status, 401) << method << " " << path;
  }
}

TEST_F(AdminApi, TokenAndMechanisms) {
  const auto t = call("GET", at("/token"));
  ASSERT_EQ(t.status, 200);
  EXPECT_EQ(t.body["label"], sigil::test::kTokenLabel);
  for (const char* k : {"serial", "keys", "sessions_open", "session_retries"}) EXPECT_TRUE(t.body.contains(k)) << k;
  const auto m = call("GET", at("/token/mechanisms"));
  ASSERT_EQ(m.status, 200);
  ASSERT_FALSE(m.body["mechanisms"].empty());
  EXPECT_TRUE(m.body["mechanisms"][0].contains("name"));
  EXPECT_TRUE(m.body["mechanisms"][0].contains("sign"));
}

TEST_F(AdminApi, KeyLifecycle) {
  make_demo_pki();
  const std::string label = unique("api-key");
  const auto made = post(at("/keys"), {{"label", label}, {"type", "ec-p256"}});
  ASSERT_EQ(made.status, 201) << made.body.dump();
  for (const char* k : {"label", "id", "type", "sensitive", "extractable", "local", "always_sensitive",
                        "never_extractable", "certificate_pem", "chain_pem", "subject", "not_after"}) {
    EXPECT_TRUE(made.body.contains(k)) << k;
  }
  EXPECT_EQ(made.body["type"], "ec-p256");
  EXPECT_EQ(made.body["sensitive"], true);
  EXPECT_TRUE(made.body["certificate_pem"].is_null());

  const auto list = call("GET", at("/keys"));
  ASSERT_EQ(list.status, 200);
  EXPECT_TRUE(std::any_of(list.body["keys"].begin(), list.body["keys"].end(),
                          [&](const json& k) { return k["label"] == label; }));
  EXPECT_EQ(call("GET", at("/keys/" + label)).body["label"], label);

  const auto csr = post(at("/keys/" + label + "/csr"), {{"subject", "CN=Api,C=EU"}});
  ASSERT_EQ(csr.status, 200) << csr.body.dump();
  EXPECT_EQ(ossl::read_csr(csr.body["csr_pem"]).public_key_der, token_->public_key_der(label));

  const auto issued = post(at("/keys/" + label + "/certificate/issue"), {{"subject", "CN=Api,C=EU"}, {"days", 30}});
  ASSERT_EQ(issued.status, 200) << issued.body.dump();
  EXPECT_TRUE(issued.body["certificate_pem"].is_string());
  EXPECT_EQ(ossl::pem_to_der_chain(issued.body["chain_pem"]).size(), 2u);
  EXPECT_NE(issued.body["subject"].get<std::string>().find("CN=Api"), std::string::npos);

  // Re-import of the same certificate via PUT.
  const auto put =
      call("PUT", at("/keys/" + label + "/certificate"),
           json{{"certificate_pem", issued.body["certificate_pem"]}, {"chain_pem", issued.body["chain_pem"]}}.dump());
  ASSERT_EQ(put.status, 200) << put.body.dump();
  EXPECT_EQ(put.body["certificate_pem"], issued.body["certificate_pem"]);

  const auto del = call("DELETE", at("/keys/" + label));
  EXPECT_EQ(del.status, 204);
  EXPECT_TRUE(del.body.is_null());
  expect_error(call("GET", at("/keys/" + label)), 404);
  expect_error(call("DELETE", at("/keys/" + label)), 404);
}

TEST_F(AdminApi, KeyInputErrorsArePublicAndNameTheField) {
  expect_error(post(at("/keys"), {{"type", "ec-p256"}}), 400, "label");
  expect_error(post(at("/keys"), {{"label", unique("x")}}), 400, "type");
  expect_error(post(at("/keys"), {{"label", unique("x")}, {"type", "dsa-1024"}}), 400, "type");
  expect_error(post(at("/keys"), {{"label", 7}, {"type", "ec-p256"}}), 400, "label");
  expect_error(post(at("/keys"), {{"label", "no spaces"}, {"type", "ec-p256"}}), 400, "key label");
  expect_error(call("POST", at("/keys"), "[1,2]"), 400, "object");
  expect_error(call("POST", at("/keys"), "{\"label\":"), 400);  // malformed JSON
  expect_error(post(at("/keys/" + unique("none") + "/csr"), {{"subject", "CN=x"}}), 404);

  const std::string label = unique("api-cert");
  ASSERT_EQ(post(at("/keys"), {{"label", label}, {"type", "ec-p256"}}).status, 201);
  expect_error(call("PUT", at("/keys/" + label + "/certificate"), json{{"certificate_pem", "garbage"}}.dump()), 400,
               "certificate");
  make_demo_pki();
  const std::string other = unique("api-other");
  svc_->generate_key(other, KeySpec::parse("ec-p256"));
  const auto mismatch =
      call("PUT", at("/keys/" + label + "/certificate"),
           json{{"certificate_pem", ossl::der_to_pem(demo_leaf(token_->public_key_der(other)))}}.dump());
  expect_error(mismatch, 400, "public key");
  EXPECT_EQ(mismatch.body["error"], "invalid_request");
  if (mismatch.body.contains("code")) {
    EXPECT_EQ(mismatch.body["code"], "cert_key_mismatch");
  }
  expect_error(post(at("/keys/" + label + "/certificate/issue"), {{"subject", "CN=x"}, {"days", 0}}), 400, "days");
  expect_error(post(at("/keys/" + label + "/certificate/issue"), {{"subject", "CN=x"}, {"profile", "root"}}), 400,
               "profile");
}

TEST_F(AdminApi, CredentialsFlow) {
  make_user("hana");
  make_user("ivan");
  const KeyView key = certified_key("api-cred");
  const auto made = post(at("/credentials"), {{"owner", "hana"},
                                              {"key_label", key.key.label},
                                              {"description", "test"},
                                              {"algorithms", {"ecdsa-sha256"}},
                                              {"scal", 1},
                                              {"second_factor", "pin"}});
  ASSERT_EQ(made.status, 201) << made.body.dump();
  for (const char* k : {"id", "owner", "key_label", "description", "algorithms", "scal", "second_factor", "unattended",
                        "status", "certificate_pem", "chain_pem", "created_at", "updated_at"}) {
    EXPECT_TRUE(made.body.contains(k)) << k;
  }
  const std::string id = made.body["id"];
  EXPECT_EQ(made.body["owner"], "hana");
  EXPECT_EQ(made.body["scal"], 1);
  EXPECT_EQ(made.body["second_factor"], "pin");
  EXPECT_EQ(made.body["status"], "active");
  EXPECT_EQ(made.body["created_at"], "2027-01-15T08:00:00Z");

  EXPECT_EQ(call("GET", at("/credentials?owner=hana")).body["credentials"].size(), 1u);
  EXPECT_EQ(call("GET", at("/credentials?owner=ivan")).body["credentials"].size(), 0u);
  EXPECT_EQ(call("GET", at("/credentials")).body["credentials"].size(), 1u);
  expect_error(call("GET", at("/credentials?owner=nobody")), 404);
  EXPECT_EQ(call("GET", at("/credentials/" + id)).body["id"], id);
  expect_error(call("GET", at("/credentials/cred_missing")), 404);

  EXPECT_EQ(post(at("/credentials/" + id + "/assign"), {{"owner", "ivan"}}).body["owner"], "ivan");
  expect_error(post(at("/credentials/" + id + "/assign"), json::object()), 400, "owner");
  expect_error(post(at("/credentials/" + id + "/assign"), {{"owner", "nobody"}}), 404);
  EXPECT_EQ(call("POST", at("/credentials/" + id + "/disable")).body["status"], "disabled");
  EXPECT_EQ(call("POST", at("/credentials/" + id + "/enable")).body["status"], "active");

  // Deleting the key is refused while the credential exists.
  expect_error(call("DELETE", at("/keys/" + key.key.label)), 409, "credential");

  expect_error(post(at("/credentials"), {{"key_label", key.key.label}}), 400, "owner");
  expect_error(post(at("/credentials"), {{"owner", "hana"}, {"key_label", key.key.label}, {"scal", 5}}), 400, "scal");
  expect_error(post(at("/credentials"), {{"owner", "hana"}, {"key_label", key.key.label}, {"second_factor", "sms"}}),
               400, "second factor");
  expect_error(post(at("/credentials"), {{"owner", "hana"}, {"key_label", key.key.label}, {"unattended", true}}), 400,
               "service");
  expect_error(
      post(at("/credentials"), {{"owner", "hana"}, {"key_label", key.key.label}, {"algorithms", {"rsa-pss-sha256"}}}),
      400, "rsa-pss-sha256");
}

TEST_F(AdminApi, UsersAndOneTimePasswords) {
  const auto made = post(at("/users"), {{"username", "Judy"}, {"display_name", "Judy J"}, {"roles", {"signer"}}});
  ASSERT_EQ(made.status, 201) << made.body.dump();
  ASSERT_TRUE(made.body["password"].is_string());
  const std::string password = made.body["password"];
  EXPECT_GE(password.size(), 12u);
  EXPECT_EQ(made.body["username"], "judy");
  EXPECT_EQ(made.body["has_password"], true);
  EXPECT_EQ(store_->users().verify_password("judy", password, clock_, config::AuthConfig{}), store::VerifyResult::ok);

  const auto got = call("GET", at("/users/judy"));
  ASSERT_EQ(got.status, 200);
  EXPECT_FALSE(got.body.contains("password"));  // shown once, at creation only
  EXPECT_EQ(got.body.dump().find("argon2"), std::string::npos);
  for (const char* k : {"id", "username", "display_name", "email", "mobile", "status", "roles", "has_password",
                        "failed_logins", "locked_until", "created_at", "updated_at"}) {
    EXPECT_TRUE(got.body.contains(k)) << k;
  }

  // Explicit password: not echoed. Service account: no password generated.
  const auto explicit_pw =
      post(at("/users"), {{"username", "kim"}, {"roles", {"auditor"}}, {"password", "a long enough pass"}});
  ASSERT_EQ(explicit_pw.status, 201);
  EXPECT_FALSE(explicit_pw.body.contains("password"));
  const auto service = post(at("/users"), {{"username", "batch"}, {"roles", {"service"}}});
  ASSERT_EQ(service.status, 201);
  EXPECT_FALSE(service.body.contains("password"));
  EXPECT_EQ(service.body["has_password"], false);

  expect_error(post(at("/users"), {{"username", "lee"}, {"roles", {"signer"}}, {"password", "short"}}), 400,
               "password");
  expect_error(post(at("/users"), {{"username", "lee"}, {"roles", {"wizard"}}}), 400, "roles");
  expect_error(post(at("/users"), {{"username", "lee"}}), 400, "roles");
  expect_error(post(at("/users"), {{"username", "judy"}, {"roles", json::array()}}), 409);

  EXPECT_EQ(call("GET", at("/users?role=auditor")).body["users"].size(), 1u);
  EXPECT_EQ(call("GET", at("/users?status=disabled")).body["users"].size(), 0u);
  expect_error(call("GET", at("/users?role=wizard")), 400, "role");
  expect_error(call("GET", at("/users/nobody")), 404);

  EXPECT_EQ(call("POST", at("/users/judy/disable")).body["status"], "disabled");
  EXPECT_EQ(call("POST", at("/users/judy/enable")).body["status"], "active");
  EXPECT_EQ(call("POST", at("/users/judy/unlock")).body["failed_logins"], 0);
  expect_error(call("POST", at("/users/root-admin/disable")), 400, "own account");

  expect_error(call("PUT", at("/users/judy/password"), json{{"password", "too short"}}.dump()), 400, "12");
  EXPECT_EQ(call("PUT", at("/users/judy/password"), json{{"password", "correct horse battery"}}.dump()).status, 204);
  EXPECT_EQ(store_->users().verify_password("judy", "correct horse battery", clock_, config::AuthConfig{}),
            store::VerifyResult::ok);
}

// Disabling a user or setting their password ends their sessions (the daemon wires UserSessions to
// auth::TokenService::revoke_user) before and after the change; enabling, unlocking or a refused
// request does not. A revocation that fails leaves the change undone and the answer an error.
TEST_F(AdminApi, DisableAndPasswordResetEndTheUsersSessions) {
  ASSERT_EQ(post(at("/users"), {{"username", "ivy"}, {"roles", {"signer"}}}).status, 201);
  const auto ivy = store_->users().get_by_username("ivy");
  ASSERT_TRUE(ivy.has_value());
  const std::vector<std::string> twice{ivy->id, ivy->id};
  EXPECT_EQ(call("POST", at("/users/ivy/enable")).status, 200);
  EXPECT_EQ(call("POST", at("/users/ivy/unlock")).status, 200);
  EXPECT_TRUE(revoked_.empty());
  EXPECT_EQ(call("POST", at("/users/ivy/disable")).status, 200);
  EXPECT_EQ(revoked_, twice);
  revoked_.clear();
  expect_error(call("PUT", at("/users/ivy/password"), json{{"password", "short"}}.dump()), 400);
  EXPECT_TRUE(revoked_.empty()) << "a refused password change ends nothing";
  EXPECT_EQ(call("PUT", at("/users/ivy/password"), json{{"password", "a long enough password"}}.dump()).status, 204);
  EXPECT_EQ(revoked_, twice);
  revoked_.clear();
  expect_error(call("POST", at("/users/root-admin/disable")), 400, "own account");
  EXPECT_TRUE(revoked_.empty());

  // The store cannot revoke: nothing changes, and the answer says so.
  EXPECT_EQ(call("POST", at("/users/ivy/enable")).status, 200);
  revoke_fails_ = true;
  EXPECT_GE(call("POST", at("/users/ivy/disable")).status, 500);
  EXPECT_EQ(store_->users().get(ivy->id)->status, store::UserStatus::active) << "disabled without revoking";
  EXPECT_GE(call("PUT", at("/users/ivy/password"), json{{"password", "another long password"}}.dump()).status, 500);
  EXPECT_EQ(store_->users().verify_password("ivy", "a long enough password", clock_, config::AuthConfig{}),
            store::VerifyResult::ok)
      << "the password changed without revoking";
}

TEST_F(AdminApi, ApiKeysAreShownOnceAndAuthenticate) {
  ASSERT_EQ(post(at("/users"), {{"username", "ops"}, {"roles", {"admin", "service"}}}).status, 201);
  const auto made = post(at("/users/ops/apikeys"), {{"label", "ci"}});
  ASSERT_EQ(made.status, 201) << made.body.dump();
  const std::string key = made.body["key"];
  EXPECT_EQ(key.rfind("sk_" + made.body["prefix"].get<std::string>() + "_", 0), 0u);
  EXPECT_TRUE(store_->api_keys().authenticate(key));
  // The key works as a Bearer credential for the admin API (ops holds the admin role).
  EXPECT_EQ(call("GET", at("/token"), {}, "Bearer " + key).status, 200);

  const auto list = call("GET", at("/users/ops/apikeys"));
  ASSERT_EQ(list.status, 200);
  ASSERT_EQ(list.body["api_keys"].size(), 1u);
  EXPECT_EQ(list.body["api_keys"][0]["label"], "ci");
  EXPECT_EQ(list.body.dump().find(key.substr(12)), std::string::npos);  // the secret never again

  // An empty body is fine for optional fields.
  EXPECT_EQ(call("POST", at("/users/ops/apikeys")).status, 201);
  expect_error(call("POST", at("/users/nobody/apikeys")), 404);

  EXPECT_EQ(call("DELETE", at("/apikeys/" + made.body["id"].get<std::string>())).status, 204);
  EXPECT_FALSE(store_->api_keys().authenticate(key));
  EXPECT_EQ(call("GET", at("/token"), {}, "Bearer " + key).status, 401);
  expect_error(call("DELETE", at("/apikeys/nope")), 404);
}

// Issue 8: every state-changing admin call leaves one audit record with the acting principal,
// the client address, the objects acted upon and the outcome, and never a secret.
TEST_F(AdminApi, EveryChangeIsAuditedWithThePrincipal) {
  audit_.clear();
  const auto made = post(at("/users"), {{"username", "audrey"}, {"roles", {"signer"}}, {"email", "a@example.org"}});
  ASSERT_EQ(made.status, 201);
  ASSERT_EQ(audit_.events().size(), 1u);
  audit::Event e = audit_.last();
  EXPECT_EQ(e.type, "admin.user.create");
  EXPECT_EQ(e.principal, "root-admin");
  EXPECT_EQ(e.details.at("principal_id"), admin_id_);
  EXPECT_EQ(e.client_address, "198.51.100.9");
  EXPECT_EQ(e.request_id, "req-test");
  EXPECT_EQ(e.outcome, "success");
  EXPECT_EQ(e.details.at("username"), "audrey");
  EXPECT_EQ(e.details.at("roles"), "signer");
  EXPECT_EQ(e.details.at("id"), made.body["id"]);
  EXPECT_FALSE(e.details.count("email"));  // personal data stays in the users table
  const std::string password = made.body["password"];
  for (const auto& [k, v] : e.details) EXPECT_EQ(v.find(password), std::string::npos) << k;

  const auto key = post(at("/users/audrey/apikeys"), {{"label", "ci"}});
  ASSERT_EQ(key.status, 201);
  e = audit_.last();
  EXPECT_EQ(e.type, "admin.apikey.create");
  EXPECT_EQ(e.details.at("username"), "audrey");
  EXPECT_EQ(e.details.at("prefix"), key.body["prefix"]);
  const std::string secret = key.body["key"];
  for (const auto& [k, v] : e.details) EXPECT_EQ(v.find(secret.substr(12)), std::string::npos) << k;

  EXPECT_EQ(call("PUT", at("/users/audrey/password"), json{{"password", "correct horse battery"}}.dump()).status, 204);
  e = audit_.last();
  EXPECT_EQ(e.type, "admin.user.password");
  for (const auto& [k, v] : e.details) EXPECT_EQ(v.find("correct horse"), std::string::npos) << k;

  // A principal without the admin role is refused, and that is audited.
  expect_error(call("GET", at("/users"), {}, "signer"), 403);
  e = audit_.last();
  EXPECT_EQ(e.type, "auth.forbidden");
  EXPECT_EQ(e.principal, "someone");
  EXPECT_EQ(e.details.at("route"), "/api/admin/v1/users");
  EXPECT_EQ(e.details.at("required_role"), "admin");

  // Reads are not audited.
  const auto before = audit_.events().size();
  EXPECT_EQ(call("GET", at("/users")).status, 200);
  EXPECT_EQ(audit_.events().size(), before);

  // A refused change is audited as a failure with its error code.
  expect_error(call("POST", at("/users/nobody/disable")), 404);
  e = audit_.last();
  EXPECT_EQ(e.type, "admin.user.disable");
  EXPECT_EQ(e.outcome, "failure");
  EXPECT_EQ(e.details.at("error"), "user_not_found");
  EXPECT_EQ(e.details.at("username"), "nobody");
}

TEST_F(AdminApi, KeyAndCertificateChangesAreAuditedWithTheFingerprint) {
  make_demo_pki();
  audit_.clear();
  const std::string label = unique("audited");
  ASSERT_EQ(post(at("/keys"), {{"label", label}, {"type", "ec-p256"}}).status, 201);
  EXPECT_EQ(audit_.last().type, "admin.key.generate");
  EXPECT_EQ(audit_.last().details.at("label"), label);
  EXPECT_EQ(audit_.last().details.at("type"), "ec-p256");
  const auto issued = post(at("/keys/" + label + "/certificate/issue"), {{"subject", "CN=Audited,O=Sigil Test,C=EU"}});
  ASSERT_EQ(issued.status, 200) << issued.body.dump();
  const audit::Event e = audit_.last();
  EXPECT_EQ(e.type, "admin.certificate.issue");
  EXPECT_EQ(e.details.at("subject"), issued.body["subject"]);  // as the certificate has it
  const auto info = ossl::inspect_certificate(ossl::read_certificate(issued.body["certificate_pem"].get<std::string>()));
  EXPECT_EQ(e.details.at("certificate_sha256"), info.sha256_fingerprint_hex);
}

TEST_F(AdminApi, FailsClosedWhenTheAuditLogIsDown) {
  // Known down: refused before anything changes.
  audit_.unavailable = true;
  expect_error(post(at("/users"), {{"username", "ghost"}, {"roles", {"signer"}}}), 503);
  EXPECT_FALSE(store_->users().get_by_username("ghost"));
  audit_.unavailable = false;
  // The record cannot be written: the client does not see a success.
  audit_.fail_append = true;
  const auto r = post(at("/users"), {{"username", "ghost2"}, {"roles", {"service"}}});
  expect_error(r, 503);
  EXPECT_EQ(r.body["error"], "temporarily_unavailable");
  audit_.fail_append = false;
  // Reads still work.
  EXPECT_EQ(call("GET", at("/users")).status, 200);
}

TEST_F(AdminApi, TheAuditKeyCannotBeDeletedNorBackACredential) {
  make_demo_pki();
  const auto k = certified_key("audit-like");
  svc_->protect_key(k.key.label, "the audit log's checkpoint key");
  make_user("carol");
  expect_error(post(at("/credentials"), {{"owner", "carol"}, {"key_label", k.key.label}}), 400, "audit");
  expect_error(call("DELETE", at("/keys/" + k.key.label)), 400, "audit");
  EXPECT_TRUE(token_->find_key(k.key.label));
}

}  // namespace
}  // namespace sigil::admin::test
