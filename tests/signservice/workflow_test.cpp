// The Sign Service core over a real store, SoftHSM keys, the authorisation service (PINs, SADs) and
// a real AuditLog: the order of signers, what each signature covers (checked by the independent
// validator and by the service's own verification), transitions committed with their audit record
// or not at all, two nodes racing for one task, refusals that change nothing, and notifications.
#include <algorithm>
#include <barrier>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "../admin/fixture.hpp"
#include "sigil/api/signservice.hpp"
#include "sigil/http/router.hpp"
#include "faulty_database.hpp"
#include "sigil/audit/audit_log.hpp"
#include "sigil/auth/authorization.hpp"
#include "sigil/auth/errors.hpp"
#include "sigil/signservice/workflow.hpp"
#include "signservice/notifier.hpp"
#include "test_pdf.hpp"
#include "test_util.hpp"
#include "validator_pki.hpp"

namespace sigil::admin::test {
namespace {

namespace ss = sigil::signservice;
namespace fs = std::filesystem;

Bytes bytes_of(const std::string& s) { return Bytes(s.begin(), s.end()); }

// The signing service's audit sink: records nothing, and can hold every caller at its fail-closed
// preflight until `parties` callers are there (forces two signers into the same window).
class GateSink final : public audit::Sink {
 public:
  std::atomic<bool> fail{false};  // the signature's own record cannot be written
  void append(audit::Event) override {
    if (fail) throw Error(Errc::audit_unavailable, "test: audit log down");
  }
  void check_available() override {
    if (gate_) gate_->arrive_and_wait();
  }
  void hold(std::ptrdiff_t parties) { gate_ = std::make_unique<std::barrier<>>(parties); }

 private:
  std::unique_ptr<std::barrier<>> gate_;
};

class SignServiceTest : public AdminTest {
 protected:
  SignServiceTest() : faulty_(store_->database()) {
    // Real time: the validators check the certificates against the wall clock.
    clock_.advance(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - clock_.now()));
    make_demo_pki();
    owner_ = make_user(unique("portal"), {store::Role::service});
    alice_ = make_user(unique("alice"));
    bob_ = make_user(unique("bob"));
    auth::AuthorizationPolicy policy;
    policy.pin_hash = store::PasswordParams{1, 1024, 1};
    policy.max_failures_before_lock = 100;
    authz_ = std::make_unique<auth::AuthorizationService>(*store_, clock_, providers_, events_, policy);
    signing_ = std::make_unique<signing::SigningService>(*store_, *token_, clock_, signing::Sources{}, dir_.path());
    signing_->set_audit(&gate_);
    alice_cred_ = credential(alice_, "1111");
    bob_cred_ = credential(bob_, "2222");
    audit::AuditOptions ao;
    ao.group_commit_wait = std::chrono::microseconds{0};
    log_ = std::make_unique<audit::AuditLog>(faulty_, clock_, nullptr, ao);
    service_ = make_service();
  }

  ~SignServiceTest() override {
    service_.reset();
    second_.reset();
    log_.reset();
  }

  std::unique_ptr<ss::SignService> make_service(std::chrono::seconds retention = std::chrono::seconds{0}) {
    signing::Profile pades;
    pades.name = "pades";
    pades.request.format = signing::Format::pades;
    signing::Profile certify = pades;
    certify.name = "certify";
    certify.request.pades.certification = 2;
    signing::Profile cades;
    cades.name = "cades";
    cades.request.format = signing::Format::cades;
    cades.request.packaging = signing::Packaging::detached;
    ss::Options o;
    o.dir = dir_.path() / "documents";
    o.webhook_prefixes = {"https://portal.example/hooks/"};
    o.webhook_backoff = backoff_;
    o.task_url = "https://portal.example/sign/{task}";
    o.retention = retention;
    return std::make_unique<ss::SignService>(faulty_, store_->users(), *signing_, *authz_, *log_,
                                             std::vector<signing::Profile>{pades, certify, cades}, clock_, o,
                                             [this](const std::string& url, const std::string& body) {
                                               std::lock_guard lock(hooks_mu_);
                                               if (fail_hooks_ > 0) {
                                                 --fail_hooks_;
                                                 throw Error(Errc::io, "portal down");
                                               }
                                               hooks_.push_back(url + " " + body);
                                             });
  }

