// The audit trail: chaining, checkpoints, tamper detection, export/import, group commit and
// fail-closed behaviour, on a real SQLite file and a SoftHSM audit key.
#include <gtest/gtest.h>

#include <atomic>
#include <sstream>
#include <thread>

#include "sigil/audit/audit_log.hpp"
#include "sigil/audit/verify.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"
#include "sigil/store/migrations.hpp"
#include "sigil/store/sqlite.hpp"
#include "sigil/store/store.hpp"
#include "softhsm_env.hpp"
#include "faulty_database.hpp"
#include "temp_dir.hpp"
#include "test_store.hpp"
#include "test_util.hpp"


#define EXPECT_SIGIL_ERROR_AUDIT(statement)                                               \
  do {                                                                                    \
    try {                                                                                 \
      statement;                                                                          \
      ADD_FAILURE() << "no exception from " #statement;                                   \
    } catch (const ::sigil::Error& e) {                                                   \
      EXPECT_EQ(e.code(), ::sigil::Errc::audit_unavailable) << e.info().name << ": " << e.detail(); \
    }                                                                                     \
  } while (false)

namespace sigil::audit {
namespace {

using ::sigil::test::FakeClock;

using ::sigil::test::FaultyDatabase;

Event event(int i) {
  Event e;
  e.type = "signature.created";
  e.principal = "alice";
  e.client_address = "203.0.113.7:51234";
  e.request_id = "req-" + std::to_string(i);
  e.outcome = "success";
  e.details = {{"credential_id", "cred-1"}, {"algorithm", "ecdsa-sha256"},
               {"document_digest", std::string(64, 'a')}};
  return e;
}

class AuditTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    token_ = test::open_test_token();
    if (!token_->find_key("audit-key")) token_->generate_key(KeySpec::parse("ec-p256"), "audit-key");
  }
  static void TearDownTestSuite() { token_.reset(); }

  AuditTest() {
    db_ = store::open_database(backend_.config(), 8);
    store::migrate(*db_, clock_);
    signer_ = token_->signer("audit-key");
    spki_ = signer_->public_key_der();
  }

  static AuditOptions fast(std::int64_t every_records = 10) {
    AuditOptions o;
    o.checkpoint_every_records = every_records;
    o.group_commit_wait = std::chrono::microseconds{0};
    return o;
  }

  // 45 records, checkpoints at 10, 20, 30, 40 (by count) and 45 (close).
  void build_chain(int n = 45) {
    AuditLog log(*db_, clock_, signer_.get(), fast());
    for (int i = 1; i <= n; ++i) log.append(event(i));
    log.close();
  }

  VerifyReport verify_db() {
    const Trail t = read_all(*db_);
    return verify_chain(t.records, t.checkpoints, spki_);
  }

  void expect_problem(const VerifyReport& r, Problem p, std::int64_t position, const std::string& message) {
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.problem, p) << r.message;
    EXPECT_EQ(r.position, position) << r.message;
    EXPECT_EQ(r.message, message);
  }

  static inline std::unique_ptr<hsm::Token> token_;
  test::TempDir dir_;
  test::TestStore backend_{dir_.path()};  // SQLite in dir_, or a PostgreSQL schema
  FakeClock clock_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<KeySigner> signer_;
  Bytes spki_;
};

TEST_F(AuditTest, CleanChainWithCheckpointsVerifiesAndSurvivesRestart) {
  build_chain();
  auto r = verify_db();
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.records, 45);
  EXPECT_EQ(r.checkpoints, 5);
  EXPECT_EQ(r.last_checkpointed_seq, 45);

  const Trail t = read_all(*db_);
  ASSERT_EQ(t.records.size(), 45u);
  EXPECT_EQ(t.records[0].prev_hash, genesis_hash());
  EXPECT_EQ(t.records[6].event, event(7));
  EXPECT_EQ(t.records[6].time, "2027-01-15T08:00:00Z");
  EXPECT_EQ(t.checkpoints[0].seq, 10);
  EXPECT_EQ(t.checkpoints[0].algorithm, "ecdsa-sha256");
  EXPECT_EQ(t.checkpoints[0].key_label, "audit-key");

  // A new instance continues the chain from the stored head.
  {
    AuditLog log(*db_, clock_, signer_.get(), fast());
    EXPECT_EQ(log.head().seq, 45);
    log.append(event(46));
    EXPECT_EQ(log.head().seq, 46);
  }
  r = verify_db();
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.records, 46);
  EXPECT_EQ(r.last_checkpointed_seq, 46);
}

