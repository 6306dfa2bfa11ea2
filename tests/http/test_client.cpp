#include "test_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>

namespace sigil::http::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;

TestClient::TestClient(std::uint16_t port, ClientTls tls) : port_(port), tls_(std::move(tls)) {
  if (tls_.enabled) {
    ctx_.emplace(net::ssl::context::tls_client);
    if (!tls_.ca_file.empty()) {
      ctx_->load_verify_file(tls_.ca_file.string());
      ctx_->set_verify_mode(net::ssl::verify_peer);
    }
    if (!tls_.cert_file.empty()) {
      ctx_->use_certificate_chain_file(tls_.cert_file.string());
      ctx_->use_private_key_file(tls_.key_file.string(), net::ssl::context::pem);
    }
    secure_.emplace(ioc_, *ctx_);
  } else {
    plain_.emplace(ioc_);
  }
}

beast::tcp_stream& TestClient::lowest() {
  return secure_ ? beast::get_lowest_layer(*secure_) : *plain_;
}

template <class Op>
ErrorCode TestClient::run(Op&& op, std::chrono::milliseconds limit) {
  ErrorCode result = net::error::timed_out;
  lowest().expires_after(limit);
  op([&result](ErrorCode ec, auto&&...) { result = ec; });
  ioc_.restart();
  ioc_.run();
  return result;
}

ErrorCode TestClient::connect() {
  const net::ip::tcp::endpoint ep(net::ip::make_address("127.0.0.1"), port_);
  auto ec = run([&](auto handler) { lowest().async_connect(ep, std::move(handler)); });
  if (ec || !secure_) return connected_ = !ec, ec;
  ec = run([&](auto handler) { secure_->async_handshake(net::ssl::stream_base::client, std::move(handler)); });
  connected_ = !ec;
  return ec;
}

ErrorCode TestClient::write(std::string_view raw) {
  auto buf = net::buffer(raw.data(), raw.size());
  if (secure_) return run([&](auto handler) { net::async_write(*secure_, buf, std::move(handler)); });
  return run([&](auto handler) { net::async_write(*plain_, buf, std::move(handler)); });
}

ErrorCode TestClient::read(ClientResponse& out) {
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64u << 20);
  ErrorCode ec;
  if (secure_) {
    ec = run([&](auto handler) { bhttp::async_read(*secure_, buffer_, parser, std::move(handler)); });
  } else {
    ec = run([&](auto handler) { bhttp::async_read(*plain_, buffer_, parser, std::move(handler)); });
  }
  if (!ec) out = parser.release();
  return ec;
}

ErrorCode TestClient::read_until_closed(std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return beast::error::timeout;
    ErrorCode ec;
    if (secure_) {
      ec = run([&](auto handler) { secure_->async_read_some(buffer_.prepare(4096), std::move(handler)); }, left);
    } else {
      ec = run([&](auto handler) { plain_->async_read_some(buffer_.prepare(4096), std::move(handler)); }, left);
    }
    if (ec) return ec;
  }
}

ClientResponse TestClient::request(const std::string& method, const std::string& target, const std::string& body,
                                   const std::vector<std::pair<std::string, std::string>>& headers) {
  ClientResponse res;
  if (!connected_) {
    const auto ec = connect();
    EXPECT_FALSE(ec) << "connect: " << ec.message();
    if (ec) return res;
  }
  bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
  req.set(bhttp::field::host, "127.0.0.1");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  if (!body.empty() || method == "POST" || method == "PUT") req.prepare_payload();
  std::ostringstream wire;
  wire << req;
  auto ec = write(wire.str());
  EXPECT_FALSE(ec) << "write: " << ec.message();
  if (ec) return res;
  ec = read(res);
  EXPECT_FALSE(ec) << "read: " << ec.message();
  return res;
}

}  // namespace sigil::http::test
