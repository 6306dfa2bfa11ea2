#include "sigil/bootstrap/demo.hpp"

#include <cstdio>

#include "sigil/admin/service.hpp"
#include "sigil/auth/authorization.hpp"
#include "sigil/common/secure.hpp"
#include "sigil/otp/otp.hpp"
#include "sigil/common/files.hpp"
#include "sigil/hsm/token.hpp"
#include "sigil/store/store.hpp"

namespace sigil::bootstrap {
namespace fs = std::filesystem;

std::string sample_pdf() {
  const std::string text =
      "BT /F1 24 Tf 72 720 Td (Hello from Sigil) Tj ET\n"
      "BT /F1 12 Tf 72 690 Td (A sample document, signed with a key that never left the token.) Tj ET\n";
  const std::string objects[] = {
      "<< /Type /Catalog /Pages 2 0 R >>",
      "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
      "/Resources << /Font << /F1 5 0 R >> >> >>",
      "<< /Length " + std::to_string(text.size()) + " >>\nstream\n" + text + "endstream",
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
  };
  std::string pdf = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";
  std::vector<std::size_t> offsets;
  for (std::size_t i = 0; i < std::size(objects); ++i) {
    offsets.push_back(pdf.size());
    pdf += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  const std::size_t xref = pdf.size();
  pdf += "xref\n0 " + std::to_string(offsets.size() + 1) + "\n0000000000 65535 f \n";
  char line[32];
  for (const auto o : offsets) {
    std::snprintf(line, sizeof line, "%010zu 00000 n \n", o);
    pdf += line;
  }
  pdf += "trailer\n<< /Size " + std::to_string(offsets.size() + 1) + " /Root 1 0 R >>\nstartxref\n" +
         std::to_string(xref) + "\n%%EOF\n";
  return pdf;
}

namespace {

// The token key `label` (EC P-256) with a certificate for `subject` from the demo issuing CA.
void ensure_certified_key(admin::AdminService& svc, store::Store& store, hsm::Token& token, const char* label,
                          const std::string& subject, const fs::path& dir,
                          const std::function<void(const std::string&)>& created) {
  if (!token.find_key(label)) {
    svc.generate_key(label, KeySpec::parse("ec-p256"));
    created("key '" + std::string(label) + "' (ec-p256) in the token");
  }
  if (const auto row = store.keys().get(label); !row || !row->certificate_pem) {
    svc.issue_with_demo_ca(label, admin::CertificateIssue{subject, 825, "signer"}, (dir / "pki").string());
    created("certificate of key '" + std::string(label) + "' from the demo issuing CA");
  }
}

// The id of `username`'s credential on key `label`, or "" when there is none.
std::string credential_on(admin::AdminService& svc, const char* username, const char* label) {
  for (const auto& c : svc.list_credentials(std::string(username))) {
    if (c.key_label == label) return c.id;
  }
  return {};
}

}  // namespace

DemoSigner ensure_demo_signer(store::Store& store, hsm::Token& token, const Clock& clock, const fs::path& dir,
                              const std::function<void(const std::string&)>& created) {
  DemoSigner out;
  out.api_key_file = dir / "secrets" / "demo-signer.apikey";
  out.sample_pdf = dir / "demo" / "sample.pdf";
  admin::AdminService svc(store, token, clock);

  auto user = store.users().get_by_username(kDemoSignerUser);
  if (!user) {
    store::NewUser u;
    u.username = kDemoSignerUser;
    u.profile.display_name = "Demo back-office signer";
    store.users().create(u, {store::Role::service});
    user = store.users().get_by_username(kDemoSignerUser);
    created("user '" + std::string(kDemoSignerUser) + "' (role service)");
  }
  if (!fs::exists(out.api_key_file)) {
    const auto key = store.api_keys().create(user->id, "demo");
    files::write_atomic(out.api_key_file, std::string(key.key.view()) + "\n", 0600);
    created("API key of '" + std::string(kDemoSignerUser) + "' in " + out.api_key_file.string());
  }
  ensure_certified_key(svc, store, token, kDemoSignerKey, "CN=Demo Signer,O=Sigil Demo,C=EU", dir, created);
  out.credential_id = credential_on(svc, kDemoSignerUser, kDemoSignerKey);
  if (out.credential_id.empty()) {
    admin::NewCredential n;
    n.owner_username = kDemoSignerUser;
    n.key_label = kDemoSignerKey;
    n.description = "Demo unattended signing credential";
    n.unattended = true;
    n.second_factor = admin::SecondFactor::none;
    out.credential_id = svc.create_credential(n).id;
    created("unattended credential " + out.credential_id + " on key '" + kDemoSignerKey + "'");
  }
  if (!fs::exists(out.sample_pdf)) {
    files::ensure_dir(out.sample_pdf.parent_path(), 0700);
    files::write_atomic(out.sample_pdf, sample_pdf(), 0644);
    created("sample document " + out.sample_pdf.string());
  }
  return out;
}

DemoPerson ensure_demo_person(store::Store& store, hsm::Token& token, const Clock& clock, const fs::path& dir,
                              const std::function<void(const std::string&)>& created) {
  DemoPerson out;
  out.password_file = dir / "secrets" / "alice.password";
  out.pin_file = dir / "secrets" / "alice.pin";
  admin::AdminService svc(store, token, clock);

  auto user = store.users().get_by_username(kDemoPersonUser);
  if (!user) {
    std::string password = random_token(15);
    store::NewUser u;
    u.username = kDemoPersonUser;
    u.profile.display_name = "Alice Demo";
    u.profile.email = "alice@example.invalid";
    store.users().create(u, {store::Role::signer}, password);
    files::write_atomic(out.password_file, password + "\n", 0600);
    secure_wipe(password.data(), password.size());
    user = store.users().get_by_username(kDemoPersonUser);
    created("user '" + std::string(kDemoPersonUser) + "' (role signer), password in " + out.password_file.string());
  }
  ensure_certified_key(svc, store, token, kDemoPersonKey, "CN=Alice Demo,O=Sigil Demo,C=EU", dir, created);
  out.credential_id = credential_on(svc, kDemoPersonUser, kDemoPersonKey);
  if (out.credential_id.empty()) {
    admin::NewCredential n;
    n.owner_username = kDemoPersonUser;
    n.key_label = kDemoPersonKey;
    n.description = "Alice's signing credential (PIN + one-time code)";
    n.scal = 2;
    n.second_factor = admin::SecondFactor::pin_otp;
    out.credential_id = svc.create_credential(n).id;
    created("credential " + out.credential_id + " (SCAL2, PIN + OTP) on key '" + kDemoPersonKey + "'");
  }
  if (!fs::exists(out.pin_file)) {
    otp::ProviderRegistry none;
    auth::NoAuthEvents quiet;
    auth::AuthorizationService authorization(store, clock, none, quiet);
    SecretString pin = otp::random_code(6);
    authorization.set_pin(out.credential_id, pin.view());
    files::write_atomic(out.pin_file, std::string(pin.view()) + "\n", 0600);
    created("PIN of credential " + out.credential_id + " in " + out.pin_file.string());
  }
  return out;
}

}  // namespace sigil::bootstrap
