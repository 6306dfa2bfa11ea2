// CMS/CAdES input path (sigil/cms/cades.hpp): parse, verify (attached and detached), extend to B-T,
// B-LT and B-LTA with a Timestamper and a RevocationSource that always fail (the input parsing and
// the walk over SignerInfos run before either is asked), replace_certificates, and a parallel
// signature prepared over the input.
#include <cstddef>
#include <cstdint>
#include <optional>

#include "fuzz_common.hpp"
#include "sigil/cms/cades.hpp"

namespace {

using namespace sigil;

class NoTsa final : public Timestamper {
 public:
  Bytes timestamp(HashAlg, const Bytes&) override { throw Error(Errc::tsa_unavailable, "fuzz: no TSA"); }
};

class NoRevocation final : public RevocationSource {
 public:
  RevocationData collect(const std::vector<Bytes>&) override {
    throw Error(Errc::revocation_unavailable, "fuzz: no revocation source");
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Bytes cms(data, data + size);
  const bool parsed = !fuzz::refuses([&] { (void)cms::parse(cms); });
  fuzz::refuses([&] { cms::verify(cms); });
  fuzz::refuses([&] { cms::verify(cms, Bytes(32, 0x42)); });
  NoTsa tsa;
  NoRevocation revocation;
  for (SignatureLevel level : {SignatureLevel::b_t, SignatureLevel::b_lt, SignatureLevel::b_lta}) {
    cms::ExtendOptions options;
    options.target = level;
    if (level == SignatureLevel::b_lta) options.content_digest = Bytes(32, 0x42);
    fuzz::refuses([&] { (void)cms::extend(cms, tsa, revocation, options); });
  }
  fuzz::refuses([&] { (void)cms::add_signature_timestamp(cms, tsa); });
  if (!parsed) return 0;  // the paths below assume a structurally valid SignedData
  fuzz::refuses([&] { (void)cms::replace_certificates(cms, {}); });
  fuzz::refuses([&] { (void)cms::replace_certificates(cms, {fuzz::test_signer().cert}); });
  fuzz::refuses([&] {
    cms::SignParams p;
    p.signer.leaf = fuzz::test_signer().cert;
    p.signing_time = fuzz::fixed_time();
    (void)cms::prepare_parallel(cms, p, Bytes(32, 0x42));
  });
  return 0;
}