  std::string credential(const std::string& owner, const std::string& pin) {
    const std::string label = unique("ss");
    svc_->generate_key(label, KeySpec::parse("ec-p256"));
    svc_->issue_with_demo_ca(label, CertificateIssue{"CN=" + label + ",O=Sigil Test,C=EU", 30, "signer"}, pki_dir());
    NewCredential n;
    n.owner_username = store_->users().get(owner)->username;
    n.key_label = label;
    n.scal = 2;
    n.second_factor = SecondFactor::pin;
    const auto c = svc_->create_credential(n);
    authz_->set_pin(c.id, pin);
    return c.id;
  }

  signing::Caller caller(const std::string& user_id) {
    return signing::Caller{user_id, store_->users().get(user_id)->username, "127.0.0.1", "req", "signservice", {}};
  }

  ss::DocumentStatus create(const std::string& profile = "pades", std::vector<ss::NewSigner> signers = {}) {
    ss::NewDocument n;
    n.caller = caller(owner_);
    n.name = "contract.pdf";
    n.profile = profile;
    n.content = bytes_of(profile == "cades" ? std::string("terms and conditions\n") : sigil::test::minimal_pdf());
    n.signers = signers.empty() ? std::vector<ss::NewSigner>{{name(alice_), 0}, {name(bob_), 0}} : signers;
    n.webhook = "https://portal.example/hooks/1";
    return service_->create(n);
  }

  std::string name(const std::string& user_id) { return store_->users().get(user_id)->username; }

  ss::SignTask task(const std::string& user_id, const std::string& task_id, const std::string& pin) {
    ss::SignTask t;
    t.caller = caller(user_id);
    t.task_id = task_id;
    t.pin = SecretString(pin);
    return t;
  }

  std::size_t files_in(const std::string& doc) {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_.path() / "documents" / doc)) ++n;
    return n;
  }

  std::size_t records(const std::string& type) {
    const auto row = store_->database().query_one("SELECT COUNT(*) FROM audit_records WHERE body LIKE $1",
                                                  {"%\"type\":\"" + type + "\"%"});
    return static_cast<std::size_t>(row->get_int(0));
  }

  std::vector<std::string> hooks() {
    std::lock_guard lock(hooks_mu_);
    return hooks_;
  }

  sigil::test::FaultyDatabase faulty_;
  otp::ProviderRegistry providers_;
  auth::NoAuthEvents events_;
  GateSink gate_;
  std::unique_ptr<auth::AuthorizationService> authz_;
  std::unique_ptr<signing::SigningService> signing_;
  std::unique_ptr<audit::AuditLog> log_;
  std::unique_ptr<ss::SignService> service_, second_;
  std::string owner_, alice_, bob_, alice_cred_, bob_cred_;
  std::mutex hooks_mu_;
  std::vector<std::string> hooks_;
  int fail_hooks_ = 0;
  std::chrono::milliseconds backoff_{1};  // make_service's webhook_backoff
};

TEST_F(SignServiceTest, SignersSignInOrderAndEverySignatureVerifies) {
  const auto d = create();
  EXPECT_EQ(d.state, ss::DocumentState::in_progress);
  ASSERT_EQ(d.signers.size(), 2u);
  EXPECT_EQ(d.signers[0].state, ss::TaskState::ready);
  EXPECT_EQ(d.signers[1].state, ss::TaskState::waiting);

  // bob's turn has not come.
  EXPECT_SIGIL_ERROR(service_->sign(task(bob_, d.signers[1].task_id, "2222")), Errc::invalid_signing_state);

  const auto after_alice = service_->sign(task(alice_, d.signers[0].task_id, "1111"));
  EXPECT_EQ(after_alice.state, ss::DocumentState::in_progress);
  EXPECT_EQ(after_alice.version, 1);
  EXPECT_EQ(after_alice.signers[0].credential_id, alice_cred_);
  EXPECT_EQ(after_alice.signers[1].state, ss::TaskState::ready);

  const auto done = service_->sign(task(bob_, d.signers[1].task_id, "2222"));
  EXPECT_EQ(done.state, ss::DocumentState::completed);
  EXPECT_EQ(done.version, 2);
  ASSERT_TRUE(done.finished_at);

  const auto final_pdf = service_->content(owner_, d.id);
  const auto r = sigil::test::validate("validate-pades", "--strict --trust '" + pki_dir() + "/root-ca.pem' '" +
                                                             final_pdf.string() + "'");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  const auto v = service_->verify(owner_, d.id);
  EXPECT_TRUE(v.valid);
  ASSERT_EQ(v.signatures.size(), 2u);
  for (const auto& s : v.signatures) EXPECT_TRUE(s.signature_valid && s.file_intact) << s.username << ": " << s.detail;

  // A byte changed in the stored final version: the verification says so.
  std::string bytes = files::read(final_pdf);
  bytes[bytes.find("/MediaBox")] ^= 1;
  files::write_atomic(final_pdf, bytes, 0600);
  const auto broken = service_->verify(owner_, d.id);
  EXPECT_FALSE(broken.valid);
  EXPECT_FALSE(broken.current_intact);

  EXPECT_EQ(records("signservice.document.create"), 1u);
  EXPECT_EQ(records("signservice.task.sign"), 2u);
  EXPECT_EQ(records("signservice.document.complete"), 1u);
}

