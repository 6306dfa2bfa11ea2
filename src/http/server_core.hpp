// State shared by the Server, its listener and every session. Private to src/http.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "sigil/config/config.hpp"
#include "sigil/http/metrics.hpp"
#include "sigil/http/router.hpp"
#include "sigil/http/server.hpp"
#include "sigil/http/worker_pool.hpp"

namespace sigil::http::detail {

// What the server needs from a connection at shutdown; implemented by Session<Stream>.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Posted to the session's strand: an idle connection closes now; a busy one answers its
  // current request with Connection: close and then closes.
  virtual void on_server_shutdown() = 0;
};

struct ServerCore {
  ServerCore(const config::ServerConfig& cfg, Router& r, Metrics& m, WorkerPool& p, Authenticator a, ServerOptions o)
      : config(cfg),
        router(r),
        metrics(m),
        pool(p),
        authenticator(std::move(a)),
        options(o),
        ioc(static_cast<int>(cfg.io_threads == 0 ? 1 : cfg.io_threads)) {}

  // Registry of live sessions, so shutdown can reach idle keep-alive connections.
  std::uint64_t register_session(std::weak_ptr<SessionBase> session);
  // Called from session destructors. When draining and the last session is gone, stops the
  // io_context (run() returns).
  void unregister_session(std::uint64_t id);
  // Called once the acceptor is closed during shutdown: notifies every session and stops the
  // io_context right away if none is left.
  void begin_drain();

  // try_submit with accounting, so ~Server can wait for jobs that still reference sessions.
  bool submit(std::function<void()> job);
  void wait_for_jobs();

  const config::ServerConfig config;
  Router& router;
  Metrics& metrics;
  WorkerPool& pool;
  const Authenticator authenticator;
  const ServerOptions options;
  std::filesystem::path spool_dir;
  std::unique_ptr<boost::asio::ssl::context> tls;  // null: plain HTTP (loopback only)

  std::atomic<bool> stopping{false};  // shutdown() called: no new requests on kept-alive conns
  std::atomic<bool> destroying{false};
  std::atomic<unsigned> connections{0};

 private:
  std::mutex sessions_mu_;
  std::unordered_map<std::uint64_t, std::weak_ptr<SessionBase>> sessions_;
  std::uint64_t next_id_ = 1;
  bool draining_ = false;  // acceptor closed; stop when sessions_ is empty

  std::mutex jobs_mu_;
  std::condition_variable jobs_cv_;
  std::size_t jobs_ = 0;

 public:
  // Declared last among the resources sessions use: destroyed first, and with it every pending
  // handler (and so every session) while the members above are still alive.
  boost::asio::io_context ioc;
};

// Creates a session for an accepted socket and starts it (TLS handshake if core.tls is set).
void launch_session(ServerCore& core, boost::asio::ip::tcp::socket socket);

}  // namespace sigil::http::detail
