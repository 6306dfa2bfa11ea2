// What the PAdES test binaries share: the generated corpus (tests/pades/make_corpus.sh, built once
// per run), signing parameters for the environment's SoftHSM keys, the network sources, and
// validate-pades --strict with the validator PKI's root.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "cms/cms_env.hpp"
#include "sigil/pades/pades.hpp"
#include "test_util.hpp"

namespace sigil::test {

inline const std::filesystem::path& pades_corpus() {
  static const std::filesystem::path dir = [] {
    const std::filesystem::path d = CmsEnvironment::get().dir() / "corpus";
    const char* src = std::getenv("SIGIL_SOURCE_DIR");
    const std::filesystem::path script =
        std::filesystem::path(src != nullptr ? src : ".") / "tests" / "pades" / "make_corpus.sh";
    const auto r = run_command("'" + script.string() + "' '" + d.string() + "'");
    if (r.exit_code != 0) throw std::runtime_error("make_corpus.sh failed: " + r.output);
    return d;
  }();
  return dir;
}

class PadesFixture : public ::testing::Test {
 protected:
  static pades::PadesParams params(const TestSigner& s, SignatureLevel level = SignatureLevel::b_b) {
    pades::PadesParams p;
    p.signer = s.certs;
    p.scheme = s.scheme;
    p.digest_alg = s.hash;
    p.level = level;
    p.reason = "Approved";
    p.location = "Zürich";
    p.signing_time = std::chrono::system_clock::now();
    return p;
  }
  static pades::Services services() {
    auto& env = CmsEnvironment::get();
    return pades::Services{&env.timestamper(), &env.revocation()};
  }
  // validate-pades --strict --level L --trust ROOT FILE.
  static CommandResult check(const std::filesystem::path& f, SignatureLevel level) {
    return validate("validate-pades", "--strict --level " + std::string(level_name(level)) + " --trust '" +
                                          CmsEnvironment::get().pki().trust().string() + "' '" + f.string() + "'");
  }
  static const TestSigner& rsa() { return CmsEnvironment::get().signer("rsa-pkcs1"); }
  static const TestSigner& ec() { return CmsEnvironment::get().signer("ec-p256"); }

  // `rounds` deterministic mutations (1 to 4 random bytes) of `file` through prepare(): each must
  // succeed or throw sigil::Error (anything else fails the test; under ASan/UBSan this is the poor
  // man's fuzzer for the reader). Returns how many were handled.
  int prepare_mutations(const std::filesystem::path& file, const pades::PadesParams& p, int rounds,
                        std::uint32_t& seed) {
    auto rnd = [&seed] { return seed = seed * 1103515245u + 12345u, (seed >> 8) & 0xffffff; };
    const std::filesystem::path cut = tmp_.path() / "mut.pdf", out = tmp_.path() / "mut-out.pdf";
    const std::string base = files::read(file);
    int handled = 0;
    for (int i = 0; i < rounds; ++i) {
      std::string m = base;
      for (int k = 0; k < 1 + i % 4; ++k) m[rnd() % m.size()] = static_cast<char>(rnd() & 0xff);
      std::ofstream(cut, std::ios::binary | std::ios::trunc) << m;
      try {
        pades::prepare(cut, out, p);
      } catch (const Error&) {
        // a clear refusal is as good as a signature here
      }
      ++handled;
    }
    return handled;
  }

  TempDir tmp_;
};

}  // namespace sigil::test
