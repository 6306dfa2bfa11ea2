// The daemon's authentication and second-factor runtime, built from [auth], [authorization] and
// [otp]: the OTP secret key, enrolments, channels, providers (built-in and plugins), access tokens,
// OAuth clients and credential authorisation, with every AuthEvent written to the audit log.
// Shared by sigild and `sigilctl --local` (the same config builds the same second factor); it owns
// what it builds and hands out references.
#pragma once

#include <memory>
#include <string>

#include "sigil/audit/events.hpp"
#include "sigil/auth/authorization.hpp"
#include "sigil/auth/oauth.hpp"
#include "sigil/auth/tokens.hpp"
#include "sigil/common/clock.hpp"
#include "sigil/config/config.hpp"
#include "sigil/otp/delivered.hpp"
#include "sigil/otp/provider.hpp"
#include "sigil/otp/secret_box.hpp"
#include "sigil/otp/totp.hpp"
#include "sigil/store/store.hpp"

namespace sigil::bootstrap {

// AuthEvent -> audit record (types auth.second_factor_failed, auth.transaction_voided,
// auth.lockout, auth.unlock, otp.sent, sad.issued, sad.used, sad.refused). Throws what the sink
// throws, so the operation that caused the event fails when it cannot be recorded.
class AuditAuthEvents final : public auth::AuthEvents {
 public:
  explicit AuditAuthEvents(audit::Sink& sink) : sink_(sink) {}
  void on_event(const auth::AuthEvent& event) override;
  void on_event_with(const auth::AuthEvent& event, const Apply& apply, store::Database& db) override;
  // A SAD use and the signature record it pays for, in one commit of the sink (ADR 0021): the
  // spend's checks and writes, then its sad.used record, then `signature_record`. Throws the
  // spend's AuthError (nothing written) or what the sink throws.
  void on_spend_with(const auth::SadSpend& spend, audit::Event signature_record, store::Database& db);

 private:
  audit::Sink& sink_;
};

struct AuthRuntime {
  AuthRuntime(const config::Config& config, store::Store& store, const Clock& clock, audit::Sink& audit);
  ~AuthRuntime();
  AuthRuntime(const AuthRuntime&) = delete;
  AuthRuntime& operator=(const AuthRuntime&) = delete;

  // Deletes expired tokens, SADs, transactions and delivered codes; returns rows deleted.
  std::int64_t purge_expired();
  // Whether the credentials' OTP provider delivers codes (SMS/e-mail/file) rather than reading
  // them from an authenticator app.
  bool otp_delivered() const { return otp_delivered_; }

  std::unique_ptr<otp::SecretBox> box;  // null when [auth] key_file is not set (no OTP)
  std::unique_ptr<otp::OtpEnrolments> enrolments;
  otp::ChannelRegistry channels;
  otp::ProviderRegistry providers;
  std::vector<std::shared_ptr<otp::DeliveredCodeProvider>> delivered;  // also in `providers`; kept for purge
  AuditAuthEvents events;
  auth::TokenService tokens;
  auth::OAuthClients clients;
  auth::OAuthService oauth;
  auth::LoginTickets login_tickets;  // only to purge expired ones (the login page makes its own)
  auth::AuthorizationService authorization;

 private:
  bool otp_delivered_ = false;
};

}  // namespace sigil::bootstrap
