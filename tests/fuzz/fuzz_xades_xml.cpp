// libFuzzer target for the XML input path of sigil_xades: the hardened parser (check_document), the
// streaming canonicaliser and the tree path of prepare() (enveloped signing), enveloping, and
// extend() on arbitrary "signed" documents. Only sigil::Error may escape; anything else (a crash,
// a sanitizer report, another exception) is a finding.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include <cstdlib>
#include <optional>

#include "ossl/software_key.hpp"
#include "xades/internal.hpp"
#include "xades/stream.hpp"
#include "xades/xml.hpp"
#include "ossl/x509.hpp"
#include "sigil/common/error.hpp"
#include "sigil/xades/xades.hpp"

namespace {

struct Signer {
  std::unique_ptr<sigil::ossl::SoftwareKey> key;
  sigil::Bytes cert;
};

const Signer& signer() {
  static const Signer s = [] {
    Signer out;
    out.key = sigil::ossl::SoftwareKey::generate(sigil::KeySpec{sigil::KeyType::ec, 256});
    sigil::ossl::CertTemplate t;
    t.subject = "CN=fuzz";
    t.public_key_der = out.key->public_key_der();
    t.not_before = std::chrono::system_clock::time_point{std::chrono::seconds{1'800'000'000}};
    t.not_after = t.not_before + std::chrono::hours(24);
    out.cert = sigil::ossl::issue_certificate(t, {}, *out.key);
    return out;
  }();
  return s;
}

template <typename F>
void expect_only_sigil_errors(F&& f) {
  try {
    f();
  } catch (const sigil::Error&) {
    // refusals are fine
  }
}

}  // namespace

// Differential check: the streaming C14N (SAX) and libxml2's tree C14N must accept the same
// documents and, when they do, produce the same bytes (compared through their digests).
void differential(std::string_view doc, const sigil::xades::Limits& limits, sigil::xades::C14n alg) {
  std::optional<sigil::Bytes> streamed;
  std::optional<sigil::Bytes> tree;
  try {
    streamed = sigil::xades::stream::canonicalise(doc, limits, alg, sigil::HashAlg::sha256).digest;
  } catch (const sigil::Error&) {
  }
  try {
    auto d = sigil::xades::xml::parse(doc, limits);
    sigil::xades::detail::Hasher h(sigil::HashAlg::sha256);
    sigil::xades::xml::c14n_document(d.get(), alg, h.sink());
    tree = h.final();
  } catch (const sigil::Error&) {
  }
  if (streamed.has_value() != tree.has_value() || (streamed && *streamed != *tree)) std::abort();
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view doc(reinterpret_cast<const char*>(data), size);
  sigil::xades::Limits limits;
  limits.max_bytes = 1 << 20;
  differential(doc, limits, sigil::xades::C14n::exclusive);
  differential(doc, limits, sigil::xades::C14n::inclusive);
  expect_only_sigil_errors([&] { sigil::xades::check_document(doc, limits); });
  sigil::xades::XadesParams p;
  p.signer.leaf = signer().cert;
  p.limits = limits;
  p.signing_time = std::chrono::system_clock::time_point{std::chrono::seconds{1'800'000'000}};
  const auto first = size > 0 ? data[0] : 0;
  p.c14n = (first & 1) != 0 ? sigil::xades::C14n::inclusive : sigil::xades::C14n::exclusive;
  expect_only_sigil_errors([&] { (void)sigil::xades::prepare(doc, p); });  // streaming path
  p.parent_local_name = "a";                                                // tree path
  expect_only_sigil_errors([&] { (void)sigil::xades::prepare(doc, p); });
  p.parent_local_name.clear();
  p.packaging = sigil::xades::Packaging::enveloping;
  expect_only_sigil_errors([&] { (void)sigil::xades::prepare(doc, p); });
  sigil::xades::ExtendParams ep;
  ep.limits = limits;
  expect_only_sigil_errors([&] { (void)sigil::xades::extend(doc, sigil::SignatureLevel::b_b, {}, ep); });
  return 0;
}

#ifdef SIGIL_XADES_FUZZ_REPLAY_MAIN
// Only when built on its own without libFuzzer: replay the files given on the command line (the seed
// corpus). With libFuzzer, or linked with the shared tests/fuzz/driver.cpp, there is no main here.
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  }
  std::cout << "replayed " << (argc - 1) << " input(s)\n";
  return 0;
}
#endif
