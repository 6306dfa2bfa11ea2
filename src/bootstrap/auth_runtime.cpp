#include "sigil/bootstrap/auth_runtime.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>

#include "sigil/common/error.hpp"
#include "sigil/common/log.hpp"
#include "sigil/otp/channels.hpp"
#include "sigil/otp/delivered.hpp"
#include "sigil/otp/plugins.hpp"

namespace sigil::bootstrap {
namespace {

auth::TokenOptions token_options(const config::AuthConfig& c) {
  auth::TokenOptions o;
  o.access_ttl = c.access_token_ttl;
  o.credential_ttl = c.credential_token_ttl;
  o.refresh_ttl = c.refresh_token_ttl;
  o.cache_ttl = c.cache;
  return o;
}

auth::AuthorizationPolicy policy(const config::AuthorizationConfig& c) {
  auth::AuthorizationPolicy p;
  p.otp_provider = c.otp_provider;
  p.max_attempts_per_transaction = c.max_attempts;
  p.max_failures_before_lock = c.max_failures_before_lock;
  p.lockout = c.lockout;
  p.transaction_ttl = c.transaction_ttl;
  p.sad_ttl = c.sad_ttl;
  p.max_signatures = c.max_signatures;
  return p;
}

std::string_view audit_type(auth::AuthEventType t) {
  switch (t) {
    case auth::AuthEventType::otp_challenge_sent: return audit::type::otp_sent;
    case auth::AuthEventType::second_factor_failed: return "auth.second_factor_failed";
    case auth::AuthEventType::transaction_voided: return "auth.transaction_voided";
    case auth::AuthEventType::user_locked: return audit::type::auth_lockout;
    case auth::AuthEventType::user_unlocked: return "auth.unlock";
    case auth::AuthEventType::credential_authorized: return audit::type::sad_issued;
    case auth::AuthEventType::sad_consumed: return audit::type::sad_used;
    case auth::AuthEventType::sad_refused: return "sad.refused";
  }
  return "auth.unknown";
}

bool success(auth::AuthEventType t) {
  switch (t) {
    case auth::AuthEventType::otp_challenge_sent:
    case auth::AuthEventType::user_unlocked:
    case auth::AuthEventType::credential_authorized:
    case auth::AuthEventType::sad_consumed: return true;
    default: return false;
  }
}

std::shared_ptr<otp::Channel> make_channel(const config::OtpChannelConfig& c) {
  if (c.type == "file") {
    return std::make_shared<otp::FileChannel>(c.path, c.name, c.recipient_field.empty() ? "username" : c.recipient_field);
  }
  if (c.type == "webhook") {
    otp::WebhookOptions o;
    o.url = c.url;
    if (!c.authorization.empty()) o.headers["Authorization"] = std::string(c.authorization.resolve().view());
    o.timeout = c.timeout;
    o.attempts = c.attempts;
    o.backoff = c.backoff;
    o.ca_file = c.ca_file.string();
    if (!c.recipient_field.empty()) o.recipient_field = c.recipient_field;
    return std::make_shared<otp::WebhookChannel>(std::move(o), c.name);
  }
  if (c.type == "smtp") {
    otp::SmtpOptions o;
    o.url = c.url;
    o.from = c.from;
    o.subject = c.subject;
    o.username = c.username;
    if (!c.password.empty()) o.password = std::string(c.password.resolve().view());
    o.timeout = c.timeout;
    o.ca_file = c.ca_file.string();
    return std::make_shared<otp::SmtpChannel>(std::move(o), c.name);
  }
  otp::CommandOptions o;
  o.argv = c.command;
  o.timeout = c.timeout;
  if (!c.recipient_field.empty()) o.recipient_field = c.recipient_field;
  return std::make_shared<otp::CommandChannel>(std::move(o), c.name);
}

audit::Event to_audit_event(const auth::AuthEvent& event) {
  audit::Event e = audit::make_event(audit_type(event.type), audit::Actor{event.user_id, "", "", ""}, success(event.type));
  e.details["event"] = std::string(auth::to_string(event.type));
  if (!event.credential_id.empty()) e.details["credential_id"] = event.credential_id;
  if (!event.transaction_id.empty()) e.details["transaction_id"] = event.transaction_id;
  if (event.client_id) e.details["client_id"] = *event.client_id;
  if (event.failure) e.details["reason"] = std::string(auth::to_string(*event.failure));
  if (!event.sad_id.empty()) e.details["sad_id"] = event.sad_id;
  if (event.count != 0) e.details["count"] = std::to_string(event.count);
  if (event.locked_until) e.details["locked_until"] = std::to_string(*event.locked_until);
  if (event.type == auth::AuthEventType::user_locked) e.details["scope"] = "second_factor";
  return e;
}

}  // namespace

void AuditAuthEvents::on_event(const auth::AuthEvent& event) { sink_.append(to_audit_event(event)); }

void AuditAuthEvents::on_spend_with(const auth::SadSpend& spend, audit::Event signature_record, store::Database& db) {
  std::vector<audit::Event> records(1);  // sad.used: made inside the commit from the completed event
  records.push_back(std::move(signature_record));
  sink_.append_all_with(
      std::move(records),
      [&](store::Database& tx, std::vector<audit::Event>& r) {
        auth::AuthEvent used = spend.event;
        spend.apply(tx, used);
        r.front() = to_audit_event(used);
      },
      db);
}

void AuditAuthEvents::on_event_with(const auth::AuthEvent& event, const Apply& apply, store::Database& db) {
  sink_.append_with(
      audit::Event{},  // made inside the commit from the event as apply completed it
      [&](store::Database& tx, audit::Event& record) {
        auth::AuthEvent completed = event;
        apply(tx, completed);
        record = to_audit_event(completed);
      },
      db);
}

AuthRuntime::AuthRuntime(const config::Config& config, store::Store& store, const Clock& clock, audit::Sink& audit)
    : events(audit),
      tokens(store.database(), clock, token_options(config.auth)),
      clients(store.database(), clock),
      oauth(store.database(), clock, clients, tokens),
      login_tickets(store.database(), clock),
      authorization(store, clock, providers, events, policy(config.authorization)) {
  const auto& oc = config.otp;
  if (!config.auth.key_file.empty()) {
    box.reset(new otp::SecretBox(otp::SecretBox::from_file(config.auth.key_file)));  // not movable: elided
    enrolments = std::make_unique<otp::OtpEnrolments>(store.database(), clock, *box);
    otp::TotpOptions to;
    to.window = oc.totp_window;
    to.hotp_look_ahead = oc.hotp_look_ahead;
    providers.add(std::make_shared<otp::EnrolledCodeProvider>(*enrolments, otp::OtpKind::totp, to));
    providers.add(std::make_shared<otp::EnrolledCodeProvider>(*enrolments, otp::OtpKind::hotp, to));
  } else if (!oc.providers.empty()) {
    throw Error(Errc::config_invalid, "otp.providers are configured but auth.key_file is not set (the key that protects "
                                      "one-time codes; `sigilctl init` creates secrets/auth.key)", true);
  }
  for (const auto& c : oc.channels) channels.add(make_channel(c));
  if (!oc.plugin_dir.empty()) {
    std::map<std::string, std::string> plugin_config;
    for (const auto& p : oc.plugins) plugin_config[p.name] = p.config;
    for (const auto& p : otp::load_plugins(oc.plugin_dir, providers, channels, plugin_config)) {
      log::info("otp plugin '{}' from {}: {} provider(s), {} channel(s)", p.name, p.path.string(), p.providers.size(),
                p.channels.size());
    }
  }
  for (const auto& p : oc.providers) {
    if (channels.find(p.channel) == nullptr) {
      throw Error(Errc::config_invalid, "otp provider '" + p.name + "' names channel '" + p.channel +
                                            "', which is neither an [[otp.channels]] entry nor a plugin channel", true);
    }
    otp::DeliveredOptions o;
    o.name = p.name;
    o.channel = p.channel;
    o.digits = p.digits;
    o.ttl = p.ttl;
    if (!p.text.empty()) o.text = p.text;
    auto provider = std::make_shared<otp::DeliveredCodeProvider>(store.database(), clock, *box, channels, o);
    delivered.push_back(provider);
    providers.add(provider);
  }
  const std::string& wanted = config.authorization.otp_provider;
  if (providers.find(wanted) == nullptr) {
    log::warn("authorization.otp_provider '{}' is not available (providers: {}); credentials with an OTP factor "
              "cannot be authorised",
              wanted, providers.names().empty() ? std::string("none") : fmt::format("{}", fmt::join(providers.names(), ", ")));
  } else {
    // totp/hotp read a code from an authenticator app; every other provider (delivered codes,
    // plugins) is challenged first (CSC getChallenge).
    otp_delivered_ = wanted != "totp" && wanted != "hotp";
    log::info("second factor: OTP provider '{}' ({})", wanted, otp_delivered_ ? "challenge first" : "authenticator app");
  }
}

AuthRuntime::~AuthRuntime() = default;

std::int64_t AuthRuntime::purge_expired() {
  std::int64_t n = tokens.purge_expired() + authorization.purge_expired() + login_tickets.purge_expired();
  for (const auto& p : delivered) n += p->purge_expired();
  return n;
}

}  // namespace sigil::bootstrap
