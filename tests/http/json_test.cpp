#include "sigil/http/json.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "sigil/common/error.hpp"

namespace sigil::http {
namespace {

Errc error_of(std::string_view body, unsigned max_depth) {
  try {
    (void)parse_json_bounded(body, max_depth);
  } catch (const Error& e) {
    return e.code();
  }
  return Errc::internal;  // "no error" marker for these tests
}

TEST(JsonBounded, DepthBoundaryIsExact) {
  EXPECT_EQ(parse_json_bounded("[[[1]]]", 3), nlohmann::json::parse("[[[1]]]"));
  EXPECT_EQ(error_of("[[[[1]]]]", 3), Errc::json_too_deep);
  EXPECT_NO_THROW((void)parse_json_bounded(R"({"a":{"b":[]}})", 3));
  EXPECT_EQ(error_of(R"({"a":{"b":[{}]}})", 3), Errc::json_too_deep);
  EXPECT_NO_THROW((void)parse_json_bounded("42", 0));
  EXPECT_EQ(error_of("[]", 0), Errc::json_too_deep);
}

TEST(JsonBounded, BracketsInsideStringsDoNotCount) {
  EXPECT_NO_THROW((void)parse_json_bounded(R"(["[[[[{{{{"])", 1));
  EXPECT_NO_THROW((void)parse_json_bounded(R"(["\"[[[[", "\\", "]]]"])", 1));
  EXPECT_NO_THROW((void)parse_json_bounded(R"({"k[":"v{"})", 1));
}

TEST(JsonBounded, MalformedIsInvalidJsonWithPublicDetail) {
  for (const char* bad : {"{\"a\":}", "[1,2", "", "nul", "{\"a\":1}}", "\"\xff\""}) {
    try {
      (void)parse_json_bounded(bad, 16);
      ADD_FAILURE() << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), Errc::invalid_json) << bad;
      EXPECT_TRUE(e.detail_is_public());
      EXPECT_NE(e.public_description().find("byte"), std::string::npos);
    }
  }
}

TEST(JsonBounded, MillionDeepInputRejectedQuickly) {
  const std::string deep(1'000'000, '[');
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(error_of(deep, 64), Errc::json_too_deep);
  std::string balanced = deep + std::string(1'000'000, ']');
  EXPECT_EQ(error_of(balanced, 64), Errc::json_too_deep);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));  // generous: it is O(n)
}

}  // namespace
}  // namespace sigil::http
