// Built-in TSA (sigil/tsa/tsa.hpp): TimeStampAuthority::respond on arbitrary bytes as a DER
// TimeStampReq. respond() never throws for a bad request (its contract): the answer must be a
// well-formed DER TimeStampResp either way, which this target checks with asn1::validate_tree.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "fuzz_common.hpp"
#include "sigil/asn1/der.hpp"
#include "sigil/common/clock.hpp"
#include "sigil/tsa/tsa.hpp"

namespace {

using namespace sigil;

class FixedClock final : public Clock {
 public:
  time_point now() const override { return fuzz::fixed_time(); }
};

tsa::TimeStampAuthority& authority() {
  static FixedClock clock;
  static const auto& signer = fuzz::test_signer(ossl::CertProfile::tsa);
  static tsa::TimeStampAuthority instance = [] {
    tsa::TsaOptions options;
    options.policy_oid = "1.3.6.1.4.1.99999.1.1";
    options.clock = &clock;
    options.serial_source = [] { return Bytes{0x01, 0x02, 0x03}; };
    return tsa::TimeStampAuthority(*signer.key, SignerCerts{signer.cert, {}}, options);
  }();
  return instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const Bytes request(data, data + size);
  Bytes response;
  fuzz::refuses([&] { response = authority().respond(request); });
  if (!response.empty()) asn1::validate_tree(response);  // our own answer must be DER: a throw here is a finding
  return 0;
}
