// A first-come-first-served lock for this process's SQLite writers.
//
// SQLite allows one writer at a time and makes the others poll: its busy handler sleeps (up to
// 100 ms per round) and retries. Under steady contention from our own worker threads that is
// unfair: a thread that just woke keeps losing to threads that never slept. With 8 threads x 200
// inserts one writer starved past the 5 s busy timeout in about half the runs (~7 s per run); with
// this gate: no failures, ~1.2 s. So writers of this process queue here, in arrival order, and
// only then take SQLite's lock; the busy handler is left to arbitrate against other processes
// (sigilctl on the same file), which is rare.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>

#include "sigil/common/error.hpp"

namespace sigil::store::sqlite {

class WriteGate {
 public:
  // Holds the gate for a scope. Throws Error(store_unavailable) if it is not granted in `timeout`.
  class Hold {
   public:
    Hold(WriteGate& gate, std::chrono::milliseconds timeout) : gate_(gate) { gate_.acquire(timeout); }
    ~Hold() { gate_.release(); }
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;

   private:
    WriteGate& gate_;
  };

 private:
  void acquire(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    const std::uint64_t ticket = next_ticket_++;
    queue_.push_back(ticket);
    if (!turn_.wait_for(lock, timeout, [&] { return !held_ && queue_.front() == ticket; })) {
      std::erase(queue_, ticket);
      turn_.notify_all();  // the next in line may have been waiting behind this ticket
      throw Error(Errc::store_unavailable, "sqlite: timed out waiting for the write lock");
    }
    queue_.pop_front();
    held_ = true;
  }

  void release() noexcept {
    {
      const std::lock_guard lock(mutex_);
      held_ = false;
    }
    turn_.notify_all();
  }

  std::mutex mutex_;
  std::condition_variable turn_;
  std::deque<std::uint64_t> queue_;  // waiting tickets, oldest first
  std::uint64_t next_ticket_ = 0;
  bool held_ = false;
};

}  // namespace sigil::store::sqlite
