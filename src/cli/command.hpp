// sigilctl: one file per subcommand. Each registers itself on the CLI11 app and sets the action
// main runs inside its error boundary.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace sigil::cli {

struct GlobalOptions {
  bool json = false;          // machine-readable output
  bool local = false;         // work on the local store and token instead of the admin API
  std::string config = "var/sigil.toml";
  std::string url;            // default: from the config's listen address and port
  std::string cacert;         // default: <pki dir>/root-ca.pem
  std::string user;           // HTTP Basic user; password from SIGIL_PASSWORD or --password-file
  std::string password_file;
  std::string api_key_file;   // or SIGIL_API_KEY
};

using Action = std::function<int()>;

void register_init(CLI::App& app, GlobalOptions& g, Action& action);
void register_token(CLI::App& app, GlobalOptions& g, Action& action);
void register_key(CLI::App& app, GlobalOptions& g, Action& action);
void register_csr(CLI::App& app, GlobalOptions& g, Action& action);
void register_cert(CLI::App& app, GlobalOptions& g, Action& action);
void register_credential(CLI::App& app, GlobalOptions& g, Action& action);
void register_user(CLI::App& app, GlobalOptions& g, Action& action);
void register_apikey(CLI::App& app, GlobalOptions& g, Action& action);
void register_doctor(CLI::App& app, GlobalOptions& g, Action& action);
void register_audit(CLI::App& app, GlobalOptions& g, Action& action);

// Human or JSON output.
void print(const GlobalOptions& g, const nlohmann::json& j, const std::string& human);
// "key: value" lines for the scalar members of an object (arrays joined with ", ").
std::string describe(const nlohmann::json& obj, const std::vector<std::string>& fields);
// A fixed-width table of the given fields of each object.
std::string table(const nlohmann::json& rows, const std::vector<std::string>& fields);
// Reads a whole file given on the command line ("-" = standard input).
std::string read_input(const std::string& path);

}  // namespace sigil::cli
