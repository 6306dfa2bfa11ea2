// TOTP/HOTP enrolments: otpauth:// URI + QR PNG, ±1 step, replay refused across the service.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <regex>

#include "otp_fixture.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/otp/totp.hpp"

namespace sigil::otp::test {
namespace {

class TotpTest : public OtpStoreTest {
 protected:
  TotpTest() : enrolments_(db(), clock_, box_) {}

  // The seed, read back from the URI as an authenticator app would.
  static Bytes seed_of(const std::string& uri) {
    std::smatch m;
    const std::regex re("secret=([A-Z2-7]+)");
    EXPECT_TRUE(std::regex_search(uri, m, re)) << uri;
    return base32_decode(m[1].str());
  }
  std::int64_t now() const { return to_unix(clock_.now()); }
  VerifyResult check(const std::string& code, OtpKind kind = OtpKind::totp) {
    return enrolments_.verify(user_, kind, SecretString(code), TotpOptions{});
  }

  OtpEnrolments enrolments_;
};

TEST_F(TotpTest, EnrolmentGivesUriAndQrPng) {
  const Enrolment e = enrolments_.enrol(user_, "alice", OtpKind::totp);
  EXPECT_TRUE(e.uri.starts_with("otpauth://totp/Sigil:alice?secret=")) << e.uri;
  EXPECT_NE(e.uri.find("&issuer=Sigil&algorithm=SHA1&digits=6&period=30"), std::string::npos) << e.uri;
  EXPECT_EQ(seed_of(e.uri).size(), 20u);
  ASSERT_GT(e.qr_png.size(), 8u);
  const Bytes png_magic{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  EXPECT_TRUE(std::equal(png_magic.begin(), png_magic.end(), e.qr_png.begin()));
  EXPECT_FALSE(e.confirmed);
  EXPECT_TRUE(enrolments_.enrolled(user_, OtpKind::totp));
}

TEST_F(TotpTest, SeedIsNotStoredInTheClear) {
  const Enrolment e = enrolments_.enrol(user_, "alice", OtpKind::totp);
  const Bytes seed = seed_of(e.uri);
  const auto row = db().query_one("SELECT secret FROM otp_enrolments WHERE user_id = $1", {user_});
  ASSERT_TRUE(row);
  const std::string stored = row->get_text(0);
  EXPECT_EQ(stored.find(base32_encode(seed)), std::string::npos);
  EXPECT_EQ(stored.find(hex_encode(seed)), std::string::npos);
  EXPECT_EQ(stored.find(base64_encode(seed)), std::string::npos);
}

TEST_F(TotpTest, AcceptsOneStepEitherSideAndNoMore) {
  const Bytes seed = seed_of(enrolments_.enrol(user_, "alice", OtpKind::totp).uri);
  EXPECT_EQ(check(totp(seed, now() - 60)), VerifyResult::invalid);
  EXPECT_EQ(check(totp(seed, now() + 60)), VerifyResult::invalid);
  EXPECT_EQ(check(totp(seed, now() - 30)), VerifyResult::ok);
  clock_.advance(std::chrono::seconds{90});
  EXPECT_EQ(check(totp(seed, now() + 30)), VerifyResult::ok);
  EXPECT_EQ(check("12345"), VerifyResult::invalid);
  EXPECT_EQ(check("abcdef"), VerifyResult::invalid);
}

TEST_F(TotpTest, UsedCodeCannotBeReplayedNorAnOlderStep) {
  const Bytes seed = seed_of(enrolments_.enrol(user_, "alice", OtpKind::totp).uri);
  const std::string current = totp(seed, now());
  const std::string previous = totp(seed, now() - 30);
  EXPECT_EQ(check(current), VerifyResult::ok);
  EXPECT_EQ(check(current), VerifyResult::replayed);
  EXPECT_EQ(check(previous), VerifyResult::replayed);  // older than the last accepted step
  // A second repository over the same database (another node) sees the same state.
  OtpEnrolments other_node(db(), clock_, box_);
  EXPECT_EQ(other_node.verify(user_, OtpKind::totp, SecretString(current), {}), VerifyResult::replayed);
  clock_.advance(std::chrono::seconds{30});
  EXPECT_EQ(check(totp(seed, now())), VerifyResult::ok);
}

TEST_F(TotpTest, ConfirmedEnrolmentIsNotSilentlyReplaced) {
  const Bytes seed = seed_of(enrolments_.enrol(user_, "alice", OtpKind::totp).uri);
  // Unconfirmed: re-enrolment replaces it.
  const Bytes seed2 = seed_of(enrolments_.enrol(user_, "alice", OtpKind::totp).uri);
  EXPECT_EQ(check(totp(seed, now())), VerifyResult::invalid);
  EXPECT_EQ(check(totp(seed2, now())), VerifyResult::ok);
  EXPECT_SIGIL_ERROR(enrolments_.enrol(user_, "alice", OtpKind::totp), Errc::already_exists);
  EXPECT_TRUE(enrolments_.remove(user_, OtpKind::totp));
  EXPECT_EQ(check(totp(seed2, now())), VerifyResult::not_enrolled);
  EXPECT_SIGIL_ERROR(enrolments_.enrol("nobody", "x", OtpKind::totp), Errc::not_found);
}

TEST_F(TotpTest, HotpCountsAndRefusesReplays) {
  const Enrolment e = enrolments_.enrol(user_, "alice", OtpKind::hotp);
  EXPECT_NE(e.uri.find("otpauth://hotp/"), std::string::npos);
  EXPECT_NE(e.uri.find("&counter=0"), std::string::npos);
  const Bytes seed = seed_of(e.uri);
  EXPECT_EQ(check(hotp(seed, 0), OtpKind::hotp), VerifyResult::ok);
  EXPECT_EQ(check(hotp(seed, 0), OtpKind::hotp), VerifyResult::replayed);
  EXPECT_EQ(check(hotp(seed, 3), OtpKind::hotp), VerifyResult::ok);  // look-ahead resynchronises
  EXPECT_EQ(check(hotp(seed, 2), OtpKind::hotp), VerifyResult::replayed);
  EXPECT_EQ(check(hotp(seed, 40), OtpKind::hotp), VerifyResult::invalid);
  EXPECT_EQ(check(hotp(seed, 4), OtpKind::hotp), VerifyResult::ok);
}

TEST_F(TotpTest, ProviderInterface) {
  const Bytes seed = seed_of(enrolments_.enrol(user_, "alice", OtpKind::totp).uri);
  EnrolledCodeProvider provider(enrolments_, OtpKind::totp);
  EXPECT_EQ(provider.name(), "totp");
  const Subject s{user_, "alice", std::nullopt, std::nullopt};
  EXPECT_FALSE(provider.challenge(s, "tx").delivered);
  EXPECT_EQ(provider.verify(s, "tx", SecretString(totp(seed, now()))), VerifyResult::ok);
}

}  // namespace
}  // namespace sigil::otp::test
