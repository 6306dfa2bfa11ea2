// BatchService: submission (validation, idempotency, inputs on disk), the worker threads that
// sign items, completion (counters, webhook) and restart recovery.
#include "sigil/batch/batch.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/files.hpp"
#include "sigil/common/log.hpp"
#include "sigil/common/secure.hpp"
#include "sigil/common/url.hpp"
#include "sigil/store/database.hpp"

namespace sigil::batch {
namespace fs = std::filesystem;

std::string_view to_string(BatchState s) {
  switch (s) {
    case BatchState::queued: return "queued";
    case BatchState::running: return "running";
    case BatchState::completed: return "completed";
  }
  return "queued";
}

std::string_view to_string(ItemState s) {
  switch (s) {
    case ItemState::pending: return "pending";
    case ItemState::signed_ok: return "signed";
    case ItemState::failed: return "failed";
  }
  return "pending";
}

namespace {

constexpr std::size_t kMaxName = 255;

BatchState batch_state(const std::string& s) {
  if (s == "running") return BatchState::running;
  if (s == "completed") return BatchState::completed;
  return BatchState::queued;
}

ItemState item_state(const std::string& s) {
  if (s == "signed") return ItemState::signed_ok;
  if (s == "failed") return ItemState::failed;
  return ItemState::pending;
}

[[noreturn]] void bad(const std::string& message) { throw Error(Errc::invalid_argument, message, true); }

bool hash_only_profile(const signing::Profile& p) {
  return p.request.packaging == signing::Packaging::detached &&
         (p.request.format == signing::Format::cades || p.request.format == signing::Format::xades);
}

void validate(const Submission& s, const signing::Profile& profile, const BatchOptions& o) {
  if (s.items.empty()) bad("items: at least one item is required");
  if (s.items.size() > o.max_items) {
    bad("items: " + std::to_string(s.items.size()) + " items, at most " + std::to_string(o.max_items) + " per batch");
  }
  for (std::size_t i = 0; i < s.items.size(); ++i) {
    const auto& item = s.items[i];
    const std::string where = "items[" + std::to_string(i) + "]";
    if (item.name.empty() || item.name.size() > kMaxName) bad(where + ".name: 1 to 255 characters");
    if (item.digest_alg) {
      if (!hash_only_profile(profile)) {
        bad(where + ": a digest item needs a profile that makes detached CAdES or XAdES signatures; profile '" +
            profile.name + "' needs the document");
      }
      if (*item.digest_alg != profile.request.digest_alg) {
        bad(where + ".digestAlgorithm: profile '" + profile.name + "' signs " +
            std::string(hash_name(profile.request.digest_alg)) + " digests");
      }
      if (item.content.size() != digest_size(*item.digest_alg)) bad(where + ".digest: wrong length for the algorithm");
    } else if (item.content.empty()) {
      bad(where + ".bytes: the document is empty");
    }
  }
  if (s.webhook && !url_under_prefix(*s.webhook, o.webhook_prefixes)) {
    bad("webhook: the URL is not under one of the prefixes allowed by batch.webhook_prefixes (and may not contain "
        "dot segments, backslashes or percent-encoded dots)");
  }
}

}  // namespace

struct BatchService::Impl {
  store::Database& db;
  signing::SigningService& signing;
  std::vector<signing::Profile> profiles;
  const Clock& clock;
  const BatchOptions& options;
  WebhookSender webhook;

  std::mutex mu;
  std::condition_variable work_cv;                 // a task arrived / stopping
  std::condition_variable done_cv;                 // a batch completed
  std::deque<std::pair<std::string, std::int64_t>> tasks;  // (batch id, item index)
  std::map<std::string, std::int64_t> open;        // batch id -> items not yet done (this process)
  bool stopping = false;
  std::vector<std::thread> workers;

  Impl(store::Database& d, signing::SigningService& s, std::vector<signing::Profile> p, const Clock& c,
       const BatchOptions& o, WebhookSender w)
      : db(d), signing(s), profiles(std::move(p)), clock(c), options(o), webhook(std::move(w)) {}

  fs::path batch_dir(const std::string& id) const { return options.dir / id; }
  fs::path input_path(const std::string& id, std::int64_t idx) const {
    return batch_dir(id) / (std::to_string(idx) + ".in");
  }
  fs::path output_path(const std::string& id, std::int64_t idx) const {
    return batch_dir(id) / (std::to_string(idx) + ".out");
  }

