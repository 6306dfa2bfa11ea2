// sigilctl — the administrator's command line.
#include <cstdlib>

#include "cli/command.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/log.hpp"

namespace sigil::cli {

void print(const GlobalOptions& g, const nlohmann::json& j, const std::string& human) {
  if (g.json) {
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << human;
  }
}

}  // namespace sigil::cli

int main(int argc, char** argv) {
  using namespace sigil;
  CLI::App app{"sigilctl — administer a Sigil signing server"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "sigilctl 0.1.0");
  cli::GlobalOptions global;
  app.add_flag("--json", global.json, "Print machine-readable JSON");
  app.add_flag("--local", global.local, "Work directly on the local store and token (bootstrap, recovery)");
  app.add_option("-c,--config", global.config, "Configuration file")->capture_default_str();
  cli::Action action;
  cli::register_init(app, global, action);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
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
