// The composition root of sigild: builds every component from the configuration and passes
// references down. No singletons: everything the daemon owns lives here, in dependency order.
#pragma once

#include <chrono>
#include <memory>

#include "sigil/config/config.hpp"

namespace sigil::app {

class Daemon {
 public:
  explicit Daemon(config::Config config);
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Binds the listener (after this, port() is known and /healthz answers once run() runs).
  void start();
  // Serves until shutdown(); returns when the server has stopped.
  void run();
  // Thread-safe: stop accepting, finish in-flight requests up to the configured grace, stop.
  void shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sigil::app
