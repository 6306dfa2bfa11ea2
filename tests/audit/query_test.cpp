// Reading the trail back (filters, paging), the event builders, the audit API routes, and two
// AuditLog instances (sigild and sigilctl --local) writing one chain.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "sigil/api/audit.hpp"
#include "sigil/audit/audit_log.hpp"
#include "sigil/audit/events.hpp"
#include "sigil/audit/query.hpp"
#include "sigil/audit/verify.hpp"
#include "sigil/common/error.hpp"
#include "sigil/http/router.hpp"
#include "sigil/store/migrations.hpp"
#include "sigil/store/sqlite.hpp"
#include "sigil/store/store.hpp"
#include "softhsm_env.hpp"
#include "temp_dir.hpp"
#include "test_store.hpp"
#include "test_util.hpp"

namespace sigil::audit {
namespace {

using ::sigil::test::FakeClock;
using nlohmann::json;

class AuditQueryTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    token_ = test::open_test_token();
    if (!token_->find_key("audit-key")) token_->generate_key(KeySpec::parse("ec-p256"), "audit-key");
  }
  static void TearDownTestSuite() { token_.reset(); }

  AuditQueryTest() {
    db_ = store::open_database(backend_.config(), 8);
    store::migrate(*db_, clock_);
    signer_ = token_->signer("audit-key");
    spki_ = signer_->public_key_der();
  }

  static AuditOptions fast() {
    AuditOptions o;
    o.checkpoint_every_records = 5;
    o.group_commit_wait = std::chrono::microseconds{0};
    return o;
  }

  // 1: auth.failure by ?, 2: admin.user.create by admin on bob, 3: signature by alice (cred-1,
  // digest aa..), 4: signature failure by bob (cred-2, digest bb..) a day later, 5: admin.key.generate.
  void fill(AuditLog& log) {
    Actor anon{"", "", "203.0.113.7", "r1"};
    Event e1 = make_event(type::auth_failure, anon, false);
    e1.details["reason"] = "bad_credentials";
    log.append(e1);
    Event e2 = make_event("admin.user.create", Actor{"u-admin", "admin", "203.0.113.8", "r2"}, true);
    e2.details["username"] = "bob";
    log.append(e2);
    SignatureEvent s;
    s.actor = Actor{"u-alice", "alice", "203.0.113.9", "r3"};
    s.api = "csc";
    s.credential_id = "cred-1";
    s.key_label = "alice-key";
    s.certificate_sha256 = std::string(64, 'c');
    s.algorithm = "ecdsa-sha256";
    s.format = "pades";
    s.level = "B-T";
    s.documents = {{"contract.pdf", "sha256:" + std::string(64, 'a')}, {"annex.pdf", "sha256:" + std::string(64, 'd')}};
    s.success = true;
    s.duration = std::chrono::microseconds{12500};
    log.append(to_event(s));
    clock_.advance(std::chrono::hours(24));
    s.actor = Actor{"u-bob", "bob", "203.0.113.10", "r4"};
    s.credential_id = "cred-2";
    s.documents = {{"", "sha256:" + std::string(64, 'b')}};
    s.success = false;
    s.error = "hsm_session";
    log.append(to_event(s));
    Event e5 = make_event("admin.key.generate", Actor{"u-admin", "admin", "203.0.113.8", "r5"}, true);
    e5.details["label"] = "k1";
    log.append(e5);
  }

  std::vector<std::int64_t> seqs(const Query& q) {
    std::vector<std::int64_t> out;
    for (const auto& r : find_records(*db_, q).records) out.push_back(r.seq);
    return out;
  }

  static inline std::unique_ptr<hsm::Token> token_;
  test::TempDir dir_;
  test::TestStore backend_{dir_.path()};  // SQLite in dir_, or a PostgreSQL schema
  FakeClock clock_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<KeySigner> signer_;
  Bytes spki_;
};

TEST_F(AuditQueryTest, SignatureEventCarriesEveryField) {
  SignatureEvent s;
  s.actor = Actor{"u1", "alice", "192.0.2.1", "req"};
  s.api = "dss";
  s.credential_id = "cred_x";
  s.algorithm = "rsa-pss-sha256";
  s.format = "xades";
  s.level = "B-LTA";
  s.documents = {{"a.xml", "sha256:01"}};
  s.success = false;
  s.error = "tsa_unavailable";
  s.duration = std::chrono::microseconds{1500};
  const Event e = to_event(s);
  EXPECT_EQ(e.type, "signature.create");
  EXPECT_EQ(e.principal, "alice");
  EXPECT_EQ(e.outcome, "failure");
  EXPECT_EQ(e.details.at("api"), "dss");
  EXPECT_EQ(e.details.at("credential_id"), "cred_x");
  EXPECT_EQ(e.details.at("level"), "B-LTA");
  EXPECT_EQ(e.details.at("document_count"), "1");
  EXPECT_EQ(e.details.at("document.1.name"), "a.xml");
  EXPECT_EQ(e.details.at("document.1.digest"), "sha256:01");
  EXPECT_EQ(e.details.at("duration_ms"), "1.5");
  EXPECT_EQ(e.details.at("error"), "tsa_unavailable");
  EXPECT_FALSE(e.details.count("key_label"));  // empty fields are left out
}

