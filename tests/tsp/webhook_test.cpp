// Outbound webhooks: the Sigil-Signature header (HMAC-SHA256 over "<t>.<body>") and what a
// receiver sees on the wire.
#include "tsp/webhook.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <string>

#include "fake_http.hpp"
#include "sigil/common/error.hpp"

namespace sigil::net {
namespace {

TEST(WebhookSignature, IsHmacSha256OverTimestampDotBody) {
  // Computed independently with the OpenSSL command line:
  //   printf '%s' '1700000000.{"event":"x"}' | openssl dgst -sha256 -hmac 'Jefe'
  EXPECT_EQ(webhook_signature("Jefe", 1700000000, R"({"event":"x"})"),
            "t=1700000000,v1=98898de2ce4fa86e2650097b769b37cfbdbc8dc14045a576d2173f7132609cf3");
}

TEST(WebhookSignature, ChangesWithEachInput) {
  const auto base = webhook_signature("k", 1, "{}");
  EXPECT_NE(base, webhook_signature("K", 1, "{}"));
  EXPECT_NE(base, webhook_signature("k", 2, "{}"));
  EXPECT_NE(base, webhook_signature("k", 1, "{ }"));
}

std::string header_of(const std::string& request, const std::string& name) {
  const std::regex re("\\r\\n" + name + ": ([^\\r]*)\\r\\n", std::regex::icase);
  std::smatch m;
  return std::regex_search(request, m, re) ? m[1].str() : std::string();
}

TEST(PostWebhook, SignsTheBodyItSends) {
  test::FakeHttpServer server({{204, "text/plain", {}}});
  WebhookTarget target;
  target.secret = std::make_shared<const SecretString>("portal-secret");
  const std::string body = R"({"event":"document.completed","documentId":"d1"})";
  const auto before = std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  post_webhook(target, server.url("/hooks/"), body);

  ASSERT_EQ(server.requests().size(), 1u);
  const std::string request = server.requests().front();
  EXPECT_TRUE(request.ends_with("\r\n\r\n" + body)) << request;
  const std::string header = header_of(request, "Sigil-Signature");
  std::smatch m;
  ASSERT_TRUE(std::regex_match(header, m, std::regex("t=([0-9]+),v1=([0-9a-f]{64})"))) << header;
  const auto t = std::stoll(m[1].str());
  EXPECT_GE(t, before);
  EXPECT_LE(t, before + 5);
  EXPECT_EQ(header, webhook_signature("portal-secret", t, body));
}

TEST(PostWebhook, WithoutASecretSendsNoSignature) {
  test::FakeHttpServer server({{200, "text/plain", {}}});
  post_webhook(WebhookTarget{}, server.url("/hooks/"), "{}");
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(header_of(server.requests().front(), "Sigil-Signature"), "");
}

TEST(PostWebhook, ANon2xxAnswerThrows) {
  test::FakeHttpServer server({{500, "text/plain", {}}});
  try {
    post_webhook(WebhookTarget{}, server.url("/hooks/"), "{}");
    FAIL() << "no exception";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::io);
    EXPECT_NE(std::string(e.what()).find("500"), std::string::npos);
  }
}

}  // namespace
}  // namespace sigil::net
