// The demo signer `sigilctl init` creates so a newcomer signs a document within minutes: a service
// user with an API key, an EC P-256 key in the token certified by the demo issuing CA, an
// unattended credential on it, and a sample PDF. Idempotent like the rest of init.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "sigil/common/clock.hpp"

namespace sigil::hsm {
class Token;
}
namespace sigil::store {
class Store;
}

namespace sigil::bootstrap {

inline constexpr const char* kDemoSignerUser = "demo-signer";
inline constexpr const char* kDemoSignerKey = "demo-signer";
inline constexpr const char* kDemoProfile = "demo-pades";

struct DemoSigner {
  std::string credential_id;
  std::filesystem::path api_key_file;  // secrets/demo-signer.apikey (0600)
  std::filesystem::path sample_pdf;    // demo/sample.pdf
};

// Creates what is missing under `dir` (which holds pki/ and secrets/); `created` is told each
// thing made. The token must hold the demo issuing CA key and `dir`/pki/issuing-ca.pem.
DemoSigner ensure_demo_signer(store::Store& store, hsm::Token& token, const Clock& clock,
                              const std::filesystem::path& dir,
                              const std::function<void(const std::string&)>& created);

// The demo person for the CSC API: user `alice` (role signer) with a random password, an EC P-256
// key certified by the demo issuing CA, and a SCAL2 credential whose policy is PIN + OTP (the OTP
// is delivered through the development `file` channel that init configures). The password and PIN
// are written to secrets/alice.password and secrets/alice.pin (0600).
inline constexpr const char* kDemoPersonUser = "alice";
inline constexpr const char* kDemoPersonKey = "alice";

struct DemoPerson {
  std::string credential_id;
  std::filesystem::path password_file;
  std::filesystem::path pin_file;
};

DemoPerson ensure_demo_person(store::Store& store, hsm::Token& token, const Clock& clock,
                              const std::filesystem::path& dir,
                              const std::function<void(const std::string&)>& created);

// A one-page PDF 1.4 with a line of text, valid xref: the sample document.
std::string sample_pdf();

}  // namespace sigil::bootstrap
