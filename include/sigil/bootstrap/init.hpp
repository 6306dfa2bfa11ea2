// First-run initialisation of a local instance (`sigilctl init`, run by `make run`):
// a SoftHSM2 token with random PINs, a demo PKI whose CA, TSA and OCSP keys live in the token,
// a TLS server certificate for localhost, the database with an admin user, and sigil.toml.
// Every step checks whether its result exists first: a second run changes nothing and says so.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "sigil/common/clock.hpp"

namespace sigil::bootstrap {

struct InitOptions {
  std::filesystem::path dir = "var";                                    // instance directory
  std::filesystem::path example_config = "config/sigil.example.toml";  // template of sigil.toml
  std::filesystem::path module = "/usr/lib/softhsm/libsofthsm2.so";
  std::string token_label = "sigil";
  std::string admin_username = "admin";
  // The store: the SQLite file <dir>/sigil.db unless one of these names a PostgreSQL conninfo
  // (an environment variable, or a file); sigil.toml then points at the same secret.
  std::string postgres_conninfo_env;
  std::filesystem::path postgres_conninfo_file;
};

struct InitReport {
  std::vector<std::string> created;          // what this run made
  std::vector<std::string> kept;             // what existed already
  std::optional<std::string> admin_password;  // set only when the admin was created now: print once
  std::filesystem::path config_path;
  std::string demo_credential_id;              // the demo signer's unattended credential
  std::string demo_person_credential_id;       // alice's SCAL2 PIN+OTP credential (CSC demo)
  bool changed() const { return !created.empty(); }
};

InitReport initialise(const InitOptions& options, const Clock& clock);

// Sets `key = value_literal` in `[section]` of a TOML template, replacing the active or
// commented-out line of that key (section "" = top level). Throws Error(config_invalid) when
// the key is not in the template, so a template change cannot silently drop a setting.
std::string set_template_key(const std::string& text, const std::string& section, const std::string& key,
                             const std::string& value_literal);

}  // namespace sigil::bootstrap
