// Audit records per second through AuditLog::append (durable on return: SQLite WAL,
// synchronous=FULL), at 1 and 8 threads, three ways:
//   audit/no_group       group_commit_max = 1: one transaction (one fsync) per record;
//   audit/group_nowait   group_commit_max = 256, group_commit_wait = 0: records that queue while a
//                        commit is in progress share the next one;
//   audit/group_wait2ms  the defaults (256, 2 ms): the writer also waits up to 2 ms for company.
// Counters: records per commit. Checkpoints (every 1000 records, ECDSA P-256 in the token) included.
#include "audit_bench.hpp"

#include <benchmark/benchmark.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "sigil/audit/audit_log.hpp"
#include "sigil/audit/events.hpp"
#include "sigil/store/migrations.hpp"
#include "sigil/store/sqlite.hpp"

namespace sigil::bench {
namespace {

struct AuditCase {
  const char* name;
  std::size_t group_max;
  std::chrono::microseconds wait;
};
constexpr AuditCase kCases[] = {{"no_group", 1, std::chrono::microseconds{0}},
                                {"group_nowait", 256, std::chrono::microseconds{0}},
                                {"group_wait2ms", 256, std::chrono::microseconds{2000}}};

struct AuditWorld {
  SystemClock clock;
  std::unique_ptr<KeySigner> signer;
  std::vector<std::unique_ptr<store::Database>> dbs;
  std::vector<std::unique_ptr<audit::AuditLog>> logs;  // one per case, each on its own database
};
AuditWorld* g_audit = nullptr;

audit::Event sample_event(int thread, std::int64_t i) {
  audit::SignatureEvent s;
  s.actor = audit::Actor{"u-1234", "alice", "203.0.113.7", "req-" + std::to_string(thread) + "-" + std::to_string(i)};
  s.api = "csc";
  s.credential_id = "cred_0123456789";
  s.key_label = "alice-key";
  s.certificate_sha256 = std::string(64, 'c');
  s.algorithm = "ecdsa-sha256";
  s.format = "pades";
  s.level = "B-T";
  s.documents = {{"contract.pdf", "sha256:" + std::string(64, 'a')}};
  s.success = true;
  s.duration = std::chrono::microseconds{12000};
  return audit::to_event(s);
}

void BM_AuditAppend(benchmark::State& state, std::size_t which) {
  audit::AuditLog& log = *g_audit->logs[which];
  const auto before = log.stats();
  std::int64_t i = 0;
  for (auto _ : state) log.append(sample_event(state.thread_index(), ++i));
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) {
    const auto after = log.stats();
    const double commits = static_cast<double>(after.transactions - before.transactions);
    const double records = static_cast<double>(after.records - before.records);
    state.counters["records_per_commit"] = commits > 0 ? records / commits : 0;
  }
}

}  // namespace

void register_audit_benchmarks(hsm::Token& token, const std::filesystem::path& dir) {
  static AuditWorld world;
  token.generate_key(KeySpec::parse("ec-p256"), "bench-audit-key");
  world.signer = token.signer("bench-audit-key");
  for (std::size_t c = 0; c < std::size(kCases); ++c) {
    auto db = store::open_sqlite(
        store::SqliteOptions{dir / (std::string("audit-") + kCases[c].name + ".db"), std::chrono::milliseconds{5000}, 4});
    store::migrate(*db, world.clock);
    audit::AuditOptions o;
    o.checkpoint_every_records = 1000;
    o.group_commit_max = kCases[c].group_max;
    o.group_commit_wait = kCases[c].wait;
    world.logs.push_back(std::make_unique<audit::AuditLog>(*db, world.clock, world.signer.get(), o));
    world.dbs.push_back(std::move(db));
    benchmark::RegisterBenchmark((std::string("audit/") + kCases[c].name).c_str(), BM_AuditAppend, c)
        ->Threads(1)
        ->Threads(8)
        ->UseRealTime()
        ->MinTime(1.0);
  }
  g_audit = &world;
}

void close_audit_benchmarks() {
  if (g_audit == nullptr) return;
  g_audit->logs.clear();  // final checkpoints, before the token and the databases go
  g_audit->dbs.clear();
  g_audit->signer.reset();
  g_audit = nullptr;
}

}  // namespace sigil::bench
