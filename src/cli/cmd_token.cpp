// sigilctl token list|init — slots and tokens of the PKCS#11 module.
#include <cstdlib>

#include "cli/client.hpp"
#include "sigil/common/error.hpp"
#include "sigil/bootstrap/runtime.hpp"
#include "sigil/config/config.hpp"
#include "sigil/hsm/token.hpp"

namespace sigil::cli {
namespace {

struct ModuleChoice {
  std::string module;  // --module wins over the config
};

std::string resolve_module(const GlobalOptions& g, const ModuleChoice& m) {
  if (!m.module.empty()) return m.module;
  const auto c = config::load(g.config);
  bootstrap::export_softhsm_conf(c.hsm);
  return c.hsm.module.string();
}

// A PIN from the given file, else from `env`; the config's secret rules (and errors) apply.
SecretString read_pin(const std::string& file, const char* env) {
  return file.empty() ? config::SecretRef{{}, env}.resolve() : config::SecretRef{file, {}}.resolve();
}

}  // namespace

void register_token(CLI::App& app, GlobalOptions& g, Action& action) {
  auto* token = app.add_subcommand("token", "PKCS#11 slots and tokens")->require_subcommand(1);
  auto m = std::make_shared<ModuleChoice>();

  auto* list = token->add_subcommand("list", "List the module's slots and tokens (no login)");
  list->add_option("--module", m->module, "PKCS#11 module (default: hsm.module of the config)");
  list->callback([&g, &action, m] {
    action = [&g, m] {
      nlohmann::json slots = nlohmann::json::array();
      for (const auto& s : hsm::list_slots(resolve_module(g, *m))) {
        slots.push_back({{"slot", s.id},
                         {"description", s.description},
                         {"token_present", s.token_present},
                         {"initialized", s.token_initialized},
                         {"user_pin_initialized", s.user_pin_initialized},
                         {"label", s.token_label},
                         {"serial", s.token_serial},
                         {"model", s.token_model},
                         {"manufacturer", s.token_manufacturer}});
      }
      print(g, {{"slots", slots}}, table(slots, {"slot", "label", "serial", "initialized", "model", "manufacturer"}));
      return 0;
    };
  });

  struct Init {
    std::string label, so_pin_file, pin_file;
  };
  auto i = std::make_shared<Init>();
  auto* init = token->add_subcommand("init", "Initialise a free token: label, SO PIN and user PIN (local only)");
  init->add_option("label", i->label, "Token label (1-32 bytes)")->required();
  init->add_option("--so-pin-file", i->so_pin_file, "File with the SO PIN (or SIGIL_SO_PIN)");
  init->add_option("--pin-file", i->pin_file, "File with the user PIN (or SIGIL_USER_PIN)");
  init->add_option("--module", m->module, "PKCS#11 module (default: hsm.module of the config)");
  init->callback([&g, &action, m, i] {
    action = [&g, m, i] {
      const std::string module = resolve_module(g, *m);
      hsm::init_token(module, i->label, read_pin(i->so_pin_file, "SIGIL_SO_PIN"), read_pin(i->pin_file, "SIGIL_USER_PIN"));
      print(g, {{"initialised", i->label}}, "initialised token '" + i->label + "'\n");
      return 0;
    };
  });
}

}  // namespace sigil::cli
