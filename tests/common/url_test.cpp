#include <gtest/gtest.h>

#include "sigil/common/url.hpp"

namespace sigil {
namespace {

const std::vector<std::string> kPrefixes{"https://portal.example/hooks/", "http://127.0.0.1:8080/cb/"};

TEST(UrlUnderPrefix, AcceptsUrlsUnderAPrefix) {
  EXPECT_TRUE(url_under_prefix("https://portal.example/hooks/doc-1", kPrefixes));
  EXPECT_TRUE(url_under_prefix("https://portal.example/hooks/a/b?x=1", kPrefixes));
  EXPECT_TRUE(url_under_prefix("http://127.0.0.1:8080/cb/", kPrefixes));
  EXPECT_TRUE(url_under_prefix("https://portal.example/hooks/v1.2/x", kPrefixes));  // a dot in a name is fine
}

TEST(UrlUnderPrefix, RefusesOtherPlacesAndWaysOut) {
  EXPECT_FALSE(url_under_prefix("https://portal.example/other", kPrefixes));
  EXPECT_FALSE(url_under_prefix("https://portal.example.attacker.net/hooks/", kPrefixes));
  EXPECT_FALSE(url_under_prefix("https://portal.example/hooks/../admin", kPrefixes));
  EXPECT_FALSE(url_under_prefix("https://portal.example/hooks/./x", kPrefixes));
  EXPECT_FALSE(url_under_prefix("https://portal.example/hooks/..", kPrefixes));
  EXPECT_FALSE(url_under_prefix("https://portal.example/hooks/%2e%2e/admin", kPrefixes));
  EXPECT_FALSE(url_under_prefix("https://portal.example/hooks/%2E%2E/admin", kPrefixes));
  EXPECT_FALSE(url_under_prefix("https://portal.example/hooks/a\\..\\b", kPrefixes));
  EXPECT_FALSE(url_under_prefix("https://portal.example/hooks/a b", kPrefixes));
  EXPECT_FALSE(url_under_prefix("https://portal.example/hooks/\r\nX: y", kPrefixes));
  EXPECT_FALSE(url_under_prefix("https://portal.example/hooks/x", {}));
}

}  // namespace
}  // namespace sigil
