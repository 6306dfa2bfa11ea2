#include "sigil/http/router.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace sigil::http {
namespace {

Request make(std::string method, std::string target) {
  Request r;
  r.method = std::move(method);
  r.set_target(std::move(target));
  return r;
}

nlohmann::json body_of(const Response& r) {
  return nlohmann::json::parse(r.body);
}

Handler echo_params() {
  return [](Request& req) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [k, v] : req.path_params) j[k] = v;
    j["route"] = req.route;
    return Response::json(200, j);
  };
}

TEST(Router, MatchesPathParams) {
  Router router;
  router.add("GET", "/api/admin/v1/users/{id}/keys/{key}", AuthRequirement::none(), echo_params());
  auto req = make("GET", "/api/admin/v1/users/a%20b/keys/k1?x=1");
  const auto res = router.dispatch(req);
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(body_of(res)["id"], "a b");
  EXPECT_EQ(body_of(res)["key"], "k1");
  EXPECT_EQ(body_of(res)["route"], "/api/admin/v1/users/{id}/keys/{key}");
}

TEST(Router, LiteralSegmentsBeatParameters) {
  Router router;
  router.add("GET", "/users/{id}", AuthRequirement::none(), [](Request&) { return Response::json(200, "param"); });
  router.add("GET", "/users/me", AuthRequirement::none(), [](Request&) { return Response::json(200, "literal"); });
  auto me = make("GET", "/users/me");
  EXPECT_EQ(body_of(router.dispatch(me)), "literal");
  auto other = make("GET", "/users/42");
  EXPECT_EQ(body_of(router.dispatch(other)), "param");
  auto empty = make("GET", "/users/");  // a parameter never matches an empty segment
  EXPECT_EQ(router.dispatch(empty).status, 404);
}

TEST(Router, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  Router router;
  router.add("GET", "/things/{id}", AuthRequirement::none(), echo_params());
  router.add("PUT", "/things/{id}", AuthRequirement::none(), echo_params());
  auto missing = make("GET", "/nothing");
  const auto r404 = router.dispatch(missing);
  EXPECT_EQ(r404.status, 404);
  EXPECT_EQ(body_of(r404)["error"], "not_found");

  auto wrong = make("DELETE", "/things/1");
  const auto r405 = router.dispatch(wrong);
  EXPECT_EQ(r405.status, 405);
  EXPECT_EQ(r405.header("Allow"), "GET, PUT");
  EXPECT_EQ(body_of(r405)["error_description"], "Method not allowed");
}

TEST(Router, RejectsBadPatternsAndDuplicates) {
  Router router;
  router.add("GET", "/a/{id}", AuthRequirement::none(), echo_params());
  EXPECT_THROW(router.add("GET", "/a/{id}", AuthRequirement::none(), echo_params()), Error);
  EXPECT_THROW(router.add("GET", "no-slash", AuthRequirement::none(), echo_params()), Error);
  EXPECT_THROW(router.add("GET", "/a/x{id}", AuthRequirement::none(), echo_params()), Error);
}

class RouterAuth : public ::testing::Test {
 protected:
  RouterAuth() {
    router.add("GET", "/me", AuthRequirement::authenticated(), [](Request& req) {
      return Response::json(200, {{"id", req.principal->id}});
    });
    router.add("GET", "/admin", AuthRequirement::role_required("admin"),
               [](Request&) { return Response::json(200, "ok"); });
  }
  Router router;
  // "Bearer alice" -> user, "Bearer root" -> admin, anything else -> nobody.
  Authenticator auth = [](const Request& req) -> std::optional<Principal> {
    const auto h = req.header("Authorization");
    if (h == "Bearer alice") return Principal{"u1", "alice", {"user"}, {}};
    if (h == "Bearer root") return Principal{"u0", "root", {"user", "admin"}, {}};
    return std::nullopt;
  };
};

TEST_F(RouterAuth, MissingCredentialsAre401WithChallenge) {
  auto req = make("GET", "/me");
  const auto res = router.dispatch(req, auth);
  EXPECT_EQ(res.status, 401);
  EXPECT_EQ(res.header("WWW-Authenticate"), "Bearer realm=\"sigil\"");
  EXPECT_EQ(body_of(res)["error"], "invalid_client");
  // No authenticator at all: fail closed.
  auto req2 = make("GET", "/me");
  req2.headers = {{"Authorization", "Bearer root"}};
  EXPECT_EQ(router.dispatch(req2).status, 401);
}

TEST_F(RouterAuth, MissingRoleIs403AndPrincipalIsSet) {
  auto user = make("GET", "/admin");
  user.headers = {{"authorization", "Bearer alice"}};
  EXPECT_EQ(router.dispatch(user, auth).status, 403);

  auto admin = make("GET", "/admin");
  admin.headers = {{"Authorization", "Bearer root"}};
  EXPECT_EQ(router.dispatch(admin, auth).status, 200);

  auto me = make("GET", "/me");
  me.headers = {{"Authorization", "Bearer alice"}};
  const auto res = router.dispatch(me, auth);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(body_of(res)["id"], "u1");
  ASSERT_TRUE(me.principal);
  EXPECT_EQ(me.principal->name, "alice");
}

TEST_F(RouterAuth, AuthenticatorErrorsUseTheErrorModel) {
  Authenticator locked = [](const Request&) -> std::optional<Principal> {
    throw Error(Errc::user_locked, "5 failed logins for alice");
  };
  auto req = make("GET", "/me");
  const auto res = router.dispatch(req, locked);
  EXPECT_EQ(res.status, 403);
  EXPECT_EQ(res.body.find("alice"), std::string::npos);
}

TEST(Router, HandlerErrorsMapToRegistryWithoutInternalDetail) {
  Router router;
  router.add("POST", "/sign", AuthRequirement::none(),
             [](Request&) -> Response { throw Error(Errc::hsm_key_not_found, "CKA_ID 0xdeadbeef missing in slot 7"); });
  router.add("POST", "/boom", AuthRequirement::none(),
             [](Request&) -> Response { throw std::runtime_error("std::bad_thing at secret.cpp:42"); });
  router.add("POST", "/public", AuthRequirement::none(),
             [](Request&) -> Response { throw Error(Errc::invalid_argument, "field 'hashAlgo' is required", true); });

  auto sign = make("POST", "/sign");
  const auto r1 = router.dispatch(sign);
  EXPECT_EQ(r1.status, 404);
  EXPECT_EQ(body_of(r1)["error"], "invalid_request");
  EXPECT_EQ(body_of(r1)["error_description"], "Key not found");
  EXPECT_EQ(r1.body.find("deadbeef"), std::string::npos);

  auto boom = make("POST", "/boom");
  const auto r2 = router.dispatch(boom);
  EXPECT_EQ(r2.status, 500);
  EXPECT_EQ(body_of(r2)["error"], "server_error");
  EXPECT_EQ(r2.body.find("secret"), std::string::npos);

  auto pub = make("POST", "/public");
  const auto r3 = router.dispatch(pub);
  EXPECT_EQ(r3.status, 400);
  EXPECT_EQ(body_of(r3)["error_description"], "field 'hashAlgo' is required");
}

}  // namespace
}  // namespace sigil::http
