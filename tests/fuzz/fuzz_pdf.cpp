// PDF input path of PAdES (sigil/pades/pades.hpp): the input goes to a file (the API takes paths),
// then list_signatures, prepare (invisible, or a visible widget on page 1, chosen by the input's
// length) and, when prepare accepts the file, finish with the software key and list_signatures on
// the result. sigil::Error is a refusal; only crashes, sanitizer reports and other exceptions count.
#include <cstddef>
#include <cstdint>
#include <fstream>

#include "fuzz_common.hpp"
#include "sigil/pades/pades.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sigil;
  const auto in = fuzz::scratch_dir() / "in.pdf";
  const auto out = fuzz::scratch_dir() / "out.pdf";
  {
    std::ofstream f(in, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  fuzz::refuses([&] { (void)pades::list_signatures(in); });

  const auto& signer = fuzz::test_signer();
  pades::PadesParams p;
  p.signer.leaf = signer.cert;
  p.scheme = SignatureScheme::ecdsa;
  p.signing_time = fuzz::fixed_time();
  p.contents_size = 4096;
  p.reason = "fuzz";
  if (size % 2 == 1) p.appearance = pades::Appearance{};
  std::optional<pades::Prepared> prepared;
  fuzz::refuses([&] { prepared = pades::prepare(in, out, p); });
  if (prepared) {
    const Bytes sig = signer.key->sign_digest(SignatureScheme::ecdsa, prepared->digest_alg, prepared->digest);
    fuzz::refuses([&] { pades::finish(prepared->state, sig); });
    fuzz::refuses([&] { (void)pades::list_signatures(out); });
  }
  return 0;
}
