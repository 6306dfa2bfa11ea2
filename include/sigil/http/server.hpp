// The HTTPS listener: Boost.Beast async HTTP/1.1 over TLS (plain only on loopback), a strand per
// connection, every limit from ServerConfig enforced, blocking handlers on the WorkerPool.
// Beast/Asio stay behind the pimpl; see src/http/README.md for the threading model.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "sigil/config/config.hpp"
#include "sigil/http/metrics.hpp"
#include "sigil/http/router.hpp"
#include "sigil/http/worker_pool.hpp"

namespace sigil::http {

struct ServerOptions {
  bool access_log = true;  // one info line per request: method, path, status, bytes, ms, peer
};

// True for 127.0.0.0/8, ::1, ::ffff:127.x.x.x and "localhost".
bool is_loopback_address(std::string_view address);

class Server {
 public:
  // Adds the built-in routes to `router`: GET /healthz, /readyz, /metrics (and /debug/sleep
  // when config.debug_endpoints); they capture this Server, so use one Router per Server.
  // router, metrics and pool must outlive the Server.
  Server(const config::ServerConfig& config, Router& router, Metrics& metrics, WorkerPool& pool,
         Authenticator authenticator = {}, ServerOptions options = {});
  ~Server();  // stops the io_context and waits for this server's jobs still on the pool
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // A readiness check throws (preferably sigil::Error) when the dependency is not ready.
  // Checks run on the worker pool for each GET /readyz. Add them before start().
  void add_readiness_check(std::string name, std::function<void()> check);

  // Validates the transport config (plain HTTP only on loopback -> Error(config_invalid)), loads
  // TLS material (Error(config_invalid)), binds (Error(io)), writes port_file, starts accepting.
  void start();
  std::uint16_t port() const;  // the bound port (config.port 0 = ephemeral)
  unsigned max_json_depth() const;

  // Runs the io_context on config.io_threads threads (this one included) until shutdown
  // completes. Returns immediately if the server is already stopped.
  void run();

  // Thread-safe and non-blocking, so it may be called from an asio signal handler on an I/O
  // thread: stops accepting, closes idle keep-alive connections, lets in-flight requests send
  // their responses (with Connection: close) for up to `grace`, then stops the io_context, which
  // makes run() return. Later calls are ignored.
  void shutdown(std::chrono::milliseconds grace);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace sigil::http
