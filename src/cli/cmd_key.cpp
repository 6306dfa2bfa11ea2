// sigilctl key generate|list|show|delete — keys live in the token; only public parts come out.
#include "cli/client.hpp"

namespace sigil::cli {
namespace {

const std::vector<std::string> kKeyFields = {"label", "type", "id", "sensitive", "extractable", "local",
                                             "never_extractable", "subject", "not_after"};

}  // namespace

void register_key(CLI::App& app, GlobalOptions& g, Action& action) {
  auto* key = app.add_subcommand("key", "Generate, list, show and delete token keys")->require_subcommand(1);

  auto label = std::make_shared<std::string>();
  auto type = std::make_shared<std::string>("ec-p256");
  auto* gen = key->add_subcommand("generate", "Generate a non-extractable key pair in the token");
  gen->add_option("label", *label, "Key label (unique in the token)")->required();
  gen->add_option("-t,--type", *type, "rsa-2048 | rsa-3072 | rsa-4096 | ec-p256 | ec-p384 | ec-p521")
      ->capture_default_str();
  gen->callback([&g, &action, label, type] {
    action = [&g, label, type] {
      const auto r = make_client(g)->call("POST", "/keys", {{"label", *label}, {"type", *type}});
      print(g, r.body, "generated " + *type + " key '" + *label + "' in the token\n" + describe(r.body, kKeyFields));
      return 0;
    };
  });

  auto* list = key->add_subcommand("list", "List the token's keys");
  list->callback([&g, &action] {
    action = [&g] {
      const auto r = make_client(g)->call("GET", "/keys");
      print(g, r.body, table(r.body.at("keys"), {"label", "type", "extractable", "subject", "not_after"}));
      return 0;
    };
  });

  auto show_label = std::make_shared<std::string>();
  auto* show = key->add_subcommand("show", "Show one key and its certificate");
  show->add_option("label", *show_label, "Key label")->required();
  show->callback([&g, &action, show_label] {
    action = [&g, show_label] {
      const auto r = make_client(g)->call("GET", "/keys/" + path_segment(*show_label));
      auto fields = kKeyFields;
      fields.push_back("certificate_pem");
      print(g, r.body, describe(r.body, fields));
      return 0;
    };
  });

  auto del_label = std::make_shared<std::string>();
  auto* del = key->add_subcommand("delete", "Destroy a key in the token (refused while a credential uses it)");
  del->add_option("label", *del_label, "Key label")->required();
  del->callback([&g, &action, del_label] {
    action = [&g, del_label] {
      make_client(g)->call("DELETE", "/keys/" + path_segment(*del_label));
      print(g, {{"deleted", *del_label}}, "deleted key '" + *del_label + "'\n");
      return 0;
    };
  });
}

}  // namespace sigil::cli
