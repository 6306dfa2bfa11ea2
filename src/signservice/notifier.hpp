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
// - A URL that just failed is not tried again until that retry is due: its other notifications
//   count a failed attempt without being sent, so one dead endpoint costs one timeout per window,
//   not one per notification.
// - Several nodes: a node claims a row (claimed_until) for the time of one attempt.
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
  // A failed attempt (`sent`: it reached the network; else it was held back because the URL is
  // down): reschedule with backoff, or drop after the last attempt.
  void failed(const std::string& id, const std::string& url, std::int64_t attempts, bool sent, const std::string& why);

  store::Database& db_;
  NotifierOptions options_;
  Send send_;
  std::map<std::string, std::int64_t> down_until_;  // URL -> Unix ms: failed, not tried again before
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool kicked_ = false;
  std::int64_t soonest_retry_ = 0;  // Unix ms of this node's next retry; 0: none
  std::thread thread_;
};

}  // namespace sigil::signservice
