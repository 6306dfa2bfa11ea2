// AuditLog: one writer thread, group commit, automatic and final checkpoints.
#include "sigil/audit/audit_log.hpp"

#include <condition_variable>
#include <deque>
#include <exception>
#include <future>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/log.hpp"

namespace sigil::audit {
namespace {

struct Pending {
  std::vector<Event> events;  // chained in order, all or none
  std::promise<void> done;
  const Sink::InTxAll* in_tx = nullptr;  // the appender waits, so it outlives the batch
  std::exception_ptr refused;                                      // in_tx threw: no record, this error
};

Head load_head(store::Database& db) {
  const auto row = db.query_one("SELECT seq, hash FROM audit_records ORDER BY seq DESC LIMIT 1");
  if (!row) return Head{0, genesis_hash()};
  return Head{row->get_int("seq"), row->get_text("hash")};
}

std::int64_t load_last_checkpoint_seq(store::Database& db) {
  const auto row = db.query_one("SELECT COALESCE(MAX(seq), 0) AS seq FROM audit_checkpoints");
  return row ? row->get_int("seq") : 0;
}

Error unavailable(const std::string& what, const std::exception& cause) {
  if (const auto* e = dynamic_cast<const Error*>(&cause)) {
    return Error(Errc::audit_unavailable, what + ": " + std::string(e->info().name) + ": " + e->detail());
  }
  return Error(Errc::audit_unavailable, what + ": " + cause.what());
}

}  // namespace

struct AuditLog::Impl {
  store::Database& db;
  const Clock& clock;
  KeySigner* signer;
  AuditOptions options;

  mutable std::mutex mu;
  std::condition_variable wake;            // writer: work arrived / stop
  std::deque<Pending> queue;               // guarded by mu
  std::vector<std::promise<void>> checkpoint_requests;  // guarded by mu
  bool stopping = false;                   // guarded by mu
  bool closed = false;                     // guarded by mu (close() finished)
  std::exception_ptr close_error;          // the final checkpoint's failure, if any
  Head head;                               // guarded by mu; written by the writer only
  bool failing = false;                    // guarded by mu: the last batch failed
  std::int64_t checkpointed_seq = 0;       // writer only
  Clock::time_point last_checkpoint_time;  // writer only
  AuditStats stats;                        // guarded by mu
  std::thread writer;

  Impl(store::Database& d, const Clock& c, KeySigner* s, AuditOptions o)
      : db(d), clock(c), signer(s), options(std::move(o)) {
    if (options.group_commit_max == 0) options.group_commit_max = 1;
    try {
      head = load_head(db);
      checkpointed_seq = load_last_checkpoint_seq(db);
    } catch (const std::exception& e) {
      throw unavailable("audit: cannot load the chain head", e);
    }
    last_checkpoint_time = clock.now();
    writer = std::thread([this] { run(); });
  }

  void run() {
    std::unique_lock lock(mu);
    for (;;) {
      const auto idle = [this] { return stopping || !queue.empty() || !checkpoint_requests.empty(); };
      if (options.checkpoint_every.count() > 0) {
        wake.wait_for(lock, options.checkpoint_every, idle);
      } else {
        wake.wait(lock, idle);
      }
      // Give concurrent appenders a moment to join this group.
      if (!queue.empty() && queue.size() < options.group_commit_max && options.group_commit_wait.count() > 0 &&
          !stopping) {
        wake.wait_for(lock, options.group_commit_wait,
                      [this] { return stopping || queue.size() >= options.group_commit_max; });
      }
      std::vector<Pending> batch;
      while (!queue.empty() && batch.size() < options.group_commit_max) {
        batch.push_back(std::move(queue.front()));
        queue.pop_front();
      }
      auto requests = std::move(checkpoint_requests);
      checkpoint_requests.clear();
      const bool stop_now = stopping && queue.empty();
      lock.unlock();

      if (!batch.empty()) write_batch(batch);
      // Explicit checkpoint requests, then automatic ones (count / time), then the final one.
      if (!requests.empty()) {
        std::exception_ptr error;
        try {
          write_checkpoint();
        } catch (...) {
          error = std::current_exception();
        }
        for (auto& r : requests) error ? r.set_exception(error) : r.set_value();
      } else if (checkpoint_due() || stop_now) {
        try {
          write_checkpoint();
        } catch (const std::exception& e) {
          log::error("audit: checkpoint failed: {}", e.what());
          if (stop_now) close_error = std::current_exception();
        }
      }
      lock.lock();
      if (stop_now && queue.empty()) break;
    }
    // Anything that raced in after the decision to stop is refused, not silently dropped.
    for (auto& p : queue) p.done.set_exception(std::make_exception_ptr(Error(Errc::audit_unavailable, "audit log closed")));
    queue.clear();
  }

