#include "sigil/common/signing.hpp"

#include <algorithm>
#include <cctype>
#include <string>

#include "sigil/common/error.hpp"

namespace sigil {

std::string_view level_name(SignatureLevel level) {
  switch (level) {
    case SignatureLevel::b_b: return "B-B";
    case SignatureLevel::b_t: return "B-T";
    case SignatureLevel::b_lt: return "B-LT";
    case SignatureLevel::b_lta: return "B-LTA";
  }
  return "B-B";
}

SignatureLevel parse_level(std::string_view text) {
  std::string s;
  for (char c : text) s.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  std::replace(s.begin(), s.end(), '_', '-');
  // Strip a format prefix ("PADES-", "XADES-", "CADES-", "JADES-") and "BASELINE-".
  for (std::string_view prefix : {"PADES-", "XADES-", "CADES-", "JADES-"}) {
    if (s.rfind(prefix, 0) == 0) s.erase(0, prefix.size());
  }
  if (s.rfind("BASELINE-", 0) == 0) s.erase(0, 9);
  if (s.rfind("B-", 0) == 0) s.erase(0, 2);
  if (s == "B") return SignatureLevel::b_b;
  if (s == "T") return SignatureLevel::b_t;
  if (s == "LT") return SignatureLevel::b_lt;
  if (s == "LTA") return SignatureLevel::b_lta;
  throw Error(Errc::invalid_argument,
              "unknown signature level '" + std::string(text) + "' (expected B-B, B-T, B-LT or B-LTA)", true);
}

}  // namespace sigil
