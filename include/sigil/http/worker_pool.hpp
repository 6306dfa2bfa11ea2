// A bounded thread pool for blocking work (HSM, store, documents): I/O threads never block.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace sigil::http {

class WorkerPool {
 public:
  // `threads` workers (at least 1); at most `queue_capacity` jobs wait beyond the running ones.
  WorkerPool(unsigned threads, std::size_t queue_capacity);
  ~WorkerPool();  // stop()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues the job; false when the queue is full or the pool is stopping (caller answers 503).
  // A job that throws is logged; the worker survives.
  bool try_submit(std::function<void()> job);

  // Refuses new jobs, runs every queued job, waits for running ones and joins the workers.
  // Idempotent. Must not be called from inside a job.
  void stop();

  std::size_t queued() const;   // jobs waiting (not running)
  std::size_t running() const;  // jobs executing now
  unsigned threads() const { return static_cast<unsigned>(threads_.size()); }

 private:
  void work();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  std::size_t capacity_;
  std::size_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
  std::mutex join_mu_;  // serialises concurrent stop() calls around join
};

}  // namespace sigil::http
