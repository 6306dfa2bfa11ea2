// Small helpers shared by the test binaries: an injectable clock and an error expectation.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>

#include "sigil/common/clock.hpp"
#include "sigil/common/error.hpp"

namespace sigil::test {

// A clock the test moves by hand; thread-safe, starts at a fixed instant (2027-01-15).
class FakeClock final : public Clock {
 public:
  time_point now() const override { return now_.load(); }
  void advance(std::chrono::seconds s) { now_ = now_.load() + s; }

 private:
  std::atomic<time_point> now_{time_point{std::chrono::seconds{1'800'000'000}}};
};

}  // namespace sigil::test

// Expects `statement` to throw sigil::Error with `errc`.
#define EXPECT_SIGIL_ERROR(statement, errc)                             \
  do {                                                                  \
    try {                                                               \
      statement;                                                        \
      ADD_FAILURE() << "no exception from " #statement;                 \
    } catch (const ::sigil::Error& e) {                                 \
      EXPECT_EQ(e.code(), errc) << e.info().name << ": " << e.detail(); \
    }                                                                   \
  } while (false)
