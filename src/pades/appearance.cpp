#include "pades/appearance.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>

#include "pades/truetype.hpp"
#include "sigil/common/error.hpp"
#include "sigil/common/files.hpp"

namespace sigil::pades::detail {
namespace {

using pdf::Object;

// Helvetica advance widths (AFM) for 32..126.
constexpr short kHelv[95] = {278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
                             556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
                             1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
                             667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
                             333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
                             556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584};

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", v);
  return b;
}

struct Image {
  Object dict;
  std::string data;
  Object smask_dict;
  std::string smask_data;
  double width = 0, height = 0;
};

std::uint32_t be32(const std::string& s, std::size_t at) {
  return (static_cast<std::uint32_t>(static_cast<unsigned char>(s[at])) << 24) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 1])) << 16) |
         (static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 2])) << 8) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + 3]));
}

Image load_jpeg(std::string data) {
  std::size_t i = 2;
  while (i + 9 < data.size()) {
    if (static_cast<unsigned char>(data[i]) != 0xFF) break;
    const int m = static_cast<unsigned char>(data[i + 1]);
    const std::size_t len = (static_cast<unsigned char>(data[i + 2]) << 8) | static_cast<unsigned char>(data[i + 3]);
    if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
      Image img;
      img.height = (static_cast<unsigned char>(data[i + 5]) << 8) | static_cast<unsigned char>(data[i + 6]);
      img.width = (static_cast<unsigned char>(data[i + 7]) << 8) | static_cast<unsigned char>(data[i + 8]);
      const int comps = static_cast<unsigned char>(data[i + 9]);
      img.dict = Object::dict();
      img.dict.set("Type", Object::name("XObject"));
      img.dict.set("Subtype", Object::name("Image"));
      img.dict.set("Width", Object::integer(static_cast<std::int64_t>(img.width)));
      img.dict.set("Height", Object::integer(static_cast<std::int64_t>(img.height)));
      img.dict.set("ColorSpace", Object::name(comps == 1 ? "DeviceGray" : comps == 4 ? "DeviceCMYK" : "DeviceRGB"));
      img.dict.set("BitsPerComponent", Object::integer(8));
      img.dict.set("Filter", Object::name("DCTDecode"));
      img.data = std::move(data);
      if (img.width <= 0 || img.height <= 0) break;
      return img;
    }
    i += 2 + len;
  }
  throw Error(Errc::invalid_argument, "unreadable JPEG image", true);
}

Image load_png(const std::string& data) {
  const auto fail = [] { return Error(Errc::invalid_argument, "unsupported or corrupt PNG image", true); };
  if (data.size() < 33 || data.compare(12, 4, "IHDR") != 0) throw fail();
  const std::uint32_t w = be32(data, 16), h = be32(data, 20);
  const int depth = static_cast<unsigned char>(data[24]), type = static_cast<unsigned char>(data[25]);
  const int interlace = static_cast<unsigned char>(data[28]);
  if (depth != 8 || interlace != 0 || w == 0 || h == 0 || w > 10000 || h > 10000 ||
      (type != 0 && type != 2 && type != 4 && type != 6))
    throw fail();
  std::string idat;
  for (std::size_t i = 8; i + 12 <= data.size();) {
    const std::uint32_t len = be32(data, i);
    if (len > data.size() - i - 12) throw fail();
    if (data.compare(i + 4, 4, "IDAT") == 0) idat.append(data, i + 8, len);
    i += 12 + len;
  }
  const int colors = type == 0 ? 1 : type == 2 ? 3 : type == 4 ? 2 : 4;
  const std::string raw = pdf::png_unpredict(pdf::inflate(idat, std::size_t{w} * h * 4 + h + 16), w, colors, 8);
  if (raw.size() != std::size_t{w} * h * static_cast<std::size_t>(colors)) throw fail();
  const int color_n = (type == 0 || type == 4) ? 1 : 3;
  std::string color, alpha;
  if (type == 0 || type == 2) {
    color = raw;
  } else {
    for (std::size_t p = 0; p < raw.size(); p += static_cast<std::size_t>(colors)) {
      color.append(raw, p, static_cast<std::size_t>(color_n));
      alpha.push_back(raw[p + static_cast<std::size_t>(color_n)]);
    }
  }
  Image img;
  img.width = w;
  img.height = h;
  auto image_dict = [&](const char* cs) {
    Object d = Object::dict();
    d.set("Type", Object::name("XObject"));
    d.set("Subtype", Object::name("Image"));
    d.set("Width", Object::integer(w));
    d.set("Height", Object::integer(h));
    d.set("ColorSpace", Object::name(cs));
    d.set("BitsPerComponent", Object::integer(8));
    d.set("Filter", Object::name("FlateDecode"));
    return d;
  };
  img.dict = image_dict(color_n == 1 ? "DeviceGray" : "DeviceRGB");
  img.data = pdf::deflate(color);
  if (!alpha.empty()) {
    img.smask_dict = image_dict("DeviceGray");
    img.smask_data = pdf::deflate(alpha);
  }
  return img;
}

