// Injected time: production code asks a Clock, tests pass a FakeClock.
#pragma once

#include <chrono>
#include <string>

namespace sigil {

class Clock {
 public:
  using time_point = std::chrono::system_clock::time_point;
  virtual ~Clock() = default;
  virtual time_point now() const = 0;
};

class SystemClock final : public Clock {
 public:
  time_point now() const override { return std::chrono::system_clock::now(); }
};

// Seconds since the Unix epoch, and RFC 3339 UTC text ("2026-11-22T14:58:11Z").
long long to_unix(Clock::time_point tp);
std::string to_rfc3339(Clock::time_point tp);

}  // namespace sigil
