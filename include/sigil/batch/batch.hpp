// Batch signing for back offices: many documents (or digests) in one request, signed with a
// profile from the configuration, one result per item (a bad item never fails the batch), spread
// over worker threads (and so over the HSM session pool), idempotent, and run as a job with a
// webhook when it is large or the client asks.
//
// State is in the store (batches, batch_items) and inputs/outputs are files under
// <spool>/batches/<id>/, so a job survives a restart: items still pending are queued again at
// startup (resume_interrupted). Every item is signed through SigningService::sign_document and so
// audited as its own signature.create (fail closed).
//
// Idempotency: a submission with an idempotency key that the same user already used returns that
// batch (the same id and results; nothing is signed again) when the request is byte-identical
// (SHA-256 of the request body), and Error(store_conflict) when it is not.
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
#include "sigil/signing/profiles.hpp"
#include "sigil/signing/service.hpp"

namespace sigil::store {
class Database;
}

namespace sigil::batch {

struct BatchOptions {
  unsigned workers = 2;                         // threads signing items
  std::size_t sync_max_items = 100;             // larger batches always run as jobs
  std::size_t max_items = 10000;                // items per batch at most
  std::chrono::seconds retention{24 * 3600};    // finished batches, outputs and keys are kept this long
  std::filesystem::path dir;                    // <spool>/batches
  std::vector<std::string> webhook_prefixes;    // allowed webhook URL prefixes; empty: webhooks refused
  std::chrono::milliseconds webhook_timeout{5000};
  unsigned webhook_attempts = 3;
  std::chrono::milliseconds webhook_backoff{500};
};

// One input item: a document (its bytes, written to disk at submission) or a digest (hash-only;
// profiles producing detached CAdES or XAdES only).
struct ItemInput {
  std::string name;
  Bytes content;                 // the document, or the digest when `digest_alg` is set
  std::optional<HashAlg> digest_alg;
};

struct Submission {
  signing::Caller caller;
  std::string profile;
  std::vector<ItemInput> items;
  std::optional<std::string> idempotency_key;
  std::string request_sha256;    // hex SHA-256 of the request as received (idempotency check)
  std::optional<std::string> webhook;
  bool async = false;            // a job even when small
};

enum class BatchState { queued, running, completed };
enum class ItemState { pending, signed_ok, failed };
std::string_view to_string(BatchState s);
std::string_view to_string(ItemState s);

struct ItemStatus {
  std::int64_t index = 0;
  std::string name;
  ItemState state = ItemState::pending;
  std::string level;              // signed: the level reached ("B-T")
  std::string error;              // failed: the error name ("invalid_document")
  std::string error_description;  // failed: the public description
  std::filesystem::path output;   // signed: the signed document on disk
};

struct BatchStatus {
  std::string id;
  std::string profile;
  BatchState state = BatchState::queued;
  std::int64_t total = 0, signed_count = 0, failed = 0;
  std::int64_t created_at = 0;
  std::optional<std::int64_t> completed_at;
  std::optional<std::string> webhook_state;  // pending | delivered | failed
  std::optional<std::string> idempotency_key;
  std::vector<ItemStatus> items;
  bool replayed = false;                     // an idempotent replay of an earlier submission
};

// Webhook delivery (the daemon posts with libcurl; tests record). Throws on failure.
using WebhookSender = std::function<void(const std::string& url, const std::string& json_body)>;

class BatchService {
 public:
  // All references must outlive the service. Starts `options.workers` threads.
  BatchService(store::Database& db, signing::SigningService& signing, std::vector<signing::Profile> profiles,
               const Clock& clock, BatchOptions options, WebhookSender webhook);
  ~BatchService();  // stops the workers (pending items stay pending for the next start)
  BatchService(const BatchService&) = delete;
  BatchService& operator=(const BatchService&) = delete;

  // Validates (profile, item count and names, digest items only for detached CAdES/XAdES,
  // webhook prefix: Error(invalid_argument, public)), records the batch and its inputs, then runs
  // it: a synchronous batch returns when every item is done (state completed); a job returns at
  // once (state queued). An idempotent replay returns the earlier batch as it is now (a
  // synchronous replay of a batch still running waits for it).
  BatchStatus submit(Submission submission);

  // The caller's batch (another user's id is not_found), with every item.
  BatchStatus status(const std::string& user_id, const std::string& id);

  // The caller's batches, newest first, without their items.
  std::vector<BatchStatus> list(const std::string& user_id, std::size_t limit);

  // Stops the workers after the item each is signing (pending items stay pending for the next
  // start). Call before the audit log closes. Idempotent; the destructor calls it.
  void stop();

  // Queues the pending items of batches a previous run left unfinished, and the completion webhooks
  // a stop or a crash interrupted (webhook state still pending). Called once at startup.
  std::size_t resume_interrupted();
  // Deletes finished batches past their retention, with their files. Returns how many.
  std::int64_t purge_expired();

  const BatchOptions& options() const { return options_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  BatchOptions options_;
};

}  // namespace sigil::batch
