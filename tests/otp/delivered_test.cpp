// Delivered one-time codes end to end through the file and command channels; webhook retries.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <chrono>

#include "otp_fixture.hpp"
#include "sigil/otp/channels.hpp"
#include "sigil/otp/delivered.hpp"

namespace sigil::otp::test {
namespace {

class DeliveredTest : public OtpStoreTest {
 protected:
  DeliveredTest() {
    channels_.add(std::make_shared<FileChannel>(outbox(), "file", "username"));
    DeliveredOptions o;
    o.name = "sms";
    o.channel = "file";
    o.digits = 8;
    o.ttl = std::chrono::seconds{120};
    provider_ = std::make_unique<DeliveredCodeProvider>(db(), clock_, box_, channels_, o);
  }
  std::filesystem::path outbox() const { return dir_.path() / "outbox.txt"; }
  // The code of the last line in the outbox for `tx`.
  std::string last_code(const std::string& tx) {
    std::string code;
    for (const auto& l : lines(outbox())) {
      std::istringstream in(l);
      std::string expires, t, recipient, c;
      in >> expires >> t >> recipient >> c;
      if (t == tx) code = c;
    }
    return code;
  }
  VerifyResult check(const std::string& tx, const std::string& code) { return provider_->verify(alice_, tx, SecretString(code)); }