  const signing::Profile* profile(const std::string& name) const {
    for (const auto& p : profiles) {
      if (p.name == name) return &p;
    }
    return nullptr;
  }

  void start(unsigned n) {
    for (unsigned i = 0; i < std::max(1u, n); ++i) workers.emplace_back([this] { run(); });
  }

  void stop() {
    {
      std::lock_guard lock(mu);
      if (stopping && workers.empty()) return;
      stopping = true;
    }
    work_cv.notify_all();
    done_cv.notify_all();
    for (auto& t : workers) t.join();
    workers.clear();
  }

  void enqueue(const std::string& id, const std::vector<std::int64_t>& items) {
    {
      std::lock_guard lock(mu);
      open[id] += static_cast<std::int64_t>(items.size());
      for (auto idx : items) tasks.emplace_back(id, idx);
    }
    work_cv.notify_all();
  }

  // A task that only sends a completed batch's webhook again (one interrupted by a stop or a crash).
  static constexpr std::int64_t kWebhookTask = -1;
  void enqueue_webhook(const std::string& id) {
    {
      std::lock_guard lock(mu);
      tasks.emplace_back(id, kWebhookTask);
    }
    work_cv.notify_all();
  }
  void redeliver(const std::string& id) {
    const auto row = db.query_one("SELECT webhook_url FROM batches WHERE id = $1 AND state = 'completed' AND "
                                  "webhook_state = 'pending' AND webhook_url IS NOT NULL",
                                  {id});
    if (row) deliver(id, row->get_text(0));
  }

  // Waits until this process has no open item of `id` left (or stops).
  void wait_done(const std::string& id) {
    std::unique_lock lock(mu);
    done_cv.wait(lock, [&] { return stopping || !open.contains(id); });
  }

  void run() {
    for (;;) {
      std::pair<std::string, std::int64_t> task;
      {
        std::unique_lock lock(mu);
        work_cv.wait(lock, [&] { return stopping || !tasks.empty(); });
        if (stopping) return;
        task = std::move(tasks.front());
        tasks.pop_front();
      }
      if (task.second == kWebhookTask) {
        try {
          redeliver(task.first);
        } catch (const std::exception& e) {
          log::error("batch {}: webhook not sent again: {}", task.first, e.what());
        }
        continue;
      }
      try {
        process(task.first, task.second);
      } catch (const std::exception& e) {
        // The item stays pending (the store did not answer); a restart resumes it.
        log::error("batch {} item {}: not recorded: {}", task.first, task.second, e.what());
      }
      bool last = false;
      {
        std::lock_guard lock(mu);
        if (auto it = open.find(task.first); it != open.end() && --it->second <= 0) {
          open.erase(it);
          last = true;
        }
      }
      if (last) {
        const auto url = complete(task.first);
        done_cv.notify_all();  // a synchronous request answers now, not after the webhook's attempts
        if (url) deliver(task.first, *url);
      }
    }
  }

  // Signs one item and records its outcome with the batch counters in one transaction.
  void process(const std::string& id, std::int64_t idx) {
    const auto b = db.query_one("SELECT user_id, username, client_address, profile FROM batches WHERE id = $1", {id});
    const auto it = db.query_one("SELECT name, state, digest, digest_alg FROM batch_items WHERE batch_id = $1 AND idx = $2",
                                 {id, idx});
    if (!b || !it || it->get_text("state") != "pending") return;
    signing::Caller caller;
    caller.user_id = b->get_text("user_id");
    caller.username = b->get_text("username");
    caller.address = b->get_text("client_address");
    caller.request_id = id + "#" + std::to_string(idx);
    caller.api = "batch";

    std::string level, error, description;
    try {
      const signing::Profile* p = profile(b->get_text("profile"));
      if (p == nullptr) throw Error(Errc::not_found, "the profile '" + b->get_text("profile") + "' is no longer configured", true);
      signing::Document doc;
      doc.name = it->get_text("name");
      if (const auto d = it->opt_text("digest")) {
        doc.digest = hex_decode(*d);
      } else {
        doc.path = input_path(id, idx);
        if (!fs::exists(doc.path)) throw Error(Errc::io, "the input of this item was lost (restart without its spool files)", true);
      }
      signing::DocumentRequest request = p->request;
      request.signing_time = std::chrono::time_point_cast<std::chrono::seconds>(clock.now());
      const auto outcome = signing.sign_document(caller, p->credential_id, doc, request, output_path(id, idx), p->scheme);
      level = std::string(level_name(outcome.level));
    } catch (const Error& e) {
      error = std::string(e.info().name);
      description = e.public_description();
    } catch (const std::exception& e) {
      log::error("batch {} item {}: {}", id, idx, e.what());
      error = "internal";
      description = "Internal error";
    }
    const bool ok = error.empty();
    db.transaction([&](store::Database& tx) {
      if (tx.exec("UPDATE batch_items SET state = $3, level = $4, error = $5, error_description = $6 "
                  "WHERE batch_id = $1 AND idx = $2 AND state = 'pending'",
                  {id, idx, std::string(ok ? "signed" : "failed"), ok ? store::Value{level} : store::Value{nullptr},
                   ok ? store::Value{nullptr} : store::Value{error},
                   ok ? store::Value{nullptr} : store::Value{description}}) != 1) {
        return;
      }
      tx.exec(ok ? "UPDATE batches SET signed_count = signed_count + 1, state = 'running' WHERE id = $1"
                 : "UPDATE batches SET failed = failed + 1, state = 'running' WHERE id = $1",
              {id});
    });
    if (ok) {
      std::error_code ec;
      fs::remove(input_path(id, idx), ec);
    }
  }

