#include "sigil/otp/totp.hpp"

#include <cstdio>

#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"

namespace sigil::otp {
namespace {

std::string_view kind_name(OtpKind k) { return k == OtpKind::totp ? "totp" : "hotp"; }

std::string percent_encode(std::string_view s) {
  std::string out;
  for (const unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~' || c == '@') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

// Compares `code` with every candidate (no early exit) and returns the index of the match.
std::optional<std::size_t> match(const std::vector<std::string>& candidates, std::string_view code) {
  std::optional<std::size_t> found;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    if (constant_time_equal(candidates[i], code) && !found) found = i;
  }
  return found;
}

}  // namespace

std::string otpauth_uri(OtpKind kind, std::span<const std::uint8_t> secret, const std::string& account,
                        const EnrolmentOptions& o) {
  std::string uri = "otpauth://" + std::string(kind_name(kind)) + "/" + percent_encode(o.issuer) + ":" +
                    percent_encode(account) + "?secret=" + base32_encode(secret) + "&issuer=" + percent_encode(o.issuer) +
                    "&algorithm=" + std::string(hmac_uri_name(o.algorithm)) + "&digits=" + std::to_string(o.digits);
  if (kind == OtpKind::totp) {
    uri += "&period=" + std::to_string(o.period);
  } else {
    uri += "&counter=0";
  }
  return uri;
}

OtpEnrolments::OtpEnrolments(store::Database& db, const Clock& clock, const SecretBox& box)
    : db_(db), clock_(clock), box_(box) {}

Enrolment OtpEnrolments::enrol(const std::string& user_id, const std::string& account_name, OtpKind kind,
                               const EnrolmentOptions& options) {
  if (options.digits < 6 || options.digits > 8) throw Error(Errc::invalid_argument, "OTP digits must be 6..8", true);
  if (kind == OtpKind::totp && (options.period < 15 || options.period > 300)) {
    throw Error(Errc::invalid_argument, "TOTP period must be 15..300 seconds", true);
  }
  if (options.secret_bytes < 16 || options.secret_bytes > 64) throw Error(Errc::invalid_argument, "OTP secret must be 16..64 bytes");
  Bytes secret = random_bytes(options.secret_bytes);
  Enrolment out;
  out.id = hex_encode(random_bytes(16));
  out.user_id = user_id;
  out.kind = kind;
  const std::string sealed = box_.seal(secret, out.id);
  out.uri = otpauth_uri(kind, secret, account_name, options);
  secure_wipe(secret.data(), secret.size());
  const std::int64_t now = to_unix(clock_.now());
  db_.transaction([&](store::Database& tx) {
    if (!tx.query_one("SELECT 1 FROM users WHERE id = $1", {user_id})) throw Error(Errc::not_found, "no user with id " + user_id);
    const auto existing = tx.query_one("SELECT confirmed FROM otp_enrolments WHERE user_id = $1 AND kind = $2",
                                       {user_id, std::string(kind_name(kind))});
    if (existing && existing->get_int(0) != 0) {
      throw Error(Errc::already_exists, "user already has a confirmed " + std::string(kind_name(kind)) + " enrolment", true);
    }
    tx.exec("DELETE FROM otp_enrolments WHERE user_id = $1 AND kind = $2", {user_id, std::string(kind_name(kind))});
    tx.exec("INSERT INTO otp_enrolments (id, user_id, kind, secret, algorithm, digits, period, counter, confirmed, created_at) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9)",
            {out.id, user_id, std::string(kind_name(kind)), sealed, std::string(hmac_name(options.algorithm)),
             std::int64_t{options.digits}, std::int64_t{kind == OtpKind::totp ? options.period : 0},
             std::int64_t{kind == OtpKind::totp ? -1 : 0}, now});
  });
  try {
    out.qr_png = qr_png(out.uri);
  } catch (const Error& e) {
    if (e.code() != Errc::unsupported) throw;
  }
  return out;
}

bool OtpEnrolments::remove(std::string_view user_id, OtpKind kind) {
  return db_.exec("DELETE FROM otp_enrolments WHERE user_id = $1 AND kind = $2",
                  {std::string(user_id), std::string(kind_name(kind))}) > 0;
}

bool OtpEnrolments::enrolled(std::string_view user_id, OtpKind kind) {
  return db_.query_one("SELECT 1 FROM otp_enrolments WHERE user_id = $1 AND kind = $2",
                       {std::string(user_id), std::string(kind_name(kind))})
      .has_value();
}

VerifyResult OtpEnrolments::verify(std::string_view user_id, OtpKind kind, const SecretString& code,
                                   const TotpOptions& options) {
  const auto row = db_.query_one(
      "SELECT id, secret, algorithm, digits, period, counter FROM otp_enrolments WHERE user_id = $1 AND kind = $2",
      {std::string(user_id), std::string(kind_name(kind))});
  if (!row) return VerifyResult::not_enrolled;
  const std::string id = row->get_text("id");
  const auto digits = static_cast<unsigned>(row->get_int("digits"));
  const auto alg = parse_hmac(row->get_text("algorithm"));
  if (!alg) throw Error(Errc::internal, "otp: enrolment " + id + " has an unknown algorithm");
  if (!well_formed_code(code.view(), digits)) return VerifyResult::invalid;

  Bytes secret = box_.open(row->get_text("secret"), id);
  const std::int64_t stored = row->get_int("counter");
  std::vector<std::string> candidates;
  std::vector<std::int64_t> counters;
  if (kind == OtpKind::totp) {
    const auto period = static_cast<unsigned>(row->get_int("period"));
    const auto now_step = static_cast<std::int64_t>(totp_step(to_unix(clock_.now()), period));
    for (std::int64_t s = now_step - options.window; s <= now_step + static_cast<std::int64_t>(options.window); ++s) {
      if (s < 0) continue;
      counters.push_back(s);
    }
  } else {
    // A few counters behind the stored one, only to tell "replayed" from "invalid".
    for (std::int64_t c = std::max<std::int64_t>(0, stored - 3); c <= stored + options.hotp_look_ahead; ++c) counters.push_back(c);
  }
  for (const std::int64_t c : counters) candidates.push_back(hotp(secret, static_cast<std::uint64_t>(c), digits, *alg));
  secure_wipe(secret.data(), secret.size());
  const auto hit = match(candidates, code.view());
  for (auto& c : candidates) secure_wipe(c.data(), c.size());
  if (!hit) return VerifyResult::invalid;
  const std::int64_t matched = counters[*hit];

  if (kind == OtpKind::totp) {
    if (matched <= stored) return VerifyResult::replayed;
    // Compare-and-set: of two nodes accepting the same step at once, one wins.
    const auto changed = db_.exec("UPDATE otp_enrolments SET counter = $1, confirmed = 1 WHERE id = $2 AND counter < $1",
                                  {matched, id});
    return changed == 1 ? VerifyResult::ok : VerifyResult::replayed;
  }
  if (matched < stored) return VerifyResult::replayed;
  const auto changed = db_.exec("UPDATE otp_enrolments SET counter = $1, confirmed = 1 WHERE id = $2 AND counter = $3",
                                {matched + 1, id, stored});
  return changed == 1 ? VerifyResult::ok : VerifyResult::replayed;
}

EnrolledCodeProvider::EnrolledCodeProvider(OtpEnrolments& enrolments, OtpKind kind, TotpOptions options)
    : enrolments_(enrolments), kind_(kind), options_(options) {}

Challenge EnrolledCodeProvider::challenge(const Subject&, std::string_view) { return Challenge{}; }

VerifyResult EnrolledCodeProvider::verify(const Subject& subject, std::string_view, const SecretString& code) {
  return enrolments_.verify(subject.user_id, kind_, code, options_);
}

}  // namespace sigil::otp
