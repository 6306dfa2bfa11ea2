// The Sign Service's notifications to portals, as a transactional outbox (ADR 0024): a transition
// writes its notifications into signservice_notifications in its own transaction (so there is no
// transition without its notification, nor a notification of a transition that rolled back), and
// a background thread on every node delivers the rows and deletes them. They survive a restart;
// delivery is at least once (a receiver de-duplicates on the body's "id").
//
// - Order: per document, a notification is sent only once every earlier one (by seq) has been
//   delivered or given up; documents do not wait for each other.
// - Retries: a failed attempt is retried after backoff, 2 x backoff, ... (at most an hour apart),
//   up to `attempts` attempts; then the row is dropped, logged.
// - A URL whose last attempt was slow to fail (a timeout) is not tried again until that retry is
//   due: its other notifications wait (no attempt counted), so one hung endpoint costs one timeout
//   per window, not one per notification; one that waited longer than its whole schedule of
//   attempts is dropped. Fast failures (an HTTP error, a refused connection) hold nothing back.
// - Several nodes: a node claims a row (claimed_until) for the time of one attempt (its timeout
//   plus a minute) and deletes or reschedules it only under its own claim. The nodes' clocks must
//   agree to well within that minute (NTP).
// - The URL is checked against the allowed prefixes again when it is sent.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace sigil::store {
class Database;
}

namespace sigil::signservice {

struct NotifierOptions {
  std::vector<std::string> prefixes;          // allowed webhook URL prefixes
  unsigned attempts = 10;
  std::chrono::milliseconds backoff{500};     // before the second attempt; doubling
  std::chrono::milliseconds poll{500};        // looks for due rows (other nodes', retries) this often
  std::chrono::milliseconds timeout{5000};    // one attempt's limit (the sender enforces it)
};

class Notifier {
 public:
  using Send = std::function<void(const std::string& url, const std::string& json_body)>;

  // Starts the delivery thread.
  Notifier(store::Database& db, NotifierOptions options, Send send);
  ~Notifier();  // stop()
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  // Inside the transition's transaction: queues `body` (an object; "id" is added) for `url` after
  // the document's earlier notifications.
  static void enqueue(store::Database& tx, const std::string& document_id, const std::string& url,
                      nlohmann::json body);
  // After a commit that queued something: deliver now rather than at the next poll.
  void kick();
  // Stops the thread; undelivered rows stay for the next start (or another node).
  void stop();

  // One delivery pass over the rows due now; returns how many it attempted. The thread's work.
  std::size_t deliver_due();

 private:
  void run();
  std::int64_t delay_ms(std::int64_t attempts) const;  // before the retry after `attempts` attempts
  std::int64_t down_until(const std::string& url, std::int64_t now);  // 0: not down
  void finish(const std::string& id, std::int64_t claim);               // delivered or given up
  void remember_retry(std::int64_t at);

  store::Database& db_;
  NotifierOptions options_;
  Send send_;
  std::int64_t span_ms_ = 0;                        // the waits of a whole schedule of attempts
  std::mutex mu_;                                   // guards everything below
  std::map<std::string, std::int64_t> down_until_;  // URL -> Unix ms: timed out, not tried again before
  std::condition_variable cv_;
  bool stopping_ = false;
  bool kicked_ = false;
  std::int64_t soonest_retry_ = 0;  // Unix ms of this node's next retry; 0: none
  std::mutex join_mu_;
  std::thread thread_;
};

}  // namespace sigil::signservice
