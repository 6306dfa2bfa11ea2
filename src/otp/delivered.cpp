#include "sigil/otp/delivered.hpp"

#include "sigil/common/error.hpp"
#include "sigil/common/log.hpp"
#include "sigil/otp/otp.hpp"

namespace sigil::otp {
namespace {

std::string mac_input(std::string_view transaction_id, std::string_view code) {
  std::string s(transaction_id);
  s.push_back('\0');
  s.append(code);
  return s;
}

std::string replace_all(std::string text, std::string_view key, std::string_view value) {
  for (std::size_t pos = text.find(key); pos != std::string::npos; pos = text.find(key, pos + value.size())) {
    text.replace(pos, key.size(), value);
  }
  return text;
}

std::optional<std::string> recipient_of(const Subject& s, std::string_view field) {
  if (field == "email") return s.email;
  if (field == "username") return s.username;
  return s.mobile;
}

}  // namespace

DeliveredCodeProvider::DeliveredCodeProvider(store::Database& db, const Clock& clock, const SecretBox& box,
                                             const ChannelRegistry& channels, DeliveredOptions options)
    : db_(db), clock_(clock), box_(box), channels_(channels), options_(std::move(options)) {
  if (options_.digits < 6 || options_.digits > 8) throw Error(Errc::config_invalid, "delivered OTP digits must be 6..8");
  if (options_.ttl.count() <= 0) throw Error(Errc::config_invalid, "delivered OTP ttl must be positive");
}

Challenge DeliveredCodeProvider::challenge(const Subject& subject, std::string_view transaction_id) {
  if (transaction_id.empty()) throw Error(Errc::invalid_argument, "delivered OTP needs a transaction id");
  Channel& channel = channels_.get(options_.channel);
  const auto recipient = recipient_of(subject, channel.recipient_field());
  if (!recipient || recipient->empty()) {
    throw Error(Errc::not_found, "user " + subject.username + " has no " + std::string(channel.recipient_field()) +
                                     " for OTP channel " + std::string(channel.name()));
  }
  const std::int64_t now = to_unix(clock_.now());
  const std::int64_t expires = now + options_.ttl.count();
  Message m;
  m.recipient = *recipient;
  m.user_id = subject.user_id;
  m.username = subject.username;
  m.transaction_id = std::string(transaction_id);
  m.expires_at = expires;
  m.code = random_code(options_.digits);
  const std::string mac = box_.mac(mac_input(transaction_id, m.code.view()));
  {
    std::string text = replace_all(options_.text, "{code}", m.code.view());
    text = replace_all(std::move(text), "{minutes}", std::to_string((options_.ttl.count() + 59) / 60));
    m.text = std::move(text);
  }
  // Stored before sending: a code the user already holds must be checkable.
  db_.transaction([&](store::Database& tx) {
    tx.exec("DELETE FROM otp_challenges WHERE transaction_id = $1", {m.transaction_id});
    tx.exec("INSERT INTO otp_challenges (transaction_id, user_id, provider, code_mac, expires_at, used, created_at) "
            "VALUES ($1, $2, $3, $4, $5, 0, $6)",
            {m.transaction_id, subject.user_id, options_.name, mac, expires, now});
  });
  try {
    channel.deliver(m);
  } catch (...) {
    db_.exec("DELETE FROM otp_challenges WHERE transaction_id = $1 AND code_mac = $2", {m.transaction_id, mac});
    secure_wipe(m.text.data(), m.text.size());
    throw;
  }
  secure_wipe(m.text.data(), m.text.size());
  log::info("otp: code for transaction {} sent to user {} via {}", m.transaction_id, subject.username, channel.name());
  return Challenge{true, std::string(channel.name()), expires};
}

VerifyResult DeliveredCodeProvider::verify(const Subject& subject, std::string_view transaction_id, const SecretString& code) {
  const auto row = db_.query_one(
      "SELECT code_mac, expires_at, used FROM otp_challenges WHERE transaction_id = $1 AND user_id = $2 AND provider = $3",
      {std::string(transaction_id), subject.user_id, options_.name});
  if (!row) return VerifyResult::no_challenge;
  if (!well_formed_code(code.view(), options_.digits)) return VerifyResult::invalid;
  const bool match = constant_time_equal(row->get_text("code_mac"), box_.mac(mac_input(transaction_id, code.view())));
  if (!match) return VerifyResult::invalid;
  if (row->get_int("used") != 0) return VerifyResult::replayed;
  const std::int64_t now = to_unix(clock_.now());
  if (now >= row->get_int("expires_at")) return VerifyResult::expired;
  // Single use across the service: only one UPDATE can flip `used`.
  const auto changed = db_.exec(
      "UPDATE otp_challenges SET used = 1 WHERE transaction_id = $1 AND used = 0 AND expires_at > $2",
      {std::string(transaction_id), now});
  return changed == 1 ? VerifyResult::ok : VerifyResult::replayed;
}

std::int64_t DeliveredCodeProvider::purge_expired() {
  return db_.exec("DELETE FROM otp_challenges WHERE expires_at <= $1", {to_unix(clock_.now())});
}

}  // namespace sigil::otp
