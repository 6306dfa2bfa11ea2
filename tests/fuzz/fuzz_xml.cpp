// XAdES XML input (sigil/xades/xades.hpp): check_document (the hardened parse: no DTD, no entity
// expansion, no network, bounded size and depth), then, when it accepts the document, prepare an
// enveloped signature (root, and a parent chosen by local name). fuzz_xades_xml goes further
// (differential C14N, enveloping, extend); this target is the lean one for the request path.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_common.hpp"
#include "sigil/xades/xades.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sigil;
  const std::string_view doc(reinterpret_cast<const char*>(data), size);
  xades::Limits limits;
  limits.max_bytes = 1 << 20;
  limits.max_depth = 64;
  if (fuzz::refuses([&] { xades::check_document(doc, limits); })) return 0;
  xades::XadesParams p;
  p.signer.leaf = fuzz::test_signer().cert;
  p.limits = limits;
  p.signing_time = fuzz::fixed_time();
  p.packaging = xades::Packaging::enveloped;
  p.c14n = size % 2 == 0 ? xades::C14n::exclusive : xades::C14n::inclusive;
  fuzz::refuses([&] { (void)xades::prepare(doc, p); });
  p.parent_local_name = "b";
  fuzz::refuses([&] { (void)xades::prepare(doc, p); });
  return 0;
}
