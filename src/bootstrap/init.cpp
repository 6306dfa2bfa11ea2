#include "sigil/bootstrap/init.hpp"

#include <cstdlib>
#include <sstream>

#include "ossl/software_key.hpp"
#include "ossl/x509.hpp"
#include "sigil/admin/service.hpp"
#include "sigil/bootstrap/demo.hpp"
#include "sigil/audit/audit_log.hpp"
#include "sigil/audit/events.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/files.hpp"
#include "sigil/common/secure.hpp"
#include "sigil/config/config.hpp"
#include "sigil/hsm/token.hpp"
#include "sigil/otp/secret_box.hpp"
#include "sigil/store/store.hpp"

namespace sigil::bootstrap {
namespace fs = std::filesystem;
namespace {

using std::chrono::hours;
constexpr auto kDay = hours(24);

struct Pki {
  const char* label;      // token key label
  const char* file;       // PEM file under pki/
  const char* subject;
  ossl::CertProfile profile;
  const char* key_spec;
  int days;
  const char* issuer;     // file of the issuing certificate, nullptr = self-signed
  const char* issuer_label;
};

// The demo PKI: a root, an issuing CA, and the TSA and OCSP responder certificates sigild serves
// with, and the audit log's checkpoint key. All keys are generated inside the token.
constexpr Pki kPki[] = {
    {"demo-root-ca", "root-ca.pem", "CN=Sigil Demo Root CA,O=Sigil Demo,C=EU", ossl::CertProfile::root_ca, "ec-p384",
     3650, nullptr, nullptr},
    {"demo-issuing-ca", "issuing-ca.pem", "CN=Sigil Demo Issuing CA 2026,O=Sigil Demo,C=EU", ossl::CertProfile::issuing_ca,
     "ec-p384", 1825, "root-ca.pem", "demo-root-ca"},
    {"demo-tsa", "tsa.pem", "CN=Sigil Demo TSA,O=Sigil Demo,C=EU", ossl::CertProfile::tsa, "ec-p256", 825,
     "issuing-ca.pem", "demo-issuing-ca"},
    {"demo-ocsp", "ocsp.pem", "CN=Sigil Demo OCSP Responder,O=Sigil Demo,C=EU", ossl::CertProfile::ocsp, "ec-p256",
     825, "issuing-ca.pem", "demo-issuing-ca"},
    // The audit trail's checkpoint key (config audit.key_label): its certificate is what an
    // auditor needs to verify an export offline (`sigilctl audit verify --file --cert pki/audit.pem`).
    {"audit-key", "audit.pem", "CN=Sigil Demo Audit Log,O=Sigil Demo,C=EU", ossl::CertProfile::signer, "ec-p256", 1825,
     "issuing-ca.pem", "demo-issuing-ca"},
};

class Step {
 public:
  explicit Step(InitReport& r) : report_(r) {}
  void created(const std::string& what) { report_.created.push_back(what); }
  void kept(const std::string& what) { report_.kept.push_back(what); }

