// The Sign Service for portals: a document, the people who must sign it in order, and a task per
// person. The portal creates the document; each signer, authenticated as themselves, opens their
// task, confirms with the second factor their credential demands (PIN, a delivered or TOTP code)
// and their own key signs. The document is in_progress until the last signer has signed
// (completed), or one declines (declined), or the owner cancels (cancelled).
//
// - Order: signers sign in steps. By default each signer is a step of their own (one after
//   another); signers given the same step sign in any order, and the next step's tasks become
//   `ready` when every signer of the step before has signed.
// - Outputs: a PAdES profile (or any enveloping/enveloped profile with one signer) makes a new
//   version of the document per signature, each signature over the previous version, so the last
//   version carries every signature. A detached profile (CAdES, XAdES) makes one signature file
//   per signer over the unchanged original.
// - Second factor: the SAD is issued for the hash of exactly the version the signer signs and is
//   spent in the same request (AuthorizationService), so the confirmation cannot sign anything else.
// - State is in the store (signservice_documents, signservice_signers); files are under
//   <spool>/documents/<id>/. Every state change commits together with its audit record
//   (Sink::append_with): no transition without its record, no record without the transition.
// - Notifications (task.ready, document.completed, declined, cancelled) go to the document's
//   webhook; the portal notifies the person (asynchronous signing via the task link). They are
//   committed with the transition (a transactional outbox, src/signservice/notifier.hpp) and sent
//   by a background thread with retries: they survive a restart and any node may send them.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sigil/common/clock.hpp"
#include "sigil/common/crypto_types.hpp"
#include "sigil/common/secure.hpp"
#include "sigil/signing/profiles.hpp"
#include "sigil/signing/service.hpp"

namespace sigil::store {
class Database;
class UserRepository;
}  // namespace sigil::store
namespace sigil::auth {
class AuthorizationService;
struct TransactionInfo;
}  // namespace sigil::auth
namespace sigil::audit {
class Sink;
}

namespace sigil::signservice {

struct Options {
  std::filesystem::path dir;                  // <spool>/documents
  std::size_t max_signers = 20;
  std::vector<std::string> webhook_prefixes;  // allowed webhook URL prefixes; empty: webhooks refused
  std::chrono::milliseconds webhook_timeout{5000};  // one attempt (the WebhookSender enforces it)
  unsigned webhook_attempts = 10;                 // then a notification is dropped (logged)
  std::chrono::milliseconds webhook_backoff{500};  // before the second attempt; doubling, at most 1 h
  std::string task_url;                       // "https://portal.example/sign/{task}": the link in task.ready
  std::chrono::seconds retention{0};          // finished documents are deleted this long after; 0: kept
};

enum class DocumentState { in_progress, completed, declined, cancelled };
enum class TaskState { waiting, ready, signed_ok, declined, cancelled };
std::string_view to_string(DocumentState s);
std::string_view to_string(TaskState s);

struct SignerStatus {
  int position = 0;  // 1-based, as listed
  int step = 0;      // 1-based signing step: equal steps sign in any order
  std::string user_id, username;
  std::string task_id;
  TaskState state = TaskState::waiting;
  std::optional<std::int64_t> signed_at;  // Unix seconds
  std::string credential_id, certificate_subject, certificate_sha256, level;
  std::string input_sha256;               // what this signer signed (the SAD was bound to its hash)
  std::string output_sha256;              // the version / signature file this signer produced
  std::string reason;                     // declined: the signer's words
};

struct DocumentStatus {
  std::string id, name, owner_id, owner_name, profile;
  DocumentState state = DocumentState::in_progress;
  bool detached = false;                  // one signature file per signer; else versions
  std::int64_t version = 0;               // signatures applied so far
  std::string original_sha256, current_sha256;
  std::int64_t created_at = 0;
  std::optional<std::int64_t> finished_at;
  std::vector<SignerStatus> signers;
};

// A signer's view of their task: the task and the document it belongs to.
struct TaskView {
  SignerStatus task;
  DocumentStatus document;
};

struct NewSigner {
  std::string username;
  int step = 0;  // 0: the step after the previous signer's (sequential); else >= the previous signer's
};

struct NewDocument {
  signing::Caller caller;                 // the owner (the portal's user)
  std::string name;                       // a file name, shown to signers and in the trail
  Bytes content;
  std::string profile;                    // a configured signing profile (format, level, stamp)
  std::vector<NewSigner> signers;         // in signing order
  std::optional<std::string> webhook;
};

struct SignTask {
  signing::Caller caller;                 // the signer, authenticated as themselves
  std::string task_id;
  std::string credential_id;              // empty: the signer's only enabled credential
  SecretString pin, otp;                  // as the credential's second factor demands
  std::optional<std::string> transaction_id;  // from challenge(); else the open one
};

// What verify() found, per signature and for the files on disk.
struct Verification {
  struct Entry {
    int position = 0;
    std::string username, credential_id, certificate_subject, level;
    std::int64_t signed_at = 0;
    std::string input_sha256, output_sha256;
    bool file_intact = false;             // the stored version / signature file still has that digest
    bool signature_valid = false;         // the signature verifies against the signer's certificate
    std::string detail;                   // why not
  };
  DocumentStatus document;
  bool current_intact = false;            // the current version on disk has current_sha256
  std::vector<Entry> signatures;
  bool valid = false;                     // every check above passed
};

// One notification attempt (the daemon posts with libcurl; tests record). Throws on failure.
using WebhookSender = std::function<void(const std::string& url, const std::string& json_body)>;

class SignService {
 public:
  // Every reference must outlive the service. `audit` is the log every transition commits with; it
  // must write into `db` (AuditLog over the store's database).
  SignService(store::Database& db, store::UserRepository& users, signing::SigningService& signing,
              auth::AuthorizationService& authorization, audit::Sink& audit,
              std::vector<signing::Profile> profiles, const Clock& clock, Options options, WebhookSender webhook);
  ~SignService();
  SignService(const SignService&) = delete;
  SignService& operator=(const SignService&) = delete;

