// Just enough of a TrueType file to embed it whole as a composite font (Type0, CIDFontType2,
// Identity-H; ISO 32000-1 §9.7, §9.8): metrics for the font descriptor, the Unicode → glyph map of
// its (3,1) cmap and the glyphs' advance widths, so any text the font covers can be drawn.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace sigil::pades::detail {

struct TrueTypeFont {
  std::string data;   // the whole file (embedded as /FontFile2)
  std::string name;   // PostScript-safe name derived from the file name
  int ascent = 0, descent = 0, cap_height = 0;  // 1/1000 em
  std::array<int, 4> bbox{};                    // 1/1000 em
  double italic_angle = 0;
  std::vector<int> advances;                    // glyph id → advance, 1/1000 em

  // The glyph of a Unicode code point (BMP, (3,1) format 4 cmap); 0 (.notdef) when absent.
  unsigned glyph(char32_t cp) const;
  int advance(unsigned gid) const { return advances.empty() ? 0 : advances[gid < advances.size() ? gid : advances.size() - 1]; }

  std::size_t cmap_ = 0;  // offset of the format 4 subtable in `data`
};

// Throws Error(invalid_argument) for a file that is not a usable TrueType font.
TrueTypeFont load_truetype(const std::filesystem::path& path);

}  // namespace sigil::pades::detail
