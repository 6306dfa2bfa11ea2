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
constexpr std::int64_t kClaimMarginMs = 60'000;     // a claim outlasts the attempt's timeout by this much
constexpr std::int64_t kMaxDelayMs = 3'600'000;     // retries at most an hour apart
constexpr std::int64_t kSlowFailureMs = 1'000;      // a failure that took this long marks its URL down
constexpr std::int64_t kWarnEveryMs = 60'000;       // a failing store is logged at most this often

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Notifier::Notifier(store::Database& db, NotifierOptions options, Send send)
    : db_(db), options_(std::move(options)), send_(std::move(send)) {
  options_.attempts = std::max(1u, options_.attempts);
  for (unsigned k = 1; k < options_.attempts; ++k) span_ms_ += delay_ms(k);
  thread_ = std::thread([this] { run(); });
}

Notifier::~Notifier() { stop(); }

std::int64_t Notifier::delay_ms(std::int64_t attempts) const {
  std::int64_t delay = std::max<std::int64_t>(1, options_.backoff.count());
  for (std::int64_t i = 1; i < attempts && delay < kMaxDelayMs; ++i) delay *= 2;
  return std::min(delay, kMaxDelayMs);
}

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
    stopping_ = true;
  }
  cv_.notify_all();
  std::lock_guard join(join_mu_);  // a second caller returns once the thread is gone too
  if (thread_.joinable()) thread_.join();
}

void Notifier::run() {
  std::unique_lock lock(mu_);
  std::int64_t last_warning = 0;
  while (!stopping_) {
    kicked_ = false;
    lock.unlock();
    std::size_t attempted = 0;
    try {
      attempted = deliver_due();
    } catch (const std::exception& e) {
      if (const auto now = now_ms(); now - last_warning >= kWarnEveryMs) {
        last_warning = now;
        log::warn("signservice: notification delivery pass failed (retrying; logged once a minute): {}", e.what());
      }
    } catch (...) {
      log::warn("signservice: notification delivery pass failed");
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

std::int64_t Notifier::down_until(const std::string& url, std::int64_t now) {
  std::lock_guard lock(mu_);
  const auto it = down_until_.find(url);
  if (it == down_until_.end()) return 0;
  if (it->second > now) return it->second;
  down_until_.erase(it);
  return 0;
}

std::size_t Notifier::deliver_due() {
  const auto now = now_ms();
  // Due, not being sent by another node, and the first of its document still waiting.
  const auto rows = db_.query(
      "SELECT id, url, body, attempts, created_at FROM signservice_notifications n WHERE next_at <= $1 AND "
      "claimed_until <= $1 AND NOT EXISTS (SELECT 1 FROM signservice_notifications e WHERE e.document_id = "
      "n.document_id AND e.seq < n.seq) ORDER BY created_at, document_id, seq LIMIT $2",
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
    const auto claim = at + options_.timeout.count() + kClaimMarginMs;
    // Still as read (another node may have sent it, or failed and rescheduled it, meanwhile).
    if (db_.exec("UPDATE signservice_notifications SET claimed_until = $2 WHERE id = $1 AND claimed_until <= $3 AND "
                 "next_at <= $3 AND attempts = $4",
                 {id, claim, at, attempts - 1}) != 1) {
      continue;
    }
    ++attempted;
    if (!url_under_prefix(url, options_.prefixes)) {
      log::warn("signservice: notification {} dropped: its URL is no longer under signservice.webhook_prefixes", id);
      finish(id, claim);
      continue;
    }
    // A URL whose last attempt timed out is not tried again before its retry is due: this one
    // waits (no attempt counted) unless it is older than its whole schedule of attempts.
    if (const auto down = down_until(url, at); down > 0) {
      if (at - row.get_int("created_at") > span_ms_) {
        log::warn("signservice: notification {} dropped: its URL has been failing for longer than its retries", id);
        finish(id, claim);
      } else {
        db_.exec("UPDATE signservice_notifications SET next_at = $2, claimed_until = 0 WHERE id = $1 AND "
                 "claimed_until = $3",
                 {id, down, claim});
        remember_retry(down);
      }
      continue;
    }
    std::string failure;
    try {
      if (send_) send_(url, row.get_text("body"));
    } catch (const std::exception& e) {
      failure = e.what();
      if (failure.empty()) failure = "failed";
    } catch (...) {
      failure = "failed";
    }
    if (failure.empty()) {
      finish(id, claim);
      continue;
    }
    if (attempts >= static_cast<std::int64_t>(options_.attempts)) {
      log::warn("signservice: notification {} dropped after {} attempt(s): {}", id, attempts, failure);
      finish(id, claim);
      continue;
    }
    log::info("signservice: notification {} attempt {} failed: {}", id, attempts, failure);
    const auto next = now_ms() + delay_ms(attempts);
    if (now_ms() - at >= kSlowFailureMs) {
      std::lock_guard lock(mu_);
      if (down_until_.size() >= 1024) std::erase_if(down_until_, [&](const auto& e) { return e.second <= at; });
      down_until_[url] = next;  // slow (a timeout): the URL is tried again when this retry is due
    }
    db_.exec("UPDATE signservice_notifications SET attempts = $2, next_at = $3, claimed_until = 0 WHERE id = $1 AND "
             "claimed_until = $4",
             {id, attempts, next, claim});
    remember_retry(next);
  }
  return attempted;
}

void Notifier::finish(const std::string& id, std::int64_t claim) {
  // Only under this node's claim: had it run out and another node taken the row, that node decides.
  db_.exec("DELETE FROM signservice_notifications WHERE id = $1 AND claimed_until = $2", {id, claim});
}

void Notifier::remember_retry(std::int64_t at) {
  std::lock_guard lock(mu_);
  soonest_retry_ = soonest_retry_ == 0 ? at : std::min(soonest_retry_, at);
}

}  // namespace sigil::signservice
