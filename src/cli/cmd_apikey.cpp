// sigilctl apikey create|list|revoke — API keys for service users (shown once, stored hashed).
#include "cli/client.hpp"

namespace sigil::cli {

void register_apikey(CLI::App& app, GlobalOptions& g, Action& action) {
  auto* apikey = app.add_subcommand("apikey", "API keys of (service) users")->require_subcommand(1);

  auto user = std::make_shared<std::string>();
  auto label = std::make_shared<std::string>();
  auto* create = apikey->add_subcommand("create", "Create an API key (printed once)");
  create->add_option("username", *user, "Owner")->required();
  create->add_option("--label", *label, "What it is for");
  create->callback([&g, &action, user, label] {
    action = [&g, user, label] {
      nlohmann::json body = nlohmann::json::object();
      if (!label->empty()) body["label"] = *label;
      const auto r = make_client(g)->call("POST", "/users/" + path_segment(*user) + "/apikeys", body);
      print(g, r.body,
            "API key " + r.body.value("id", "") + " for '" + *user + "' (shown once, store it now):\n" +
                r.body.value("key", "") + "\n");
      return 0;
    };
  });

  auto luser = std::make_shared<std::string>();
  auto* list = apikey->add_subcommand("list", "List a user's API keys (never the secrets)");
  list->add_option("username", *luser, "Owner")->required();
  list->callback([&g, &action, luser] {
    action = [&g, luser] {
      const auto r = make_client(g)->call("GET", "/users/" + path_segment(*luser) + "/apikeys");
      print(g, r.body, table(r.body.at("api_keys"), {"id", "prefix", "label", "created_at", "last_used_at", "revoked_at"}));
      return 0;
    };
  });

  auto id = std::make_shared<std::string>();
  auto* revoke = apikey->add_subcommand("revoke", "Revoke an API key");
  revoke->add_option("id", *id, "API key id")->required();
  revoke->callback([&g, &action, id] {
    action = [&g, id] {
      make_client(g)->call("DELETE", "/apikeys/" + path_segment(*id));
      print(g, {{"revoked", *id}}, "revoked API key " + *id + "\n");
      return 0;
    };
  });
}

}  // namespace sigil::cli