  // Marks a batch completed when every item is done, then posts its webhook.
  void finish(const std::string& id) {
    if (const auto url = complete(id)) deliver(id, *url);
  }

  // Marks a batch completed when every item is done; returns its webhook URL when it just completed
  // and has one (to be delivered next).
  std::optional<std::string> complete(const std::string& id) {
    const std::int64_t now = to_unix(clock.now());
    bool completed = false;
    std::optional<std::string> url;
    try {
      db.transaction([&](store::Database& tx) {
        const auto row = tx.query_one(
            "SELECT (SELECT COUNT(*) FROM batch_items WHERE batch_id = $1 AND state = 'pending') AS pending, "
            "webhook_url, state FROM batches WHERE id = $1",
            {id});
        if (!row || row->get_int("pending") != 0 || row->get_text("state") == "completed") return;
        url = row->opt_text("webhook_url");
        tx.exec("UPDATE batches SET state = 'completed', completed_at = $2, expires_at = $3, webhook_state = $4 WHERE id = $1",
                {id, now, now + options.retention.count(), url ? store::Value{std::string("pending")} : store::Value{nullptr}});
        completed = true;
      });
    } catch (const std::exception& e) {
      log::error("batch {}: completion not recorded: {}", id, e.what());
      return std::nullopt;
    }
    if (!completed) return std::nullopt;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(batch_dir(id), ec)) {
      if (entry.path().extension() == ".in") fs::remove(entry.path(), ec);
    }
    return url;
  }

  void deliver(const std::string& id, const std::string& url) {
    const auto row = db.query_one("SELECT total, signed_count, failed FROM batches WHERE id = $1", {id});
    if (!row) return;
    const nlohmann::json body{{"id", id},
                              {"state", "completed"},
                              {"total", row->get_int("total")},
                              {"signed", row->get_int("signed_count")},
                              {"failed", row->get_int("failed")},
                              {"href", "/api/v1/batches/" + id}};
    std::string state = "failed";
    auto backoff = options.webhook_backoff;
    for (unsigned attempt = 1; attempt <= std::max(1u, options.webhook_attempts); ++attempt) {
      try {
        webhook(url, body.dump());
        state = "delivered";
        break;
      } catch (const std::exception& e) {
        log::warn("batch {}: webhook attempt {} failed: {}", id, attempt, e.what());
        if (attempt == std::max(1u, options.webhook_attempts)) break;
        std::unique_lock lock(mu);
        if (done_cv.wait_for(lock, backoff, [&] { return stopping; })) {
          log::info("batch {}: stopping; the webhook stays pending and is sent again at the next start", id);
          return;
        }
        backoff *= 2;
      }
    }
    try {
      db.exec("UPDATE batches SET webhook_state = $2 WHERE id = $1", {id, state});
    } catch (const std::exception& e) {
      log::error("batch {}: webhook state not recorded: {}", id, e.what());
    }
  }

  static constexpr const char* kColumns =
      "SELECT id, profile, state, total, signed_count, failed, created_at, completed_at, webhook_state, idempotency_key "
      "FROM batches ";

