// sigilctl csr create — a PKCS#10 request signed by the token key.
#include <fstream>

#include "cli/client.hpp"
#include "sigil/common/files.hpp"

namespace sigil::cli {

void register_csr(CLI::App& app, GlobalOptions& g, Action& action) {
  auto* csr = app.add_subcommand("csr", "Certificate signing requests")->require_subcommand(1);
  auto label = std::make_shared<std::string>();
  auto subject = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto* create = csr->add_subcommand("create", "Create a PKCS#10 request for a token key");
  create->add_option("label", *label, "Key label")->required();
  create->add_option("-s,--subject", *subject, "Subject DN, e.g. \"CN=Alice,O=Example,C=EU\"")->required();
  create->add_option("-o,--out", *out, "Write the PEM here instead of standard output");
  create->callback([&g, &action, label, subject, out] {
    action = [&g, label, subject, out] {
      const auto r = make_client(g)->call("POST", "/keys/" + path_segment(*label) + "/csr", {{"subject", *subject}});
      const std::string pem = r.body.at("csr_pem").get<std::string>();
      if (!out->empty()) {
        files::write_atomic(*out, pem, 0644);
        print(g, {{"written", *out}}, "wrote " + *out + "\n");
      } else {
        print(g, r.body, pem);
      }
      return 0;
    };
  });
}

}  // namespace sigil::cli
