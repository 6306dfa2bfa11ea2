// xades_perf IN.xml OUT.xml [rsa|ec]: enveloped B-B signing of a (large) file with a software key,
// for the time/memory comparison with `xmlsec1 --sign` (docs/xades.md). Not a test.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "ossl/software_key.hpp"
#include "ossl/x509.hpp"
#include "sigil/common/files.hpp"
#include "sigil/xades/xades.hpp"

int main(int argc, char** argv) {
  using namespace sigil;
  if (argc < 3) {
    std::cerr << "usage: xades_perf IN.xml OUT.xml [rsa|ec]\n";
    return 2;
  }
  const bool rsa = argc > 3 && std::string(argv[3]) == "rsa";
  auto key = ossl::SoftwareKey::generate(rsa ? KeySpec{KeyType::rsa, 2048} : KeySpec{KeyType::ec, 256});
  ossl::CertTemplate t;
  t.subject = "CN=perf";
  t.public_key_der = key->public_key_der();
  t.not_before = std::chrono::system_clock::now();
  t.not_after = t.not_before + std::chrono::hours(24);
  const Bytes cert = ossl::issue_certificate(t, {}, *key);
  std::string doc = files::read(argv[1]);
  const auto tp = std::chrono::steady_clock::now();
  if (argc > 4) {
    xades::Limits l;
    l.max_bytes = 1u << 30;
    l.max_depth = 256;
    xades::check_document(doc, l);
    std::cerr << "parse+checks "
              << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - tp).count()
              << " ms\n";
  }
  const auto t0 = std::chrono::steady_clock::now();
  xades::XadesParams p;
  p.signer.leaf = cert;
  p.scheme = rsa ? SignatureScheme::rsa_pkcs1 : SignatureScheme::ecdsa;
  p.limits.max_bytes = 1u << 30;
  p.limits.max_depth = 256;
  const std::string out = xades::sign(doc, p, *key);
  const auto t1 = std::chrono::steady_clock::now();
  std::ofstream(argv[2], std::ios::binary) << out;
  std::cerr << "signed " << doc.size() << " bytes in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(t1 - t0).count() << " ms\n";
  return 0;
}
