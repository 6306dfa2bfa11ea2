// sigilctl doctor — checks the PKCS#11 setup step by step and explains each failure in plain
// words (misconfiguration of the module, token or PIN is the most common support problem).
#include <cstdlib>
#include <filesystem>

#include "cli/client.hpp"
#include "ossl/digest.hpp"
#include "sigil/common/error.hpp"
#include "sigil/bootstrap/runtime.hpp"
#include "sigil/config/config.hpp"
#include "sigil/hsm/token.hpp"

namespace sigil::cli {
namespace {

struct Doctor {
  nlohmann::json checks = nlohmann::json::array();
  std::string human;
  int exit_code = 0;

  void ok(const std::string& name, const std::string& detail) { add("ok", name, detail, ""); }
  void fail(const std::string& name, const std::string& detail, const std::string& advice, int code) {
    add("FAIL", name, detail, advice);
    if (exit_code == 0) exit_code = code;
  }
  void warn(const std::string& name, const std::string& detail, const std::string& advice) {
    add("warn", name, detail, advice);
  }
  void add(const std::string& status, const std::string& name, const std::string& detail, const std::string& advice) {
    checks.push_back({{"check", name}, {"status", status}, {"detail", detail}, {"advice", advice}});
    human += "[" + status + "] " + name + ": " + detail + "\n";
    if (!advice.empty()) human += "       -> " + advice + "\n";
  }
};

std::string advice_for(const Error& e) {
  switch (e.code()) {
    case Errc::hsm_module_load:
      return "hsm.module must be the path of a PKCS#11 library (.so) readable by sigild; for SoftHSM2 "
             "install the softhsm2 package and use /usr/lib/softhsm/libsofthsm2.so";
    case Errc::hsm_token_not_found:
      return "hsm.token_label (or token_serial) must name an initialised token; see the tokens listed above, "
             "or create one with `sigilctl token init`";
    case Errc::hsm_pin_incorrect:
      return "the user PIN in hsm.user_pin is wrong; sigild tries it once per start, but repeated wrong PINs "
             "lock the token on most HSMs: fix the file or variable before retrying";
    case Errc::hsm_pin_locked:
      return "the user PIN is locked; the security officer must reset it (C_InitPIN) with the SO PIN";
    case Errc::config_secret_missing:
      return "hsm.user_pin names a file or environment variable that is missing or empty";
    default:
      return "see the detail; `sigilctl token list` shows what the module reports";
  }
}

}  // namespace

void register_doctor(CLI::App& app, GlobalOptions& g, Action& action) {
  auto key = std::make_shared<std::string>();
  auto* doctor = app.add_subcommand("doctor", "Diagnose the PKCS#11 setup: module, slots, token, PIN, mechanisms, keys, a test signature");
  doctor->add_option("--key", *key, "Test-sign with this key (default: the first key found)");
  doctor->callback([&g, &action, key] {
    action = [&g, key] {
      Doctor d;
      config::Config c;
      try {
        c = config::load(g.config);
        d.ok("config", g.config + " loads");
      } catch (const Error& e) {
        d.fail("config", e.detail(), "fix the configuration file (every key is documented in config/sigil.example.toml)",
               e.info().exit_code);
        print(g, {{"checks", d.checks}, {"ok", false}}, d.human);
        return d.exit_code;
      }
      if (!c.hsm.softhsm_conf.empty()) {
        bootstrap::export_softhsm_conf(c.hsm);
        if (std::filesystem::exists(c.hsm.softhsm_conf)) {
          d.ok("softhsm_conf", c.hsm.softhsm_conf.string());
        } else {
          d.fail("softhsm_conf", c.hsm.softhsm_conf.string() + " does not exist",
                 "hsm.softhsm_conf must name the SoftHSM2 configuration with directories.tokendir", 21);
        }
      }
      try {
        const auto slots = hsm::list_slots(c.hsm.module);
        d.ok("module", c.hsm.module.string() + " loaded, " + std::to_string(slots.size()) + " slot(s)");
        for (const auto& s : slots) {
          d.ok("slot " + std::to_string(s.id), s.token_present ? "token '" + s.token_label + "' serial " + s.token_serial +
                                                                     (s.token_initialized ? "" : " (not initialised)")
                                                               : "no token");
        }
      } catch (const Error& e) {
        d.fail("module", e.detail(), advice_for(e), e.info().exit_code);
        print(g, {{"checks", d.checks}, {"ok", false}}, d.human);
        return d.exit_code;
      }
      std::unique_ptr<hsm::Token> token;
      try {
        token = bootstrap::open_token(c.hsm, 1);
        d.ok("login", "token '" + token->label() + "' opened and logged in");
      } catch (const Error& e) {
        d.fail("login", e.detail(), advice_for(e), e.info().exit_code);
        print(g, {{"checks", d.checks}, {"ok", false}}, d.human);
        return d.exit_code;
      }
      std::vector<std::string> missing;
      const auto mechs = token->mechanisms();
      for (const char* needed : {"CKM_RSA_PKCS", "CKM_RSA_PKCS_PSS", "CKM_ECDSA", "CKM_RSA_PKCS_KEY_PAIR_GEN",
                                 "CKM_EC_KEY_PAIR_GEN"}) {
        bool found = false;
        for (const auto& mi : mechs) found |= mi.name == needed;
        if (!found) missing.emplace_back(needed);
      }
      if (missing.empty()) {
        d.ok("mechanisms", std::to_string(mechs.size()) + " reported; RSA PKCS#1, PSS, ECDSA and key generation present");
      } else {
        std::string m;
        for (const auto& s : missing) m += (m.empty() ? "" : ", ") + s;
        d.warn("mechanisms", "missing " + m, "signatures needing these mechanisms will be refused by this token");
      }
      const auto keys = token->list_keys();
      d.ok("keys", std::to_string(keys.size()) + " private key(s)");
      for (const auto& k : keys) {
        if (k.extractable || !k.sensitive) {
          d.warn("key " + k.label, "extractable or not sensitive",
                 "signing keys should be generated in the token as sensitive and non-extractable");
        }
      }
      std::string label = *key;
      if (label.empty() && !keys.empty()) label = keys.front().label;
      if (label.empty()) {
        d.warn("test signature", "no key to test with", "generate one: sigilctl key generate LABEL --local");
      } else {
        try {
          const auto info = token->find_key(label);
          if (!info) throw Error(Errc::hsm_key_not_found, "no key labelled '" + label + "'", true);
          const auto scheme = info->spec.type == KeyType::ec ? SignatureScheme::ecdsa : SignatureScheme::rsa_pss;
          const Bytes digest = ossl::digest(HashAlg::sha256, random_bytes(32));
          const Bytes sig = token->sign(label, scheme, HashAlg::sha256, digest);
          if (ossl::verify_digest(token->public_key_der(label), scheme, HashAlg::sha256, digest, sig)) {
            d.ok("test signature", std::string(scheme_name(scheme)) + " with '" + label + "' verified by OpenSSL");
          } else {
            d.fail("test signature", "signature with '" + label + "' does not verify",
                   "the token returned a bad signature: check the module version and its mechanism support", 48);
          }
        } catch (const Error& e) {
          d.fail("test signature", e.detail(), advice_for(e), e.info().exit_code);
        }
      }
      print(g, {{"checks", d.checks}, {"ok", d.exit_code == 0}}, d.human + (d.exit_code == 0 ? "all checks passed\n" : ""));
      return d.exit_code;
    };
  });
}

}  // namespace sigil::cli
