// The append-only, hash-chained audit log with group commit and signed checkpoints.
//
// append() blocks until its record is committed (the store runs synchronous=FULL, so committed is
// durable) and throws Error(audit_unavailable) otherwise: callers send a signature's response only
// after append() returned (fail closed).
//
// Group commit: appenders queue their event and wait; one writer thread takes up to
// group_commit_max queued events (after waiting up to group_commit_wait for more to arrive),
// numbers and chains them, and writes them in ONE transaction. On failure every appender of the
// batch gets audit_unavailable, the in-memory head is not advanced, and the head is re-read from
// the database before the next batch (so an ambiguous failure cannot fork the chain).
//
// Several writer processes on one SQLite database (sigild and `sigilctl --local`): each batch
// reads the chain head inside its write transaction (SQLite's BEGIN IMMEDIATE holds the write lock
// from the start), so a batch always continues the head another process wrote. Multi-node on
// PostgreSQL will need the same read under a row or advisory lock.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "sigil/audit/events.hpp"
#include "sigil/audit/record.hpp"
#include "sigil/common/clock.hpp"
#include "sigil/common/crypto_types.hpp"
#include "sigil/store/database.hpp"

namespace sigil::audit {

struct AuditOptions {
  std::int64_t checkpoint_every_records = 1000;            // 0 = never by count
  std::chrono::seconds checkpoint_every{60};               // 0 = never by time
  std::size_t group_commit_max = 256;                      // events per transaction at most
  std::chrono::microseconds group_commit_wait{2000};       // wait for more events to group (0 = none)
  std::string key_label = "audit-key";                     // recorded with each checkpoint
};

struct Head {
  std::int64_t seq = 0;                // 0 = empty chain
  std::string hash;                    // genesis_hash() when empty
};

struct AuditStats {
  std::uint64_t transactions = 0;      // committed record batches
  std::uint64_t records = 0;           // records committed by this instance
  std::uint64_t checkpoints = 0;       // checkpoints written by this instance
  std::uint64_t failed_batches = 0;
  std::uint64_t foreign_heads = 0;     // batches that found the head moved by another writer
};

class AuditLog final : public Sink {
 public:
  // `db`, `clock` and `checkpoint_signer` must outlive the log. Without a signer no checkpoints
  // are written (tests only). Loads the head from the database; throws Error(audit_unavailable)
  // if it cannot.
  AuditLog(store::Database& db, const Clock& clock, KeySigner* checkpoint_signer, AuditOptions options = {});
  ~AuditLog() override;  // close(), errors swallowed (logged)
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Blocks until the record is durable; throws Error(audit_unavailable) if it could not be
  // written, or Error(invalid_argument) if a string is not valid UTF-8 (nothing is written).
  void append(Event event) override;
  // In the group commit: in_tx runs in a savepoint of the batch's transaction just before its
  // record is chained; if it throws, the savepoint is rolled back, no record is written for it,
  // and only this caller gets the exception (the rest of the batch commits). in_tx runs on the
  // writer thread holding the write lock: a few statements, nothing slow. A `db` other than the
  // log's own falls back to Sink::append_with.
  void append_with(Event event, const InTx& in_tx, store::Database& db) override;
  // The same for several records, chained in order in the same batch; all or none.
  void append_all_with(std::vector<Event> events, const InTxAll& in_tx, store::Database& db) override;
  // Throws Error(audit_unavailable) when closed, or when the last batch failed and the database
  // does not answer a ping now (a successful ping clears the failure; the next batch then proves
  // whether writing works again).
  void check_available() override;
  // Signs and stores a checkpoint of the current head now (no-op without a signer or when the
  // head is already checkpointed). Throws Error(audit_unavailable) on failure.
  void checkpoint();
  // Drains pending appends, writes a final checkpoint, stops the writer. Later appends throw
  // audit_unavailable. Idempotent. Throws Error(audit_unavailable) if the final checkpoint failed.
  void close();

  Head head() const;
  AuditStats stats() const;

 private:
  void enqueue(std::vector<Event> events, const InTxAll* in_tx);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sigil::audit