Image load_image(const std::filesystem::path& path) {
  std::string data = files::read(path);
  if (data.size() > 3 && static_cast<unsigned char>(data[0]) == 0xFF && static_cast<unsigned char>(data[1]) == 0xD8)
    return load_jpeg(std::move(data));
  if (data.size() > 8 && data.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0) return load_png(data);
  throw Error(Errc::invalid_argument, "the signature image must be JPEG or PNG", true);
}

Object form_dict(double w, double h) {
  Object d = Object::dict();
  d.set("Type", Object::name("XObject"));
  d.set("Subtype", Object::name("Form"));
  d.set("BBox", Object::array({Object::integer(0), Object::integer(0), Object::real_text(num(w)), Object::real_text(num(h))}));
  return d;
}

std::string hex_upper(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : bytes) {
    out.push_back(kHex[(static_cast<unsigned char>(c) >> 4) & 0xF]);
    out.push_back(kHex[static_cast<unsigned char>(c) & 0xF]);
  }
  return out;
}

// The descendant CIDFontType2 of an embedded TrueType font: the whole font file (/FontFile2),
// glyph ids as CIDs (/CIDToGIDMap /Identity), widths of the glyphs used (/W).
pdf::Ref add_cid_font(pdf::Update& up, const TrueTypeFont& ttf, const std::map<unsigned, char32_t>& used) {
  Object ff = Object::dict();
  ff.set("Length1", Object::integer(static_cast<std::int64_t>(ttf.data.size())));
  ff.set("Filter", Object::name("FlateDecode"));
  const pdf::Ref file_ref = up.add_stream(ff, pdf::deflate(ttf.data));
  Object fd = Object::dict();
  fd.set("Type", Object::name("FontDescriptor"));
  fd.set("FontName", Object::name(ttf.name));
  fd.set("Flags", Object::integer(32));  // Nonsymbolic
  Object bbox = Object::array();
  for (const int v : ttf.bbox) bbox.items().push_back(Object::integer(v));
  fd.set("FontBBox", bbox);
  fd.set("ItalicAngle", Object::real_text(num(ttf.italic_angle)));
  fd.set("Ascent", Object::integer(ttf.ascent));
  fd.set("Descent", Object::integer(ttf.descent));
  fd.set("CapHeight", Object::integer(ttf.cap_height));
  fd.set("StemV", Object::integer(80));
  fd.set("FontFile2", Object::ref(file_ref));
  Object info = Object::dict();
  info.set("Registry", Object::string("Adobe"));
  info.set("Ordering", Object::string("Identity"));
  info.set("Supplement", Object::integer(0));
  Object widths = Object::array();
  for (const auto& [gid, cp] : used) {
    widths.items().push_back(Object::integer(gid));
    widths.items().push_back(Object::array({Object::integer(ttf.advance(gid))}));
  }
  Object cid = Object::dict();
  cid.set("Type", Object::name("Font"));
  cid.set("Subtype", Object::name("CIDFontType2"));
  cid.set("BaseFont", Object::name(ttf.name));
  cid.set("CIDSystemInfo", info);
  cid.set("FontDescriptor", Object::ref(up.add(fd)));
  cid.set("CIDToGIDMap", Object::name("Identity"));
  cid.set("DW", Object::integer(1000));
  cid.set("W", widths);
  return up.add(cid);
}

