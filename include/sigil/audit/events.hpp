// What the rest of sigild writes into the audit trail: the Sink seam, the acting party (Actor),
// the event type names, and builders for the events with a fixed shape (signatures).
//
// The one rule for callers: call Sink::append() BEFORE the response of the operation leaves the
// process. append() returns only once the record is durable and throws Error(audit_unavailable)
// otherwise; let that exception propagate (it becomes 503 audit_unavailable), never swallow it.
// docs/audit.md lists every event type and its details.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sigil/audit/record.hpp"

namespace sigil {
class Clock;
}
namespace sigil::store {
class Database;
class UserRepository;
enum class VerifyResult;
}  // namespace sigil::store

namespace sigil::audit {

// Where events go. AuditLog is the real sink; tests use a recording fake.
class Sink {
 public:
  virtual ~Sink() = default;
  // Blocks until the record is durable. Throws Error(audit_unavailable) when it could not be
  // written (the caller must then fail the operation: fail closed), Error(invalid_argument) when a
  // string is not valid UTF-8.
  virtual void append(Event event) = 0;
  // The record and the store writes it reports, as one unit: `in_tx` runs on `db` inside the
  // transaction that makes the record durable, so both land or neither does (a SAD is spent if
  // and only if its sad.used record exists). in_tx may complete the event with what it found in
  // the store (ids); the record is built from the event as in_tx left it. If in_tx throws,
  // neither is written and its exception propagates. AuditLog does this inside its group commit
  // (one fsync for a whole batch of calls); this default (test sinks, or a `db` other than the
  // log's) runs in_tx in its own transaction and then appends, which is not atomic.
  using InTx = std::function<void(store::Database&, Event&)>;
  virtual void append_with(Event event, const InTx& in_tx, store::Database& db);
  // Several records and the store writes they report, as one unit, chained in order (a SCAL1
  // signature: its sad.used and signature.create records with the SAD's spend). As append_with;
  // in_tx may also append records for what it found (a workflow step that completed).
  using InTxAll = std::function<void(store::Database&, std::vector<Event>&)>;
  virtual void append_all_with(std::vector<Event> events, const InTxAll& in_tx, store::Database& db);
  // A cheap preflight before state-changing work: throws Error(audit_unavailable) when appends are
  // known to fail right now (log closed, or the last write failed and the store still does not
  // answer). Passing it does not guarantee the later append() succeeds.
  virtual void check_available() = 0;
};

// Who acts, from where, in which request. `id` is the user id (or "local", "system"), `name` the
// username shown in the record's `principal` field.
struct Actor {
  std::string id;
  std::string name;
  std::string address;     // client address ("203.0.113.7"), "local" for sigilctl --local
  std::string request_id;
};

// Event type names. A prefix groups them: auth.*, otp.*, sad.*, signature.*, admin.*, audit.*,
// config.*, system.*.
namespace type {
inline constexpr std::string_view auth_success = "auth.success";
inline constexpr std::string_view auth_failure = "auth.failure";
inline constexpr std::string_view auth_lockout = "auth.lockout";
inline constexpr std::string_view auth_forbidden = "auth.forbidden";
inline constexpr std::string_view otp_sent = "otp.sent";
inline constexpr std::string_view otp_verified = "otp.verified";
inline constexpr std::string_view otp_failed = "otp.failed";
inline constexpr std::string_view sad_issued = "sad.issued";
inline constexpr std::string_view sad_used = "sad.used";
inline constexpr std::string_view signature_create = "signature.create";
inline constexpr std::string_view audit_verify = "audit.verify";
inline constexpr std::string_view audit_export = "audit.export";
inline constexpr std::string_view config_loaded = "config.loaded";
inline constexpr std::string_view system_init = "system.init";
inline constexpr std::string_view system_startup = "system.startup";
inline constexpr std::string_view system_shutdown = "system.shutdown";
// admin.<object>.<verb>: admin.key.generate, admin.user.create, ... (see api/admin/routes.cpp).
// OAuth endpoints (api/oauth): a code issued by the login page; a token issued or refused by the
// token endpoint (details: grant_type, client_id, user_id; never a secret); a revocation.
inline constexpr std::string_view oauth_code_issued = "oauth.code_issued";
inline constexpr std::string_view oauth_token_issued = "oauth.token_issued";
inline constexpr std::string_view oauth_token_refused = "oauth.token_refused";
inline constexpr std::string_view oauth_token_revoked = "oauth.token_revoked";
}  // namespace type

inline constexpr std::string_view kSuccess = "success";
inline constexpr std::string_view kFailure = "failure";

// An event of `type` by `actor` with outcome "success" or "failure".
Event make_event(std::string_view type, const Actor& actor, bool success);

// A refused password (HTTP Basic, the OAuth login page): auth.failure with `reason`, then
// auth.lockout when this failure is the one that locked the account (bad credentials that find the
// account locked right after the failure was counted). `details` go into both records; `actor.id`
// is filled in when the user exists. Throws what the sink throws.
void record_password_failure(Sink& sink, Actor actor, store::UserRepository& users, const Clock& clock,
                             std::string_view username, store::VerifyResult result, unsigned max_failed_logins,
                             const std::map<std::string, std::string>& details);

// auth.forbidden (outcome failure): an authenticated principal without `role` tried `method route`.
Event forbidden_event(const Actor& actor, std::string_view method, std::string_view route, std::string_view role);

// A system event (principal "system", no client): startup, shutdown, config loaded.
Event system_event(std::string_view type);

// One signed document as the audit trail sees it: its digest, never its bytes.
struct DocumentRef {
  std::string name;           // the client's file name, may be empty
  std::string digest;         // "sha256:<lowercase hex>" of the document as received
};

// Everything the trail keeps about one signature operation (one record per operation, also for
// failures). Fill it as the operation goes; append(to_event(s)) right before sending the response.
struct SignatureEvent {
  Actor actor;
  std::string api;                  // "csc" | "dss" | "signservice" | "admin"
  std::string credential_id;        // "cred_..."
  std::string key_label;
  std::string certificate_sha256;   // lowercase hex SHA-256 of the signer certificate (DER)
  std::string certificate_subject;  // RFC 2253
  std::string algorithm;            // "ecdsa-sha256", "rsa-pss-sha256", ...
  std::string format;               // "cades" | "pades" | "xades" | "raw" (hash signing)
  std::string level;                // "B-B" | "B-T" | "B-LT" | "B-LTA" | "" for raw
  std::vector<DocumentRef> documents;
  bool success = false;
  std::string error;                // the Errc name on failure ("hsm_session"), empty on success
  std::chrono::microseconds duration{0};
};

// type "signature.create"; details: api, credential_id, key_label, certificate_sha256,
// certificate_subject, algorithm, format, level, document_count, document.<n>.name,
// document.<n>.digest (n from 1), duration_ms, error (failures only). Empty fields are left out.
Event to_event(const SignatureEvent& s);

}  // namespace sigil::audit