  static BatchStatus from_row(const store::Row& b) {
    BatchStatus s;
    s.id = b.get_text("id");
    s.profile = b.get_text("profile");
    s.state = batch_state(b.get_text("state"));
    s.total = b.get_int("total");
    s.signed_count = b.get_int("signed_count");
    s.failed = b.get_int("failed");
    s.created_at = b.get_int("created_at");
    if (!b.is_null("completed_at")) s.completed_at = b.get_int("completed_at");
    s.webhook_state = b.opt_text("webhook_state");
    s.idempotency_key = b.opt_text("idempotency_key");
    return s;
  }

  std::optional<BatchStatus> load(const std::string& user_id, const std::string& id) {
    const auto b = db.query_one(std::string(kColumns) + "WHERE id = $1 AND user_id = $2", {id, user_id});
    if (!b) return std::nullopt;
    BatchStatus s = from_row(*b);
    for (const auto& r : db.query("SELECT idx, name, state, level, error, error_description FROM batch_items "
                                  "WHERE batch_id = $1 ORDER BY idx",
                                  {id})) {
      ItemStatus i;
      i.index = r.get_int("idx");
      i.name = r.get_text("name");
      i.state = item_state(r.get_text("state"));
      i.level = r.opt_text("level").value_or("");
      i.error = r.opt_text("error").value_or("");
      i.error_description = r.opt_text("error_description").value_or("");
      if (i.state == ItemState::signed_ok) i.output = output_path(id, i.index);
      s.items.push_back(std::move(i));
    }
    return s;
  }

  // The batch this user submitted under `key`, if any: (id, request hash).
  std::optional<std::pair<std::string, std::string>> by_key(const std::string& user_id, const std::string& key) {
    const auto row = db.query_one("SELECT id, request_sha256 FROM batches WHERE user_id = $1 AND idempotency_key = $2",
                                  {user_id, key});
    if (!row) return std::nullopt;
    return std::make_pair(row->get_text("id"), row->get_text("request_sha256"));
  }
};

BatchService::BatchService(store::Database& db, signing::SigningService& signing, std::vector<signing::Profile> profiles,
                           const Clock& clock, BatchOptions options, WebhookSender webhook)
    : options_(std::move(options)) {
  impl_ = std::make_unique<Impl>(db, signing, std::move(profiles), clock, options_, std::move(webhook));
  files::ensure_dir(options_.dir, 0700);
  impl_->start(options_.workers);
}

BatchService::~BatchService() { impl_->stop(); }

BatchStatus BatchService::submit(Submission s) {
  const signing::Profile* p = impl_->profile(s.profile);
  if (p == nullptr) bad("profile: no profile named '" + s.profile + "'");
  if (p->credential_id.empty()) {
    bad("profile: '" + s.profile + "' has no credential: it serves the Sign Service, where each signer signs with their own");
  }
  validate(s, *p, options_);
  const bool async = s.async || s.items.size() > options_.sync_max_items;
  const std::string& user = s.caller.user_id;

  const auto replay = [&](const std::string& id, const std::string& sha) {
    if (sha != s.request_sha256) {
      throw Error(Errc::store_conflict,
                  "Idempotency-Key '" + *s.idempotency_key + "' was used for a different request (batch " + id + ")", true);
    }
    auto current = impl_->load(user, id);
    if (!current) throw Error(Errc::not_found, "batch " + id + " is gone", true);
    if (!async && current->state != BatchState::completed) {
      impl_->wait_done(id);
      current = impl_->load(user, id);
    }
    current->replayed = true;
    return *current;
  };
  if (s.idempotency_key) {
    if (const auto known = impl_->by_key(user, *s.idempotency_key)) return replay(known->first, known->second);
  }

  const std::string id = "b_" + random_token(16);
  const fs::path dir = impl_->batch_dir(id);
  files::ensure_dir(dir, 0700);
  std::vector<std::int64_t> indexes;
  try {
    for (std::size_t i = 0; i < s.items.size(); ++i) {
      if (!s.items[i].digest_alg) {
        const auto& c = s.items[i].content;
        files::write_atomic(impl_->input_path(id, static_cast<std::int64_t>(i)),
                            std::string_view(reinterpret_cast<const char*>(c.data()), c.size()), 0600);
      }
      indexes.push_back(static_cast<std::int64_t>(i));
    }
    const std::int64_t now = to_unix(impl_->clock.now());
    impl_->db.transaction([&](store::Database& tx) {
      tx.exec("INSERT INTO batches (id, user_id, username, client_address, idempotency_key, request_sha256, profile, "
              "state, total, signed_count, failed, webhook_url, created_at, expires_at) "
              "VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', $8, 0, 0, $9, $10, $11)",
              {id, user, s.caller.username, s.caller.address, store::nullable(s.idempotency_key), s.request_sha256,
               s.profile, static_cast<std::int64_t>(s.items.size()), store::nullable(s.webhook), now,
               now + options_.retention.count()});
      for (std::size_t i = 0; i < s.items.size(); ++i) {
        const auto& item = s.items[i];
        tx.exec("INSERT INTO batch_items (batch_id, idx, name, state, digest, digest_alg) VALUES ($1, $2, $3, 'pending', $4, $5)",
                {id, static_cast<std::int64_t>(i), item.name,
                 item.digest_alg ? store::Value{hex_encode(item.content)} : store::Value{nullptr},
                 item.digest_alg ? store::Value{std::string(hash_name(*item.digest_alg))} : store::Value{nullptr}});
      }
    });
  } catch (const Error& e) {
    std::error_code ec;
    fs::remove_all(dir, ec);
    // Two submissions with one key at once: the unique index let one in; this one replays it.
    if ((e.code() == Errc::already_exists || e.code() == Errc::store_conflict) && s.idempotency_key) {
      if (const auto known = impl_->by_key(user, *s.idempotency_key)) return replay(known->first, known->second);
    }
    throw;
  }
  log::info("batch {}: {} item(s), profile '{}', {}", id, s.items.size(), s.profile, async ? "job" : "synchronous");
  impl_->enqueue(id, indexes);
  if (!async) impl_->wait_done(id);
  auto out = impl_->load(user, id);
  if (!out) throw Error(Errc::internal, "batch " + id + " vanished");
  return *out;
}

