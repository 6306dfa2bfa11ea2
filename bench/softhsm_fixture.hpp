// A throw-away SoftHSM2 token for the benchmarks, in a temporary directory (like tests/support):
// never ~/.config/softhsm2 or /var/lib/softhsm, and removed when the benchmark ends.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "sigil/hsm/token.hpp"

namespace sigil::bench {

inline const char* const kSoftHsmModule = "/usr/lib/softhsm/libsofthsm2.so";
inline const char* const kTokenLabel = "sigil-bench";
inline const char* const kUserPin = "1234-bench";

class SoftHsmFixture {
 public:
  // Must run before the module is first loaded: SoftHSM2 reads SOFTHSM2_CONF in C_Initialize.
  SoftHsmFixture() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/sigil-bench-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    std::filesystem::create_directories(dir_ / "tokens");
    const auto conf = dir_ / "softhsm2.conf";
    // The file backend: the one Sigil deploys with, and the one whose costs the benchmark shows.
    std::ofstream(conf) << "directories.tokendir = " << (dir_ / "tokens").string()
                        << "\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n";
    ::setenv("SOFTHSM2_CONF", conf.c_str(), 1);
    hsm::init_token(kSoftHsmModule, kTokenLabel, SecretString("5678-bench-so"), SecretString(kUserPin));
  }
  ~SoftHsmFixture() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  SoftHsmFixture(const SoftHsmFixture&) = delete;
  SoftHsmFixture& operator=(const SoftHsmFixture&) = delete;

  const std::filesystem::path& dir() const { return dir_; }

  static std::unique_ptr<hsm::Token> open(bool cache_session_keys, unsigned pool_size = 8) {
    hsm::TokenOptions o;
    o.module = kSoftHsmModule;
    o.label = kTokenLabel;
    o.user_pin = SecretString(kUserPin);
    o.pool_size = pool_size;
    o.cache_session_keys = cache_session_keys;
    return hsm::Token::open(std::move(o));
  }

 private:
  std::filesystem::path dir_;
};

}  // namespace sigil::bench
