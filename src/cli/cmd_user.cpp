// sigilctl user add|list|show|disable|enable|unlock|passwd, and the second factor:
// user otp enrol|remove, user second-factor, user unlock-2fa.
#include <unistd.h>

#include "cli/client.hpp"
#include "sigil/common/encoding.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/files.hpp"
#include "sigil/common/secure.hpp"

namespace sigil::cli {
namespace {

const std::vector<std::string> kFields = {"id",     "username", "display_name", "email",         "mobile",
                                          "status", "roles",    "has_password", "failed_logins", "locked_until"};

// A password from a file, SIGIL_NEW_PASSWORD, or (interactive) the terminal without echo.
std::string new_password(const std::string& file) {
  if (!file.empty()) {
    std::string s = read_input(file);
    files::trim_line_end(s);
    return s;
  }
  if (const char* v = std::getenv("SIGIL_NEW_PASSWORD")) return v;
  if (::isatty(STDIN_FILENO) == 0) {
    throw Error(Errc::invalid_argument, "no password: use --password-file or SIGIL_NEW_PASSWORD", true);
  }
  const char* p = ::getpass("New password: ");
  std::string s = p != nullptr ? p : "";
  if (p != nullptr) secure_wipe(const_cast<char*>(p), s.size());
  return s;
}

void register_simple(CLI::App* parent, GlobalOptions& g, Action& action, const std::string& verb, const std::string& help) {
  auto name = std::make_shared<std::string>();
  auto* cmd = parent->add_subcommand(verb, help);
  cmd->add_option("username", *name, "User name")->required();
  cmd->callback([&g, &action, name, verb] {
    action = [&g, name, verb] {
      const auto r = make_client(g)->call("POST", "/users/" + path_segment(*name) + "/" + verb, nlohmann::json::object());
      print(g, r.body, verb + "d user '" + *name + "'\n");
      return 0;
    };
  });
}

}  // namespace

void register_user(CLI::App& app, GlobalOptions& g, Action& action) {
  auto* user = app.add_subcommand("user", "Users: people, service users, administrators, auditors")->require_subcommand(1);

  struct Add {
    std::string username, display_name, email, mobile, password_file;
    std::vector<std::string> roles;
    bool no_password = false;
  };
  auto a = std::make_shared<Add>();
  auto* add = user->add_subcommand("add", "Add a user (a random password is printed once unless given)");
  add->add_option("username", a->username, "User name ([a-z0-9._@-], 1-64)")->required();
  add->add_option("--name", a->display_name, "Display name");
  add->add_option("--email", a->email, "E-mail address");
  add->add_option("--mobile", a->mobile, "Mobile number (E.164)");
  add->add_option("--role", a->roles, "admin | auditor | signer | service (repeatable)")->required();
  add->add_option("--password-file", a->password_file, "Initial password from this file ('-' = stdin)");
  add->callback([&g, &action, a] {
    action = [&g, a] {
      nlohmann::json body = {{"username", a->username}, {"roles", a->roles}};
      if (!a->display_name.empty()) body["display_name"] = a->display_name;
      if (!a->email.empty()) body["email"] = a->email;
      if (!a->mobile.empty()) body["mobile"] = a->mobile;
      if (!a->password_file.empty()) body["password"] = new_password(a->password_file);
      const auto r = make_client(g)->call("POST", "/users", body);
      std::string human = "added user '" + a->username + "'\n" + describe(r.body, kFields);
      if (r.body.contains("password")) {
        human += "password (shown once, store it now): " + r.body["password"].get<std::string>() + "\n";
      }
      print(g, r.body, human);
      return 0;
    };
  });

  auto role = std::make_shared<std::string>();
  auto status = std::make_shared<std::string>();
  auto* list = user->add_subcommand("list", "List users");
  list->add_option("--role", *role, "Only users with this role");
  list->add_option("--status", *status, "active | disabled");
  list->callback([&g, &action, role, status] {
    action = [&g, role, status] {
      std::string q;
      if (!role->empty()) q += "role=" + path_segment(*role);
      if (!status->empty()) q += (q.empty() ? "" : "&") + std::string("status=") + path_segment(*status);
      const auto r = make_client(g)->call("GET", "/users" + (q.empty() ? "" : "?" + q));
      print(g, r.body, table(r.body.at("users"), {"username", "display_name", "roles", "status", "locked_until"}));
      return 0;
    };
  });

  auto sname = std::make_shared<std::string>();
  auto* show = user->add_subcommand("show", "Show a user");
  show->add_option("username", *sname, "User name")->required();
  show->callback([&g, &action, sname] {
    action = [&g, sname] {
      const auto r = make_client(g)->call("GET", "/users/" + path_segment(*sname));
      print(g, r.body, describe(r.body, kFields));
      return 0;
    };
  });

  register_simple(user, g, action, "disable", "Disable a user (no login, no signing)");
  register_simple(user, g, action, "enable", "Enable a disabled user");
  register_simple(user, g, action, "unlock", "Clear a login lockout");

  // The second factor. The enrolment URI holds the seed: shown once, optionally written as a QR PNG.
  auto* otp = user->add_subcommand("otp", "OTP enrolment of a signer (TOTP/HOTP authenticator apps)")->require_subcommand(1);
  struct Enrol {
    std::string username, kind = "totp", qr_file;
  };
  auto e = std::make_shared<Enrol>();
  auto* enrol = otp->add_subcommand("enrol", "Enrol a user: prints the otpauth:// URI once (and writes the QR code)");
  enrol->add_option("username", e->username, "User name")->required();
  enrol->add_option("--kind", e->kind, "totp | hotp")->capture_default_str()->check(CLI::IsMember({"totp", "hotp"}));
  enrol->add_option("--qr", e->qr_file, "Write the QR code PNG to this file (mode 0600)");
  enrol->callback([&g, &action, e] {
    action = [&g, e] {
      auto r = make_client(g)->call("POST", "/users/" + path_segment(e->username) + "/otp", {{"kind", e->kind}});
      std::string human = "enrolled '" + e->username + "' (" + e->kind +
                          "); give this to their authenticator app (shown once):\n" + r.body.value("uri", "") + "\n";
      if (!e->qr_file.empty() && r.body.contains("qr_png")) {
        Bytes png = base64_decode(r.body["qr_png"].get<std::string>());
        files::write_atomic(e->qr_file, std::string(png.begin(), png.end()), 0600);
        human += "QR code written to " + e->qr_file + "\n";
      }
      print(g, r.body, human);
      auto& uri = r.body["uri"].get_ref<std::string&>();
      secure_wipe(uri.data(), uri.size());
      return 0;
    };
  });
  auto rm = std::make_shared<Enrol>();
  auto* remove = otp->add_subcommand("remove", "Remove a user's OTP enrolment");
  remove->add_option("username", rm->username, "User name")->required();
  remove->add_option("--kind", rm->kind, "totp | hotp")->capture_default_str()->check(CLI::IsMember({"totp", "hotp"}));
  remove->callback([&g, &action, rm] {
    action = [&g, rm] {
      make_client(g)->call("DELETE", "/users/" + path_segment(rm->username) + "/otp/" + rm->kind);
      print(g, {{"removed", rm->kind}, {"user", rm->username}}, "removed the " + rm->kind + " enrolment of '" + rm->username + "'\n");
      return 0;
    };
  });

  auto sfname = std::make_shared<std::string>();
  auto* sf = user->add_subcommand("second-factor", "Show a user's OTP enrolments and second-factor lock");
  sf->add_option("username", *sfname, "User name")->required();
  sf->callback([&g, &action, sfname] {
    action = [&g, sfname] {
      const auto r = make_client(g)->call("GET", "/users/" + path_segment(*sfname) + "/second-factor");
      print(g, r.body, describe(r.body, {"user", "enrolled", "locked_until"}));
      return 0;
    };
  });

  auto uname = std::make_shared<std::string>();
  auto* unlock2 = user->add_subcommand("unlock-2fa", "Lift a second-factor lock (too many wrong PINs/OTPs)");
  unlock2->add_option("username", *uname, "User name")->required();
  unlock2->callback([&g, &action, uname] {
    action = [&g, uname] {
      const auto r = make_client(g)->call("POST", "/users/" + path_segment(*uname) + "/second-factor/unlock",
                                          nlohmann::json::object());
      print(g, r.body, "lifted the second-factor lock of '" + *uname + "'\n");
      return 0;
    };
  });

  auto pname = std::make_shared<std::string>();
  auto pfile = std::make_shared<std::string>();
  auto* passwd = user->add_subcommand("passwd", "Set a user's password");
  passwd->add_option("username", *pname, "User name")->required();
  passwd->add_option("--password-file", *pfile, "Read the new password from this file ('-' = stdin)");
  passwd->callback([&g, &action, pname, pfile] {
    action = [&g, pname, pfile] {
      std::string pw = new_password(*pfile);
      nlohmann::json body = {{"password", pw}};
      secure_wipe(pw.data(), pw.size());
      make_client(g)->call("PUT", "/users/" + path_segment(*pname) + "/password", body);
      print(g, {{"password_changed", *pname}}, "password changed for '" + *pname + "'\n");
      return 0;
    };
  });
}

}  // namespace sigil::cli
