// DER toolkit (sigil/asn1/der.hpp): validate_tree, parse_single and a Reader walk over every element
// with the typed readers (OID, INTEGER, BOOLEAN, times) applied to whatever the tags claim.
#include <cstddef>
#include <cstdint>
#include <algorithm>

#include "fuzz_common.hpp"
#include "sigil/asn1/der.hpp"

namespace {

using namespace sigil;

void walk(const asn1::Reader& start, unsigned budget_depth) {
  asn1::Reader r = start;
  while (!r.done()) {
    const asn1::Element e = r.next();
    if (e.constructed()) {
      if (budget_depth > 0) fuzz::refuses([&] { walk(r.enter(e), budget_depth - 1); });
      continue;
    }
    switch (e.tag) {
      case asn1::tag::kOid:
        fuzz::refuses([&] { (void)asn1::read_oid(e); });
        fuzz::refuses([&] { (void)asn1::oid_to_string(e.value); });
        break;
      case asn1::tag::kInteger:
      case asn1::tag::kEnumerated:
        fuzz::refuses([&] { (void)asn1::read_uint(e); });
        fuzz::refuses([&] { (void)asn1::read_integer_magnitude(e); });
        break;
      case asn1::tag::kBoolean:
        fuzz::refuses([&] { (void)asn1::read_boolean(e); });
        break;
      default:
        // Time readers must refuse anything that is not a well-formed UTCTime/GeneralizedTime.
        fuzz::refuses([&] { (void)asn1::read_time(e); });
        break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const asn1::ByteView in(data, size);
  fuzz::refuses([&] { asn1::validate_tree(in); });
  fuzz::refuses([&] { (void)asn1::parse_single(in, "fuzz input"); });
  fuzz::refuses([&] { walk(asn1::Reader(in), asn1::kMaxDepth + 2); });
  // Round trip: the raw bytes of a single element re-wrapped from tag + value are the same DER.
  fuzz::refuses([&] {
    const asn1::Element e = asn1::parse_single(in, "fuzz input");
    const Bytes again = asn1::tlv(e.tag, e.value);
    if (!(again.size() == e.raw.size() && std::equal(again.begin(), again.end(), e.raw.begin()))) {
      // Only a minimal-length DER header round-trips; a reader that accepted a non-minimal length
      // accepted BER, which the contract (DER only) forbids.
      __builtin_trap();
    }
  });
  return 0;
}
