// The server over real sockets: TLS, request ids, built-in routes, auth, mTLS, plain HTTP rules.
#include <boost/beast/http.hpp>

#include "server_fixture.hpp"

namespace sigil::http::test {
namespace {

TEST_F(ServerTest, HealthzOverTlsWithRequestIdAndSecurityHeaders) {
  start();
  auto c = client();
  const auto res = c.request("GET", "/healthz");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(json_of(res)["status"], "ok");
  EXPECT_EQ(res["X-Request-Id"].size(), 16u);
  EXPECT_EQ(res["Cache-Control"], "no-store");
  EXPECT_EQ(res["X-Content-Type-Options"], "nosniff");
  EXPECT_EQ(res["Server"], "sigil");
  EXPECT_EQ(res["Content-Type"], "application/json");
  // Keep-alive: a second request on the same connection, with a fresh id.
  const auto again = c.request("GET", "/healthz");
  EXPECT_EQ(again.result_int(), 200);
  EXPECT_NE(again["X-Request-Id"], res["X-Request-Id"]);
}

TEST_F(ServerTest, EchoesWellFormedRequestIdOnly) {
  start();
  auto c = client();
  EXPECT_EQ(c.request("GET", "/healthz", "", {{"X-Request-Id", "abc.DEF_123-x"}})["X-Request-Id"], "abc.DEF_123-x");
  const auto bad = c.request("GET", "/healthz", "", {{"X-Request-Id", "has space<script>"}});
  EXPECT_NE(bad["X-Request-Id"], "has space<script>");
  EXPECT_EQ(bad["X-Request-Id"].size(), 16u);
  EXPECT_NE(c.request("GET", "/healthz", "", {{"X-Request-Id", std::string(65, 'a')}})["X-Request-Id"],
            std::string(65, 'a'));
}

TEST_F(ServerTest, FileBodiesAreStreamedAndDeletedOnceSent) {
  start();
  auto c = client();
  const auto res = c.request("GET", "/download");
  ASSERT_EQ(res.result_int(), 200);
  EXPECT_EQ(res["Content-Type"], "application/octet-stream");
  EXPECT_EQ(res["Content-Length"], std::to_string(3u << 20));
  const std::string body = res.body();
  ASSERT_EQ(body.size(), 3u << 20);
  bool pattern_ok = true;
  for (std::size_t i = 0; i < body.size(); ++i) pattern_ok = pattern_ok && body[i] == static_cast<char>('a' + i % 26);
  EXPECT_TRUE(pattern_ok);
  EXPECT_FALSE(std::filesystem::exists(last_download));  // the response owned it
  // Keep-alive after a file body, and a file the handler keeps.
  EXPECT_EQ(c.request("GET", "/download?keep=1").body().size(), 3u << 20);
  EXPECT_TRUE(std::filesystem::exists(last_download));
  // A file that cannot be opened: a JSON 500, not a hang or a crash.
  const auto missing = c.request("GET", "/download-missing");
  EXPECT_EQ(missing.result_int(), 500);
  EXPECT_EQ(json_of(missing)["error"], "server_error");
}

TEST_F(ServerTest, UnknownRoute404AndWrongMethod405) {
  start();
  auto c = client();
  const auto r404 = c.request("GET", "/nope");
  EXPECT_EQ(r404.result_int(), 404);
  EXPECT_EQ(json_of(r404)["error"], "not_found");
  const auto r405 = c.request("POST", "/healthz", "{}");
  EXPECT_EQ(r405.result_int(), 405);
  EXPECT_EQ(r405["Allow"], "GET");
}

TEST_F(ServerTest, TooDeepJsonIs400WithDescription) {
  config.max_json_depth = 8;
  start();
  auto c = client();
  const auto ok = c.request("POST", "/json", std::string(8, '[') + std::string(8, ']'));
  EXPECT_EQ(ok.result_int(), 200) << ok.body();
  const auto res = c.request("POST", "/json", std::string(100, '[') + std::string(100, ']'));
  EXPECT_EQ(res.result_int(), 400);
  EXPECT_EQ(json_of(res)["error"], "invalid_request");
  EXPECT_NE(json_of(res)["error_description"].get<std::string>().find("nesting"), std::string::npos);
  const auto bad = c.request("POST", "/json", "{\"a\":");
  EXPECT_EQ(bad.result_int(), 400);
  EXPECT_NE(json_of(bad)["error_description"].get<std::string>().find("Malformed JSON"), std::string::npos);
}

TEST_F(ServerTest, AuthenticatedRoute401And200) {
  start([](const Request& req) -> std::optional<Principal> {
    if (req.header("Authorization") == "Bearer good") return Principal{"1", "alice", {}, {}};
    return std::nullopt;
  });
  auto c = client();
  const auto denied = c.request("GET", "/private");
  EXPECT_EQ(denied.result_int(), 401);
  EXPECT_EQ(denied["WWW-Authenticate"], "Bearer realm=\"sigil\"");
  const auto ok = c.request("GET", "/private", "", {{"Authorization", "Bearer good"}});
  EXPECT_EQ(ok.result_int(), 200);
  EXPECT_EQ(json_of(ok)["user"], "alice");
}

TEST_F(ServerTest, ReadinessChecksAndMetrics) {
  start();
  std::atomic<bool> store_up{true};
  server->add_readiness_check("store", [&] {
    if (!store_up) throw Error(Errc::store_unavailable, "sqlite busy");
  });
  auto c = client();
  const auto ready = c.request("GET", "/readyz");
  EXPECT_EQ(ready.result_int(), 200);
  EXPECT_EQ(json_of(ready)["checks"]["store"], "ok");
  store_up = false;
  const auto not_ready = c.request("GET", "/readyz");
  EXPECT_EQ(not_ready.result_int(), 503);
  EXPECT_EQ(json_of(not_ready)["checks"]["store"], "Store unavailable");
  EXPECT_EQ(not_ready.body().find("sqlite"), std::string::npos);

  const auto m = c.request("GET", "/metrics");
  EXPECT_EQ(m.result_int(), 200);
  EXPECT_EQ(m["Content-Type"], "text/plain; version=0.0.4");
  EXPECT_NE(m.body().find(R"(sigil_http_requests_total{route="/readyz",method="GET",status="503"} 1)"),
            std::string::npos)
      << m.body();
  EXPECT_NE(m.body().find("sigil_http_connections_open 1"), std::string::npos);
}

TEST_F(ServerTest, PlainHttpRefusedOnNonLoopbackAddress) {
  config.tls = false;
  config.listen_address = "0.0.0.0";
  pool = std::make_unique<WorkerPool>(1, 1);
  Server s(config, router, metrics, *pool);
  try {
    s.start();
    ADD_FAILURE() << "start() accepted plain HTTP on 0.0.0.0";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::config_invalid);
    EXPECT_NE(e.detail().find("loopback"), std::string::npos);
  }
}

TEST_F(ServerTest, PlainHttpWorksOnLoopback) {
  config.tls = false;
  config.listen_address = "127.0.0.1";
  start();
  auto c = client(false);
  const auto res = c.request("GET", "/healthz");
  EXPECT_EQ(res.result_int(), 200);
}

TEST_F(ServerTest, BadTlsMaterialIsConfigInvalid) {
  config.tls_settings.key_file = pki().client_key;  // does not match the server certificate
  pool = std::make_unique<WorkerPool>(1, 1);
  Server s(config, router, metrics, *pool);
  try {
    s.start();
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), Errc::config_invalid);
  }
}

