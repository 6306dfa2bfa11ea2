// Signing lanes (src/hsm/lanes.hpp): signatures in flight hold different lanes, and so sign with
// different key copies, as long as there are lanes free.
#include "hsm/lanes.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <set>
#include <thread>
#include <vector>

namespace sigil::hsm {
namespace {

TEST(Lanes, LeasesInFlightHoldDifferentLanesUntilReleased) {
  Lanes lanes(4);
  std::vector<std::unique_ptr<Lanes::Lease>> held;
  std::set<unsigned> seen;
  for (int i = 0; i < 4; ++i) {
    held.emplace_back(new Lanes::Lease(lanes.take()));  // guaranteed elision: Lease does not move
    EXPECT_TRUE(held.back()->held());
    seen.insert(held.back()->index());
  }
  EXPECT_EQ(seen.size(), 4u) << "two leases in flight share a lane";
  {
    const auto extra = lanes.take();  // all busy: shares one, says so
    EXPECT_FALSE(extra.held());
    EXPECT_LT(extra.index(), 4u);
  }
  const unsigned freed = held[2]->index();
  held.erase(held.begin() + 2);
  const auto again = lanes.take();
  EXPECT_TRUE(again.held());
  EXPECT_EQ(again.index(), freed) << "the only free lane";
}

TEST(Lanes, ZeroMeansOne) {
  Lanes lanes(0);
  const auto a = lanes.take();
  EXPECT_TRUE(a.held());
  EXPECT_EQ(a.index(), 0u);
  EXPECT_FALSE(lanes.take().held());
}

TEST(Lanes, HeldLeasesNeverShareALane) {
  constexpr unsigned kThreads = 4;
  Lanes lanes(kThreads);
  std::atomic<int> in_lane[kThreads] = {};
  std::atomic<int> shared{0}, clashes{0};
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        const auto lease = lanes.take();
        if (!lease.held()) {
          ++shared;
          continue;
        }
        if (in_lane[lease.index()].fetch_add(1) != 0) ++clashes;
        in_lane[lease.index()].fetch_sub(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(clashes.load(), 0) << "two held leases on one lane";
  // (A take() can still come back shared: the free lane may move while it scans.)
}

}  // namespace
}  // namespace sigil::hsm