  bool checkpoint_due() const {
    if (signer == nullptr || head.seq <= checkpointed_seq) return false;
    if (options.checkpoint_every_records > 0 && head.seq - checkpointed_seq >= options.checkpoint_every_records) return true;
    return options.checkpoint_every.count() > 0 && clock.now() - last_checkpoint_time >= options.checkpoint_every;
  }

  void write_batch(std::vector<Pending>& batch) {
    try {
      const std::string time = to_rfc3339(clock.now());
      Head next;
      bool foreign = false;
      std::size_t written = 0;
      db.transaction([&](store::Database& tx) {
        // The head as the database has it, under the write lock: after a failed (possibly
        // ambiguous) batch, or when another process appended, the chain continues from there.
        next = load_head(tx);
        {
          std::lock_guard guard(mu);
          foreign = next.seq != head.seq || next.hash != head.hash;
        }
        written = 0;
        for (auto& p : batch) {
          p.refused = nullptr;
          // canonical_json once per record (it is hashed and stored), for all of the entry's
          // records before any is written: an unstorable one refuses this caller alone.
          std::vector<Record> records;
          std::vector<std::string> bodies;
          const auto chain = [&] {  // numbered, chained and hashed; nothing written yet
            // Sized here: in_tx may have added records (e.g. a completion it found).
            records.assign(p.events.size(), Record{});
            bodies.assign(p.events.size(), std::string());
            Head h = next;
            for (std::size_t i = 0; i < p.events.size(); ++i) {
              Record& r = records[i];
              r.seq = h.seq + 1;
              r.time = time;
              r.prev_hash = h.hash;
              r.event = p.events[i];
              bodies[i] = canonical_json(r);  // Error(invalid_argument) refuses this caller alone
              r.hash = compute_hash(r.prev_hash, bodies[i]);
              h = Head{r.seq, r.hash};
            }
          };
          try {
            if (p.in_tx != nullptr) {
              // A savepoint: a refusal undoes only its own writes. The events in_tx completed
              // must still be storable.
              tx.transaction([&](store::Database& sp) {
                (*p.in_tx)(sp, p.events);
                chain();
              });
            } else {
              chain();
            }
          } catch (...) {
            p.refused = std::current_exception();
            continue;
          }
          for (std::size_t i = 0; i < records.size(); ++i) {
            const Record& r = records[i];
            tx.exec("INSERT INTO audit_records (seq, time, body, prev_hash, hash) VALUES ($1, $2, $3, $4, $5)",
                    {r.seq, r.time, bodies[i], r.prev_hash, r.hash});
            next = Head{r.seq, r.hash};
            ++written;
          }
        }
      });
      {
        std::lock_guard guard(mu);
        head = next;
        failing = false;
        ++stats.transactions;
        stats.records += written;
        if (foreign) ++stats.foreign_heads;
      }
      for (auto& p : batch) p.refused ? p.done.set_exception(p.refused) : p.done.set_value();
    } catch (const std::exception& e) {
      const auto error = std::make_exception_ptr(unavailable("audit: records not written", e));
      log::error("audit: batch of {} records not written: {}", batch.size(), e.what());
      {
        std::lock_guard guard(mu);
        ++stats.failed_batches;
        failing = true;
      }
      for (auto& p : batch) p.done.set_exception(error);
    }
  }

