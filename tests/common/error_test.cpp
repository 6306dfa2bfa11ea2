#include "sigil/common/error.hpp"

#include <gtest/gtest.h>

#include <set>

namespace sigil {
namespace {

TEST(ErrorRegistry, EveryCodeHasADistinctNameAndAStatus) {
  const Errc codes[] = {Errc::internal, Errc::bad_request, Errc::payload_too_large, Errc::json_too_deep,
                        Errc::config_unknown_key, Errc::store_unavailable, Errc::hsm_pin_incorrect,
                        Errc::cert_key_mismatch, Errc::audit_unavailable, Errc::unauthorized};
  std::set<std::string_view> names;
  for (const auto c : codes) {
    const auto& info = error_info(c);
    EXPECT_EQ(info.code, c);
    EXPECT_TRUE(names.insert(info.name).second) << info.name;
    EXPECT_GE(info.http_status, 400);
    EXPECT_LT(info.http_status, 600);
    EXPECT_FALSE(info.public_message.empty());
    EXPECT_NE(info.exit_code, 0);
  }
  EXPECT_EQ(error_info(Errc::payload_too_large).http_status, 413);
  EXPECT_EQ(error_info(Errc::audit_unavailable).http_status, 503);
}

TEST(Error, InternalDetailIsNotPublic) {
  const Error e(Errc::hsm_pin_incorrect, "C_Login returned CKR_PIN_INCORRECT on slot 3");
  EXPECT_EQ(e.public_description(), "Signing device unavailable");
  EXPECT_NE(std::string(e.what()).find("CKR_PIN_INCORRECT"), std::string::npos);
  const Error p(Errc::invalid_argument, "field 'hash' is missing", true);
  EXPECT_EQ(p.public_description(), "field 'hash' is missing");
}

TEST(Error, UnknownCodeFallsBackToInternal) {
  EXPECT_EQ(error_info(static_cast<Errc>(99999)).code, Errc::internal);
}

}  // namespace
}  // namespace sigil

#include "sigil/common/signing.hpp"

TEST(SignatureLevel, ParsesEveryCommonSpelling) {
  using sigil::SignatureLevel;
  EXPECT_EQ(sigil::parse_level("B-B"), SignatureLevel::b_b);
  EXPECT_EQ(sigil::parse_level("b-t"), SignatureLevel::b_t);
  EXPECT_EQ(sigil::parse_level("PAdES_BASELINE_LT"), SignatureLevel::b_lt);
  EXPECT_EQ(sigil::parse_level("XAdES-BASELINE-LTA"), SignatureLevel::b_lta);
  EXPECT_EQ(sigil::parse_level("LTA"), SignatureLevel::b_lta);
  EXPECT_EQ(sigil::level_name(SignatureLevel::b_lt), "B-LT");
  EXPECT_THROW(sigil::parse_level("B-X"), sigil::Error);
  EXPECT_THROW(sigil::parse_level(""), sigil::Error);
}
