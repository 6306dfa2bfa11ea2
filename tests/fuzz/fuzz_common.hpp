// Shared helpers of the fuzz targets: one software key and self-issued certificates made once per
// process, a per-process scratch directory, and the rule every target follows: sigil::Error is the
// expected answer to bad input; anything else (a crash, a sanitizer report, another exception that
// reaches std::terminate) is a finding.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include <unistd.h>

#include "ossl/software_key.hpp"
#include "ossl/x509.hpp"
#include "sigil/common/error.hpp"

namespace sigil::fuzz {

// A fixed instant (2027-01-15): fuzz runs must not depend on the wall clock.
inline std::chrono::system_clock::time_point fixed_time() {
  return std::chrono::system_clock::time_point{std::chrono::seconds{1'800'000'000}};
}

struct TestSigner {
  std::unique_ptr<ossl::SoftwareKey> key;
  Bytes cert;
};

// An EC P-256 key with a self-issued certificate of `profile` (one per profile per process).
inline const TestSigner& test_signer(ossl::CertProfile profile = ossl::CertProfile::signer) {
  auto make = [](ossl::CertProfile p) {
    TestSigner s;
    s.key = ossl::SoftwareKey::generate(KeySpec{KeyType::ec, 256});
    ossl::CertTemplate t;
    t.subject = p == ossl::CertProfile::tsa ? "CN=Sigil Fuzz TSA,O=Sigil" : "CN=Sigil Fuzz Signer,O=Sigil";
    t.public_key_der = s.key->public_key_der();
    t.profile = p;
    t.not_before = fixed_time() - std::chrono::hours(24);
    t.not_after = fixed_time() + std::chrono::hours(24 * 365);
    s.cert = ossl::issue_certificate(t, {}, *s.key);
    return s;
  };
  if (profile == ossl::CertProfile::tsa) {
    static const TestSigner tsa = make(ossl::CertProfile::tsa);
    return tsa;
  }
  static const TestSigner signer = make(ossl::CertProfile::signer);
  return signer;
}

// A directory of this process under $TMPDIR (or /tmp), removed at exit.
inline const std::filesystem::path& scratch_dir() {
  struct Dir {
    std::filesystem::path path;
    Dir() {
      std::error_code ec;
      auto base = std::filesystem::temp_directory_path(ec);
      if (ec) base = "/tmp";
      path = base / ("sigil-fuzz-" + std::to_string(::getpid()));
      std::filesystem::create_directories(path);
    }
    ~Dir() {
      std::error_code ec;
      std::filesystem::remove_all(path, ec);
    }
  };
  static const Dir dir;
  return dir.path;
}

// Runs f; a sigil::Error is the expected refusal of bad input. Everything else propagates.
template <typename F>
bool refuses(F&& f) {
  try {
    f();
    return false;
  } catch (const Error&) {
    return true;
  }
}

}  // namespace sigil::fuzz
