// Concurrent writers through the connection pool: busy handling, no lost rows.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "sigil/common/error.hpp"
#include "store_fixture.hpp"

namespace sigil::store::test {
namespace {

class ConcurrencyTest : public StoreTest {};

TEST_F(ConcurrencyTest, EightThreadsTimesTwoHundredInserts) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 200;
  db().exec_script("CREATE TABLE hits (thread INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (thread, n))");

  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int n = 0; n < kPerThread; ++n) {
        const auto t0 = std::chrono::steady_clock::now();
        try {
          // Alternate plain statements and transactions: both take the write lock.
          if (n % 2 == 0) {
            db().exec("INSERT INTO hits (thread, n) VALUES ($1, $2)", {std::int64_t{t}, std::int64_t{n}});
          } else {
            db().transaction([&](Database& tx) {
              const auto count = tx.query_one("SELECT COUNT(*) FROM hits WHERE thread = $1", {std::int64_t{t}});
              EXPECT_EQ(count->get_int(0), n);  // this thread's earlier rows are all visible
              tx.exec("INSERT INTO hits (thread, n) VALUES ($1, $2)", {std::int64_t{t}, std::int64_t{n}});
            });
          }
        } catch (const Error& e) {
          ++failures;
          ADD_FAILURE() << e.info().name << ": " << e.detail() << " after "
                        << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count() << " ms";
        }
      }
    });
  }
  for (auto& th : threads) th.join();

  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(db().query_one("SELECT COUNT(*) FROM hits")->get_int(0), kThreads * kPerThread);
}

TEST_F(ConcurrencyTest, ReadersProceedWhileAWriterHoldsTheLock) {
  db().exec_script("CREATE TABLE v (x INTEGER)");
  db().exec("INSERT INTO v VALUES (1)");
  db().transaction([&](Database& tx) {
    tx.exec("UPDATE v SET x = 2");
    // WAL: another thread reads the last committed value without waiting for this transaction.
    std::int64_t seen = 0;
    std::thread reader([&] { seen = db().query_one("SELECT x FROM v")->get_int(0); });
    reader.join();
    EXPECT_EQ(seen, 1);
  });
  EXPECT_EQ(db().query_one("SELECT x FROM v")->get_int(0), 2);
}

}  // namespace
}  // namespace sigil::store::test