  // Writer thread only. No-op without a signer or when the head is already covered.
  void write_checkpoint() {
    Head h;
    {
      std::lock_guard guard(mu);
      if (signer == nullptr || failing || head.seq <= checkpointed_seq) return;
      h = head;
    }
    try {
      const bool ec = signer->key_type() == KeyType::ec;
      const Bytes signature = signer->sign_digest(ec ? SignatureScheme::ecdsa : SignatureScheme::rsa_pss,
                                                  HashAlg::sha256, checkpoint_digest(h.hash, h.seq));
      const std::string time = to_rfc3339(clock.now());
      db.transaction([&](store::Database& tx) {
        tx.exec("INSERT INTO audit_checkpoints (id, seq, head_hash, time, algorithm, signature, key_label) "
                "SELECT COALESCE(MAX(id), 0) + 1, $1, $2, $3, $4, $5, $6 FROM audit_checkpoints",
                {h.seq, h.hash, time, std::string(ec ? "ecdsa-sha256" : "rsa-pss-sha256"), base64_encode(signature),
                 options.key_label});
      });
    } catch (const std::exception& e) {
      throw unavailable("audit: checkpoint at " + std::to_string(h.seq) + " not written", e);
    }
    checkpointed_seq = h.seq;
    last_checkpoint_time = clock.now();
    std::lock_guard guard(mu);
    ++stats.checkpoints;
  }
};

AuditLog::AuditLog(store::Database& db, const Clock& clock, KeySigner* checkpoint_signer, AuditOptions options)
    : impl_(std::make_unique<Impl>(db, clock, checkpoint_signer, std::move(options))) {}

AuditLog::~AuditLog() {
  try {
    close();
  } catch (const std::exception& e) {
    log::error("audit: close failed: {}", e.what());
  }
}

void AuditLog::append(Event event) {
  std::vector<Event> events;
  events.push_back(std::move(event));
  enqueue(std::move(events), nullptr);
}

void AuditLog::append_with(Event event, const InTx& in_tx, store::Database& db) {
  if (&db != &impl_->db) {
    Sink::append_with(std::move(event), in_tx, db);
    return;
  }
  std::vector<Event> events;
  events.push_back(std::move(event));
  const InTxAll one = [&in_tx](store::Database& tx, std::vector<Event>& e) { in_tx(tx, e.front()); };
  enqueue(std::move(events), &one);
}

void AuditLog::append_all_with(std::vector<Event> events, const InTxAll& in_tx, store::Database& db) {
  if (&db != &impl_->db) {
    Sink::append_all_with(std::move(events), in_tx, db);
    return;
  }
  enqueue(std::move(events), &in_tx);
}

void AuditLog::enqueue(std::vector<Event> events, const InTxAll* in_tx) {
  // An event that could never be stored (invalid UTF-8) is refused by the writer, for its caller
  // alone (write_batch): no probe here, canonical_json runs once per record.
  std::future<void> done;
  {
    std::lock_guard guard(impl_->mu);
    if (impl_->stopping) throw Error(Errc::audit_unavailable, "audit log closed");
    impl_->queue.push_back(Pending{std::move(events), {}, in_tx, nullptr});
    done = impl_->queue.back().done.get_future();
  }
  impl_->wake.notify_one();
  done.get();  // rethrows audit_unavailable, or what in_tx threw
}

void AuditLog::check_available() {
  {
    std::lock_guard guard(impl_->mu);
    if (impl_->stopping) throw Error(Errc::audit_unavailable, "audit log closed");
    if (!impl_->failing) return;
  }
  try {
    impl_->db.ping();
  } catch (const std::exception& e) {
    throw unavailable("audit: the last write failed and the store does not answer", e);
  }
  std::lock_guard guard(impl_->mu);
  impl_->failing = false;
}

void AuditLog::checkpoint() {
  std::future<void> done;
  {
    std::lock_guard guard(impl_->mu);
    if (impl_->stopping) throw Error(Errc::audit_unavailable, "audit log closed");
    impl_->checkpoint_requests.emplace_back();
    done = impl_->checkpoint_requests.back().get_future();
  }
  impl_->wake.notify_one();
  done.get();
}

void AuditLog::close() {
  {
    std::lock_guard guard(impl_->mu);
    if (impl_->closed) return;
    impl_->stopping = true;
  }
  impl_->wake.notify_one();
  if (impl_->writer.joinable()) impl_->writer.join();
  {
    std::lock_guard guard(impl_->mu);
    impl_->closed = true;
  }
  if (impl_->close_error) std::rethrow_exception(impl_->close_error);
}

Head AuditLog::head() const {
  std::lock_guard guard(impl_->mu);
  return impl_->head;
}

AuditStats AuditLog::stats() const {
  std::lock_guard guard(impl_->mu);
  return impl_->stats;
}

}  // namespace sigil::audit
