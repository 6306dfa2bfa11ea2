// sigilctl: one file per subcommand. Each registers itself on the CLI11 app and runs a function
// over the same transport-neutral services the daemon uses.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>

namespace sigil::cli {

struct GlobalOptions {
  bool json = false;   // machine-readable output
  bool local = false;  // work on the local store and token instead of the admin API
  std::string config = "var/sigil.toml";
};

// A subcommand sets `action`; main runs it after parsing, inside the error boundary.
using Action = std::function<int()>;

void register_init(CLI::App& app, GlobalOptions& global, Action& action);

// Human or JSON output.
void print(const GlobalOptions& g, const nlohmann::json& j, const std::string& human);

}  // namespace sigil::cli