// A ToUnicode CMap (ISO 32000-1 §9.10.3) mapping each glyph id shown back to its character, so the
// text can be searched, copied and read aloud.
std::string to_unicode_cmap(const std::map<unsigned, char32_t>& used) {
  std::string m =
      "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
      "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
      "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n";
  auto u16 = [](unsigned v) {
    char b[8];
    std::snprintf(b, sizeof b, "%04X", v & 0xFFFF);
    return std::string(b);
  };
  std::vector<std::pair<unsigned, char32_t>> items(used.begin(), used.end());
  for (std::size_t i = 0; i < items.size(); i += 100) {  // at most 100 entries per block
    const std::size_t n = std::min<std::size_t>(100, items.size() - i);
    m += std::to_string(n) + " beginbfchar\n";
    for (std::size_t k = i; k < i + n; ++k) {
      const char32_t cp = items[k].second;
      std::string dst = cp >= 0x10000 ? u16(0xD800 + ((cp - 0x10000) >> 10)) + u16(0xDC00 + ((cp - 0x10000) & 0x3FF))
                                      : u16(static_cast<unsigned>(cp));
      m += "<" + u16(items[k].first) + "> <" + dst + ">\n";
    }
    m += "endbfchar\n";
  }
  m += "endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n";
  return m;
}

}  // namespace

std::u32string utf8_to_code_points(std::string_view s) {
  std::u32string out;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    char32_t cp = 0;
    std::size_t n = 1;
    if (c < 0x80) cp = c;
    else if ((c & 0xE0) == 0xC0) { cp = c & 0x1F; n = 2; }
    else if ((c & 0xF0) == 0xE0) { cp = c & 0x0F; n = 3; }
    else if ((c & 0xF8) == 0xF0) { cp = c & 0x07; n = 4; }
    else { out.push_back(U'?'); ++i; continue; }
    if (i + n > s.size()) { out.push_back(U'?'); break; }
    for (std::size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    i += n;
    out.push_back(cp);
  }
  return out;
}

std::string to_winansi(std::string_view s) {
  std::string out;
  for (const char32_t cp : utf8_to_code_points(s)) {
    if (cp < 0x20) out.push_back(' ');
    else if (cp < 0x7F || (cp >= 0xA0 && cp <= 0xFF)) out.push_back(static_cast<char>(cp));
    else if (cp == 0x20AC) out.push_back('\x80');
    else if (cp == 0x2013) out.push_back('\x96');
    else if (cp == 0x2014) out.push_back('\x97');
    else if (cp == 0x2018) out.push_back('\x91');
    else if (cp == 0x2019) out.push_back('\x92');
    else if (cp == 0x201C) out.push_back('\x93');
    else if (cp == 0x201D) out.push_back('\x94');
    else if (cp == 0x2022) out.push_back('\x95');
    else if (cp == 0x2026) out.push_back('\x85');
    else if (cp == 0x0152) out.push_back('\x8C');
    else if (cp == 0x0153) out.push_back('\x9C');
    else if (cp == 0x0160) out.push_back('\x8A');
    else if (cp == 0x0161) out.push_back('\x9A');
    else if (cp == 0x017D) out.push_back('\x8E');
    else if (cp == 0x017E) out.push_back('\x9E');
    else if (cp == 0x0178) out.push_back('\x9F');
    else out.push_back('?');
  }
  return out;
}

double helvetica_width(std::string_view s) {
  double w = 0;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    w += (c >= 32 && c <= 126) ? kHelv[c - 32] : 556;
  }
  return w;
}

pdf::Ref build_empty_appearance(pdf::Update& up) { return up.add_stream(form_dict(0, 0), ""); }

