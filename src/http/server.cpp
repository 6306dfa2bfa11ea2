// Server: configuration checks, the listener (accept loop on its own strand), built-in routes,
// the io_context threads and graceful shutdown. Connections live in session.cpp.
#include "sigil/http/server.hpp"

#include <stdlib.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <charconv>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "server_core.hpp"
#include "sigil/common/files.hpp"
#include "sigil/common/log.hpp"
#include "tls.hpp"

namespace sigil::http {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

// ---------------------------------------------------------------------------------------------
// ServerCore: session registry and job accounting.

namespace detail {

std::uint64_t ServerCore::register_session(std::weak_ptr<SessionBase> session) {
  std::lock_guard lock(sessions_mu_);
  const auto id = next_id_++;
  sessions_.emplace(id, std::move(session));
  return id;
}

void ServerCore::unregister_session(std::uint64_t id) {
  bool stop = false;
  {
    std::lock_guard lock(sessions_mu_);
    sessions_.erase(id);
    stop = draining_ && sessions_.empty() && !destroying;
  }
  if (stop) ioc.stop();
}

void ServerCore::begin_drain() {
  std::vector<std::shared_ptr<SessionBase>> live;
  {
    std::lock_guard lock(sessions_mu_);
    draining_ = true;
    if (sessions_.empty()) {
      ioc.stop();
      return;
    }
    for (auto& [id, weak] : sessions_) {
      if (auto s = weak.lock()) live.push_back(std::move(s));
    }
  }
  // Outside the lock: dropping the last reference runs a session destructor, which unregisters.
  for (auto& s : live) s->on_server_shutdown();
}

bool ServerCore::submit(std::function<void()> job) {
  {
    std::lock_guard lock(jobs_mu_);
    ++jobs_;
  }
  auto done = [this] {
    // Notify under the lock: once wait_for_jobs() sees zero, ~Server may destroy the condition
    // variable, so nothing of ours may be touched after the mutex is released.
    std::lock_guard lock(jobs_mu_);
    --jobs_;
    jobs_cv_.notify_all();
  };
  const bool queued = pool.try_submit([job = std::move(job), done]() mutable {
    try {
      job();
    } catch (...) {
      log::error("http worker job threw");
    }
    job = nullptr;  // release the session it holds *before* ~Server may proceed
    done();
  });
  if (!queued) done();
  return queued;
}

void ServerCore::wait_for_jobs() {
  std::unique_lock lock(jobs_mu_);
  jobs_cv_.wait(lock, [this] { return jobs_ == 0; });
}

}  // namespace detail

// ---------------------------------------------------------------------------------------------
// Server::Impl: the listener and the server-level state.

struct Server::Impl {
  Impl(const config::ServerConfig& cfg, Router& router, Metrics& metrics, WorkerPool& pool, Authenticator auth,
       ServerOptions options)
      : core(cfg, router, metrics, pool, std::move(auth), options),
        acceptor(net::make_strand(core.ioc)),
        grace_timer(acceptor.get_executor()),
        retry_timer(acceptor.get_executor()) {}

  ~Impl() {
    core.stopping = true;
    core.ioc.stop();
    error_code ec;
    acceptor.close(ec);
    // Worker jobs hold sessions and post to the io_context: wait until none is left.
    core.wait_for_jobs();
    core.destroying = true;  // sessions destroyed with the io_context must not stop it again
    if (!private_spool.empty()) {
      std::error_code fec;
      std::filesystem::remove_all(private_spool, fec);
    }
  }

  void do_accept() {
    acceptor.async_accept(net::make_strand(core.ioc),
                          [this](error_code ec, tcp::socket socket) noexcept { on_accept(ec, std::move(socket)); });
  }

  void on_accept(error_code ec, tcp::socket socket) noexcept {
    if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
    if (ec) {
      // EMFILE and friends: back off instead of spinning on a failing accept.
      log::warn("accept failed: {}", ec.message());
      retry_timer.expires_after(std::chrono::milliseconds(100));
      retry_timer.async_wait([this](error_code tec) noexcept {
        if (!tec) do_accept();
      });
      return;
    }
    try {
      if (core.stopping) {
        socket.close(ec);
      } else if (core.connections.fetch_add(1) >= core.config.max_connections) {
        // Over the limit: close at once. Cheaper than a TLS handshake just to send a 503, and
        // the client sees a clean connection reset it can retry.
        core.connections.fetch_sub(1);
        core.metrics.add_counter("sigil_http_connections_rejected_total",
                                 "Connections closed on accept because max_connections was reached.");
        socket.close(ec);
      } else {
        detail::launch_session(core, std::move(socket));
      }
    } catch (const std::exception& e) {
      log::error("cannot start a session: {}", e.what());
    }
    do_accept();
  }

  void run_loop() noexcept {
    for (;;) {
      try {
        core.ioc.run();
        return;
      } catch (const std::exception& e) {
        log::error("I/O thread: unhandled exception: {}", e.what());
      } catch (...) {
        log::error("I/O thread: unhandled non-standard exception");
      }
    }
  }

  Response readiness() {
    nlohmann::json checks = nlohmann::json::object();
    bool ready = !core.stopping;
    std::vector<std::pair<std::string, std::function<void()>>> snapshot;
    {
      std::lock_guard lock(checks_mu);
      snapshot = readiness_checks;
    }
    for (const auto& [name, check] : snapshot) {
      try {
        check();
        checks[name] = "ok";
      } catch (const Error& e) {
        log::warn("readiness check '{}' failed: {}", name, e.what());
        checks[name] = e.public_description();
        ready = false;
      } catch (const std::exception& e) {
        log::warn("readiness check '{}' failed: {}", name, e.what());
        checks[name] = "failed";
        ready = false;
      }
    }
    if (ready) return Response::json(200, {{"status", "ready"}, {"checks", checks}});
    // The error model plus the per-check detail.
    const auto& info = error_info(Errc::overloaded);
    return Response::json(503, {{"status", core.stopping ? "shutting_down" : "not_ready"},
                                {"error", std::string(info.oauth_error)},
                                {"error_description", "Service not ready"},
                                {"checks", checks}});
  }

