// RFC 4226 and RFC 6238 test vectors, base32 (RFC 4648) and the sealed-secret box.
#include <gtest/gtest.h>

#include "sigil/common/encoding.hpp"
#include "sigil/otp/otp.hpp"
#include "sigil/otp/secret_box.hpp"
#include "test_util.hpp"

namespace sigil::otp {
namespace {

Bytes key_of(std::string_view s) { return Bytes(s.begin(), s.end()); }

TEST(Hotp, Rfc4226AppendixD) {
  const Bytes key = key_of("12345678901234567890");
  const char* expected[] = {"755224", "287082", "359152", "969429", "338314",
                            "254676", "287922", "162583", "399871", "520489"};
  for (std::uint64_t c = 0; c < 10; ++c) EXPECT_EQ(hotp(key, c), expected[c]) << c;
}

TEST(Totp, Rfc6238AppendixB) {
  const Bytes k1 = key_of("12345678901234567890");
  const Bytes k256 = key_of("12345678901234567890123456789012");
  const Bytes k512 = key_of("1234567890123456789012345678901234567890123456789012345678901234");
  struct Vector {
    std::int64_t t;
    const char* sha1;
    const char* sha256;
    const char* sha512;
  };
  const Vector vectors[] = {
      {59, "94287082", "46119246", "90693936"},           {1111111109, "07081804", "68084774", "25091201"},
      {1111111111, "14050471", "67062674", "99943326"},   {1234567890, "89005924", "91819424", "93441116"},
      {2000000000, "69279037", "90698825", "38618901"},   {20000000000, "65353130", "77737706", "47863826"},
  };
  for (const auto& v : vectors) {
    EXPECT_EQ(totp(k1, v.t, 30, 8, HmacAlg::sha1), v.sha1) << v.t;
    EXPECT_EQ(totp(k256, v.t, 30, 8, HmacAlg::sha256), v.sha256) << v.t;
    EXPECT_EQ(totp(k512, v.t, 30, 8, HmacAlg::sha512), v.sha512) << v.t;
  }
  EXPECT_EQ(totp_step(59), 1u);
  EXPECT_EQ(totp_step(1111111109), 0x23523ECu);
}

TEST(Otp, DigitsAreBounded) {
  EXPECT_SIGIL_ERROR(hotp(key_of("k"), 0, 5), Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(hotp(key_of("k"), 0, 10), Errc::invalid_argument);
}

TEST(Base32, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},         {"f", "MY"},          {"fo", "MZXQ"},
                                                         {"foo", "MZXW6"}, {"foob", "MZXW6YQ"}, {"fooba", "MZXW6YTB"},
                                                         {"foobar", "MZXW6YTBOI"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(base32_encode(as_bytes(plain)), encoded);
    EXPECT_EQ(base32_decode(encoded), key_of(plain));
  }
  EXPECT_EQ(base32_decode("mzxw6ytboi======"), key_of("foobar"));
  EXPECT_SIGIL_ERROR(base32_decode("MZ1"), Errc::invalid_argument);
  EXPECT_SIGIL_ERROR(base32_decode("MY==MY"), Errc::invalid_argument);
}

TEST(Otp, RandomCodesHaveTheRightShape) {
  for (unsigned digits : {6u, 7u, 8u}) {
    const SecretString c = random_code(digits);
    EXPECT_TRUE(well_formed_code(c.view(), digits));
  }
  EXPECT_FALSE(well_formed_code("12345a", 6));
  EXPECT_FALSE(well_formed_code("1234567", 6));
}

TEST(SecretBox, SealsBoundToContext) {
  const SecretBox box(SecretBox::generate_key());
  const Bytes secret = key_of("seed bytes");
  const std::string sealed = box.seal(secret, "row-1");
  EXPECT_EQ(sealed.find("seed"), std::string::npos);
  EXPECT_EQ(box.open(sealed, "row-1"), secret);
  EXPECT_SIGIL_ERROR(box.open(sealed, "row-2"), Errc::crypto);
  const SecretBox other(SecretBox::generate_key());
  EXPECT_SIGIL_ERROR(other.open(sealed, "row-1"), Errc::crypto);
  EXPECT_NE(box.seal(secret, "row-1"), sealed);  // fresh nonce
  EXPECT_EQ(box.mac("x"), box.mac("x"));
  EXPECT_NE(box.mac("x"), other.mac("x"));
  EXPECT_SIGIL_ERROR(SecretBox(key_of("short")), Errc::invalid_argument);
}

}  // namespace
}  // namespace sigil::otp
