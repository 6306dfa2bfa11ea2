// sigilctl client add|list|remove — OAuth 2.0 clients (portals, CSC apps, service integrations).
// The secret of a confidential client is printed once.
#include "cli/client.hpp"

namespace sigil::cli {

void register_client(CLI::App& app, GlobalOptions& g, Action& action) {
  auto* client = app.add_subcommand("client", "OAuth 2.0 clients")->require_subcommand(1);

  struct AddOptions {
    std::string name;
    std::vector<std::string> redirect_uris;
    bool is_public = false;
    std::vector<std::string> scopes;
    std::vector<std::string> grants;
    std::string service_user;
  };
  auto o = std::make_shared<AddOptions>();
  auto* add = client->add_subcommand("add", "Register a client (a confidential client's secret is printed once)");
  add->add_option("name", o->name, "Display name (shown on the login page)")->required();
  add->add_option("--redirect-uri", o->redirect_uris, "Redirect URI, matched exactly (repeatable)");
  add->add_flag("--public", o->is_public, "Public client (no secret; PKCE only), e.g. a mobile app");
  add->add_option("--scope", o->scopes, "Allowed scope: service, credential (repeatable; default both)");
  add->add_option("--grant", o->grants,
                  "Allowed grant: authorization_code, refresh_token, client_credentials (repeatable; "
                  "default authorization_code and refresh_token, or client_credentials with --service-user)");
  add->add_option("--service-user", o->service_user, "Service user the client acts as (client_credentials)");
  add->callback([&g, &action, o] {
    action = [&g, o] {
      nlohmann::json body{{"name", o->name}, {"redirect_uris", o->redirect_uris}, {"confidential", !o->is_public}};
      if (!o->scopes.empty()) body["scopes"] = o->scopes;
      if (!o->grants.empty()) {
        body["grant_types"] = o->grants;
      } else if (!o->service_user.empty()) {
        body["grant_types"] = {"client_credentials"};
      }
      if (!o->service_user.empty()) body["service_user"] = o->service_user;
      if (!o->service_user.empty() && o->scopes.empty()) body["scopes"] = {"service"};
      const auto r = make_client(g)->call("POST", "/oauth-clients", body);
      std::string human = "client_id: " + r.body.value("client_id", "") + "\n";
      if (r.body.contains("client_secret")) {
        human += "client_secret (shown once, store it now): " + r.body.value("client_secret", "") + "\n";
      }
      print(g, r.body, human);
      return 0;
    };
  });

  auto* list = client->add_subcommand("list", "List clients (never the secrets)");
  list->callback([&g, &action] {
    action = [&g] {
      const auto r = make_client(g)->call("GET", "/oauth-clients");
      print(g, r.body,
            table(r.body.at("oauth_clients"),
                  {"client_id", "name", "confidential", "grant_types", "scopes", "service_user", "redirect_uris"}));
      return 0;
    };
  });

  auto id = std::make_shared<std::string>();
  auto* remove = client->add_subcommand("remove", "Remove a client and revoke its tokens");
  remove->add_option("client_id", *id, "Client id (cl_...)")->required();
  remove->callback([&g, &action, id] {
    action = [&g, id] {
      make_client(g)->call("DELETE", "/oauth-clients/" + path_segment(*id));
      print(g, {{"removed", *id}}, "removed client " + *id + " (its tokens are revoked)\n");
      return 0;
    };
  });
}

}  // namespace sigil::cli
