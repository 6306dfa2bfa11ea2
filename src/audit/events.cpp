// Builders for audit events (definitions in events.hpp).
#include "sigil/audit/events.hpp"

#include <optional>

#include "sigil/common/clock.hpp"
#include "sigil/store/database.hpp"
#include "sigil/store/users.hpp"

namespace sigil::audit {
namespace {

void put(Event& e, const char* key, const std::string& value) {
  if (!value.empty()) e.details[key] = value;
}

// "12.5" for 12500 us: milliseconds with up to three decimals, no trailing zeros.
std::string milliseconds_text(std::chrono::microseconds d) {
  const auto us = d.count() < 0 ? 0 : d.count();
  std::string text = std::to_string(us / 1000);
  if (const auto frac = us % 1000; frac != 0) {
    std::string digits = std::to_string(1000 + frac).substr(1);
    while (digits.back() == '0') digits.pop_back();
    text += "." + digits;
  }
  return text;
}

}  // namespace

void Sink::append_with(Event event, const InTx& in_tx, store::Database& db) {
  db.transaction([&](store::Database& tx) { in_tx(tx, event); });
  append(std::move(event));
}

void Sink::append_all_with(std::vector<Event> events, const InTxAll& in_tx, store::Database& db) {
  db.transaction([&](store::Database& tx) { in_tx(tx, events); });
  for (auto& e : events) append(std::move(e));
}

Event make_event(std::string_view type, const Actor& actor, bool success) {
  Event e;
  e.type = std::string(type);
  e.principal = actor.name.empty() ? actor.id : actor.name;
  e.client_address = actor.address;
  e.request_id = actor.request_id;
  e.outcome = std::string(success ? kSuccess : kFailure);
  if (!actor.id.empty() && actor.id != e.principal) e.details["principal_id"] = actor.id;
  return e;
}

void record_password_failure(Sink& sink, Actor actor, store::UserRepository& users, const Clock& clock,
                             std::string_view username, store::VerifyResult result, unsigned max_failed_logins,
                             const std::map<std::string, std::string>& details) {
  const auto user = result == store::VerifyResult::unknown_user ? std::nullopt : users.get_by_username(username);
  if (user) actor.id = user->id;
  Event e = make_event(type::auth_failure, actor, false);  // principal_id when the user exists
  e.details.insert(details.begin(), details.end());
  e.details["reason"] = std::string(store::to_string(result));
  sink.append(std::move(e));
  if (result == store::VerifyResult::bad_credentials && user && user->locked_until &&
      *user->locked_until > to_unix(clock.now())) {
    Event l = make_event(type::auth_lockout, actor, true);
    l.details.insert(details.begin(), details.end());
    l.details["locked_until"] = to_rfc3339(Clock::time_point(std::chrono::seconds(*user->locked_until)));
    l.details["max_failed_logins"] = std::to_string(max_failed_logins);
    sink.append(std::move(l));
  }
}

Event forbidden_event(const Actor& actor, std::string_view method, std::string_view route, std::string_view role) {
  Event e = make_event(type::auth_forbidden, actor, false);
  e.details["method"] = std::string(method);
  e.details["route"] = std::string(route);
  e.details["required_role"] = std::string(role);
  return e;
}

Event system_event(std::string_view type) {
  return make_event(type, Actor{"system", "system", "", ""}, true);
}

Event to_event(const SignatureEvent& s) {
  Event e = make_event(type::signature_create, s.actor, s.success);
  put(e, "api", s.api);
  put(e, "credential_id", s.credential_id);
  put(e, "key_label", s.key_label);
  put(e, "certificate_sha256", s.certificate_sha256);
  put(e, "certificate_subject", s.certificate_subject);
  put(e, "algorithm", s.algorithm);
  put(e, "format", s.format);
  put(e, "level", s.level);
  e.details["document_count"] = std::to_string(s.documents.size());
  for (std::size_t i = 0; i < s.documents.size(); ++i) {
    const std::string prefix = "document." + std::to_string(i + 1) + ".";
    if (!s.documents[i].name.empty()) e.details[prefix + "name"] = s.documents[i].name;
    if (!s.documents[i].digest.empty()) e.details[prefix + "digest"] = s.documents[i].digest;
  }
  e.details["duration_ms"] = milliseconds_text(s.duration);
  if (!s.success) put(e, "error", s.error.empty() ? std::string("unknown") : s.error);
  return e;
}

}  // namespace sigil::audit
