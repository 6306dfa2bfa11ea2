#include "sigil/http/message.hpp"

#include <gtest/gtest.h>

namespace sigil::http {
namespace {

TEST(Message, SetTargetSplitsPathAndDecodesQuery) {
  Request r;
  r.set_target("/api/x%20y?a=1&b=hello+world&c=%2F&a=2&flag");
  EXPECT_EQ(r.path, "/api/x%20y");  // the path stays raw; the router decodes parameters
  EXPECT_EQ(r.query.count("a"), 2u);
  EXPECT_EQ(r.query_param("b"), "hello world");
  EXPECT_EQ(r.query_param("c"), "/");
  EXPECT_EQ(r.query_param("flag"), "");
  EXPECT_FALSE(r.query_param("zzz"));
}

TEST(Message, SetTargetRejectsBadInput) {
  Request r;
  for (const char* bad : {"/x?a=%zz", "/x?a=%4", "http://host/x", "*", ""}) {
    try {
      r.set_target(bad);
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::bad_request) << bad;
    }
  }
}

TEST(Message, HeaderLookupIsCaseInsensitive) {
  Request r;
  r.headers = {{"Content-Type", "application/json"}, {"X-Thing", "1"}, {"x-thing", "2"}};
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.header("X-THING"), "1");
  EXPECT_FALSE(r.header("missing"));
}

TEST(Message, ErrorResponseUsesRegistryAndHidesInternalDetail) {
  const auto res = Response::error(Error(Errc::hsm_pin_incorrect, "CKR_PIN_INCORRECT on slot 3"));
  EXPECT_EQ(res.status, 503);
  const auto body = nlohmann::json::parse(res.body);
  EXPECT_EQ(body["error"], "temporarily_unavailable");
  EXPECT_EQ(body["error_description"], "Signing device unavailable");
  EXPECT_EQ(res.body.find("CKR_"), std::string::npos);

  const auto pub = Response::error(Error(Errc::bad_request, "missing field 'hash'", true));
  EXPECT_EQ(pub.status, 400);
  EXPECT_EQ(nlohmann::json::parse(pub.body)["error_description"], "missing field 'hash'");
}

TEST(Message, JsonResponseSurvivesInvalidUtf8) {
  const auto res = Response::json(200, {{"name", std::string("bad \xff byte")}});
  EXPECT_EQ(res.status, 200);
  EXPECT_TRUE(nlohmann::json::accept(res.body));
}

TEST(Message, JsonBodyRefusesSpooledBodies) {
  Request r;
  r.body_file = "/tmp/x";
  try {
    (void)r.json_body();
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::payload_too_large);
  }
}

}  // namespace
}  // namespace sigil::http