TEST_F(AuditTest, TimeBasedCheckpointAndExplicitCheckpoint) {
  AuditOptions o = fast(0);
  o.checkpoint_every = std::chrono::seconds{60};
  AuditLog log(*db_, clock_, signer_.get(), o);
  log.append(event(1));
  EXPECT_EQ(log.stats().checkpoints, 0u);
  clock_.advance(std::chrono::seconds{61});
  log.append(event(2));
  // The writer checkpoints right after it acknowledged the batch.
  for (int i = 0; i < 500 && log.stats().checkpoints == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds{10});
  EXPECT_EQ(log.stats().checkpoints, 1u);
  log.append(event(3));
  log.checkpoint();
  log.checkpoint();  // already covered: no second one
  EXPECT_EQ(log.stats().checkpoints, 2u);
  log.close();
  EXPECT_EQ(log.stats().checkpoints, 2u);  // close() had nothing new to cover
  EXPECT_SIGIL_ERROR_AUDIT(log.append(event(4)));
}

TEST_F(AuditTest, TamperedBodyIsFoundAtItsSeq) {
  build_chain();
  db_->exec("UPDATE audit_records SET body = replace(body, 'alice', 'mallory') WHERE seq = 17");
  expect_problem(verify_db(), Problem::record_modified, 17, "record 17 modified");
}

TEST_F(AuditTest, RecomputedHashBreaksTheNextLink) {
  build_chain();
  Trail t = read_all(*db_);
  Record r = t.records[16];
  r.event.principal = "mallory";
  r.hash = compute_hash(r);
  db_->exec("UPDATE audit_records SET body = $1, hash = $2 WHERE seq = 17", {canonical_json(r), r.hash});
  expect_problem(verify_db(), Problem::record_not_chained, 18, "record 18 does not chain");
}

TEST_F(AuditTest, DeletedMiddleRecordIsFound) {
  build_chain();
  db_->exec("DELETE FROM audit_records WHERE seq = 23");
  expect_problem(verify_db(), Problem::record_missing, 23, "record 23 missing / out of order");
}

TEST_F(AuditTest, TruncatedTailIsFound) {
  build_chain();
  db_->exec("DELETE FROM audit_records WHERE seq > 42");
  expect_problem(verify_db(), Problem::truncated, 45, "records truncated after checkpoint at 45");
}

TEST_F(AuditTest, SwappedSeqsAreFound) {
  build_chain();
  db_->transaction([](store::Database& tx) {
    tx.exec("UPDATE audit_records SET seq = -1 WHERE seq = 3");
    tx.exec("UPDATE audit_records SET seq = 3 WHERE seq = 4");
    tx.exec("UPDATE audit_records SET seq = 4 WHERE seq = -1");
  });
  expect_problem(verify_db(), Problem::record_missing, 3, "record 3 missing / out of order");
}

TEST_F(AuditTest, ForgedRecordsAreFound) {
  build_chain();
  Trail t = read_all(*db_);
  // A record appended with a made-up hash.
  {
    Record f;
    f.seq = 46;
    f.time = t.records.back().time;
    f.event = event(99);
    f.prev_hash = t.records.back().hash;
    f.hash = std::string(64, 'f');
    db_->exec("INSERT INTO audit_records (seq, time, body, prev_hash, hash) VALUES ($1, $2, $3, $4, $5)",
              {f.seq, f.time, canonical_json(f), f.prev_hash, f.hash});
    expect_problem(verify_db(), Problem::record_modified, 46, "record 46 modified");
    db_->exec("DELETE FROM audit_records WHERE seq = 46");
  }
  // A record inserted after seq 5 with the whole chain renumbered and rehashed: only the
  // checkpoint signatures can tell.
  Event forged = event(0);
  forged.type = "admin.key.delete";
  t.records.insert(t.records.begin() + 5, Record{0, t.records[4].time, forged, "", ""});
  std::string prev = genesis_hash();
  for (std::size_t i = 0; i < t.records.size(); ++i) {
    t.records[i].seq = static_cast<std::int64_t>(i + 1);
    t.records[i].prev_hash = prev;
    t.records[i].hash = compute_hash(t.records[i]);
    prev = t.records[i].hash;
  }
  db_->transaction([&](store::Database& tx) {
    tx.exec("DELETE FROM audit_records");
    for (const Record& r : t.records) {
      tx.exec("INSERT INTO audit_records (seq, time, body, prev_hash, hash) VALUES ($1, $2, $3, $4, $5)",
              {r.seq, r.time, canonical_json(r), r.prev_hash, r.hash});
    }
  });
  expect_problem(verify_db(), Problem::checkpoint_mismatch, 10, "checkpoint at 10 does not match the chain");
}

