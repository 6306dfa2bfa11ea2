#include "notifier.hpp"

#include <algorithm>

#include "sigil/common/error.hpp"
#include "sigil/common/log.hpp"
#include "sigil/common/secure.hpp"
#include "sigil/common/url.hpp"
#include "sigil/store/database.hpp"

namespace sigil::signservice {
namespace {

constexpr std::size_t kBatch = 16;
constexpr std::int64_t kClaimMs = 120'000;         // longer than one attempt may take
constexpr std::int64_t kMaxDelayMs = 3'600'000;    // retries at most an hour apart

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Notifier::Notifier(store::Database& db, NotifierOptions options, Send send)
    : db_(db), options_(std::move(options)), send_(std::move(send)) {
  options_.attempts = std::max(1u, options_.attempts);
  thread_ = std::thread([this] { run(); });
}

Notifier::~Notifier() { stop(); }

void Notifier::enqueue(store::Database& tx, const std::string& document_id, const std::string& url,
                       nlohmann::json body) {
  const std::string id = "n_" + random_token(16);
  body["id"] = id;
  const auto seq = tx.query_one("SELECT COALESCE(MAX(seq), 0) + 1 FROM signservice_notifications WHERE document_id = $1",
                                {document_id})
                       ->get_int(0);
  const auto now = now_ms();
  tx.exec("INSERT INTO signservice_notifications (id, document_id, seq, url, body, created_at, next_at) "
          "VALUES ($1, $2, $3, $4, $5, $6, $6)",
          {id, document_id, seq, url, body.dump(), now});
}

void Notifier::kick() {
  {
    std::lock_guard lock(mu_);
    kicked_ = true;
  }
  cv_.notify_all();
}

void Notifier::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Notifier::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    kicked_ = false;
    lock.unlock();
    std::size_t attempted = 0;
    try {
      attempted = deliver_due();
    } catch (const std::exception& e) {
      log::warn("signservice: notification delivery pass failed: {}", e.what());
    }
    lock.lock();
    if (attempted > 0) continue;
    // Until the next poll, or sooner when one of this node's retries falls due.
    auto wait = options_.poll;
    if (soonest_retry_ > 0) {
      wait = std::clamp(std::chrono::milliseconds(soonest_retry_ - now_ms()), std::chrono::milliseconds(1), wait);
      soonest_retry_ = 0;
    }
    cv_.wait_for(lock, wait, [&] { return stopping_ || kicked_; });
  }
}

std::size_t Notifier::deliver_due() {
  const auto now = now_ms();
  // Due, not being sent by another node, and the first of its document still waiting.
  const auto rows = db_.query(
      "SELECT id, url, body, attempts FROM signservice_notifications n WHERE next_at <= $1 AND claimed_until <= $1 "
      "AND NOT EXISTS (SELECT 1 FROM signservice_notifications e WHERE e.document_id = n.document_id AND "
      "e.seq < n.seq) ORDER BY created_at, document_id, seq LIMIT $2",
      {now, static_cast<std::int64_t>(kBatch)});
  std::size_t attempted = 0;
  for (const auto& row : rows) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
    }
    const std::string id = row.get_text("id");
    const std::string url = row.get_text("url");
    const auto attempts = row.get_int("attempts") + 1;
    const auto at = now_ms();
    // Still as read (another node may have sent it, or failed and rescheduled it, meanwhile).
    if (db_.exec("UPDATE signservice_notifications SET claimed_until = $2 WHERE id = $1 AND claimed_until <= $3 AND "
                 "next_at <= $3 AND attempts = $4",
                 {id, at + kClaimMs, at, attempts - 1}) != 1) {
      continue;
    }
    ++attempted;
    if (!url_under_prefix(url, options_.prefixes)) {
      log::warn("signservice: notification {} dropped: its URL is no longer under signservice.webhook_prefixes", id);
      db_.exec("DELETE FROM signservice_notifications WHERE id = $1", {id});
      continue;
    }
    if (const auto down = down_until_.find(url); down != down_until_.end() && down->second > at) {
      failed(id, url, attempts, false, "its URL failed moments ago");
      continue;
    }
    try {
      if (send_) send_(url, row.get_text("body"));
    } catch (const std::exception& e) {
      failed(id, url, attempts, true, e.what());
      continue;
    }
    down_until_.erase(url);
    db_.exec("DELETE FROM signservice_notifications WHERE id = $1", {id});
  }
  return attempted;
}

void Notifier::failed(const std::string& id, const std::string& url, std::int64_t attempts, bool sent,
                      const std::string& why) {
  if (attempts >= static_cast<std::int64_t>(options_.attempts)) {
    log::warn("signservice: notification {} dropped after {} attempt(s): {}", id, attempts, why);
    db_.exec("DELETE FROM signservice_notifications WHERE id = $1", {id});
    return;
  }
  if (sent) {
    log::info("signservice: notification {} attempt {} failed: {}", id, attempts, why);
  } else {
    log::debug("signservice: notification {} attempt {} not sent: {}", id, attempts, why);
  }
  std::int64_t delay = options_.backoff.count();
  for (std::int64_t i = 1; i < attempts && delay < kMaxDelayMs; ++i) delay *= 2;
  delay = std::clamp<std::int64_t>(delay, 1, kMaxDelayMs);
  const auto next = now_ms() + delay;
  if (sent) down_until_[url] = next;  // the URL is tried again when this retry is due
  {
    std::lock_guard lock(mu_);
    soonest_retry_ = soonest_retry_ == 0 ? next : std::min(soonest_retry_, next);
  }
  db_.exec("UPDATE signservice_notifications SET attempts = $2, next_at = $3, claimed_until = 0 WHERE id = $1",
           {id, attempts, next});
}

}  // namespace sigil::signservice