TEST_F(SignServiceTest, SignersOfOneStepSignInAnyOrderAndTheNextStepWaitsForAllOfThem) {
  const auto carol = make_user(unique("carol"));
  (void)credential(carol, "3333");
  // alice and bob in step 1 (any order), carol after both.
  const auto d = create("pades", {{name(alice_), 1}, {name(bob_), 1}, {name(carol), 0}});
  ASSERT_EQ(d.signers.size(), 3u);
  EXPECT_EQ(d.signers[2].step, 2);
  EXPECT_EQ(d.signers[0].state, ss::TaskState::ready);
  EXPECT_EQ(d.signers[1].state, ss::TaskState::ready);
  EXPECT_EQ(d.signers[2].state, ss::TaskState::waiting);
  EXPECT_SIGIL_ERROR(service_->sign(task(carol, d.signers[2].task_id, "3333")), Errc::invalid_signing_state);

  const auto after_bob = service_->sign(task(bob_, d.signers[1].task_id, "2222"));  // bob first
  EXPECT_EQ(after_bob.signers[2].state, ss::TaskState::waiting) << "step 2 waits for alice too";
  const auto after_alice = service_->sign(task(alice_, d.signers[0].task_id, "1111"));
  EXPECT_EQ(after_alice.signers[2].state, ss::TaskState::ready);
  EXPECT_EQ(after_alice.signers[0].input_sha256, after_bob.signers[1].output_sha256) << "alice signed bob's version";
  const auto done = service_->sign(task(carol, d.signers[2].task_id, "3333"));
  EXPECT_EQ(done.state, ss::DocumentState::completed);
  EXPECT_EQ(done.version, 3);
  EXPECT_EQ(records("signservice.document.complete"), 1u);
  EXPECT_TRUE(service_->verify(owner_, d.id).valid);
  const auto r = sigil::test::validate("validate-pades", "--strict --trust '" + pki_dir() + "/root-ca.pem' '" +
                                                             service_->content(owner_, d.id).string() + "'");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  // Each task was announced once (alice's not again when bob signed), then the completion.
  for (int i = 0; i < 200 && hooks().size() < 4; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const auto h = hooks();
  ASSERT_EQ(h.size(), 4u);
  for (int k = 0; k < 3; ++k) {
    EXPECT_EQ(std::count_if(h.begin(), h.end(),
                            [&](const std::string& x) { return x.find(d.signers[static_cast<std::size_t>(k)].task_id) != std::string::npos; }),
              1)
        << k;
  }
  EXPECT_NE(h[3].find("document.completed"), std::string::npos);

  // Steps must be listed in order.
  ss::NewDocument n;
  n.caller = caller(owner_);
  n.name = "x.pdf";
  n.profile = "pades";
  n.content = bytes_of(sigil::test::minimal_pdf());
  n.signers = {{name(alice_), 2}, {name(bob_), 1}};
  EXPECT_SIGIL_ERROR(service_->create(n), Errc::invalid_argument);
}

TEST_F(SignServiceTest, DetachedSignaturesCoverTheOriginalAndVerifyWithOpenssl) {
  const auto d = create("cades");
  EXPECT_TRUE(d.detached);
  (void)service_->sign(task(alice_, d.signers[0].task_id, "1111"));
  const auto done = service_->sign(task(bob_, d.signers[1].task_id, "2222"));
  EXPECT_EQ(done.state, ss::DocumentState::completed);
  EXPECT_EQ(done.current_sha256, done.original_sha256);  // the document itself never changes
  const auto original = service_->content(owner_, d.id);
  for (int pos : {1, 2}) {
    const auto sig = service_->signature_file(owner_, d.id, pos);
    const auto r = sigil::test::run_command("openssl cms -verify -binary -inform DER -purpose any -in '" + sig.string() +
                                            "' -content '" + original.string() + "' -CAfile '" + pki_dir() +
                                            "/root-ca.pem' -out /dev/null");
    EXPECT_EQ(r.exit_code, 0) << r.output;
  }
  EXPECT_TRUE(service_->verify(bob_, d.id).valid);
}

TEST_F(SignServiceTest, AWrongPinChangesNothing) {
  const auto d = create();
  EXPECT_THROW(service_->sign(task(alice_, d.signers[0].task_id, "9999")), auth::AuthError);
  const auto s = service_->status(owner_, d.id);
  EXPECT_EQ(s.version, 0);
  EXPECT_EQ(s.signers[0].state, ss::TaskState::ready);
  EXPECT_EQ(files_in(d.id), 1u);
  EXPECT_EQ(records("signservice.task.sign"), 0u);
}

TEST_F(SignServiceTest, ATransitionWhoseAuditRecordFailsIsNotMadeAndLeavesNoFile) {
  const auto d = create();
  faulty_.fail_after = true;  // the audit commit (record + transition) rolls back
  EXPECT_SIGIL_ERROR(service_->sign(task(alice_, d.signers[0].task_id, "1111")), Errc::audit_unavailable);
  faulty_.fail_after = false;
  const auto s = service_->status(owner_, d.id);
  EXPECT_EQ(s.version, 0);
  EXPECT_EQ(s.signers[0].state, ss::TaskState::ready);
  EXPECT_EQ(files_in(d.id), 1u) << "the signed version of the failed transition was removed";
  EXPECT_EQ(records("signservice.task.sign"), 0u);

  // The same when the document is created: no row, no directory.
  faulty_.fail_after = true;
  EXPECT_SIGIL_ERROR(create(), Errc::audit_unavailable);
  faulty_.fail_after = false;
  EXPECT_EQ(service_->list(owner_, 10).size(), 1u);
  std::size_t dirs = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_.path() / "documents")) ++dirs;
  EXPECT_EQ(dirs, 1u);

  // The signature's own record (signature.create) fails after the file was written: removed too.
  gate_.fail = true;
  EXPECT_SIGIL_ERROR(service_->sign(task(alice_, d.signers[0].task_id, "1111")), Errc::audit_unavailable);
  gate_.fail = false;
  EXPECT_EQ(files_in(d.id), 1u);
  EXPECT_EQ(service_->status(owner_, d.id).version, 0);

  // Once the log is back, the task signs.
  EXPECT_EQ(service_->sign(task(alice_, d.signers[0].task_id, "1111")).version, 1);
}