TEST_F(AuditTest, FlippedSignatureByteIsFound) {
  build_chain();
  const auto row = db_->query_one("SELECT signature FROM audit_checkpoints WHERE seq = 20");
  ASSERT_TRUE(row);
  Bytes sig = base64_decode(row->get_text("signature"));
  sig[sig.size() / 2] ^= 0x01;
  db_->exec("UPDATE audit_checkpoints SET signature = $1 WHERE seq = 20", {base64_encode(sig)});
  expect_problem(verify_db(), Problem::checkpoint_signature, 20, "checkpoint at 20 has an invalid signature");
}

TEST_F(AuditTest, ExportImportVerifiesOfflineAndTamperedExportFails) {
  build_chain();
  std::stringstream out;
  export_jsonl(*db_, out);
  const std::string text = out.str();

  std::istringstream in(text);
  const Trail imported = import_jsonl(in);
  const Trail stored = read_all(*db_);
  EXPECT_EQ(imported.records, stored.records);
  EXPECT_EQ(imported.checkpoints, stored.checkpoints);
  const auto ok = verify_chain(imported.records, imported.checkpoints, spki_);
  EXPECT_TRUE(ok.ok) << ok.message;

  // Line 10 is record 10: change who did it.
  std::vector<std::string> lines;
  std::istringstream split(text);
  for (std::string l; std::getline(split, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 50u);
  const auto at = lines[9].find("\"alice\"");
  ASSERT_NE(at, std::string::npos);
  lines[9].replace(at, 7, "\"bob\"");
  std::string tampered;
  for (const auto& l : lines) tampered += l + "\n";
  std::istringstream in2(tampered);
  const Trail bad = import_jsonl(in2);
  expect_problem(verify_chain(bad.records, bad.checkpoints, spki_), Problem::record_modified, 10,
                 "record 10 modified");

  // Another key does not verify the checkpoints.
  token_->generate_key(KeySpec::parse("ec-p256"), "other-key-" + std::to_string(::getpid()));
  const Bytes other = token_->public_key_der("other-key-" + std::to_string(::getpid()));
  expect_problem(verify_chain(imported.records, imported.checkpoints, other), Problem::checkpoint_signature, 10,
                 "checkpoint at 10 has an invalid signature");

  std::istringstream junk("{\"kind\":\"record\"}\n");
  EXPECT_THROW(import_jsonl(junk), Error);
}

TEST_F(AuditTest, ConcurrentAppendsAreGroupedIntoOneChain) {
  AuditOptions o;
  o.checkpoint_every_records = 500;
  AuditLog log(*db_, clock_, signer_.get(), o);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        try {
          log.append(event(t * 1000 + i));
        } catch (...) {
          ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  log.close();
  EXPECT_EQ(failures.load(), 0);
  const AuditStats s = log.stats();
  EXPECT_EQ(s.records, 1600u);
  EXPECT_LT(s.transactions, 800u);  // grouped: far fewer commits than records
  EXPECT_EQ(s.checkpoints, 4u);     // 500, 1000, 1500, and 1600 at close
  const Trail t = read_all(*db_);
  ASSERT_EQ(t.records.size(), 1600u);
  for (std::size_t i = 0; i < t.records.size(); ++i) ASSERT_EQ(t.records[i].seq, static_cast<std::int64_t>(i + 1));
  const auto r = verify_chain(t.records, t.checkpoints, spki_);
  EXPECT_TRUE(r.ok) << r.message;
  std::cout << "[ info ] 1600 records in " << s.transactions << " transactions\n";
}

TEST_F(AuditTest, AppendWithCommitsItsWritesAndItsRecordTogether) {
  db_->exec_script("CREATE TABLE spent (n INTEGER NOT NULL)");
  AuditOptions o;
  o.checkpoint_every_records = 0;
  AuditLog log(*db_, clock_, signer_.get(), o);
  std::atomic<int> ok{0};
  std::atomic<int> refused{0};
  std::atomic<int> other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        const int n = t * 1000 + i;
        const audit::Sink::InTx spend = [n](store::Database& tx, audit::Event&) {
          tx.exec("INSERT INTO spent (n) VALUES ($1)", {std::int64_t{n}});
          if (n % 5 == 0) throw Error(Errc::invalid_argument, "refused by the action");  // after a write
        };
        try {
          log.append_with(event(n), spend, *db_);
          ++ok;
        } catch (const Error& e) {
          (e.code() == Errc::invalid_argument ? refused : other)++;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(refused.load(), 80);  // only the refused callers failed; their batch mates committed
  EXPECT_EQ(ok.load(), 320);
  const Trail t = read_all(*db_);
  ASSERT_EQ(t.records.size(), 320u);  // a record exactly for each committed action
  EXPECT_EQ(db_->query_one("SELECT COUNT(*) FROM spent")->get_int(0), 320);
  EXPECT_EQ(db_->query_one("SELECT COUNT(*) FROM spent WHERE n % 5 = 0")->get_int(0), 0);
  EXPECT_LT(log.stats().transactions, 320u);  // grouped
  const auto r = verify_chain(t.records, t.checkpoints, spki_);
  EXPECT_TRUE(r.ok) << r.message;
}

// in_tx may complete the event with what it found in the store; the record is built from the
// completed event. An event it leaves unstorable (invalid UTF-8) refuses only its caller, with its
// writes rolled back, and the rest of the batch commits.
TEST_F(AuditTest, AppendWithRecordsTheEventAsInTxCompletedIt) {
  db_->exec_script("CREATE TABLE spent (n INTEGER NOT NULL)");
  AuditLog log(*db_, clock_, signer_.get(), fast(0));
  const audit::Sink::InTx complete = [](store::Database& tx, audit::Event& e) {
    tx.exec("INSERT INTO spent (n) VALUES (1)");
    e.details["sad_id"] = "sad-found-in-tx";
  };
  log.append_with(event(1), complete, *db_);
  const audit::Sink::InTx broken = [](store::Database& tx, audit::Event& e) {
    tx.exec("INSERT INTO spent (n) VALUES (2)");
    e.details["sad_id"] = std::string("\xff\xfe");
  };
  EXPECT_SIGIL_ERROR(log.append_with(event(2), broken, *db_), Errc::invalid_argument);
  log.append(event(3));
  const Trail t = read_all(*db_);
  ASSERT_EQ(t.records.size(), 2u);
  EXPECT_EQ(t.records[0].event.details.at("sad_id"), "sad-found-in-tx");
  EXPECT_EQ(t.records[1].event.request_id, "req-3");
  EXPECT_EQ(db_->query_one("SELECT COUNT(*) FROM spent")->get_int(0), 1);
  EXPECT_EQ(db_->query_one("SELECT COUNT(*) FROM spent WHERE n = 2")->get_int(0), 0);
}

// Several records with one set of store writes (a SCAL1 signature: sad.used + signature.create
// with the SAD's spend): chained in order in one batch, or none of them and no write.
TEST_F(AuditTest, AppendAllWithChainsTheRecordsInOrderOrNone) {
  db_->exec_script("CREATE TABLE spent (n INTEGER NOT NULL)");
  FaultyDatabase faulty(*db_);
  AuditLog log(faulty, clock_, signer_.get(), fast(0));
  const audit::Sink::InTxAll spend = [](store::Database& tx, std::vector<audit::Event>& e) {
    tx.exec("INSERT INTO spent (n) VALUES (1)");
    e.front().details["sad_id"] = "sad-1";
  };
  faulty.fail_after = true;
  EXPECT_SIGIL_ERROR_AUDIT(log.append_all_with({event(1), event(2)}, spend, faulty));
  EXPECT_EQ(db_->query_one("SELECT COUNT(*) FROM spent")->get_int(0), 0);
  EXPECT_EQ(log.head().seq, 0);
  faulty.fail_after = false;
  log.append(event(0));
  log.append_all_with({event(1), event(2)}, spend, faulty);
  const Trail t = read_all(*db_);
  ASSERT_EQ(t.records.size(), 3u);
  EXPECT_EQ(t.records[1].event.request_id, "req-1");
  EXPECT_EQ(t.records[1].event.details.at("sad_id"), "sad-1");
  EXPECT_EQ(t.records[2].event.request_id, "req-2");
  EXPECT_EQ(t.records[2].prev_hash, t.records[1].hash);
  EXPECT_EQ(db_->query_one("SELECT COUNT(*) FROM spent")->get_int(0), 1);
  const auto r = verify_chain(t.records, t.checkpoints, spki_);
  EXPECT_TRUE(r.ok) << r.message;

  // A refusal in in_tx: neither record, no write, only this caller.
  const audit::Sink::InTxAll refuse = [](store::Database& tx, std::vector<audit::Event>&) {
    tx.exec("INSERT INTO spent (n) VALUES (2)");
    throw Error(Errc::invalid_argument, "refused");
  };
  EXPECT_SIGIL_ERROR(log.append_all_with({event(3), event(4)}, refuse, faulty), Errc::invalid_argument);
  EXPECT_EQ(read_all(*db_).records.size(), 3u);
  EXPECT_EQ(db_->query_one("SELECT COUNT(*) FROM spent WHERE n = 2")->get_int(0), 0);
}

// in_tx may add a record for what it found (a workflow step that completed): chained after the
// others, in the same commit.
TEST_F(AuditTest, AppendAllWithTakesTheRecordsInTxAdded) {
  AuditLog log(*db_, clock_, signer_.get(), fast(0));
  const audit::Sink::InTxAll found = [](store::Database&, std::vector<audit::Event>& e) {
    e.push_back(event(9));
    e.push_back(event(10));
  };
  log.append_all_with({event(1)}, found, *db_);
  const Trail t = read_all(*db_);
  ASSERT_EQ(t.records.size(), 3u);
  EXPECT_EQ(t.records[1].event.request_id, "req-9");
  EXPECT_EQ(t.records[2].event.request_id, "req-10");
  const auto r = verify_chain(t.records, t.checkpoints, spki_);
  EXPECT_TRUE(r.ok) << r.message;
}

TEST_F(AuditTest, AppendWithLeavesNoWriteWhenTheRecordCannotBeCommitted) {
  db_->exec_script("CREATE TABLE spent (n INTEGER NOT NULL)");
  FaultyDatabase faulty(*db_);
  AuditLog log(faulty, clock_, signer_.get(), fast(0));
  const audit::Sink::InTx spend = [](store::Database& tx, audit::Event&) { tx.exec("INSERT INTO spent (n) VALUES (1)"); };
  faulty.fail_after = true;  // the action and the insert run, then the commit fails
  EXPECT_SIGIL_ERROR_AUDIT(log.append_with(event(1), spend, faulty));
  EXPECT_EQ(db_->query_one("SELECT COUNT(*) FROM spent")->get_int(0), 0);
  faulty.fail_after = false;
  log.append_with(event(2), spend, faulty);
  EXPECT_EQ(db_->query_one("SELECT COUNT(*) FROM spent")->get_int(0), 1);
  EXPECT_EQ(log.head().seq, 1);
}

TEST_F(AuditTest, FailsClosedAndContinuesTheChainAfterTheFaultClears) {
  FaultyDatabase faulty(*db_);
  {
    AuditLog log(faulty, clock_, signer_.get(), fast(0));
    log.append(event(1));
    log.append(event(2));
    const Head before = log.head();

    faulty.fail_before = true;
    EXPECT_SIGIL_ERROR_AUDIT(log.append(event(3)));
    EXPECT_EQ(log.head().seq, before.seq);
    faulty.fail_before = false;

    faulty.fail_after = true;  // the inserts run, then the transaction is rolled back
    EXPECT_SIGIL_ERROR_AUDIT(log.append(event(4)));
    EXPECT_EQ(log.head().seq, before.seq);
    EXPECT_EQ(log.head().hash, before.hash);
    faulty.fail_after = false;

    log.append(event(5));
    EXPECT_EQ(log.head().seq, 3);
    EXPECT_EQ(log.stats().failed_batches, 2u);
  }
  const Trail t = read_all(*db_);
  ASSERT_EQ(t.records.size(), 3u);
  EXPECT_EQ(t.records[2].event, event(5));
  const auto r = verify_chain(t.records, t.checkpoints, spki_);
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.last_checkpointed_seq, 3);
}

TEST_F(AuditTest, CannotStartWithoutTheTableAndRefusesInvalidUtf8) {
  {
    AuditLog log(*db_, clock_, nullptr, fast(0));
    Event bad = event(1);
    bad.principal = std::string("\xff\xfe", 2);
    EXPECT_THROW(log.append(bad), Error);
    EXPECT_EQ(log.head().seq, 0);
    db_->exec("DROP TABLE audit_records");
    EXPECT_SIGIL_ERROR_AUDIT(log.append(event(1)));
  }
  EXPECT_SIGIL_ERROR_AUDIT(AuditLog(*db_, clock_, nullptr, fast(0)));
}

}  // namespace
}  // namespace sigil::audit