 private:
  InitReport& report_;
};

SecretString ensure_pin(const fs::path& file, Step& step) {
  if (fs::exists(file)) {
    step.kept(file.string());
    return config::SecretRef{file, {}}.resolve();
  }
  std::string pin = random_token(18);
  files::write_atomic(file, pin + "\n", 0600);
  step.created(file.string() + " (random PIN, mode 0600)");
  return SecretString(std::move(pin));
}

void ensure_softhsm_conf(const fs::path& dir, Step& step) {
  const fs::path conf = dir / "softhsm2.conf";
  if (fs::exists(conf)) {
    step.kept(conf.string());
  } else {
    files::ensure_dir(dir / "tokens", 0700);
    files::write_atomic(conf,
                        "# SoftHSM2 configuration of this Sigil instance (written by sigilctl init)\n"
                        "directories.tokendir = " + fs::absolute(dir / "tokens").lexically_normal().string() +
                            "\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n",
                        0600);
    step.created(conf.string());
  }
  // SoftHSM2 reads its config at C_Initialize: export before the module is loaded.
  ::setenv("SOFTHSM2_CONF", fs::absolute(conf).c_str(), 1);
}

bool token_exists(const InitOptions& o) {
  for (const auto& s : hsm::list_slots(o.module)) {
    if (s.token_initialized && s.token_label == o.token_label) return true;
  }
  return false;
}

void ensure_pki(hsm::Token& token, const fs::path& pki_dir, const Clock& clock, Step& step) {
  files::ensure_dir(pki_dir, 0755);
  for (const auto& p : kPki) {
    const fs::path file = pki_dir / p.file;
    if (fs::exists(file)) {
      step.kept(file.string());
      continue;
    }
    if (!token.find_key(p.label)) token.generate_key(KeySpec::parse(p.key_spec), p.label);
    ossl::CertTemplate t;
    t.subject = p.subject;
    t.public_key_der = token.public_key_der(p.label);
    t.profile = p.profile;
    t.not_before = clock.now() - hours(1);
    t.not_after = clock.now() + p.days * kDay;
    Bytes issuer_der;
    auto issuer_key = token.signer(p.issuer_label != nullptr ? p.issuer_label : p.label);
    if (p.issuer != nullptr) issuer_der = ossl::read_certificate(files::read(pki_dir / p.issuer));
    const Bytes der = ossl::issue_certificate(t, issuer_der, *issuer_key);
    files::write_atomic(file, ossl::der_to_pem(der), 0644);
    step.created(file.string() + " (key '" + p.label + "' in the token)");
  }
}

void ensure_tls(hsm::Token& token, const fs::path& dir, const Clock& clock, Step& step) {
  const fs::path tls = dir / "tls";
  const fs::path crt = tls / "server.crt";
  const fs::path key = tls / "server.key";
  if (fs::exists(crt) && fs::exists(key)) {
    step.kept(crt.string());
    return;
  }
  files::ensure_dir(tls, 0700);
  // The TLS key is a file by design: OpenSSL's TLS stack uses it for every handshake. It
  // authenticates the server only; no document signature ever uses it.
  auto server_key = ossl::SoftwareKey::generate(KeySpec::parse("ec-p256"));
  ossl::CertTemplate t;
  t.subject = "CN=localhost,O=Sigil Demo,C=EU";
  t.public_key_der = server_key->public_key_der();
  t.profile = ossl::CertProfile::tls_server;
  t.dns_names = {"localhost"};
  t.ip_addresses = {"127.0.0.1", "::1"};
  t.not_before = clock.now() - hours(1);
  t.not_after = clock.now() + 397 * kDay;
  const Bytes issuing = ossl::read_certificate(files::read(dir / "pki" / "issuing-ca.pem"));
  auto ca = token.signer("demo-issuing-ca");
  const Bytes der = ossl::issue_certificate(t, issuing, *ca);
  std::string key_pem = server_key->private_key_pem();
  files::write_atomic(key, key_pem, 0600);
  secure_wipe(key_pem.data(), key_pem.size());
  files::write_atomic(crt, ossl::der_to_pem(der) + ossl::der_to_pem(issuing), 0644);
  step.created(crt.string() + " and " + key.string() + " (TLS for localhost, issued by the demo CA)");
}

// Records the demo certificates against their token keys in the store, so `sigilctl key list`
// and the admin API show them like any imported certificate (same checks as an import).
void ensure_key_records(hsm::Token& token, const fs::path& pki_dir, store::Store& st, const Clock& clock,
                        Step& step) {
  admin::AdminService svc(st, token, clock);
  for (const auto& p : kPki) {
    if (const auto row = st.keys().get(p.label); row && row->certificate_pem) continue;
    std::string chain;
    for (const char* issuer = p.issuer; issuer != nullptr;) {
      chain += files::read(pki_dir / issuer);
      const Pki* parent = nullptr;
      for (const auto& q : kPki) {
        if (std::string_view(q.file) == issuer) parent = &q;
      }
      issuer = parent != nullptr ? parent->issuer : nullptr;
    }
    svc.import_certificate(p.label, files::read(pki_dir / p.file), chain);
    step.created("certificate record of key '" + std::string(p.label) + "' in the store");
  }
}

constexpr const char* kDemoFont = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

// The demo signer's profile ([[profiles]] must come after every other table).
std::string demo_profile(const std::string& credential_id) {
  return std::string("\n# The demo signer's profile (sigilctl init): POST /api/v1/sign?profile=") + kDemoProfile +
         "\n[[profiles]]\nname = \"" + kDemoProfile + "\"\ncredential = \"" + credential_id +
         "\"\nformat = \"pades\"\nlevel = \"B-T\"\nreason = \"Signed with Sigil\"\nlocation = \"Demo\"\n"
         "visible = true\npage = 1\nx = 330\ny = 36\nwidth = 230\nheight = 64\ntext = \"Sigil demo signature\"\n" +
         // An embedded font keeps PDF/A documents PDF/A (Helvetica, the default, is not embedded).
         (fs::is_regular_file(kDemoFont) ? "font = \"" + std::string(kDemoFont) + "\"\n" : std::string());
}

// The development second factor: delivered codes appended to otp/outbox.log (never in production).
std::string dev_otp() {
  return "\n# Development second factor (sigilctl init): one-time codes are appended to otp/outbox.log\n"
         "# instead of being sent by SMS or e-mail. In production use a webhook or smtp channel.\n"
         "[[otp.channels]]\nname = \"dev-outbox\"\ntype = \"file\"\npath = \"otp/outbox.log\"\n\n"
         "[[otp.providers]]\nname = \"dev-code\"\nchannel = \"dev-outbox\"\n";
}

// 32 random bytes (hex) sealing OTP seeds and codes ([auth] key_file).
void ensure_auth_key(const fs::path& file, Step& step) {
  if (fs::exists(file)) {
    step.kept(file.string());
    return;
  }
  Bytes key = otp::SecretBox::generate_key();
  std::string text = hex_encode(key) + "\n";
  files::write_atomic(file, text, 0600);
  secure_wipe(key.data(), key.size());
  secure_wipe(text.data(), text.size());
  step.created("OTP secret key " + file.string());
}

bool on_postgres(const InitOptions& o) { return !o.postgres_conninfo_env.empty() || !o.postgres_conninfo_file.empty(); }

config::StoreConfig store_config(const InitOptions& o) {
  config::StoreConfig sc;
  sc.sqlite_path = o.dir / "sigil.db";
  if (!o.postgres_conninfo_env.empty() && !o.postgres_conninfo_file.empty()) {
    throw Error(Errc::invalid_argument, "give the PostgreSQL conninfo as an environment variable or a file, not both", true);
  }
  if (on_postgres(o)) {
    sc.backend = "postgres";
    sc.postgres_conninfo.env = o.postgres_conninfo_env;
    sc.postgres_conninfo.file = o.postgres_conninfo_file.empty() ? fs::path{} : fs::absolute(o.postgres_conninfo_file);
  }
  return sc;
}

// TOML basic string: the path or variable name quoted, with \ and " escaped.
std::string toml_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    out += c;
  }
  return out + "\"";
}

