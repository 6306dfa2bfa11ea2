// Just enough of a TrueType file to embed it whole as a simple font with WinAnsiEncoding
// (ISO 32000-1 §9.6.3, §9.8): metrics for the font descriptor and advance widths for codes 32..255.
#pragma once

#include <array>
#include <filesystem>
#include <string>

namespace sigil::pades::detail {

struct TrueTypeFont {
  std::string data;   // the whole file (embedded as /FontFile2)
  std::string name;   // PostScript-safe name derived from the file name
  int ascent = 0, descent = 0, cap_height = 0;  // 1/1000 em
  std::array<int, 4> bbox{};                    // 1/1000 em
  double italic_angle = 0;
  std::array<int, 256> widths{};                // WinAnsi code → advance, 1/1000 em (32..255)
};

// Throws Error(invalid_argument) for a file that is not a usable TrueType font.
TrueTypeFont load_truetype(const std::filesystem::path& path);

// Unicode code point of a WinAnsiEncoding code (0 when unassigned).
unsigned winansi_to_unicode(unsigned char code);

}  // namespace sigil::pades::detail
