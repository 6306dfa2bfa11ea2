// A small blocking-looking HTTP client for the server tests: Beast async ops on a private
// io_context, each bounded by a deadline so a misbehaving server fails the test instead of
// hanging it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sigil::http::test {

using ErrorCode = boost::system::error_code;
using ClientResponse = boost::beast::http::response<boost::beast::http::string_body>;

struct ClientTls {
  bool enabled = true;
  std::filesystem::path ca_file;              // trust anchor for the server certificate
  std::filesystem::path cert_file, key_file;  // client certificate (mTLS), optional
};

class TestClient {
 public:
  TestClient(std::uint16_t port, ClientTls tls);

  ErrorCode connect();  // TCP connect + TLS handshake
  ErrorCode write(std::string_view raw);
  ErrorCode read(ClientResponse& out);
  // Reads until the server ends the connection; the error (eof, truncated, reset) or timeout.
  ErrorCode read_until_closed(std::chrono::milliseconds limit);

  // A whole exchange on this connection (connects first if needed); fails the test on error.
  ClientResponse request(const std::string& method, const std::string& target, const std::string& body = {},
                         const std::vector<std::pair<std::string, std::string>>& headers = {});

 private:
  template <class Op>
  ErrorCode run(Op&& op, std::chrono::milliseconds limit = std::chrono::seconds(10));
  boost::beast::tcp_stream& lowest();

  boost::asio::io_context ioc_;
  std::uint16_t port_;
  ClientTls tls_;
  std::optional<boost::asio::ssl::context> ctx_;
  std::optional<boost::beast::tcp_stream> plain_;
  std::optional<boost::beast::ssl_stream<boost::beast::tcp_stream>> secure_;
  boost::beast::flat_buffer buffer_;
  bool connected_ = false;
};

}  // namespace sigil::http::test
