#include "sigil/common/secure.hpp"

#include <gtest/gtest.h>

#include <set>

namespace sigil {
namespace {

TEST(Secure, ConstantTimeEqual) {
  EXPECT_TRUE(constant_time_equal("123456", "123456"));
  EXPECT_FALSE(constant_time_equal("123456", "123457"));
  EXPECT_FALSE(constant_time_equal("123456", "1234567"));
  EXPECT_FALSE(constant_time_equal("", "a"));
  EXPECT_TRUE(constant_time_equal("", ""));
}

TEST(Secure, SecretStringMovesAndClears) {
  SecretString a(std::string("pin-1234"));
  SecretString b(std::move(a));
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): moved-from state is specified
  EXPECT_EQ(b.view(), "pin-1234");
  b.clear();
  EXPECT_TRUE(b.empty());
}

TEST(Secure, RandomTokensDiffer) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(seen.insert(random_token(16)).second);
  EXPECT_EQ(random_token(32).size(), 43u);
}

}  // namespace
}  // namespace sigil
