// sigilctl cert import|issue|show — certificates for token keys.
#include "cli/client.hpp"
#include "sigil/common/error.hpp"

namespace sigil::cli {

void register_cert(CLI::App& app, GlobalOptions& g, Action& action) {
  auto* cert = app.add_subcommand("cert", "Certificates of token keys")->require_subcommand(1);

  auto label = std::make_shared<std::string>();
  auto file = std::make_shared<std::string>();
  auto chain = std::make_shared<std::string>();
  auto* imp = cert->add_subcommand("import", "Import a certificate (and chain) for a key; refuses a mismatch");
  imp->add_option("label", *label, "Key label")->required();
  imp->add_option("certificate", *file, "Certificate file, PEM or DER ('-' = stdin)")->required();
  imp->add_option("--chain", *chain, "PEM file with the intermediate (and root) certificates");
  imp->callback([&g, &action, label, file, chain] {
    action = [&g, label, file, chain] {
      nlohmann::json body = {{"certificate_pem", read_input(*file)}};
      if (!chain->empty()) body["chain_pem"] = read_input(*chain);
      const auto r = make_client(g)->call("PUT", "/keys/" + path_segment(*label) + "/certificate", body);
      print(g, r.body, "imported certificate for '" + *label + "'\n" + describe(r.body, {"label", "subject", "not_after"}));
      return 0;
    };
  });

  auto ilabel = std::make_shared<std::string>();
  auto subject = std::make_shared<std::string>();
  auto days = std::make_shared<int>(365);
  auto profile = std::make_shared<std::string>("signer");
  auto* issue = cert->add_subcommand("issue", "Have the demo issuing CA (in the token) certify a key (development)");
  issue->add_option("label", *ilabel, "Key label")->required();
  issue->add_option("-s,--subject", *subject, "Subject DN")->required();
  issue->add_option("--days", *days, "Validity in days")->capture_default_str();
  issue->add_option("--profile", *profile, "signer | tsa | ocsp | tls_client")->capture_default_str();
  issue->callback([&g, &action, ilabel, subject, days, profile] {
    action = [&g, ilabel, subject, days, profile] {
      const auto r = make_client(g)->call("POST", "/keys/" + path_segment(*ilabel) + "/certificate/issue",
                                          {{"subject", *subject}, {"days", *days}, {"profile", *profile}});
      print(g, r.body, "issued certificate for '" + *ilabel + "'\n" + describe(r.body, {"label", "subject", "not_after"}));
      return 0;
    };
  });

  auto slabel = std::make_shared<std::string>();
  auto* show = cert->add_subcommand("show", "Print the certificate and chain of a key (PEM)");
  show->add_option("label", *slabel, "Key label")->required();
  show->callback([&g, &action, slabel] {
    action = [&g, slabel] {
      const auto r = make_client(g)->call("GET", "/keys/" + path_segment(*slabel));
      if (!r.body.contains("certificate_pem") || r.body["certificate_pem"].is_null()) {
        throw Error(Errc::not_found, "key '" + *slabel + "' has no certificate yet", true);
      }
      std::string pem = r.body["certificate_pem"].get<std::string>();
      if (r.body.contains("chain_pem") && r.body["chain_pem"].is_string()) pem += r.body["chain_pem"].get<std::string>();
      print(g, r.body, pem);
      return 0;
    };
  });
}

}  // namespace sigil::cli