void ensure_config(const InitOptions& o, const DemoSigner& demo, Step& step, InitReport& report) {
  const fs::path path = o.dir / "sigil.toml";
  report.config_path = path;
  if (fs::exists(path)) {
    // An instance initialised before the demo signer existed: add its profile to the generated file.
    std::string text = files::read(path);
    if (text.rfind("# Generated by `sigilctl init`", 0) == 0 &&
        text.find(std::string("name = \"") + kDemoProfile + "\"") == std::string::npos) {
      text += demo_profile(demo.credential_id);
      config::parse(text, path.string(), fs::absolute(o.dir));
      files::write_atomic(path, text, 0600);
      step.created("profile '" + std::string(kDemoProfile) + "' in " + path.string());
    } else {
      step.kept(path.string());
    }
    return;
  }
  std::string text = files::read(o.example_config);
  text = set_template_key(text, "hsm", "module", "\"" + o.module.string() + "\"");
  text = set_template_key(text, "hsm", "token_label", "\"" + o.token_label + "\"");
  text = set_template_key(text, "hsm", "user_pin", "{ file = \"secrets/user.pin\" }");
  text = set_template_key(text, "hsm", "softhsm_conf", "\"softhsm2.conf\"");
  text = set_template_key(text, "server.tls", "cert_file", "\"tls/server.crt\"");
  text = set_template_key(text, "server.tls", "key_file", "\"tls/server.key\"");
  text = set_template_key(text, "pki", "dir", "\"pki\"");
  text = set_template_key(text, "auth", "key_file", "\"secrets/auth.key\"");
  text = set_template_key(text, "authorization", "otp_provider", "\"dev-code\"");
  if (on_postgres(o)) {
    const auto sc = store_config(o);
    text = set_template_key(text, "store", "backend", "\"postgres\"");
    text = set_template_key(text, "store", "postgres_conninfo",
                            sc.postgres_conninfo.env.empty() ? "{ file = " + toml_string(sc.postgres_conninfo.file.string()) + " }"
                                                             : "{ env = " + toml_string(sc.postgres_conninfo.env) + " }");
  }
  text = "# Generated by `sigilctl init` from " + o.example_config.string() +
         "; edit freely, every key is documented there.\n" + text + dev_otp() + demo_profile(demo.credential_id);
  config::parse(text, path.string(), fs::absolute(o.dir));  // the result must load
  files::write_atomic(path, text, 0600);
  step.created(path.string());
}

void ensure_admin(const InitOptions& o, store::Store& st, const Clock& clock, Step& step, InitReport& report) {
  const std::string db = on_postgres(o) ? std::string("the PostgreSQL store") : (o.dir / "sigil.db").string();
  if (st.users().get_by_username(o.admin_username)) {
    step.kept("user '" + o.admin_username + "' in " + db);
    return;
  }
  std::string password = random_token(15);
  store::NewUser user;
  user.username = o.admin_username;
  user.profile.display_name = "Administrator";
  st.users().create(user, {store::Role::admin}, password);
  st.settings().set_if_absent("initialised_at", to_rfc3339(clock.now()));
  report.admin_password = std::move(password);
  step.created("user '" + o.admin_username + "' (role admin) in " + db);
}

}  // namespace