TEST_F(SignServiceTest, TwoNodesSigningOneTaskAtOnceMakeOneSignature) {
  const auto d = create();  // alice, then bob: the document stays in progress after alice
  second_ = make_service();  // another node: its own process-local turn-taking
  gate_.hold(2);             // both pass their checks before either commits
  std::atomic<int> ok{0}, refused{0};
  auto run = [&](ss::SignService& node) {
    try {
      (void)node.sign(task(alice_, d.signers[0].task_id, "1111"));
      ++ok;
    } catch (const Error& e) {
      if (e.code() == Errc::invalid_signing_state) ++refused;
    }
  };
  std::thread a(run, std::ref(*service_));
  std::thread b(run, std::ref(*second_));
  a.join();
  b.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(refused.load(), 1);
  const auto s = service_->status(owner_, d.id);
  EXPECT_EQ(s.version, 1);
  EXPECT_EQ(s.state, ss::DocumentState::in_progress);
  EXPECT_EQ(s.signers[1].state, ss::TaskState::ready);
  EXPECT_EQ(files_in(d.id), 2u) << "the loser's signed version was removed";
  EXPECT_EQ(records("signservice.task.sign"), 1u);
  EXPECT_TRUE(service_->verify(owner_, d.id).valid);
}

TEST_F(SignServiceTest, DeclineCancelAndDelete) {
  const auto d = create();
  EXPECT_SIGIL_ERROR(service_->decline(caller(owner_), d.signers[1].task_id, ""), Errc::not_found);
  const auto declined = service_->decline(caller(bob_), d.signers[1].task_id, "not this version");
  EXPECT_EQ(declined.state, ss::DocumentState::declined);
  EXPECT_EQ(declined.signers[0].state, ss::TaskState::cancelled);
  EXPECT_EQ(declined.signers[1].reason, "not this version");
  EXPECT_SIGIL_ERROR(service_->sign(task(alice_, d.signers[0].task_id, "1111")), Errc::invalid_signing_state);

  const auto other = create();
  EXPECT_SIGIL_ERROR(service_->cancel(caller(alice_), other.id), Errc::not_found);  // signers cannot cancel
  EXPECT_SIGIL_ERROR(service_->remove(caller(owner_), other.id), Errc::invalid_signing_state);
  EXPECT_EQ(service_->cancel(caller(owner_), other.id).state, ss::DocumentState::cancelled);
  EXPECT_SIGIL_ERROR(service_->cancel(caller(owner_), other.id), Errc::invalid_signing_state);
  service_->remove(caller(owner_), other.id);
  EXPECT_SIGIL_ERROR(service_->status(owner_, other.id), Errc::not_found);
  EXPECT_FALSE(fs::exists(dir_.path() / "documents" / other.id));
  EXPECT_EQ(records("signservice.task.decline"), 1u);
  EXPECT_EQ(records("signservice.document.cancel"), 1u);
  EXPECT_EQ(records("signservice.document.delete"), 1u);
}

