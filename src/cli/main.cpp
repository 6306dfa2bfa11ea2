// sigilctl — the administrator's command line.
#include <cstdlib>

#include <curl/curl.h>

#include "cli/command.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/log.hpp"

namespace sigil::cli {
void register_client(CLI::App& app, GlobalOptions& g, Action& action);  // cmd_client.cpp
void register_sign(CLI::App& app, GlobalOptions& g, Action& action);    // cmd_sign.cpp
}

int main(int argc, char** argv) {
  using namespace sigil;
  CLI::App app{"sigilctl — administer a Sigil signing server"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "sigilctl 0.1.0");
  cli::GlobalOptions global;
  app.add_flag("--json", global.json, "Print machine-readable JSON");
  app.add_flag("--local", global.local, "Work directly on the local store and token (bootstrap, recovery)");
  app.add_option("-c,--config", global.config, "Configuration file")->capture_default_str();
  app.add_option("--url", global.url, "sigild base URL (default: from the configuration)");
  app.add_option("--cacert", global.cacert, "CA certificate to verify sigild (default: <pki dir>/root-ca.pem)");
  app.add_option("-u,--user", global.user, "Admin user name (password from SIGIL_PASSWORD or --password-file)");
  app.add_option("--password-file", global.password_file, "File holding the admin password");
  app.add_option("--api-key-file", global.api_key_file, "File holding an admin API key (or SIGIL_API_KEY)");
  cli::Action action;
  cli::register_init(app, global, action);
  cli::register_token(app, global, action);
  cli::register_key(app, global, action);
  cli::register_csr(app, global, action);
  cli::register_cert(app, global, action);
  cli::register_credential(app, global, action);
  cli::register_user(app, global, action);
  cli::register_apikey(app, global, action);
  cli::register_doctor(app, global, action);
  cli::register_audit(app, global, action);
  cli::register_client(app, global, action);
  cli::register_sign(app, global, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);  // prints help, version or the usage error
    return rc == 0 ? 0 : 64;     // EX_USAGE: one exit code for every usage error
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  try {
    log::init("warn", log::Format::text);
    return action ? action() : 0;
  } catch (const Error& e) {
    // The operator runs sigilctl on their own machine: the internal detail is what they need.
    std::cerr << "sigilctl: " << e.info().public_message << ": " << e.detail() << "\n";
    return e.info().exit_code;
  } catch (const std::exception& e) {
    std::cerr << "sigilctl: unexpected error: " << e.what() << "\n";
    return 1;
  }
}
