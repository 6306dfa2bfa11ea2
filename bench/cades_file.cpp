// sigil_cades_file FILE [detached|attached] [OUT]: CAdES B-B of one file with a software EC P-256
// key (the token is measured by sigil_bench; this isolates the format engine's streaming cost).
// Prints "<mode> <bytes> <seconds>". bench/cades_vs_openssl.sh runs it under /usr/bin/time for
// the peak RSS and compares with openssl dgst and openssl cms -sign on the same files.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "ossl/software_key.hpp"
#include "ossl/x509.hpp"
#include "sigil/cms/cades.hpp"

int main(int argc, char** argv) {
  using namespace sigil;
  if (argc < 2) {
    std::fprintf(stderr, "usage: sigil_cades_file FILE [detached|attached] [OUT]\n");
    return 64;
  }
  const std::string file = argv[1];
  const std::string mode = argc > 2 ? argv[2] : "detached";
  const std::string out = argc > 3 ? argv[3] : "/dev/null";

  auto key = ossl::SoftwareKey::generate(KeySpec::parse("ec-p256"));
  ossl::CertTemplate t;
  t.subject = "CN=bench,O=Sigil";
  t.public_key_der = key->public_key_der();
  t.profile = ossl::CertProfile::signer;
  t.not_before = std::chrono::system_clock::now() - std::chrono::hours(1);
  t.not_after = t.not_before + std::chrono::hours(48);
  cms::SignParams params;
  params.signer.leaf = ossl::issue_certificate(t, {}, *key);
  params.scheme = SignatureScheme::ecdsa;
  params.signing_time = std::chrono::system_clock::now();

  const auto start = std::chrono::steady_clock::now();
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", file.c_str());
    return 1;
  }
  if (mode == "attached") {
    std::ofstream o(out, std::ios::binary | std::ios::trunc);
    cms::sign_attached(params, in, *key, o);
  } else {
    const Bytes digest = cms::digest_stream(params.digest_alg, in);
    const Bytes p7s = cms::sign_detached(params, digest, *key);
    std::ofstream(out, std::ios::binary).write(reinterpret_cast<const char*>(p7s.data()),
                                               static_cast<std::streamsize>(p7s.size()));
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s %ju %.4f\n", mode.c_str(), static_cast<std::uintmax_t>(std::filesystem::file_size(file)), secs);
  return 0;
}