TEST_F(SignServiceTest, OnlyParticipantsSeeADocumentAndOnlyTheSignerTheirTask) {
  const auto d = create();
  const auto stranger = make_user(unique("mallory"));
  EXPECT_SIGIL_ERROR(service_->status(stranger, d.id), Errc::not_found);
  EXPECT_SIGIL_ERROR(service_->content(stranger, d.id), Errc::not_found);
  EXPECT_SIGIL_ERROR(service_->task(bob_, d.signers[0].task_id), Errc::not_found);
  EXPECT_SIGIL_ERROR(service_->sign(task(bob_, d.signers[0].task_id, "2222")), Errc::not_found);
  EXPECT_EQ(service_->status(bob_, d.id).id, d.id);
  ASSERT_EQ(service_->tasks(alice_, true).size(), 1u);
  EXPECT_TRUE(service_->tasks(bob_, true).empty());
  EXPECT_EQ(service_->tasks(bob_, false).size(), 1u);
}

TEST_F(SignServiceTest, RefusesBadDocumentsBeforeStoringAnything) {
  ss::NewDocument n;
  n.caller = caller(owner_);
  n.name = "a.pdf";
  n.profile = "pades";
  n.content = bytes_of("not a pdf");
  n.signers = {{name(alice_), 0}};
  EXPECT_SIGIL_ERROR(service_->create(n), Errc::invalid_document);
  n.content = bytes_of(sigil::test::minimal_pdf());
  n.signers = {{name(alice_), 0}, {name(alice_), 0}};
  EXPECT_SIGIL_ERROR(service_->create(n), Errc::invalid_argument);
  n.signers = {{"nobody-at-all", 0}};
  EXPECT_SIGIL_ERROR(service_->create(n), Errc::invalid_argument);
  n.signers = {{name(alice_), 0}};
  n.name = "../escape.pdf";
  EXPECT_SIGIL_ERROR(service_->create(n), Errc::invalid_argument);
  n.name = "a.pdf";
  n.webhook = "https://elsewhere.example/";
  EXPECT_SIGIL_ERROR(service_->create(n), Errc::invalid_argument);
  for (const char* climbing : {"https://portal.example/hooks/../admin", "https://portal.example/hooks/%2E%2E/admin",
                               "https://portal.example/hooks/..", "https://portal.example/hooks/a\\..\\b"}) {
    n.webhook = climbing;
    SCOPED_TRACE(climbing);
    EXPECT_SIGIL_ERROR(service_->create(n), Errc::invalid_argument);
  }
  n.webhook.reset();
  n.profile = "unknown";
  EXPECT_SIGIL_ERROR(service_->create(n), Errc::invalid_argument);
  n.profile = "pades";
  n.content = bytes_of("%PDF-1.7\nthis is no PDF at all\n");  // the header alone is not enough
  EXPECT_THROW(service_->create(n), Error);
  n.content = bytes_of(sigil::test::minimal_pdf());
  n.profile = "certify";  // only the first signature may certify
  n.signers = {{name(alice_), 0}, {name(bob_), 0}};
  EXPECT_SIGIL_ERROR(service_->create(n), Errc::invalid_argument);
  EXPECT_TRUE(service_->list(owner_, 10).empty());
  EXPECT_TRUE(!fs::exists(dir_.path() / "documents") || fs::is_empty(dir_.path() / "documents"));
}

