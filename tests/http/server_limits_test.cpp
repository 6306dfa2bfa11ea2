// The server's limits and lifecycle: body/header limits, timeouts, spooling, overload, shutdown.
#include <boost/beast/http.hpp>
#include <future>

#include "server_fixture.hpp"

namespace sigil::http::test {
namespace {

std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + i % 26);
  return s;
}

TEST_F(ServerTest, AnnouncedOversizedBodyIs413BeforeReadingIt) {
  config.max_body_bytes = 1024;
  start();
  auto c = client();
  ASSERT_FALSE(c.connect());
  ASSERT_FALSE(c.write("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"));
  ClientResponse res;
  ASSERT_FALSE(c.read(res));
  EXPECT_EQ(res.result_int(), 413);
  EXPECT_EQ(json_of(res)["error_description"], "Request body too large");
  EXPECT_FALSE(res.keep_alive());
}

TEST_F(ServerTest, AnnouncedBodyBeyondBeastsDefaultLimitIs413Too) {
  // Beast's parser has its own 1 MiB default body limit, checked while parsing the header.
  config.max_body_bytes = 8u << 20;
  start();
  auto c = client();
  ASSERT_FALSE(c.connect());
  ASSERT_FALSE(c.write("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 70000000\r\n\r\n"));
  ClientResponse res;
  ASSERT_FALSE(c.read(res));
  EXPECT_EQ(res.result_int(), 413);
  EXPECT_EQ(json_of(res)["code"], "payload_too_large");
}

TEST_F(ServerTest, OversizedBodySentAnywayStillGets413) {
  // The client does not wait: the whole body is on its way when the server answers. The server
  // drains it before closing, so the 413 is not lost to a connection reset.
  config.max_body_bytes = 1024;
  config.tls = false;
  start();
  auto c = client(false);
  ASSERT_FALSE(c.connect());
  ASSERT_FALSE(c.write("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 200000\r\n\r\n" + pattern(200000)));
  ClientResponse res;
  ASSERT_FALSE(c.read(res));
  EXPECT_EQ(res.result_int(), 413);
}

TEST_F(ServerTest, ChunkedBodyOverLimitIs413WhileReading) {
  config.max_body_bytes = 1024;
  start();
  auto c = client();
  ASSERT_FALSE(c.connect());
  std::string chunked = "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; ++i) chunked += "200\r\n" + std::string(0x200, 'x') + "\r\n";  // 1536 bytes
  chunked += "0\r\n\r\n";
  ASSERT_FALSE(c.write(chunked));
  ClientResponse res;
  ASSERT_FALSE(c.read(res));
  EXPECT_EQ(res.result_int(), 413);
}

TEST_F(ServerTest, OversizedHeaderIs431) {
  config.max_header_bytes = 1024;
  start();
  auto c = client();
  const auto res = c.request("GET", "/healthz", "", {{"X-Big", std::string(4000, 'h')}});
  EXPECT_EQ(res.result_int(), 431);
  EXPECT_EQ(json_of(res)["error"], "invalid_request");
  EXPECT_FALSE(res["X-Request-Id"].empty());
}

TEST_F(ServerTest, HalfSentRequestIsClosedAfterRequestTimeout) {
  config.request_timeout = std::chrono::milliseconds(300);
  start();
  auto c = client();
  ASSERT_FALSE(c.connect());
  ASSERT_FALSE(c.write("POST /x HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc"));
  const auto ec = c.read_until_closed(std::chrono::seconds(5));
  EXPECT_NE(ec, boost::beast::error::timeout) << "server kept the connection open";
}

TEST_F(ServerTest, IdleKeepAliveConnectionIsClosedAfterIdleTimeout) {
  config.idle_timeout = std::chrono::milliseconds(300);
  start();
  auto c = client();
  EXPECT_EQ(c.request("GET", "/healthz").result_int(), 200);
  EXPECT_NE(c.read_until_closed(std::chrono::seconds(5)), boost::beast::error::timeout);
}

