#include "env.hpp"

#include "ossl/software_key.hpp"
#include "ossl/x509.hpp"

#include <chrono>
#include <fstream>
#include <future>
#include <sstream>

namespace sigil::test {
namespace {

std::unique_ptr<XadesWorld> g_world;

// Built on first use, so tests that need neither the token nor the PKI (ctest runs each test in its
// own process) do not pay for them; torn down (TSA/OCSP stopped) by the environment below.
void build_world(XadesWorld& w) {
  w.pki = std::make_unique<ValidatorPki>(w.dir.path() / "pki");
  w.token = open_test_token();
  w.token->generate_key(KeySpec{KeyType::rsa, 3072}, "xades-rsa");
  w.token->generate_key(KeySpec{KeyType::ec, 256}, "xades-ec");
  w.rsa = w.token->signer("xades-rsa");
  w.ec = w.token->signer("xades-ec");
  w.rsa_certs = w.pki->signer_certs(*w.rsa, "XAdES RSA Signer");
  w.ec_certs = w.pki->signer_certs(*w.ec, "XAdES EC Signer");
  w.tsa = std::make_unique<NetTimestamper>(w.pki->tsa_url());
  w.revocation = std::make_unique<NetRevocation>(
      w.pki->ocsp_url(), "http://127.0.0.1:" + std::to_string(w.pki->ocsp_port()) + "/crl/root.crl");
}

class XadesEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { g_world.reset(); }
};

// Registration order is set-up order: the token first.
[[maybe_unused]] auto* const kSoftHsm = ::testing::AddGlobalTestEnvironment(new SoftHsmEnvironment);
[[maybe_unused]] auto* const kWorld = ::testing::AddGlobalTestEnvironment(new XadesEnvironment);

}  // namespace

XadesWorld& XadesWorld::get() {
  if (!g_world) {
    // Kept only once complete: a failed build (the TSA did not start, say) fails this test, and
    // the next one tries again instead of using half a world.
    auto w = std::make_unique<XadesWorld>();
    build_world(*w);
    g_world = std::move(w);
  }
  return *g_world;
}

const SoftSigner& soft_signer(KeyType type) {
  static const auto make = [](KeyType t) {
    SoftSigner s;
    s.key = std::shared_ptr<KeySigner>(
        ossl::SoftwareKey::generate(t == KeyType::ec ? KeySpec{KeyType::ec, 256} : KeySpec{KeyType::rsa, 2048}));
    ossl::CertTemplate tmpl;
    tmpl.subject = "CN=XAdES unit test";
    tmpl.public_key_der = s.key->public_key_der();
    tmpl.not_before = std::chrono::system_clock::now() - std::chrono::hours(1);
    tmpl.not_after = tmpl.not_before + std::chrono::hours(48);
    s.certs.leaf = ossl::issue_certificate(tmpl, {}, *s.key);
    return s;
  };
  static const SoftSigner ec = make(KeyType::ec);
  static const SoftSigner rsa = make(KeyType::rsa);
  return type == KeyType::ec ? ec : rsa;
}

std::filesystem::path XadesWorld::write(const std::string& name, const std::string& content) const {
  const auto p = dir.path() / name;
  std::ofstream(p, std::ios::binary) << content;
  return p;
}

CommandResult XadesWorld::check(const std::filesystem::path& file, const std::string& level,
                                const std::filesystem::path& detached) const {
  std::string args = "--strict --level " + level + " --trust '" + pki->trust().string() + "' ";
  if (!detached.empty()) args += "--detached '" + detached.string() + "' ";
  return validate("validate-xades", args + "'" + file.string() + "'");
}

}  // namespace sigil::test

namespace sigil::test {
void expect_valid(const CommandResult& r, const std::string& level) {
  if (level != "B-LTA") {
    EXPECT_EQ(r.exit_code, 0) << level << "\n" << r.output;
    return;
  }
  // xadesjs failing hides the level line, so the checks that make up each level are required one by one.
  EXPECT_LE(r.exit_code, 1) << r.output;
  std::istringstream lines(r.output);
  std::string line;
  while (std::getline(lines, line)) {
    const bool bad = line.rfind("FAIL", 0) == 0 || line.rfind("WARN", 0) == 0;
    const bool tolerated = line.find("Malformed element 'ArchiveTimeStamp'") != std::string::npos ||
                           line.find("ArchiveTimeStamp imprint not recomputed") != std::string::npos;
    EXPECT_FALSE(bad && !tolerated) << line << "\n" << r.output;
  }
  for (const char* need : {"PASS  sig.xmlsec1:", "PASS  sig.signature-binding:", "PASS  sig.chain:",
                           "PASS  sig.signing-certificate:", "PASS  sig.data-object-format:",
                           "PASS  sig.signature-time-stamp.message-imprint:",
                           "PASS  sig.signature-time-stamp.openssl-ts-verify:", "PASS  sig.lt.certificates:",
                           "PASS  sig.archive-time-stamp.token.signature-value:",
                           "PASS  sig.archive-time-stamp.tsa-cert:"}) {
    EXPECT_NE(r.output.find(need), std::string::npos) << "missing " << need << "\n" << r.output;
  }
}

std::vector<CommandResult> XadesWorld::check_all(const std::vector<Check>& checks) const {
  // Validator runs are separate processes (node, python, xmlsec1): run a few at a time.
  std::vector<CommandResult> out(checks.size());
  for (std::size_t i = 0; i < checks.size(); i += 3) {
    std::vector<std::future<CommandResult>> running;
    for (std::size_t k = i; k < std::min(checks.size(), i + 3); ++k) {
      running.push_back(std::async(std::launch::async, [this, &checks, k] {
        return check(checks[k].file, checks[k].level, checks[k].detached);
      }));
    }
    for (std::size_t k = 0; k < running.size(); ++k) out[i + k] = running[k].get();
  }
  return out;
}
}  // namespace sigil::test