TEST_F(SignServiceTest, APdfWhoseCertificationForbidsNewSignaturesIsRefusedAtCreation) {
  // alice certifies a document (DocMDP P=2); a workflow on the certified result could never be signed.
  const auto first = create("certify", {{name(alice_), 0}});
  EXPECT_EQ(service_->sign(task(alice_, first.signers[0].task_id, "1111")).state, ss::DocumentState::completed);
  ss::NewDocument n;
  n.caller = caller(owner_);
  n.name = "certified.pdf";
  n.profile = "pades";
  n.content = bytes_of(files::read(service_->content(owner_, first.id)));
  n.signers = {{name(bob_), 0}};
  EXPECT_SIGIL_ERROR(service_->create(n), Errc::document_locked);
  EXPECT_EQ(service_->list(owner_, 10).size(), 1u);
}

TEST_F(SignServiceTest, VerificationTiesEachSignatureToTheVersionItsSignerMade) {
  const auto d = create();
  (void)service_->sign(task(alice_, d.signers[0].task_id, "1111"));
  const auto done = service_->sign(task(bob_, d.signers[1].task_id, "2222"));
  EXPECT_EQ(done.signers[0].input_sha256, done.original_sha256);
  EXPECT_EQ(done.signers[1].input_sha256, done.signers[0].output_sha256);
  EXPECT_EQ(done.signers[1].output_sha256, done.current_sha256);
  ASSERT_TRUE(service_->verify(owner_, d.id).valid);

  // alice's stored version replaced by another PDF: her entry fails, bob's still verifies.
  fs::path alice_version;
  for (const auto& e : fs::directory_iterator(dir_.path() / "documents" / d.id)) {
    if (e.path().filename().string().rfind("v1-", 0) == 0) alice_version = e.path();
  }
  ASSERT_FALSE(alice_version.empty());
  files::write_atomic(alice_version, sigil::test::minimal_pdf(), 0600);
  const auto v = service_->verify(owner_, d.id);
  EXPECT_FALSE(v.valid);
  ASSERT_EQ(v.signatures.size(), 2u);
  EXPECT_FALSE(v.signatures[0].file_intact);
  EXPECT_FALSE(v.signatures[0].signature_valid);
  EXPECT_TRUE(v.signatures[1].signature_valid) << v.signatures[1].detail;
}

TEST_F(SignServiceTest, FinishedDocumentsArePurgedAfterTheRetention) {
  EXPECT_EQ(service_->purge_expired(), 0);  // retention 0: nothing is ever purged
  service_ = make_service(std::chrono::hours(24));
  const auto finished = create();
  (void)service_->cancel(caller(owner_), finished.id);
  const auto open = create();
  EXPECT_EQ(service_->purge_expired(), 0);  // not old enough
  clock_.advance(std::chrono::hours(25));
  EXPECT_EQ(service_->purge_expired(), 1);
  EXPECT_SIGIL_ERROR(service_->status(owner_, finished.id), Errc::not_found);
  EXPECT_FALSE(fs::exists(dir_.path() / "documents" / finished.id));
  EXPECT_EQ(service_->status(owner_, open.id).state, ss::DocumentState::in_progress);  // in progress: kept
  EXPECT_EQ(records("signservice.document.purge"), 1u);
}

