// One SoftHSM token, one validator PKI (with its TSA and OCSP responder) and two token keys with
// certificates, shared by every XAdES test of the binary.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "net_sources.hpp"
#include "sigil/common/signing.hpp"
#include "sigil/hsm/token.hpp"
#include "softhsm_env.hpp"
#include "temp_dir.hpp"
#include "validator_pki.hpp"

namespace sigil::test {

struct XadesWorld {
  TempDir dir;
  std::unique_ptr<ValidatorPki> pki;
  std::unique_ptr<hsm::Token> token;
  std::unique_ptr<KeySigner> rsa;
  std::unique_ptr<KeySigner> ec;
  SignerCerts rsa_certs;
  SignerCerts ec_certs;
  std::unique_ptr<NetTimestamper> tsa;
  std::unique_ptr<NetRevocation> revocation;

  static XadesWorld& get();
  std::filesystem::path write(const std::string& name, const std::string& content) const;
  // validate-xades --strict --level L --trust root [--detached D] FILE
  CommandResult check(const std::filesystem::path& file, const std::string& level,
                      const std::filesystem::path& detached = {}) const;
  struct Check {
    std::filesystem::path file;
    std::string level;
    std::filesystem::path detached;
  };
  // check() for each, a few in parallel; results in the same order.
  std::vector<CommandResult> check_all(const std::vector<Check>& checks) const;
};

}  // namespace sigil::test

namespace sigil::test {
// A software key with a self-signed certificate: for tests that need a signer but no validator.
struct SoftSigner {
  std::shared_ptr<KeySigner> key;
  SignerCerts certs;
};
const SoftSigner& soft_signer(KeyType type = KeyType::ec);

// Asserts a validate-xades verdict is valid at `level`. Two known validator limits are tolerated at
// B-LTA only (see docs/xades.md): the WARN "ArchiveTimeStamp imprint not recomputed" (a failure
// under --strict) and xadesjs 2.6.8 refusing the EN 319 132-1 xades141:ArchiveTimeStamp
// ("Malformed element 'ArchiveTimeStamp'": it only knows the 1.3.2-namespace element). Everything
// else must PASS, including the level line.
void expect_valid(const CommandResult& r, const std::string& level);
}  // namespace sigil::test
