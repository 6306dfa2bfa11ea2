// DSS request parameters (src/api/dss/documents.hpp): arbitrary JSON into parse_parameters (and,
// when the input is a whole request, its `parameters` and `toSignDocument` into parse_parameters
// and SpooledDocument). Bad parameters must answer sigil::Error (a 400); any other exception
// (e.g. nlohmann::json::type_error from an unchecked get<>) would be a 500 and is a finding.
#include <cstddef>
#include <cstdint>

#include "documents.hpp"
#include "fuzz_common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace sigil;
  using Json = api::dss::Json;
  const Json j = Json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  fuzz::refuses([&] { (void)api::dss::parse_parameters(j, fuzz::fixed_time()); });
  if (!j.is_object()) return 0;
  if (auto it = j.find("parameters"); it != j.end()) {
    fuzz::refuses([&] { (void)api::dss::parse_parameters(*it, fuzz::fixed_time()); });
  }
  if (auto it = j.find("toSignDocument"); it != j.end()) {
    fuzz::refuses([&] { api::dss::SpooledDocument doc(*it, fuzz::scratch_dir(), HashAlg::sha256); });
  }
  return 0;
}