  void add_builtin_routes() {
    Router& r = core.router;
    r.add(
        "GET", "/healthz", AuthRequirement::none(),
        [](Request&) {
          return Response::json(200, {{"status", "ok"}});
        },
        RouteOptions{false});
    r.add(
        "GET", "/readyz", AuthRequirement::none(), [this](Request&) { return readiness(); }, RouteOptions{true});
    r.add(
        "GET", "/metrics", AuthRequirement::none(),
        [this](Request&) { return Response::text(200, core.metrics.render(), "text/plain; version=0.0.4"); },
        RouteOptions{false});
    if (core.config.debug_endpoints) {
      r.add("GET", "/debug/sleep", AuthRequirement::none(), [](Request& req) {
        const auto text = req.query_param("ms").value_or("0");
        unsigned ms = 0;
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
        if (ec != std::errc() || end != text.data() + text.size() || ms > 10000) {
          throw Error(Errc::bad_request, "ms must be an integer in 0..10000", true);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        return Response::json(200, {{"slept_ms", ms}});
      });
    }
  }

  void prepare_spool_dir() {
    if (!core.config.spool_dir.empty()) {
      files::ensure_dir(core.config.spool_dir, 0700);
      core.spool_dir = core.config.spool_dir;
      return;
    }
    // No configured directory: a private one (mkdtemp, 0700), never a predictable shared path.
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/sigil-spool-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw Error(Errc::io, "cannot create a spool directory in " + tmpl);
    private_spool = tmpl;
    core.spool_dir = private_spool;
  }

  detail::ServerCore core;
  tcp::acceptor acceptor;  // declared after core: closed before the io_context goes
  net::steady_timer grace_timer;
  net::steady_timer retry_timer;
  std::mutex checks_mu;
  std::vector<std::pair<std::string, std::function<void()>>> readiness_checks;
  std::filesystem::path private_spool;
  std::uint16_t bound_port = 0;
};

// ---------------------------------------------------------------------------------------------

Server::Server(const config::ServerConfig& config, Router& router, Metrics& metrics, WorkerPool& pool,
               Authenticator authenticator, ServerOptions options)
    : impl_(std::make_unique<Impl>(config, router, metrics, pool, std::move(authenticator), options)) {
  impl_->add_builtin_routes();
}

Server::~Server() = default;

void Server::add_readiness_check(std::string name, std::function<void()> check) {
  std::lock_guard lock(impl_->checks_mu);
  impl_->readiness_checks.emplace_back(std::move(name), std::move(check));
}

void Server::start() {
  auto& impl = *impl_;
  const auto& cfg = impl.core.config;
  if (!cfg.tls && !is_loopback_address(cfg.listen_address)) {
    throw Error(Errc::config_invalid,
                "server.tls = false is only allowed on a loopback listen_address, not '" + cfg.listen_address + "'",
                true);
  }
  if (cfg.tls) impl.core.tls = detail::make_server_context(cfg.tls_settings);
  impl.prepare_spool_dir();

  error_code ec;
  const auto address = net::ip::make_address(cfg.listen_address == "localhost" ? "127.0.0.1" : cfg.listen_address, ec);
  if (ec) throw Error(Errc::config_invalid, "invalid listen_address '" + cfg.listen_address + "'", true);
  const tcp::endpoint endpoint(address, cfg.port);
  const std::string where = cfg.listen_address + ":" + std::to_string(cfg.port);
  impl.acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl.acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl.acceptor.bind(endpoint, ec);
  if (!ec) impl.acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) throw Error(Errc::io, "cannot listen on " + where + ": " + ec.message(), true);
  impl.bound_port = impl.acceptor.local_endpoint().port();
  if (!cfg.port_file.empty()) files::write_atomic(cfg.port_file, std::to_string(impl.bound_port) + "\n");
  log::info("listening on {}:{} ({})", cfg.listen_address, impl.bound_port, cfg.tls ? "https" : "plain http");
  net::post(impl.acceptor.get_executor(), [&impl] { impl.do_accept(); });
}

std::uint16_t Server::port() const {
  return impl_->bound_port;
}

unsigned Server::max_json_depth() const {
  return impl_->core.config.max_json_depth;
}

void Server::run() {
  const unsigned n = std::max(1u, impl_->core.config.io_threads);
  std::vector<std::thread> threads;
  threads.reserve(n - 1);
  for (unsigned i = 1; i < n; ++i) threads.emplace_back([this] { impl_->run_loop(); });
  impl_->run_loop();
  for (auto& t : threads) t.join();
}

void Server::shutdown(std::chrono::milliseconds grace) {
  if (impl_->core.stopping.exchange(true)) return;
  // Everything else happens on the acceptor's strand, so this is safe from any thread, including
  // an asio signal handler running on an I/O thread (nothing here blocks).
  net::post(impl_->acceptor.get_executor(), [impl = impl_.get(), grace] {
    error_code ec;
    impl->acceptor.close(ec);  // new connections are refused from here on
    log::info("shutting down: draining connections for up to {} ms", grace.count());
    impl->grace_timer.expires_after(grace);
    impl->grace_timer.async_wait([impl](error_code tec) noexcept {
      if (tec) return;
      log::warn("shutdown grace period over; closing the remaining connections");
      impl->core.ioc.stop();
    });
    impl->core.begin_drain();
  });
}

}  // namespace sigil::http