  // Validates (name, content fits the profile's format, 1..max_signers distinct active users, steps,
  // webhook prefix: Error(invalid_argument, public)), stores the document, makes the first task
  // ready and notifies. Audited as signservice.document.create.
  DocumentStatus create(const NewDocument& doc);

  // The document, for its owner or one of its signers; anyone else: Error(not_found).
  DocumentStatus status(const std::string& user_id, const std::string& id);
  // The caller's own documents, newest first.
  std::vector<DocumentStatus> list(const std::string& user_id, std::size_t limit);
  // The current version on disk (owner or signer).
  std::filesystem::path content(const std::string& user_id, const std::string& id);
  // A detached signature file (owner or signer); Error(not_found) when that signer has not signed.
  std::filesystem::path signature_file(const std::string& user_id, const std::string& id, int position);

  // The owner stops an in_progress document: Error(invalid_signing_state) otherwise.
  DocumentStatus cancel(const signing::Caller& caller, const std::string& id);
  // The owner removes a finished (completed, declined or cancelled) document with its files.
  void remove(const signing::Caller& caller, const std::string& id);

  // The caller's tasks (ready ones first), and one task (another user's: Error(not_found)).
  std::vector<TaskView> tasks(const std::string& user_id, bool ready_only);
  TaskView task(const std::string& user_id, const std::string& task_id);

  // Opens the second-factor transaction for a ready task and the credential, sending a code when
  // the credential's factor is a delivered OTP.
  auth::TransactionInfo challenge(const signing::Caller& caller, const std::string& task_id,
                                  const std::string& credential_id);
  // Signs a ready task: the SAD for the hash of the current version, spent at once, then the
  // signature with the signer's credential; the next task becomes ready or the document completes.
  // Refusals: AuthError (second factor), Error(invalid_signing_state) (not ready, not the caller's
  // turn, document finished), Error(not_found).
  DocumentStatus sign(SignTask request);
  // The signer refuses; the document becomes declined and no later task opens.
  DocumentStatus decline(const signing::Caller& caller, const std::string& task_id, const std::string& reason);

  // Recomputes the digests of every stored file and verifies every signature value against its
  // signer's certificate (owner or signer).
  Verification verify(const std::string& user_id, const std::string& id);

  // Deletes finished documents older than options.retention (0: none), with their files; each one
  // is recorded (signservice.document.purge, principal "system"). Returns how many.
  std::int64_t purge_expired();

  // Stops the notification thread; notifications not yet delivered stay queued in the store.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sigil::signservice
