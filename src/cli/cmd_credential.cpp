// sigilctl credential create|list|show|assign|disable|enable|pin — a key, its certificate and a policy.
#include <unistd.h>

#include "cli/client.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/files.hpp"
#include "sigil/common/secure.hpp"

namespace sigil::cli {
namespace {

const std::vector<std::string> kFields = {"id", "owner", "key_label", "description", "algorithms", "scal",
                                          "second_factor", "unattended", "status"};

// Registers `credential <verb> ID` commands that POST to /credentials/{id}/<verb>.
void register_state_change(CLI::App* parent, GlobalOptions& g, Action& action, const std::string& verb,
                           const std::string& help) {
  auto id = std::make_shared<std::string>();
  auto* cmd = parent->add_subcommand(verb, help);
  cmd->add_option("id", *id, "Credential id")->required();
  cmd->callback([&g, &action, id, verb] {
    action = [&g, id, verb] {
      const auto r = make_client(g)->call("POST", "/credentials/" + path_segment(*id) + "/" + verb, nlohmann::json::object());
      print(g, r.body, describe(r.body, kFields));
      return 0;
    };
  });
}

}  // namespace

void register_credential(CLI::App& app, GlobalOptions& g, Action& action) {
  auto* cred = app.add_subcommand("credential", "Signing credentials: key + certificate + policy")->require_subcommand(1);

  struct Create {
    std::string owner, key, description, second_factor = "otp";
    std::vector<std::string> algorithms;
    int scal = 2;
    bool unattended = false;
  };
  auto c = std::make_shared<Create>();
  auto* create = cred->add_subcommand("create", "Create a credential for a user from a certified key");
  create->add_option("--owner", c->owner, "User name of the owner")->required();
  create->add_option("--key", c->key, "Token key label (must have a certificate)")->required();
  create->add_option("--description", c->description, "Free text");
  create->add_option("--algorithm", c->algorithms, "Allowed algorithm, repeatable (e.g. ecdsa-sha256); default: all");
  create->add_option("--scal", c->scal, "Sole control assurance level: 1 or 2")->capture_default_str();
  create->add_option("--second-factor", c->second_factor, "none | pin | otp | pin_otp")->capture_default_str();
  create->add_flag("--unattended", c->unattended, "A service user may sign without a second factor");
  create->callback([&g, &action, c] {
    action = [&g, c] {
      nlohmann::json body = {{"owner", c->owner},   {"key_label", c->key},           {"description", c->description},
                             {"scal", c->scal},     {"second_factor", c->second_factor}, {"unattended", c->unattended}};
      if (!c->algorithms.empty()) body["algorithms"] = c->algorithms;
      const auto r = make_client(g)->call("POST", "/credentials", body);
      print(g, r.body, "created credential " + r.body.value("id", "") + "\n" + describe(r.body, kFields));
      return 0;
    };
  });

  auto owner = std::make_shared<std::string>();
  auto* list = cred->add_subcommand("list", "List credentials");
  list->add_option("--owner", *owner, "Only this user's");
  list->callback([&g, &action, owner] {
    action = [&g, owner] {
      const auto r = make_client(g)->call("GET", "/credentials" + (owner->empty() ? "" : "?owner=" + path_segment(*owner)));
      print(g, r.body, table(r.body.at("credentials"), {"id", "owner", "key_label", "scal", "second_factor", "status"}));
      return 0;
    };
  });

  auto sid = std::make_shared<std::string>();
  auto* show = cred->add_subcommand("show", "Show a credential");
  show->add_option("id", *sid, "Credential id")->required();
  show->callback([&g, &action, sid] {
    action = [&g, sid] {
      const auto r = make_client(g)->call("GET", "/credentials/" + path_segment(*sid));
      auto fields = kFields;
      fields.push_back("certificate_pem");
      print(g, r.body, describe(r.body, fields));
      return 0;
    };
  });

  auto aid = std::make_shared<std::string>();
  auto aowner = std::make_shared<std::string>();
  auto* assign = cred->add_subcommand("assign", "Give a credential to another user");
  assign->add_option("id", *aid, "Credential id")->required();
  assign->add_option("--owner", *aowner, "New owner's user name")->required();
  assign->callback([&g, &action, aid, aowner] {
    action = [&g, aid, aowner] {
      const auto r = make_client(g)->call("POST", "/credentials/" + path_segment(*aid) + "/assign", {{"owner", *aowner}});
      print(g, r.body, describe(r.body, kFields));
      return 0;
    };
  });

  register_state_change(cred, g, action, "disable", "Disable a credential (it can no longer sign)");
  register_state_change(cred, g, action, "enable", "Enable a disabled credential");

  // The signer's PIN (Argon2id in the store): from a file, SIGIL_NEW_PIN, or the terminal.
  auto pid = std::make_shared<std::string>();
  auto pfile = std::make_shared<std::string>();
  auto* pin = cred->add_subcommand("pin", "Set the PIN of a credential (policy pin or pin_otp)");
  pin->add_option("id", *pid, "Credential id")->required();
  pin->add_option("--pin-file", *pfile, "Read the PIN from this file ('-' = stdin)");
  pin->callback([&g, &action, pid, pfile] {
    action = [&g, pid, pfile] {
      std::string value;
      if (!pfile->empty()) {
        value = read_input(*pfile);
        files::trim_line_end(value);
      } else if (const char* v = std::getenv("SIGIL_NEW_PIN")) {
        value = v;
      } else if (::isatty(STDIN_FILENO) != 0) {
        const char* p = ::getpass("New PIN: ");
        value = p != nullptr ? p : "";
        if (p != nullptr) secure_wipe(const_cast<char*>(p), value.size());
      } else {
        throw Error(Errc::invalid_argument, "no PIN: use --pin-file or SIGIL_NEW_PIN", true);
      }
      nlohmann::json body = {{"pin", value}};
      secure_wipe(value.data(), value.size());
      make_client(g)->call("PUT", "/credentials/" + path_segment(*pid) + "/pin", body);
      auto& sent = body["pin"].get_ref<std::string&>();
      secure_wipe(sent.data(), sent.size());
      print(g, {{"pin_set", *pid}}, "PIN set for credential " + *pid + "\n");
      return 0;
    };
  });
}

}  // namespace sigil::cli