  ChannelRegistry channels_;
  std::unique_ptr<DeliveredCodeProvider> provider_;
  Subject alice_{user_, "alice", "alice@example.com", "+15550100"};
};

TEST_F(DeliveredTest, EndToEndThroughTheFileChannel) {
  const Challenge c = provider_->challenge(alice_, "tx-1");
  EXPECT_TRUE(c.delivered);
  EXPECT_EQ(c.channel, "file");
  EXPECT_EQ(c.expires_at, to_unix(clock_.now()) + 120);
  struct stat st {};
  ASSERT_EQ(::stat(outbox().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const std::string code = last_code("tx-1");
  ASSERT_EQ(code.size(), 8u);
  EXPECT_EQ(lines(outbox()).front().find("alice"), lines(outbox()).front().find(' ', 11) + 1);

  // Nothing in the database reveals the code.
  const auto row = db().query_one("SELECT code_mac FROM otp_challenges WHERE transaction_id = 'tx-1'");
  ASSERT_TRUE(row);
  EXPECT_EQ(row->get_text(0).find(code), std::string::npos);

  EXPECT_EQ(check("tx-1", "00000000") == VerifyResult::ok, code == "00000000");
  EXPECT_EQ(check("tx-2", code), VerifyResult::no_challenge);  // bound to one transaction
  EXPECT_EQ(check("tx-1", code), VerifyResult::ok);
  EXPECT_EQ(check("tx-1", code), VerifyResult::replayed);      // single use
}

TEST_F(DeliveredTest, BoundToTheUser) {
  provider_->challenge(alice_, "tx-1");
  const std::string bob = store_->users().create(store::NewUser{"bob", {}, store::UserStatus::active});
  const Subject bob_subject{bob, "bob", std::nullopt, std::nullopt};
  EXPECT_EQ(provider_->verify(bob_subject, "tx-1", SecretString(last_code("tx-1"))), VerifyResult::no_challenge);
}

TEST_F(DeliveredTest, ExpiresAndIsReplacedByANewChallenge) {
  provider_->challenge(alice_, "tx-1");
  const std::string first = last_code("tx-1");
  clock_.advance(std::chrono::seconds{121});
  EXPECT_EQ(check("tx-1", first), VerifyResult::expired);
  provider_->challenge(alice_, "tx-1");
  const std::string second = last_code("tx-1");
  if (first != second) {
    EXPECT_EQ(check("tx-1", first), VerifyResult::invalid);
  }
  EXPECT_EQ(check("tx-1", second), VerifyResult::ok);
  clock_.advance(std::chrono::seconds{1000});
  EXPECT_EQ(provider_->purge_expired(), 1);
}

TEST_F(DeliveredTest, MissingRecipientOrChannelIsAnError) {
  ChannelRegistry channels;
  channels.add(std::make_shared<FileChannel>(outbox(), "file", "email"));
  DeliveredOptions o;
  o.channel = "file";
  DeliveredCodeProvider p(db(), clock_, box_, channels, o);
  EXPECT_SIGIL_ERROR(p.challenge(Subject{user_, "alice", std::nullopt, std::nullopt}, "tx"), Errc::not_found);
  o.channel = "nope";
  DeliveredCodeProvider q(db(), clock_, box_, channels, o);
  EXPECT_SIGIL_ERROR(q.challenge(alice_, "tx"), Errc::not_found);
  o.digits = 5;
  EXPECT_SIGIL_ERROR(DeliveredCodeProvider(db(), clock_, box_, channels, o), Errc::config_invalid);
}

TEST_F(DeliveredTest, CommandChannelGetsTheCodeOutsideArgv) {
  const auto out = dir_.path() / "command.out";
  CommandOptions o;
  o.argv = {"/bin/sh", "-c", "read stdin_code; echo \"$SIGIL_OTP_RECIPIENT $SIGIL_OTP_CODE $stdin_code $#\" > " + out.string()};
  CommandChannel channel(o);
  Message m;
  m.recipient = "+15550100";
  m.code = SecretString("12345678");
  m.transaction_id = "tx";
  channel.deliver(m);
  ASSERT_EQ(lines(out).size(), 1u);
  EXPECT_EQ(lines(out)[0], "+15550100 12345678 12345678 0");

  // A child that exits without reading stdin must not take sigild down with SIGPIPE.
  CommandOptions quick;
  quick.argv = {"/bin/true"};
  for (int i = 0; i < 5; ++i) EXPECT_NO_THROW(CommandChannel(quick).deliver(m));
  CommandOptions failing;
  failing.argv = {"/bin/false"};
  EXPECT_SIGIL_ERROR(CommandChannel(failing).deliver(m), Errc::io);
  CommandOptions slow;
  slow.argv = {"/bin/sleep", "5"};
  slow.timeout = std::chrono::milliseconds{100};
  EXPECT_SIGIL_ERROR(CommandChannel(slow).deliver(m), Errc::io);
  CommandOptions relative;
  relative.argv = {"sh"};
  EXPECT_SIGIL_ERROR(CommandChannel{relative}, Errc::config_invalid);
}

TEST_F(DeliveredTest, FailedDeliveryLeavesNoUsableChallenge) {
  ChannelRegistry channels;
  CommandOptions failing;
  failing.argv = {"/bin/false"};
  channels.add(std::make_shared<CommandChannel>(failing, "cmd"));
  DeliveredOptions o;
  o.channel = "cmd";
  DeliveredCodeProvider p(db(), clock_, box_, channels, o);
  EXPECT_SIGIL_ERROR(p.challenge(alice_, "tx-9"), Errc::io);
  EXPECT_FALSE(db().query_one("SELECT 1 FROM otp_challenges WHERE transaction_id = 'tx-9'"));
}

TEST_F(DeliveredTest, WebhookRetriesThenFails) {
  WebhookOptions o;
  o.url = "http://127.0.0.1:1/sms";  // nothing listens on port 1: connection refused
  o.attempts = 3;
  o.backoff = std::chrono::milliseconds{10};
  o.timeout = std::chrono::milliseconds{500};
  WebhookChannel channel(o);
  Message m;
  m.code = SecretString("123456");
  const auto start = std::chrono::steady_clock::now();
  try {
    channel.deliver(m);
    ADD_FAILURE() << "delivered?";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::io);
    EXPECT_EQ(e.detail().find("123456"), std::string::npos);
  }
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds{30});  // 10 + 20 ms backoff
  WebhookOptions bad;
  bad.url = "ftp://x";
  EXPECT_SIGIL_ERROR(WebhookChannel{bad}, Errc::config_invalid);
  SmtpOptions smtp;
  smtp.url = "http://x";
  EXPECT_SIGIL_ERROR(SmtpChannel{smtp}, Errc::config_invalid);
}

}  // namespace
}  // namespace sigil::otp::test
