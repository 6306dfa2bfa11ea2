// A tiny loopback HTTP/1.0 responder for the malformed-reply cases only (garbage, wrong content
// type, a genuine reply to another request, 401). Everything else is tested against the real TSA
// and OCSP responder of ValidatorPki. Binds 127.0.0.1 on port 0; answers one canned reply per
// connection, in order (the last one repeats), and records each raw request.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace sigil::test {

class FakeHttpServer {
 public:
  struct Reply {
    int status = 200;
    std::string content_type;
    std::vector<std::uint8_t> body;
  };

  // `answer` false: a black hole that accepts TCP connections (in the kernel backlog) but never
  // reads nor replies - a hung server for timeout tests.
  explicit FakeHttpServer(std::vector<Reply> replies, bool answer = true) : replies_(std::move(replies)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      throw std::runtime_error("FakeHttpServer: cannot listen");
    }
    port_ = ntohs(a.sin_port);
    if (answer) thread_ = std::thread([this] { serve(); });
  }
  static std::unique_ptr<FakeHttpServer> black_hole() {
    return std::make_unique<FakeHttpServer>(std::vector<Reply>{}, false);
  }
  ~FakeHttpServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  FakeHttpServer(const FakeHttpServer&) = delete;
  FakeHttpServer& operator=(const FakeHttpServer&) = delete;

  std::string url(const std::string& path = "/tsa") const { return "http://127.0.0.1:" + std::to_string(port_) + path; }
  std::vector<std::string> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void serve() {
    std::size_t next = 0;
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      std::string req = read_request(c);
      {
        std::lock_guard lock(mu_);
        requests_.push_back(req);
      }
      if (!replies_.empty()) {
        const Reply& r = replies_[std::min(next++, replies_.size() - 1)];
        std::string head = "HTTP/1.0 " + std::to_string(r.status) + " X\r\nContent-Type: " + r.content_type +
                           "\r\nContent-Length: " + std::to_string(r.body.size()) + "\r\nConnection: close\r\n\r\n";
        write_all(c, head.data(), head.size());
        write_all(c, r.body.data(), r.body.size());
      }
      ::shutdown(c, SHUT_RDWR);
      ::close(c);
    }
  }
  static std::string read_request(int c) {
    std::string data;
    char buf[4096];
    std::size_t want = std::string::npos;
    while (want == std::string::npos || data.size() < want) {
      pollfd p{c, POLLIN, 0};
      if (::poll(&p, 1, 2000) <= 0) break;
      const ssize_t n = ::read(c, buf, sizeof buf);
      if (n <= 0) break;
      data.append(buf, static_cast<std::size_t>(n));
      const auto end = data.find("\r\n\r\n");
      if (want == std::string::npos && end != std::string::npos) {
        std::size_t body = 0;
        std::string lower = data.substr(0, end);
        for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        const auto cl = lower.find("content-length:");
        if (cl != std::string::npos) body = std::stoul(lower.substr(cl + 15));
        want = end + 4 + body;
      }
    }
    return data;
  }
  static void write_all(int c, const void* data, std::size_t n) {
    const char* p = static_cast<const char*>(data);
    while (n > 0) {
      const ssize_t w = ::send(c, p, n, MSG_NOSIGNAL);
      if (w <= 0) return;
      p += w;
      n -= static_cast<std::size_t>(w);
    }
  }

  std::vector<Reply> replies_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mu_;
  std::vector<std::string> requests_;
};

}  // namespace sigil::test