TEST_F(AuditQueryTest, FiltersAndPaging) {
  {
    AuditLog log(*db_, clock_, signer_.get(), fast());
    fill(log);
  }
  EXPECT_EQ(seqs({}), (std::vector<std::int64_t>{1, 2, 3, 4, 5}));
  Query q;
  q.user = "bob";  // actor of 4, subject of 2
  EXPECT_EQ(seqs(q), (std::vector<std::int64_t>{2, 4}));
  q = {};
  q.user = "u-alice";
  EXPECT_EQ(seqs(q), (std::vector<std::int64_t>{3}));
  q = {};
  q.type = "admin.*";
  EXPECT_EQ(seqs(q), (std::vector<std::int64_t>{2, 5}));
  q.type = "signature.create";
  EXPECT_EQ(seqs(q), (std::vector<std::int64_t>{3, 4}));
  q = {};
  q.credential = "cred-2";
  EXPECT_EQ(seqs(q), (std::vector<std::int64_t>{4}));
  q = {};
  q.digest = std::string(64, 'D');  // second document of 3, any case, without the prefix
  EXPECT_EQ(seqs(q), (std::vector<std::int64_t>{3}));
  q.digest = "sha256:" + std::string(64, 'b');
  EXPECT_EQ(seqs(q), (std::vector<std::int64_t>{4}));
  q = {};
  q.from = "2027-01-16";  // the fake clock starts 2027-01-15T08:00:00Z
  EXPECT_EQ(seqs(q), (std::vector<std::int64_t>{4, 5}));
  q = {};
  q.to = "2027-01-15T09:00:00Z";
  EXPECT_EQ(seqs(q), (std::vector<std::int64_t>{1, 2, 3}));

  q = {};
  q.limit = 2;
  Page p = find_records(*db_, q);
  ASSERT_EQ(p.records.size(), 2u);
  EXPECT_TRUE(p.more);
  EXPECT_EQ(p.next_after_seq, 2);
  q.after_seq = p.next_after_seq;
  q.limit = 10;
  p = find_records(*db_, q);
  ASSERT_EQ(p.records.size(), 3u);
  EXPECT_EQ(p.records.front().seq, 3);
  EXPECT_FALSE(p.more);

  const auto one = find_record(*db_, 3);
  ASSERT_TRUE(one);
  EXPECT_EQ(one->event.details.at("document.1.name"), "contract.pdf");
  EXPECT_FALSE(find_record(*db_, 99));

  q = {};
  q.from = "yesterday";
  EXPECT_THROW(find_records(*db_, q), Error);
  q = {};
  q.limit = 0;
  EXPECT_THROW(find_records(*db_, q), Error);
}

// sigild and `sigilctl --local` each hold an AuditLog on the same database: each batch continues
// the head the other wrote, so the result is one valid chain.
TEST_F(AuditQueryTest, TwoWritersOnOneDatabaseKeepOneChain) {
  auto db2 = store::open_database(backend_.config(), 8);
  AuditLog a(*db_, clock_, signer_.get(), fast());
  AuditLog b(*db2, clock_, signer_.get(), fast());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) (t % 2 == 0 ? a : b).append(system_event("test.event"));
    });
  }
  for (auto& th : threads) th.join();
  a.close();
  b.close();
  EXPECT_GT(a.stats().foreign_heads + b.stats().foreign_heads, 0u);
  const Trail t = read_all(*db_);
  EXPECT_EQ(t.records.size(), 200u);
  const auto r = verify_chain(t.records, t.checkpoints, spki_);
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.last_checkpointed_seq, 200);
}

