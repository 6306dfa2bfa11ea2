// One ValidatorPki (make-test-pki with its TSA and OCSP responder) per test process, made on first
// use, plus helpers
// shared by the tsp and revocation tests.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "sigil/common/files.hpp"
#include "temp_dir.hpp"
#include "test_util.hpp"
#include "validator_pki.hpp"

namespace sigil::test {

class PkiEnvironment final : public ::testing::Environment {
 public:
  // Built on first use, so tests that need no PKI do not pay for it.
  void SetUp() override { instance_ = this; }
  void TearDown() override {
    pki_.reset();
    dir_.reset();
    instance_ = nullptr;
  }
  static ValidatorPki& pki() {
    auto& self = *instance_;
    static std::mutex mu;
    std::lock_guard lock(mu);
    if (!self.pki_) {
      self.dir_ = std::make_unique<TempDir>();
      self.pki_ = std::make_unique<ValidatorPki>(self.dir_->path() / "pki");
    }
    return *self.pki_;
  }
  static std::filesystem::path file(const std::string& name) { return pki().dir() / name; }
  static std::string pem(const std::string& name) { return files::read(file(name)); }
  static Bytes der(const std::string& name) { return ossl::read_certificate(pem(name)); }

 private:
  static inline PkiEnvironment* instance_ = nullptr;
  std::unique_ptr<TempDir> dir_;
  std::unique_ptr<ValidatorPki> pki_;
};

// The test PKI's certificates, CRLs and OCSP answers are dated by the wall clock; a FakeClock starts
// in 2027, so tests that need "now" move it to the wall clock first and go on from there by hand.
inline void sync_to_wall_clock(FakeClock& clock) {
  clock.advance(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - clock.now()));
}

}  // namespace sigil::test
