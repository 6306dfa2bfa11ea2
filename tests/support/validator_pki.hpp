// The independent validators' throw-away PKI (../shared/validators/make-test-pki) with its RFC 3161
// TSA and OCSP responder on free loopback ports, plus helpers to run the validators.
// Use one per test binary (a static or a suite-level fixture): creating it takes a few seconds.
#pragma once

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "../../src/ossl/x509.hpp"
#include "sigil/common/files.hpp"
#include "sigil/common/signing.hpp"

namespace sigil::test {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs a shell command; returns its exit code and its combined output.
inline CommandResult run_command(const std::string& cmd) {
  CommandResult r;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  const int st = ::pclose(p);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// ../shared/validators next to the repository ($SIGIL_SOURCE_DIR/..), or $SIGIL_VALIDATORS_DIR.
inline std::filesystem::path validators_dir() {
  if (const char* env = std::getenv("SIGIL_VALIDATORS_DIR")) return env;
  const char* src = std::getenv("SIGIL_SOURCE_DIR");  // set by ctest (tests/CMakeLists.txt)
  return std::filesystem::path(src != nullptr ? src : ".") / ".." / "shared" / "validators";
}

// The shared validator reads a definite length whose last header byte is 0x80 (128 = 81 80,
// 384 = 82 01 80, ...) as BER indefinite length and WARNs "CMS uses BER indefinite-length encoding"
// (adescheck.uses_indefinite_length looks at header[-1:] only). Lengths of structures holding ECDSA
// signatures vary by a few bytes from run to run, so that false positive hits at random. Our DER
// writer cannot produce indefinite lengths (src/asn1), so when --strict fails on that line alone,
// the verdict without --strict is the real one.
inline bool only_indefinite_length_false_positive(const std::string& output) {
  std::istringstream in(output);
  bool seen = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("FAIL", 0) == 0) return false;
    if (line.rfind("WARN", 0) == 0) {
      if (line.find("uses BER indefinite-length encoding") == std::string::npos) return false;
      seen = true;
    }
  }
  return seen;
}

// Runs validators/<tool> with `args`; the last line of the output is the verdict.
inline CommandResult validate(const std::string& tool, const std::string& args) {
  const std::string cmd = "'" + (validators_dir() / tool).string() + "' ";
  CommandResult r = run_command(cmd + args);
  const auto strict = args.find("--strict");
  if (r.exit_code == 1 && strict != std::string::npos && only_indefinite_length_false_positive(r.output)) {
    std::string relaxed = args;
    relaxed.erase(strict, 8);
    CommandResult again = run_command(cmd + relaxed);
    again.output = r.output + "\n(validator false positive on a 0x80-ending definite length; verdict without --strict)\n" +
                   again.output;
    return again;
  }
  return r;
}

// A TCP port on 127.0.0.1 that was free a moment ago.
inline int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

class ValidatorPki {
 public:
  // Creates the PKI in `dir` and, when `start_servers`, starts the TSA and the OCSP responder.
  // The ports are free when chosen; should another process bind one before the server does (tests
  // run in parallel), the PKI is made again on new ports (the URLs are in its certificates).
  explicit ValidatorPki(std::filesystem::path dir, bool start_servers = true) : dir_(std::move(dir)) {
    for (int attempt = 1;; ++attempt) {
      tsa_port_ = free_loopback_port();
      ocsp_port_ = free_loopback_port();
      const auto r = run_command("'" + (validators_dir() / "make-test-pki").string() + "' '" + dir_.string() +
                                 "' --tsa-port " + std::to_string(tsa_port_) + " --ocsp-port " +
                                 std::to_string(ocsp_port_) + " --force");
      if (r.exit_code != 0) throw std::runtime_error("make-test-pki failed: " + r.output);
      if (!start_servers) return;
      std::string failure;
      for (const char* s : {"start-tsa", "start-ocsp"}) {
        const auto rs = run_command("'" + (dir_ / "bin" / s).string() + "'");
        if (rs.exit_code != 0) {
          failure = std::string(s) + " failed: " + rs.output;
          break;
        }
      }
      if (failure.empty()) {
        started_ = true;
        return;
      }
      run_command("'" + (dir_ / "bin" / "stop-all").string() + "'");
      if (attempt < 3 && failure.find("Address already in use") != std::string::npos) continue;
      throw std::runtime_error(failure);
    }
  }
  ~ValidatorPki() {
    if (started_) run_command("'" + (dir_ / "bin" / "stop-all").string() + "'");
  }
  ValidatorPki(const ValidatorPki&) = delete;
  ValidatorPki& operator=(const ValidatorPki&) = delete;

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path trust() const { return dir_ / "root-ca.pem"; }  // the trust anchor
  std::string tsa_url() const { return "http://127.0.0.1:" + std::to_string(tsa_port_) + "/tsa"; }
  std::string ocsp_url() const { return "http://127.0.0.1:" + std::to_string(ocsp_port_) + "/ocsp"; }
  int tsa_port() const { return tsa_port_; }
  int ocsp_port() const { return ocsp_port_; }
  Bytes root_der() const { return ossl::read_certificate(files::read(dir_ / "root-ca.pem")); }
  Bytes inter_der() const { return ossl::read_certificate(files::read(dir_ / "inter-ca.pem")); }

  // Issues a certificate from the intermediate CA for `key` (through a CSR the key signs).
  // profile: "signer" (KU digitalSignature+nonRepudiation, AIA/CRL-DP at the local responder),
  // "tsa" (critical EKU timeStamping) or "ocsp".
  Bytes issue(KeySigner& key, const std::string& common_name, const std::string& profile = "signer") {
    const auto n = std::to_string(++issued_);
    const auto csr = dir_ / ("csr-" + n + ".pem");
    const auto out = dir_ / ("cert-" + n + ".pem");
    const Bytes der = ossl::create_csr("CN=" + common_name + ",O=Sigil Test", key);
    std::ofstream(csr) << ossl::der_to_pem(der, "CERTIFICATE REQUEST");
    const auto r = run_command("'" + (dir_ / "bin" / "issue-cert").string() + "' '" + csr.string() + "' '" +
                               out.string() + "' " + profile);
    if (r.exit_code != 0) throw std::runtime_error("issue-cert failed: " + r.output);
    return ossl::read_certificate(files::read(out));
  }
  // leaf from issue() + the intermediate and the root.
  SignerCerts signer_certs(KeySigner& key, const std::string& common_name) {
    return SignerCerts{issue(key, common_name), {inter_der(), root_der()}};
  }

 private:
  std::filesystem::path dir_;
  int tsa_port_ = 0;
  int ocsp_port_ = 0;
  bool started_ = false;
  int issued_ = 0;
};

}  // namespace sigil::test