TEST_F(AuditQueryTest, ApiListsShowsExportsAndVerifiesAndAuditsItself) {
  AuditLog log(*db_, clock_, signer_.get(), fast());
  fill(log);
  http::Router router;
  api::audit_api::register_routes(router, *db_, log, spki_);
  const auto call = [&](const std::string& method, const std::string& target, const std::string& role = "auditor") {
    http::Request req;
    req.method = method;
    req.set_target(target);
    req.remote_address = "192.0.2.50";
    req.request_id = "rq";
    const auto auth = [&](const http::Request&) -> std::optional<http::Principal> {
      if (role.empty()) return std::nullopt;
      return http::Principal{"u-aud", "audra", {role}, {}};
    };
    return router.dispatch(req, auth);
  };
  EXPECT_EQ(call("GET", "/api/admin/v1/audit/records", "admin").status, 403);  // separation of duties
  const auto refused = find_record(*db_, 6);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->event.type, "auth.forbidden");
  EXPECT_EQ(refused->event.details.at("required_role"), "auditor");
  EXPECT_EQ(call("GET", "/api/admin/v1/audit/records", "").status, 401);

  auto res = call("GET", "/api/admin/v1/audit/records?type=signature.create&limit=1");
  ASSERT_EQ(res.status, 200) << res.body;
  json body = json::parse(res.body);
  ASSERT_EQ(body["records"].size(), 1u);
  EXPECT_EQ(body["records"][0]["seq"], 3);
  EXPECT_EQ(body["records"][0]["details"]["credential_id"], "cred-1");
  EXPECT_EQ(body["records"][0]["hash"].get<std::string>().size(), 64u);
  EXPECT_EQ(body["more"], true);
  EXPECT_EQ(call("GET", "/api/admin/v1/audit/records?limit=5000").status, 400);
  EXPECT_EQ(call("GET", "/api/admin/v1/audit/records?after_seq=x").status, 400);

  res = call("GET", "/api/admin/v1/audit/records/2");
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(json::parse(res.body)["type"], "admin.user.create");
  EXPECT_EQ(call("GET", "/api/admin/v1/audit/records/42").status, 404);

  res = call("POST", "/api/admin/v1/audit/verify");
  ASSERT_EQ(res.status, 200) << res.body;
  body = json::parse(res.body);
  EXPECT_EQ(body["ok"], true);
  EXPECT_EQ(body["records"], 6);  // fill() and the refused request
  EXPECT_EQ(log.head().seq, 7);  // the verification run is recorded
  const auto run = find_record(*db_, 7);
  EXPECT_EQ(run->event.type, "audit.verify");
  EXPECT_EQ(run->event.principal, "audra");
  EXPECT_EQ(run->event.outcome, "success");

  res = call("GET", "/api/admin/v1/audit/export");
  ASSERT_EQ(res.status, 200);
  EXPECT_EQ(res.content_type, "application/x-ndjson");
  std::istringstream in(res.body);
  const Trail exported = import_jsonl(in);
  EXPECT_EQ(exported.records.size(), 7u);  // the export itself is recorded after it was taken
  EXPECT_EQ(find_record(*db_, 8)->event.type, "audit.export");
  const auto ok = verify_chain(exported.records, exported.checkpoints, spki_);
  EXPECT_TRUE(ok.ok) << ok.message;

  // Tampering in the database: the API names the position.
  db_->exec("UPDATE audit_records SET body = replace(body, 'alice', 'mallory') WHERE seq = 3");
  res = call("POST", "/api/admin/v1/audit/verify");
  body = json::parse(res.body);
  EXPECT_EQ(body["ok"], false);
  EXPECT_EQ(body["problem"], "record_modified");
  EXPECT_EQ(body["position"], 3);
  EXPECT_EQ(find_record(*db_, 9)->event.outcome, "failure");
  EXPECT_EQ(find_record(*db_, 9)->event.details.at("position"), "3");
}

TEST_F(AuditQueryTest, CheckAvailableReflectsAFailedWriteUntilTheStoreAnswers) {
  AuditLog log(*db_, clock_, signer_.get(), fast());
  log.check_available();
  db_->exec("ALTER TABLE audit_records RENAME TO audit_records_away");
  EXPECT_THROW(log.append(system_event("x")), Error);
  // The store answers a ping, so the preflight lets the next attempt prove it.
  log.check_available();
  db_->exec("ALTER TABLE audit_records_away RENAME TO audit_records");
  log.append(system_event("y"));
  log.close();
  EXPECT_THROW(log.check_available(), Error);
  EXPECT_THROW(log.append(system_event("z")), Error);
  const Trail t = read_all(*db_);
  const auto r = verify_chain(t.records, t.checkpoints, spki_);
  EXPECT_TRUE(r.ok) << r.message;
}

}  // namespace
}  // namespace sigil::audit

namespace sigil::audit {
namespace {

// The contract lists the audit routes (the admin routes are checked in tests/admin).
TEST(AuditOpenApi, DescribesTheAuditRoutes) {
  const char* src = std::getenv("SIGIL_SOURCE_DIR");
  if (src == nullptr) GTEST_SKIP() << "SIGIL_SOURCE_DIR not set (run through ctest)";
  std::ifstream in(std::filesystem::path(src) / "schemas/admin.openapi.yaml");
  std::stringstream yaml;
  yaml << in.rdbuf();
  for (const char* path : {"\n  /audit/records:\n    get:", "\n  /audit/records/{seq}:\n", "\n  /audit/export:\n    get:",
                           "\n  /audit/verify:\n    post:"}) {
    EXPECT_NE(yaml.str().find(path), std::string::npos) << path;
  }
}

}  // namespace
}  // namespace sigil::audit