pdf::Ref build_appearance(pdf::Update& up, const Appearance& a, const std::vector<std::string>& lines,
                          const PdfaClaim& pdfa) {
  const double w = a.width, h = a.height;
  if (!(w > 0 && h > 0 && w < 14400 && h < 14400))
    throw Error(Errc::invalid_argument, "signature rectangle must have a positive size", true);
  const double pad = std::min(4.0, std::min(w, h) / 10);
  Object resources = Object::dict();
  std::string content = "q\n";
  double text_x = pad;
  if (a.image) {
    Image img = load_image(*a.image);
    const Object& cs = img.dict.get("ColorSpace");
    check_pdfa_image(pdfa, cs.is_name("DeviceGray") ? 1 : cs.is_name("DeviceCMYK") ? 4 : 3, !img.smask_data.empty());
    if (!img.smask_data.empty()) {
      const pdf::Ref sm = up.add_stream(img.smask_dict, img.smask_data);
      img.dict.set("SMask", Object::ref(sm));
    }
    const pdf::Ref im = up.add_stream(img.dict, img.data);
    const double box_w = lines.empty() ? w - 2 * pad : (w - 2 * pad) * 0.35;
    const double box_h = h - 2 * pad;
    const double scale = std::min(box_w / img.width, box_h / img.height);
    const double iw = img.width * scale, ih = img.height * scale;
    content += "q " + num(iw) + " 0 0 " + num(ih) + " " + num(pad + (box_w - iw) / 2) + " " +
               num(pad + (box_h - ih) / 2) + " cm /Im0 Do Q\n";
    Object xo = Object::dict();
    xo.set("Im0", Object::ref(im));
    resources.set("XObject", xo);
    text_x = pad + box_w + pad;
  }
  if (!lines.empty()) {
    check_pdfa_text(pdfa, a.font.has_value());
    std::optional<TrueTypeFont> ttf;
    if (a.font) ttf = load_truetype(*a.font);
    // Each line as the bytes a Tj shows: WinAnsi codes for Helvetica, 2-byte glyph ids for an
    // embedded font (Identity-H), with its width in 1/1000 em.
    std::vector<std::string> shown;
    double widest = 1;
    std::map<unsigned, char32_t> used;  // glyph id → code point (ToUnicode, /W)
    for (const auto& l : lines) {
      std::string bytes;
      double width = 0;
      if (ttf) {
        const unsigned fallback = ttf->glyph(U'?');
        for (const char32_t cp : utf8_to_code_points(l)) {
          unsigned g = ttf->glyph(cp < 0x20 ? U' ' : cp);
          if (g == 0) g = fallback;  // a character the font lacks shows as '?', not as .notdef
          used.emplace(g, g == fallback && cp != U'?' ? U'?' : cp);
          bytes.push_back(static_cast<char>(g >> 8));
          bytes.push_back(static_cast<char>(g & 0xFF));
          width += ttf->advance(g);
        }
      } else {
        bytes = to_winansi(l);
        width = helvetica_width(bytes);
      }
      widest = std::max(widest, width);
      shown.push_back(std::move(bytes));
    }
    const double avail_w = std::max(1.0, w - text_x - pad);
    const double avail_h = std::max(1.0, h - 2 * pad);
    double fs = a.font_size;
    if (fs <= 0) fs = std::clamp(std::min(avail_h / (1.2 * static_cast<double>(shown.size())), avail_w * 1000 / widest), 3.0, 14.0);
    Object font = Object::dict();
    font.set("Type", Object::name("Font"));
    if (ttf) {
      font.set("Subtype", Object::name("Type0"));
      font.set("BaseFont", Object::name(ttf->name));
      font.set("Encoding", Object::name("Identity-H"));
      font.set("DescendantFonts", Object::array({Object::ref(add_cid_font(up, *ttf, used))}));
      font.set("ToUnicode", Object::ref(up.add_stream(Object::dict(), to_unicode_cmap(used))));
    } else {
      font.set("Subtype", Object::name("Type1"));
      font.set("BaseFont", Object::name("Helvetica"));
      font.set("Encoding", Object::name("WinAnsiEncoding"));
    }
    const pdf::Ref fr = up.add(font);
    Object fonts = Object::dict();
    fonts.set("F0", Object::ref(fr));
    resources.set("Font", fonts);
    content += "BT\n0 g\n/F0 " + num(fs) + " Tf\n" + num(fs * 1.2) + " TL\n" + num(text_x) + " " +
               num(h - pad - fs) + " Td\n";
    for (const auto& e : shown) content += (ttf ? "<" + hex_upper(e) + ">" : pdf::escape_literal(e)) + " Tj T*\n";
    content += "ET\n";
  }
  content += "Q\n";
  Object form = form_dict(w, h);
  form.set("Resources", resources);
  return up.add_stream(form, content);
}

}  // namespace sigil::pades::detail