TEST_F(SignServiceTest, NotificationsArriveInOrderAndAreRetried) {
  fail_hooks_ = 1;  // the portal is down for the first attempt
  const auto d = create();
  (void)service_->sign(task(alice_, d.signers[0].task_id, "1111"));
  (void)service_->sign(task(bob_, d.signers[1].task_id, "2222"));
  for (int i = 0; i < 200 && hooks().size() < 3; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const auto h = hooks();
  ASSERT_EQ(h.size(), 3u);
  EXPECT_NE(h[0].find("\"event\":\"task.ready\""), std::string::npos);
  EXPECT_NE(h[0].find("https://portal.example/sign/" + d.signers[0].task_id), std::string::npos);
  EXPECT_NE(h[1].find(d.signers[1].task_id), std::string::npos);
  EXPECT_NE(h[2].find("\"event\":\"document.completed\""), std::string::npos);
  for (const auto& x : h) EXPECT_EQ(x.rfind("https://portal.example/hooks/1 ", 0), 0u);
}

std::size_t queued_notifications(store::Database& db) {
  return static_cast<std::size_t>(db.query_one("SELECT COUNT(*) FROM signservice_notifications")->get_int(0));
}

TEST_F(SignServiceTest, NotificationsAreCommittedWithTheTransitionAndSurviveARestart) {
  fail_hooks_ = 1000;  // the portal is down
  service_.reset();
  backoff_ = std::chrono::milliseconds{200};  // its retries stay far from the last attempt
  service_ = make_service();
  const auto d = create();
  EXPECT_EQ(queued_notifications(store_->database()), 1u) << "task.ready was committed with the document";
  service_.reset();  // sigild stops before the portal is back: the notification stays queued
  EXPECT_EQ(queued_notifications(store_->database()), 1u);
  {
    std::lock_guard lock(hooks_mu_);
    fail_hooks_ = 0;
  }
  backoff_ = std::chrono::milliseconds{1};
  service_ = make_service();  // the next start sends it (when its retry is due)
  for (int i = 0; i < 300 && hooks().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const auto h = hooks();
  ASSERT_EQ(h.size(), 1u);
  EXPECT_NE(h[0].find("\"event\":\"task.ready\""), std::string::npos);
  EXPECT_NE(h[0].find(d.signers[0].task_id), std::string::npos);
  EXPECT_NE(h[0].find("\"id\":\"n_"), std::string::npos) << "an id to de-duplicate on";
  for (int i = 0; i < 300 && queued_notifications(store_->database()) > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(queued_notifications(store_->database()), 0u) << "delivered: removed from the queue";

  // A transition that rolls back queues nothing (and so sends nothing, polls later).
  faulty_.fail_after = true;
  EXPECT_SIGIL_ERROR(service_->sign(task(alice_, d.signers[0].task_id, "1111")), Errc::audit_unavailable);
  faulty_.fail_after = false;
  EXPECT_EQ(queued_notifications(store_->database()), 0u);
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  EXPECT_EQ(hooks().size(), 1u);
}

TEST_F(SignServiceTest, ANotificationIsDroppedAfterItsLastAttempt) {
  fail_hooks_ = 1000;
  (void)create();  // 10 attempts, 1 ms apart doubling: about a second
  for (int i = 0; i < 500 && queued_notifications(store_->database()) > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(queued_notifications(store_->database()), 0u);
  std::lock_guard lock(hooks_mu_);
  EXPECT_EQ(fail_hooks_, 1000 - 10) << "exactly webhook_attempts attempts";
  EXPECT_TRUE(hooks_.empty());
}

TEST_F(SignServiceTest, TwoNodesSendEachNotificationOnce) {
  second_ = make_service();  // another node on the same store: both deliver
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(create().signers[0].task_id);
  for (int i = 0; i < 300 && hooks().size() < ids.size(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(std::chrono::milliseconds(600));  // a poll of each node more
  const auto h = hooks();
  ASSERT_EQ(h.size(), ids.size());
  for (const auto& id : ids) {
    EXPECT_EQ(std::count_if(h.begin(), h.end(), [&](const std::string& x) { return x.find(id) != std::string::npos; }), 1)
        << id;
  }
}

// The outbox itself, driven pass by pass: two nodes' notifiers never send one row twice, and a
// document's later notification waits for its earlier one.
TEST_F(SignServiceTest, NotifiersClaimEachRowAndKeepEachDocumentsOrder) {
  service_.reset();  // only the notifiers below deliver
  std::mutex mu;
  std::map<std::string, int> sent;  // body "event" + documentId -> times sent
  int fail = 0;
  auto send = [&](const std::string&, const std::string& body) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // both passes read the rows before either deletes
    const auto j = nlohmann::json::parse(body);
    std::lock_guard lock(mu);
    if (fail > 0) {
      --fail;
      throw Error(Errc::io, "portal down");
    }
    ++sent[j["event"].get<std::string>() + " " + j["documentId"].get<std::string>()];
  };
  ss::NotifierOptions o;
  o.prefixes = {"https://portal.example/hooks/"};
  o.backoff = std::chrono::seconds(5);
  o.poll = std::chrono::hours(1);  // the background threads stay out of the way
  ss::Notifier a(store_->database(), o, send), b(store_->database(), o, send);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // their first (empty) pass is over
  const auto queue = [&](const std::string& doc, const std::string& event) {
    store_->database().transaction([&](store::Database& tx) {
      ss::Notifier::enqueue(tx, doc, "https://portal.example/hooks/1", {{"event", event}, {"documentId", doc}});
    });
  };
  for (int i = 0; i < 6; ++i) queue("d" + std::to_string(i), "task.ready");

  std::barrier start(2);
  auto pass = [&](ss::Notifier& n) {
    start.arrive_and_wait();
    while (n.deliver_due() > 0) {
    }
  };
  std::thread ta(pass, std::ref(a)), tb(pass, std::ref(b));
  ta.join();
  tb.join();
  ASSERT_EQ(sent.size(), 6u);
  for (const auto& [what, times] : sent) EXPECT_EQ(times, 1) << what;
  EXPECT_EQ(queued_notifications(store_->database()), 0u);

  // Order: the first notification of "x" fails; the second waits until the first is delivered.
  sent.clear();
  fail = 1;
  queue("x", "task.ready");
  queue("x", "document.completed");
  EXPECT_EQ(a.deliver_due(), 1u);  // the first: fails, retried in 5 s
  EXPECT_EQ(a.deliver_due(), 0u);  // the second is not sent before it
  EXPECT_TRUE(sent.empty());
  store_->database().exec("UPDATE signservice_notifications SET next_at = 0 WHERE attempts = 1", {});  // 5 s pass
  EXPECT_EQ(a.deliver_due(), 1u);
  EXPECT_EQ(a.deliver_due(), 1u);
  EXPECT_EQ(sent.size(), 2u);
  EXPECT_EQ(queued_notifications(store_->database()), 0u);
}

// A URL that timed out holds its other notifications back (no attempt counted) until its retry is
// due; a URL that fails fast holds nothing back.
TEST_F(SignServiceTest, AUrlThatTimedOutHoldsItsOtherNotificationsBack) {
  service_.reset();
  std::atomic<int> sends{0};
  auto send = [&](const std::string& url, const std::string&) {
    ++sends;
    if (url.ends_with("/slow")) std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    throw Error(Errc::io, "portal down");
  };
  ss::NotifierOptions o;
  o.prefixes = {"https://portal.example/hooks/"};
  o.backoff = std::chrono::seconds(30);
  o.poll = std::chrono::hours(1);
  ss::Notifier n(store_->database(), o, send);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  for (const std::string url : {"https://portal.example/hooks/slow", "https://portal.example/hooks/fast"}) {
    for (int i = 0; i < 3; ++i) {
      store_->database().transaction([&](store::Database& tx) {
        ss::Notifier::enqueue(tx, url + std::to_string(i), url, {{"event", "task.ready"}});
      });
    }
  }
  while (n.deliver_due() > 0) {
  }
  EXPECT_EQ(sends.load(), 1 + 3) << "the slow URL once, the fast one for each notification";
  const auto held = store_->database().query(
      "SELECT attempts FROM signservice_notifications WHERE url LIKE '%/slow' ORDER BY created_at, seq", {});
  ASSERT_EQ(held.size(), 3u);
  EXPECT_EQ(held[0].get_int(0), 1);
  EXPECT_EQ(held[1].get_int(0), 0) << "held back: no attempt counted";
  EXPECT_EQ(held[2].get_int(0), 0);
}

// schemas/signservice.openapi.yaml describes exactly the routes: every operation it lists reaches a
// handler (not route_not_found / method_not_allowed), and it lists as many as the routes have.
TEST_F(SignServiceTest, TheOpenApiFileDescribesTheRoutes) {
  const char* src = std::getenv("SIGIL_SOURCE_DIR");
  if (src == nullptr) GTEST_SKIP() << "SIGIL_SOURCE_DIR not set (run through ctest)";
  http::Router router;
  api::signservice::register_routes(router, *service_);
  std::ifstream in(fs::path(src) / "schemas/signservice.openapi.yaml");
  ASSERT_TRUE(in) << "schemas/signservice.openapi.yaml";
  const std::regex path_line(R"(^  (/[^:]*):\s*$)"), method_line(R"(^    (get|post|delete):\s*$)");
  std::string path;
  int operations = 0;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_match(line, m, path_line)) {
      path = m[1];
    } else if (std::regex_match(line, m, method_line) && !path.empty()) {
      ++operations;
      std::string target = "/api/v1" + path;
      for (const char* p : {"{id}", "{task}", "{position}"}) {
        if (const auto at = target.find(p); at != std::string::npos) target.replace(at, std::string(p).size(), "x1");
      }
      http::Request req;
      std::string method = m[1];
      for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      req.method = method;
      req.set_target(target);
      req.body = "{}";
      req.body_size = 2;
      const auto res = router.dispatch(req, [&](const http::Request&) {
        return std::optional<http::Principal>(http::Principal{owner_, "portal", {"service"}, {}});
      });
      const auto body = nlohmann::json::parse(res.body.empty() ? "{}" : res.body);
      EXPECT_NE(body.value("code", ""), "route_not_found") << method << " " << target;
      EXPECT_NE(res.status, 405) << method << " " << target;
    }
  }
  EXPECT_EQ(operations, 14) << "an operation was added to or removed from the routes or the file";
}

}  // namespace
}  // namespace sigil::admin::test
