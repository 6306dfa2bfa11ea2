// TOTP (RFC 6238) and HOTP (RFC 4226) enrolments and the providers that check them.
//
// State lives in the store (table otp_enrolments) so every node sees it and it survives restarts:
// the seed sealed by a SecretBox, and for TOTP the last accepted step, for HOTP the next counter.
// Accepting a code advances that value with a compare-and-set UPDATE, so a code is accepted once
// across the whole service, even when two nodes see it at the same moment.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sigil/common/clock.hpp"
#include "sigil/otp/otp.hpp"
#include "sigil/otp/provider.hpp"
#include "sigil/otp/secret_box.hpp"
#include "sigil/store/database.hpp"

namespace sigil::otp {

enum class OtpKind { totp, hotp };

struct EnrolmentOptions {
  HmacAlg algorithm = HmacAlg::sha1;  // what authenticator apps support everywhere
  unsigned digits = 6;
  unsigned period = 30;               // TOTP only
  std::size_t secret_bytes = 20;      // 160 bits, RFC 4226 §4 recommendation
  std::string issuer = "Sigil";       // shown by authenticator apps
};

struct Enrolment {
  std::string id;
  std::string user_id;
  OtpKind kind = OtpKind::totp;
  std::string uri;  // otpauth://totp/Issuer:alice?secret=...&issuer=...; contains the seed: show once
  Bytes qr_png;     // the URI as a QR code PNG (empty if built without libqrencode)
  bool confirmed = false;
};

struct TotpOptions {
  unsigned window = 1;         // TOTP: steps accepted either side of now (±1 = RFC 6238 §5.2 advice)
  unsigned hotp_look_ahead = 10;  // HOTP: counters accepted ahead of the stored one (resync)
};

class OtpEnrolments {
 public:
  // `db`, `clock` and `box` must outlive this object.
  OtpEnrolments(store::Database& db, const Clock& clock, const SecretBox& box);

  // A new seed for the user (replaces an unconfirmed enrolment of the same kind; a confirmed one
  // is Error(already_exists): remove it first). Error(not_found) for an unknown user.
  Enrolment enrol(const std::string& user_id, const std::string& account_name, OtpKind kind,
                  const EnrolmentOptions& options = {});
  // Removes the user's enrolment of that kind; false if there was none.
  bool remove(std::string_view user_id, OtpKind kind);
  bool enrolled(std::string_view user_id, OtpKind kind);

  // Checks (and consumes) a code. An unconfirmed enrolment becomes confirmed by its first good code.
  VerifyResult verify(std::string_view user_id, OtpKind kind, const SecretString& code, const TotpOptions& options);

 private:
  store::Database& db_;
  const Clock& clock_;
  const SecretBox& box_;
};

// The providers "totp" and "hotp" over OtpEnrolments: challenge() sends nothing.
class EnrolledCodeProvider final : public Provider {
 public:
  EnrolledCodeProvider(OtpEnrolments& enrolments, OtpKind kind, TotpOptions options = {});
  std::string_view name() const noexcept override { return kind_ == OtpKind::totp ? "totp" : "hotp"; }
  Challenge challenge(const Subject& subject, std::string_view transaction_id) override;
  VerifyResult verify(const Subject& subject, std::string_view transaction_id, const SecretString& code) override;

 private:
  OtpEnrolments& enrolments_;
  OtpKind kind_;
  TotpOptions options_;
};

// otpauth://<totp|hotp>/<issuer>:<account>?secret=<base32>&issuer=<issuer>&algorithm=..&digits=..&period=..
// (counter=0 for HOTP), percent-encoded per the Key Uri Format.
std::string otpauth_uri(OtpKind kind, std::span<const std::uint8_t> secret, const std::string& account,
                        const EnrolmentOptions& options);

// The text as a QR code PNG (8-bit grey, 4-module quiet zone, `scale` pixels a module).
// Error(unsupported) when built without libqrencode.
Bytes qr_png(std::string_view text, unsigned scale = 6);

}  // namespace sigil::otp
