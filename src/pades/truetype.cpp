#include "pades/truetype.hpp"

#include <cstdint>

#include "sigil/common/error.hpp"
#include "sigil/common/files.hpp"

namespace sigil::pades::detail {
namespace {

[[noreturn]] void bad(const std::string& what) {
  throw Error(Errc::invalid_argument, "unusable TrueType font: " + what, true);
}

class Reader {
 public:
  explicit Reader(const std::string& d) : d_(d) {}
  std::uint32_t u8(std::size_t at) const {
    if (at >= d_.size()) bad("truncated");
    return static_cast<unsigned char>(d_[at]);
  }
  std::uint32_t u16(std::size_t at) const { return (u8(at) << 8) | u8(at + 1); }
  std::int32_t i16(std::size_t at) const { return static_cast<std::int16_t>(u16(at)); }
  std::uint32_t u32(std::size_t at) const { return (u16(at) << 16) | u16(at + 2); }

 private:
  const std::string& d_;
};

}  // namespace

unsigned TrueTypeFont::glyph(char32_t cp) const {
  if (cp > 0xFFFF) return 0;
  const Reader r(data);
  const std::size_t segs = r.u16(cmap_ + 6) / 2;
  const std::size_t ends = cmap_ + 14, starts = ends + 2 * segs + 2, deltas = starts + 2 * segs, ranges = deltas + 2 * segs;
  for (std::size_t s = 0; s < segs; ++s) {
    if (cp > r.u16(ends + 2 * s)) continue;
    const auto start = r.u16(starts + 2 * s);
    if (cp < start) return 0;
    const auto delta = r.u16(deltas + 2 * s);
    const auto ro = r.u16(ranges + 2 * s);
    const unsigned g = ro == 0 ? (cp + delta) & 0xFFFF : r.u16(ranges + 2 * s + ro + 2 * (cp - start));
    const unsigned gid = ro == 0 ? g : (g == 0 ? 0 : (g + delta) & 0xFFFF);
    return gid < advances.size() ? gid : 0;
  }
  return 0;
}

TrueTypeFont load_truetype(const std::filesystem::path& path) {
  TrueTypeFont f;
  f.data = files::read(path);
  if (f.data.size() > (32u << 20)) bad("larger than 32 MiB");
  const Reader r(f.data);
  const auto version = r.u32(0);
  if (version != 0x00010000 && version != 0x74727565) bad("not a TrueType (glyf) font");
  const auto ntables = r.u16(4);
  std::size_t head = 0, hhea = 0, hmtx = 0, cmap = 0, os2 = 0, post = 0, maxp = 0;
  for (std::uint32_t i = 0; i < ntables; ++i) {
    const std::size_t rec = 12 + 16 * i;
    const std::string tag = f.data.substr(rec, 4);
    const std::size_t off = r.u32(rec + 8);
    if (off >= f.data.size()) bad("table offset out of range");
    if (tag == "head") head = off;
    else if (tag == "hhea") hhea = off;
    else if (tag == "hmtx") hmtx = off;
    else if (tag == "cmap") cmap = off;
    else if (tag == "OS/2") os2 = off;
    else if (tag == "post") post = off;
    else if (tag == "maxp") maxp = off;
  }
  if (head == 0 || hhea == 0 || hmtx == 0 || cmap == 0) bad("missing head/hhea/hmtx/cmap");
  const int upem = static_cast<int>(r.u16(head + 18));
  if (upem < 16 || upem > 16384) bad("bad unitsPerEm");
  const auto scale = [upem](int v) { return v * 1000 / upem; };
  for (int i = 0; i < 4; ++i) f.bbox[static_cast<std::size_t>(i)] = scale(r.i16(head + 36 + 2 * static_cast<std::size_t>(i)));
  f.ascent = scale(r.i16(hhea + 4));
  f.descent = scale(r.i16(hhea + 6));
  const auto nhm = r.u16(hhea + 34);
  if (nhm == 0) bad("no horizontal metrics");
  f.cap_height = f.ascent;
  if (os2 != 0 && r.u16(os2) >= 2) f.cap_height = scale(r.i16(os2 + 88));
  if (post != 0) f.italic_angle = static_cast<double>(static_cast<std::int32_t>(r.u32(post + 4))) / 65536.0;

  // cmap (3,1) format 4
  const auto nsub = r.u16(cmap + 2);
  for (std::uint32_t i = 0; i < nsub; ++i) {
    const std::size_t rec = cmap + 4 + 8 * i;
    if (r.u16(rec) == 3 && r.u16(rec + 2) == 1) f.cmap_ = cmap + r.u32(rec + 4);
  }
  if (f.cmap_ == 0 || r.u16(f.cmap_) != 4) bad("no Unicode BMP (3,1) format 4 cmap");
  const auto nglyphs = maxp != 0 ? r.u16(maxp + 4) : nhm;
  if (nglyphs == 0 || nglyphs < nhm) bad("bad glyph count");
  f.advances.reserve(nglyphs);
  for (std::uint32_t g = 0; g < nglyphs; ++g) {
    // Glyphs past numberOfHMetrics share the last advance (the 'hmtx' table's monospaced tail).
    f.advances.push_back(scale(static_cast<int>(r.u16(hmtx + 4 * (g < nhm ? g : nhm - 1u)))));
  }
  f.glyph(U'A');  // the cmap subtable's header is read (and bounds-checked) once up front
  for (const char c : path.stem().string())
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') f.name.push_back(c);
  if (f.name.empty()) f.name = "EmbeddedFont";
  return f;
}

}  // namespace sigil::pades::detail
