#include "sigil/common/encoding.hpp"

#include <gtest/gtest.h>

#include "sigil/common/error.hpp"

namespace sigil {
namespace {

TEST(Encoding, HexRoundTrip) {
  const std::vector<std::uint8_t> data = {0x00, 0x01, 0xab, 0xff};
  EXPECT_EQ(hex_encode(data), "0001abff");
  EXPECT_EQ(hex_decode("0001ABff"), data);
  EXPECT_THROW(hex_decode("abc"), Error);
  EXPECT_THROW(hex_decode("zz"), Error);
}

TEST(Encoding, Base64Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base64_encode(as_bytes(plain)), encoded);
    const auto decoded = base64_decode(encoded);
    EXPECT_EQ(std::string(decoded.begin(), decoded.end()), plain);
  }
}

TEST(Encoding, Base64UrlHasNoPaddingAndDecodes) {
  const std::vector<std::uint8_t> data = {0xfb, 0xff, 0xfe};
  EXPECT_EQ(base64url_encode(data), "-__-");
  EXPECT_EQ(base64_decode("-__-"), data);
  EXPECT_EQ(base64_decode("+//+"), data);
  EXPECT_THROW(base64_decode("a"), Error);
  EXPECT_THROW(base64_decode("ab!d"), Error);
}

}  // namespace
}  // namespace sigil