std::string set_template_key(const std::string& text, const std::string& section, const std::string& key,
                             const std::string& value_literal) {
  std::istringstream in(text);
  std::string line, out, current;
  bool done = false;
  while (std::getline(in, line)) {
    std::string t = line;
    t.erase(0, t.find_first_not_of(" \t"));
    if (!t.empty() && t.front() == '[') {
      current = t.substr(1, t.find(']') - 1);
    } else if (!done && current == section) {
      std::string body = t;
      if (!body.empty() && body.front() == '#') body.erase(0, body.find_first_not_of("# \t"));
      if (body.rfind(key, 0) == 0) {
        const auto rest = body.find_first_not_of(" \t", key.size());
        if (rest != std::string::npos && body[rest] == '=') {
          line = key + " = " + value_literal + "  # set by sigilctl init";
          done = true;
        }
      }
    }
    out += line + "\n";
  }
  if (!done) {
    throw Error(Errc::config_invalid, "key '" + (section.empty() ? key : section + "." + key) +
                                          "' is not in the configuration template", true);
  }
  return out;
}

// The first audit record of an instance (and one per init run that changed something): what init
// created. The final checkpoint (close) signs it, so the chain starts anchored.
void audit_init(store::Store& st, hsm::Token& token, const Clock& clock, const InitReport& report) {
  if (!report.changed()) return;
  auto signer = token.signer("audit-key");
  audit::AuditOptions o;
  o.group_commit_wait = std::chrono::microseconds{0};
  audit::AuditLog log(st.database(), clock, signer.get(), o);
  audit::Event e = audit::system_event(audit::type::system_init);
  e.principal = "sigilctl init";
  e.details["created"] = std::to_string(report.created.size());
  e.details["admin_created"] = report.admin_password ? "true" : "false";
  log.append(std::move(e));
  log.close();
}

namespace {

// Re-running init on an existing instance must open the store its sigil.toml uses: an admin or a
// demo user written to the other backend would be invisible to sigild.
void check_same_store(const InitOptions& o) {
  const fs::path path = o.dir / "sigil.toml";
  if (!fs::exists(path)) return;
  const std::string text = files::read(path);
  std::size_t at = text.find("\n[store]");
  if (at == std::string::npos) return;
  const std::size_t end = text.find("\n[", at + 1);
  const std::string section = text.substr(at, end == std::string::npos ? std::string::npos : end - at);
  const bool configured_pg = section.find("\nbackend = \"postgres\"") != std::string::npos;
  if (configured_pg != on_postgres(o)) {
    throw Error(Errc::invalid_argument,
                path.string() + " keeps the store in " + (configured_pg ? "PostgreSQL" : "SQLite") +
                    ": run init with the same store (" +
                    (configured_pg ? "--postgres-conninfo-env or --postgres-conninfo-file" : "without a PostgreSQL conninfo") +
                    ") or use another --dir",
                true);
  }
}

}  // namespace

InitReport initialise(const InitOptions& o, const Clock& clock) {
  check_same_store(o);
  InitReport report;
  Step step(report);
  files::ensure_dir(o.dir, 0700);
  files::ensure_dir(o.dir / "secrets", 0700);
  ensure_softhsm_conf(o.dir, step);
  SecretString so_pin = ensure_pin(o.dir / "secrets" / "so.pin", step);
  SecretString user_pin = ensure_pin(o.dir / "secrets" / "user.pin", step);
  if (token_exists(o)) {
    step.kept("token '" + o.token_label + "'");
  } else {
    hsm::init_token(o.module, o.token_label, so_pin, user_pin);
    step.created("token '" + o.token_label + "' in " + (o.dir / "tokens").string());
  }
  hsm::TokenOptions to;
  to.module = o.module;
  to.label = o.token_label;
  to.user_pin = std::move(user_pin);
  to.pool_size = 2;
  auto token = hsm::Token::open(std::move(to));
  ensure_pki(*token, o.dir / "pki", clock, step);
  ensure_tls(*token, o.dir, clock, step);
  auto st = store::open_store(store_config(o), clock);
  ensure_key_records(*token, o.dir / "pki", *st, clock, step);
  ensure_admin(o, *st, clock, step, report);
  const DemoSigner demo =
      ensure_demo_signer(*st, *token, clock, o.dir, [&step](const std::string& what) { step.created(what); });
  report.demo_credential_id = demo.credential_id;
  ensure_auth_key(o.dir / "secrets" / "auth.key", step);
  files::ensure_dir(o.dir / "otp", 0700);
  report.demo_person_credential_id =
      ensure_demo_person(*st, *token, clock, o.dir, [&step](const std::string& what) { step.created(what); })
          .credential_id;
  ensure_config(o, demo, step, report);
  audit_init(*st, *token, clock, report);
  return report;
}

}  // namespace sigil::bootstrap
