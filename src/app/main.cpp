// sigild — the Sigil signing server daemon. A thin main over libsigil: parse arguments, load the
// configuration, build the daemon, serve until SIGTERM/SIGINT, shut down gracefully, exit 0.
#include <CLI/CLI.hpp>

#include <csignal>
#include <iostream>
#include <thread>

#include "app/daemon.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/log.hpp"

namespace {

// Blocks SIGTERM/SIGINT in every thread (call before any thread starts) so that one dedicated
// thread receives them with sigwait: no async-signal-safety constraints on what it then does.
sigset_t block_shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sigil;
  CLI::App app{"sigild — Sigil remote signing server"};
  std::string config_path = "var/sigil.toml";
  bool check_only = false;
  app.add_option("-c,--config", config_path, "Configuration file")->capture_default_str();
  app.add_flag("--check-config", check_only, "Validate the configuration and exit");
  app.set_version_flag("--version", "sigild 0.1.0");
  CLI11_PARSE(app, argc, argv);

  const sigset_t signals = block_shutdown_signals();
  try {
    log::init("info", log::Format::text);
    config::Config cfg = config::load(config_path);
    log::init(cfg.log.level, cfg.log.format == "json" ? log::Format::json : log::Format::text);
    if (check_only) {
      std::cout << config_path << ": configuration is valid\n";
      return 0;
    }
    log::info("sigild 0.1.0 starting with {}", config_path);
    app::Daemon daemon(std::move(cfg));
    daemon.start();
    std::thread signal_thread([&] {
      int sig = 0;
      sigwait(&signals, &sig);
      log::info("received {}, shutting down gracefully", sig == SIGTERM ? "SIGTERM" : "SIGINT");
      daemon.shutdown();
    });
    daemon.run();
    // run() also returns if the server stops on its own; wake the signal thread then.
    pthread_kill(signal_thread.native_handle(), SIGTERM);
    signal_thread.join();
    log::info("sigild stopped");
    return 0;
  } catch (const Error& e) {
    log::critical("cannot start: {}", e.detail());
    std::cerr << "sigild: " << e.detail() << "\n";
    return e.info().exit_code;
  } catch (const std::exception& e) {
    log::critical("cannot start: {}", e.what());
    return 1;
  }
}
