#include "sigil/http/worker_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <stdexcept>
#include <thread>

namespace sigil::http {
namespace {

template <class Pred>
bool eventually(Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

TEST(WorkerPool, RunsJobs) {
  WorkerPool pool(3, 1000);
  std::atomic<int> n{0};
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(pool.try_submit([&] { ++n; }));
  pool.stop();
  EXPECT_EQ(n, 100);
}

TEST(WorkerPool, FullQueueRefuses) {
  WorkerPool pool(1, 2);
  std::promise<void> gate;
  auto opened = gate.get_future().share();
  std::atomic<int> n{0};
  ASSERT_TRUE(pool.try_submit([&, opened] {
    opened.wait();
    ++n;
  }));
  ASSERT_TRUE(eventually([&] { return pool.running() == 1; }));
  EXPECT_TRUE(pool.try_submit([&] { ++n; }));
  EXPECT_TRUE(pool.try_submit([&] { ++n; }));
  EXPECT_FALSE(pool.try_submit([&] { ++n; }));  // 1 running + 2 queued: full
  EXPECT_EQ(pool.queued(), 2u);
  gate.set_value();
  pool.stop();
  EXPECT_EQ(n, 3);
}

TEST(WorkerPool, StopDrainsQueuedAndRunningJobs) {
  WorkerPool pool(1, 10);
  std::atomic<int> n{0};
  ASSERT_TRUE(pool.try_submit([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ++n;
  }));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(pool.try_submit([&] { ++n; }));
  pool.stop();
  EXPECT_EQ(n, 6);
  EXPECT_FALSE(pool.try_submit([&] { ++n; }));
  pool.stop();  // idempotent
}

TEST(WorkerPool, ThrowingJobDoesNotKillTheWorker) {
  WorkerPool pool(1, 10);
  std::atomic<int> n{0};
  ASSERT_TRUE(pool.try_submit([] { throw std::runtime_error("job failed"); }));
  ASSERT_TRUE(pool.try_submit([&] { ++n; }));
  pool.stop();
  EXPECT_EQ(n, 1);
}

}  // namespace
}  // namespace sigil::http
