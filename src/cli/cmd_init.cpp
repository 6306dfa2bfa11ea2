// sigilctl init: first-run initialisation of a local instance (see sigil/bootstrap/init.hpp).
#include "cli/command.hpp"
#include "sigil/bootstrap/init.hpp"

namespace sigil::cli {

void register_init(CLI::App& app, GlobalOptions& global, Action& action) {
  auto opts = std::make_shared<bootstrap::InitOptions>();
  auto* cmd = app.add_subcommand("init", "Create a local instance: SoftHSM2 token, demo PKI, TLS, admin, config");
  cmd->add_option("--dir", opts->dir, "Instance directory")->capture_default_str();
  cmd->add_option("--template", opts->example_config, "Configuration template")->capture_default_str();
  cmd->add_option("--module", opts->module, "PKCS#11 module")->capture_default_str();
  cmd->add_option("--token-label", opts->token_label, "Token label")->capture_default_str();
  cmd->add_option("--admin", opts->admin_username, "Administrator user name")->capture_default_str();
  cmd->add_option("--postgres-conninfo-env", opts->postgres_conninfo_env,
                  "Keep the store in PostgreSQL: the environment variable holding the libpq conninfo");
  cmd->add_option("--postgres-conninfo-file", opts->postgres_conninfo_file,
                  "Keep the store in PostgreSQL: the file holding the libpq conninfo");
  cmd->callback([&global, &action, opts] {
    action = [&global, opts] {
      SystemClock clock;
      const auto r = bootstrap::initialise(*opts, clock);
      nlohmann::json j = {{"changed", r.changed()}, {"created", r.created}, {"kept", r.kept},
                          {"config", r.config_path.string()}};
      std::string human;
      if (!r.changed()) {
        human = "Sigil is already initialised in " + opts->dir.string() + ": nothing changed.\n";
      } else {
        for (const auto& c : r.created) human += "  created " + c + "\n";
        for (const auto& k : r.kept) human += "  kept    " + k + "\n";
      }
      j["demo_credential"] = r.demo_credential_id;
      j["demo_person_credential"] = r.demo_person_credential_id;
      if (r.admin_password) {
        j["admin_password"] = *r.admin_password;
        human += "\nAdministrator '" + opts->admin_username + "' password (shown once, store it now): " +
                 *r.admin_password + "\n";
      }
      print(global, j, human);
      return 0;
    };
  });
}

}  // namespace sigil::cli