TEST_F(ServerTest, LargeBodyIsSpooledToFileAndDeletedAfterResponse) {
  config.memory_body_bytes = 1024;
  config.max_body_bytes = 1 << 20;
  start();
  auto c = client();
  const auto big = pattern(300000);
  const auto res = c.request("POST", "/upload", big);
  ASSERT_EQ(res.result_int(), 200) << res.body();
  const auto j = json_of(res);
  EXPECT_TRUE(j["spooled"].get<bool>());
  EXPECT_EQ(j["size"], big.size());
  EXPECT_EQ(j["read"], big.size());
  EXPECT_TRUE(j["pattern_ok"].get<bool>());
  const std::filesystem::path path = j["path"].get<std::string>();
  EXPECT_EQ(path.parent_path(), config.spool_dir);
  // The file goes once the response is written; the next request on the connection follows that.
  EXPECT_EQ(c.request("GET", "/healthz").result_int(), 200);
  EXPECT_FALSE(std::filesystem::exists(path));

  const auto small = c.request("POST", "/upload", pattern(100));
  EXPECT_FALSE(json_of(small)["spooled"].get<bool>());
  EXPECT_TRUE(json_of(small)["pattern_ok"].get<bool>());
}

TEST_F(ServerTest, SmallChunkedBodyArrivesInMemory) {
  config.memory_body_bytes = 1024;
  start();
  auto c = client();
  ASSERT_FALSE(c.connect());
  const auto body = pattern(26);
  ASSERT_FALSE(
      c.write("POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1a\r\n" + body + "\r\n0\r\n\r\n"));
  ClientResponse res;
  ASSERT_FALSE(c.read(res));
  ASSERT_EQ(res.result_int(), 200);
  EXPECT_FALSE(json_of(res)["spooled"].get<bool>());
  EXPECT_EQ(json_of(res)["size"], 26);
  EXPECT_TRUE(json_of(res)["pattern_ok"].get<bool>());
  EXPECT_TRUE(std::filesystem::is_empty(config.spool_dir));
}

TEST_F(ServerTest, FullWorkerPoolAnswers503) {
  config.worker_threads = 1;
  config.worker_queue = 1;
  start();
  auto a = client();
  auto b = client();
  ASSERT_FALSE(a.connect());
  ASSERT_FALSE(b.connect());
  ASSERT_FALSE(a.write("GET /block HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(eventually([&] { return gate.waiting == 1; }));  // a runs
  ASSERT_FALSE(b.write("GET /block HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(eventually([&] { return pool->queued() == 1; }));  // b waits in the queue
  auto c = client();
  const auto res = c.request("GET", "/block");
  EXPECT_EQ(res.result_int(), 503);
  EXPECT_EQ(json_of(res)["error"], "temporarily_unavailable");
  // Non-blocking routes stay available while the pool is full.
  EXPECT_EQ(c.request("GET", "/healthz").result_int(), 200);
  gate.release();
  ClientResponse ra, rb;
  ASSERT_FALSE(a.read(ra));
  ASSERT_FALSE(b.read(rb));
  EXPECT_EQ(ra.result_int(), 200);
  EXPECT_EQ(rb.result_int(), 200);
}

TEST_F(ServerTest, MaxConnectionsClosesExtraConnections) {
  config.max_connections = 1;
  start();
  auto first = client();
  EXPECT_EQ(first.request("GET", "/healthz").result_int(), 200);
  auto second = client();
  // Accepted and closed at once: the TLS handshake (or the first read) fails.
  ErrorCode ec = second.connect();
  if (!ec) ec = second.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  ClientResponse res;
  if (!ec) ec = second.read(res);
  EXPECT_TRUE(ec);
}

TEST_F(ServerTest, GracefulShutdownFinishesInFlightRequestThenRefuses) {
  config.debug_endpoints = true;
  start();
  const auto port = server->port();
  auto c = client();
  ASSERT_FALSE(c.connect());
  auto idle = client();  // an idle keep-alive connection must not hold shutdown up
  ASSERT_EQ(idle.request("GET", "/healthz").result_int(), 200);
  ASSERT_FALSE(c.write("GET /debug/sleep?ms=500 HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(eventually([&] { return pool->running() == 1; }));
  const auto t0 = std::chrono::steady_clock::now();
  auto stopper = std::async(std::launch::async, [&] { server->shutdown(std::chrono::seconds(5)); });
  ClientResponse res;
  ASSERT_FALSE(c.read(res));
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_FALSE(res.keep_alive());
  stopper.get();
  runner.join();  // run() returns once the last connection is gone
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(4));

  TestClient late(port, ClientTls{true, pki().server_ca, {}, {}});
  EXPECT_TRUE(late.connect());
}

}  // namespace
}  // namespace sigil::http::test