BatchStatus BatchService::status(const std::string& user_id, const std::string& id) {
  auto s = impl_->load(user_id, id);
  if (!s) throw Error(Errc::not_found, "no batch '" + id + "'", true);
  return *s;
}

std::vector<BatchStatus> BatchService::list(const std::string& user_id, std::size_t limit) {
  std::vector<BatchStatus> out;
  for (const auto& r : impl_->db.query(std::string(Impl::kColumns) + "WHERE user_id = $1 ORDER BY created_at DESC, id LIMIT $2",
                                       {user_id, static_cast<std::int64_t>(limit)})) {
    out.push_back(Impl::from_row(r));
  }
  return out;
}

void BatchService::stop() { impl_->stop(); }

std::size_t BatchService::resume_interrupted() {
  std::size_t n = 0;
  for (const auto& b : impl_->db.query("SELECT id FROM batches WHERE state <> 'completed' ORDER BY created_at")) {
    const std::string id = b.get_text(0);
    std::vector<std::int64_t> pending;
    for (const auto& r : impl_->db.query("SELECT idx FROM batch_items WHERE batch_id = $1 AND state = 'pending' ORDER BY idx",
                                         {id})) {
      pending.push_back(r.get_int(0));
    }
    if (pending.empty()) {
      impl_->finish(id);  // every item was done before the stop, only the completion was not
      continue;
    }
    log::info("batch {}: resuming {} pending item(s)", id, pending.size());
    impl_->enqueue(id, pending);
    ++n;
  }
  // Completed batches whose webhook a stop or a crash interrupted: sent again.
  for (const auto& b : impl_->db.query("SELECT id FROM batches WHERE state = 'completed' AND webhook_state = 'pending' "
                                       "AND webhook_url IS NOT NULL ORDER BY completed_at")) {
    log::info("batch {}: sending its interrupted completion webhook again", b.get_text(0));
    impl_->enqueue_webhook(b.get_text(0));
  }
  return n;
}

std::int64_t BatchService::purge_expired() {
  const std::int64_t now = to_unix(impl_->clock.now());
  std::int64_t n = 0;
  for (const auto& b : impl_->db.query("SELECT id FROM batches WHERE state = 'completed' AND expires_at < $1", {now})) {
    const std::string id = b.get_text(0);
    impl_->db.exec("DELETE FROM batches WHERE id = $1", {id});
    std::error_code ec;
    fs::remove_all(impl_->batch_dir(id), ec);
    ++n;
  }
  return n;
}

}  // namespace sigil::batch
