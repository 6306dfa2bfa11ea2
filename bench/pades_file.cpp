// sigil_pades_file IN.pdf OUT.pdf KEY.pem CERT.pem: PAdES B-B (invisible signature, SHA-256) of one
// PDF with a software key read from PEM (EC → ECDSA, RSA → PKCS#1 v1.5), so the PDF work is measured
// and not the token (sigil_bench measures the token). Prints "<bytes> <seconds>" (the pades::sign
// call only). bench/pades_vs_tools.sh runs it under /usr/bin/time for the wall time and peak RSS and
// compares with pdfsig -add-signature, podofosign and openssl dgst -sha256 on the same files.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "ossl/software_key.hpp"
#include "ossl/x509.hpp"
#include "sigil/pades/pades.hpp"

namespace {
std::string slurp(const char* path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(std::string("cannot read ") + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}
}  // namespace

int main(int argc, char** argv) {
  using namespace sigil;
  if (argc != 5) {
    std::fprintf(stderr, "usage: sigil_pades_file IN.pdf OUT.pdf KEY.pem CERT.pem\n");
    return 64;
  }
  try {
    auto key = ossl::SoftwareKey::from_pem(slurp(argv[3]));
    pades::PadesParams params;
    params.signer.leaf = ossl::read_certificate(slurp(argv[4]));
    params.scheme = key->key_type() == KeyType::ec ? SignatureScheme::ecdsa : SignatureScheme::rsa_pkcs1;
    params.digest_alg = HashAlg::sha256;
    params.level = SignatureLevel::b_b;
    params.signing_time = std::chrono::system_clock::now();

    const auto start = std::chrono::steady_clock::now();
    pades::sign(argv[1], argv[2], params, *key);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%ju %.4f\n", static_cast<std::uintmax_t>(std::filesystem::file_size(argv[1])), secs);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sigil_pades_file: %s\n", e.what());
    return 1;
  }
}
