// An audit::Sink that keeps events in memory and can be told to refuse (fail-closed tests).
#pragma once

#include <functional>
#include <mutex>
#include <utility>
#include <vector>

#include "sigil/audit/events.hpp"
#include "sigil/common/error.hpp"

namespace sigil::test {

class RecordingSink final : public audit::Sink {
 public:
  bool fail_append = false;     // append() throws audit_unavailable (the record is not kept)
  bool unavailable = false;     // check_available() throws audit_unavailable

  void append(audit::Event e) override {
    std::lock_guard guard(mu_);
    if (fail_append) throw Error(Errc::audit_unavailable, "test: audit log down");
    events_.push_back(std::move(e));
  }
  // Runs once, at the next check_available(): a seam for "something happens between a caller's
  // checks and its write" (e.g. an administrator's password change during a login).
  std::function<void()> on_next_check;

  void check_available() override {
    if (auto hook = std::exchange(on_next_check, nullptr)) hook();
    if (unavailable) throw Error(Errc::audit_unavailable, "test: audit log down");
  }
  std::vector<audit::Event> events() const {
    std::lock_guard guard(mu_);
    return events_;
  }
  audit::Event last() const {
    std::lock_guard guard(mu_);
    return events_.empty() ? audit::Event{} : events_.back();
  }
  void clear() {
    std::lock_guard guard(mu_);
    events_.clear();
  }

 private:
  mutable std::mutex mu_;
  std::vector<audit::Event> events_;
};

}  // namespace sigil::test