class MtlsTest : public ServerTest {
 protected:
  void SetUp() override {
    config.tls_settings.client_certs = config::ClientCertMode::required;
    config.tls_settings.client_ca_file = pki().client_ca;
    start();
  }
  TestClient mtls_client(const std::filesystem::path& cert, const std::filesystem::path& key) {
    ClientTls t;
    t.ca_file = pki().server_ca;
    t.cert_file = cert;
    t.key_file = key;
    return TestClient(server->port(), t);
  }
};

// With TLS 1.3 the client may finish its handshake before the server rejects it, so "fails"
// means: no HTTP response ever arrives.
bool exchange_fails(TestClient& c) {
  if (c.connect()) return true;
  if (c.write("GET /whoami HTTP/1.1\r\nHost: x\r\n\r\n")) return true;
  ClientResponse res;
  return static_cast<bool>(c.read(res));
}

TEST_F(MtlsTest, NoClientCertificateFails) {
  auto c = client();
  EXPECT_TRUE(exchange_fails(c));
}

TEST_F(MtlsTest, UntrustedClientCertificateFails) {
  auto c = mtls_client(pki().rogue_cert, pki().rogue_key);
  EXPECT_TRUE(exchange_fails(c));
}

TEST_F(MtlsTest, VerifiedClientCertificateIsSurfaced) {
  auto c = mtls_client(pki().client_cert, pki().client_key);
  const auto res = c.request("GET", "/whoami");
  ASSERT_EQ(res.result_int(), 200);
  const auto j = json_of(res);
  EXPECT_TRUE(j["has_cert"].get<bool>());
  EXPECT_EQ(j["subject"], "CN=test-client,O=Sigil Test");
  EXPECT_EQ(j["issuer"], "CN=Test Client CA,O=Sigil Test");
  EXPECT_EQ(j["serial"], "1234");
  EXPECT_EQ(j["fingerprint"].get<std::string>().size(), 64u);
  EXPECT_TRUE(j["pem_ok"].get<bool>());
  EXPECT_EQ(j["remote"], "127.0.0.1");
}

}  // namespace
}  // namespace sigil::http::test
