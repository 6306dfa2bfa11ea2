// A real Server on 127.0.0.1:0 with test routes, run on its own thread; TLS with the test PKI.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <mutex>
#include <thread>

#include "sigil/http/json.hpp"
#include "sigil/http/server.hpp"
#include "temp_dir.hpp"
#include "test_client.hpp"
#include "test_pki.hpp"

namespace sigil::http::test {

template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return true;
}

// A gate the /block route waits on, so tests can fill the worker pool deterministically.
struct Gate {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  std::atomic<int> waiting{0};
  void wait() {
    ++waiting;
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::seconds(10), [this] { return open; });
  }
  void release() {
    {
      std::lock_guard lock(mu);
      open = true;
    }
    cv.notify_all();
  }
};

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_dir_ = new sigil::test::TempDir();
    pki_ = new TestPki(TestPki::generate(pki_dir_->path()));
  }
  static void TearDownTestSuite() {
    delete pki_;
    delete pki_dir_;
  }

  ServerTest() {
    config.port = 0;
    config.io_threads = 2;
    config.worker_threads = 2;
    config.worker_queue = 16;
    config.spool_dir = dir.path() / "spool";
    config.tls_settings.cert_file = pki_->server_cert;
    config.tls_settings.key_file = pki_->server_key;
    config.request_timeout = std::chrono::seconds(5);
    config.idle_timeout = std::chrono::seconds(5);
  }
  ~ServerTest() override { stop(); }

  const TestPki& pki() const { return *pki_; }

  void start(Authenticator auth = {}) {
    pool = std::make_unique<WorkerPool>(config.worker_threads, config.worker_queue);
    add_test_routes();
    server = std::make_unique<Server>(config, router, metrics, *pool, std::move(auth), ServerOptions{true});
    server->start();
    runner = std::thread([this] { server->run(); });
  }

  void stop(std::chrono::milliseconds grace = std::chrono::seconds(2)) {
    gate.release();
    if (server) server->shutdown(grace);
    if (runner.joinable()) runner.join();
    server.reset();
    if (pool) pool->stop();
  }

  TestClient client(bool tls = true) {
    ClientTls t;
    t.enabled = tls;
    t.ca_file = pki_->server_ca;
    return TestClient(server->port(), t);
  }

  void add_test_routes() {
    router.add("POST", "/json", AuthRequirement::none(), [](Request& req) {
      const auto doc = parse_json_bounded(req.body, req.max_json_depth);
      return Response::json(200, {{"ok", true}, {"size", doc.size()}});
    });
    router.add("POST", "/upload", AuthRequirement::none(), [](Request& req) {
      std::string content = req.body;
      if (!req.body_file.empty()) {
        std::ifstream in(req.body_file, std::ios::binary);
        content.assign(std::istreambuf_iterator<char>(in), {});
      }
      bool pattern_ok = true;
      for (std::size_t i = 0; i < content.size(); ++i)
        pattern_ok = pattern_ok && content[i] == static_cast<char>('a' + i % 26);
      return Response::json(200, {{"spooled", !req.body_file.empty()},
                                  {"path", req.body_file.string()},
                                  {"size", req.body_size},
                                  {"read", content.size()},
                                  {"pattern_ok", pattern_ok}});
    });
    // A 3 MiB patterned file streamed as the body and deleted once sent (?keep=1: not deleted).
    router.add("GET", "/download", AuthRequirement::none(), [this](Request& req) {
      const auto path = dir.path() / ("download-" + std::to_string(++downloads) + ".bin");
      {
        std::ofstream out(path, std::ios::binary);
        for (std::size_t i = 0; i < (3u << 20); ++i) out.put(static_cast<char>('a' + i % 26));
      }
      last_download = path;
      return Response::file(200, path, "application/octet-stream", !req.query_param("keep"));
    });
    router.add("GET", "/download-missing", AuthRequirement::none(), [this](Request&) {
      return Response::file(200, dir.path() / "no-such-file", "application/octet-stream", true);
    });
    router.add("GET", "/block", AuthRequirement::none(), [this](Request&) {
      gate.wait();
      return Response::json(200, "released");
    });
    router.add("GET", "/whoami", AuthRequirement::none(), [](Request& req) {
      nlohmann::json j = {{"has_cert", req.client_cert.has_value()}, {"remote", req.remote_address}};
      if (req.client_cert) {
        j["subject"] = req.client_cert->subject;
        j["issuer"] = req.client_cert->issuer;
        j["serial"] = req.client_cert->serial_hex;
        j["fingerprint"] = req.client_cert->sha256_fingerprint;
        j["pem_ok"] = req.client_cert->pem.rfind("-----BEGIN CERTIFICATE-----", 0) == 0;
      }
      return Response::json(200, j);
    });
    router.add("GET", "/private", AuthRequirement::authenticated(), [](Request& req) {
      return Response::json(200, {{"user", req.principal->name}});
    });
  }

  sigil::test::TempDir dir;
  config::ServerConfig config;
  Router router;
  Metrics metrics;
  Gate gate;
  std::atomic<int> downloads{0};
  std::filesystem::path last_download;
  std::unique_ptr<WorkerPool> pool;
  std::unique_ptr<Server> server;
  std::thread runner;

 private:
  static inline sigil::test::TempDir* pki_dir_ = nullptr;
  static inline TestPki* pki_ = nullptr;
};

inline nlohmann::json json_of(const ClientResponse& res) {
  return nlohmann::json::parse(res.body());
}

}  // namespace sigil::http::test
